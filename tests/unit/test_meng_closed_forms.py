"""Closed forms of Meng: identities, limits and special cases derived by hand in each test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from isacnet.analysis import meng_sensing as ms
from isacnet.params import MengParams, ParameterError

P = MengParams()
U = P.zeta2 * (math.pi * P.bs_density) ** 2  # |zeta|^2 pi^2 lambda_b^2 [m^-2]


def test_nbar_and_mean_distance():
    # Gamma(3/2)^2 / Gamma(1)^2 = pi / 4; Gamma(5/2)/Gamma(2) = 3 sqrt(pi) / 4.
    assert ms.nbar(1) == pytest.approx(math.pi / 4, rel=1e-14)
    assert ms.nbar(2) == pytest.approx((3 * math.sqrt(math.pi) / 4) ** 2, rel=1e-14)
    lam = 1e-6
    assert ms.mean_distance(2, lam) == pytest.approx(3 / 4 / math.sqrt(lam), rel=1e-14)
    n = np.arange(1, 200)
    np.testing.assert_allclose(ms.nbar(n), (math.pi * lam) * ms.mean_distance(n, lam) ** 2, rtol=1e-13)
    # Gamma(n+1/2)/Gamma(n) = sqrt(n) (1 - 1/(8n) + O(n^-2)); nbar = n - 1/4 + 1/(32 n) + ...
    big = np.array([1e3, 1e4])
    np.testing.assert_allclose(ms.nbar(big), big - 0.25 + 1 / (32 * big), rtol=1e-9)
    rel = ms.mean_distance(n, lam, "approx") / ms.mean_distance(n, lam) - 1
    np.testing.assert_allclose(rel[50:], 1 / (8 * n[50:]), rtol=0.02)


def test_harmonic():
    assert ms.harmonic(4) == pytest.approx(1 + 1 / 2 + 1 / 3 + 1 / 4, rel=1e-14)
    assert ms.harmonic(10**6) == pytest.approx(math.log(1e6) + ms.EULER_GAMMA + 0.5e-6, rel=1e-12)


def test_eq13_is_eq12_with_the_approximate_distances_and_beta2_is_harmonic_squared():
    n = np.array([1, 2, 7, 30, 500])
    np.testing.assert_allclose(ms.crlb_eq13(n, P), ms.crlb_eq12(n, P, "all", "approx"), rtol=1e-12)
    H = np.array([sum(1 / k for k in range(1, m + 1)) for m in n])
    np.testing.assert_allclose(ms.crlb_eq13(n, P), 2 / (U * H**2), rtol=1e-12)
    p3 = MengParams(beta=3.0)
    s = np.array([sum(k**-1.5 for k in range(1, m + 1)) for m in n])
    u3 = p3.zeta2 * (math.pi * p3.bs_density) ** 3
    np.testing.assert_allclose(ms.crlb_eq13(n, p3), 2 / (u3 * s**2), rtol=1e-12)


def test_eq12_index_sets_by_direct_sums():
    lam = P.bs_density
    for N in (1, 2, 5):
        e = np.array([ms.mean_distance(k, lam) ** -2.0 for k in range(1, N + 1)])
        allp = sum(e[k] * e[m] for k in range(N) for m in range(N))
        off = sum(e[k] * e[m] for k in range(N) for m in range(N) if k != m)
        assert ms.crlb_eq12(N, P) == pytest.approx(2 / (P.zeta2 * allp), rel=1e-12)
        expected_off = 2 / (P.zeta2 * off) if off > 0 else math.inf
        assert ms.crlb_eq12(N, P, "offdiag") == pytest.approx(expected_off, rel=1e-12)
    assert ms.crlb_eq12(1, P, "offdiag") == math.inf  # N = 1 cannot localise


def test_theorem1_constants_differ_by_two_and_follow_from_eq13():
    c_paper = ms.theorem1_constant(P, "paper")
    c_corr = ms.theorem1_constant(P, "corrected")
    assert c_corr == pytest.approx(2 * c_paper, rel=1e-15)
    assert c_paper == pytest.approx(1 / U, rel=1e-14)
    # (13) * ln^2 N -> 2/U: H_N / ln N -> 1.
    N = 1e200
    assert ms.crlb_eq13(N, P) * math.log(N) ** 2 == pytest.approx(c_corr, rel=0.006)
    assert ms.crlb_theorem1(1, P) == math.inf
    with pytest.raises(ParameterError) as e:
        ms.theorem1_constant(MengParams(beta=3.0))
    assert e.value.name == "beta"


def test_isotropic_moment_n1_and_beta_general():
    # N = 1: E[1/S^2] = E[g_1^beta] = Gamma(1 + beta).
    for beta in (2.0, 2.5, 4.0):
        assert ms.isotropic_moment(1, beta) == pytest.approx(math.gamma(1 + beta), rel=1e-10)
    v, err = ms.isotropic_moment(np.array([2, 10, 1000]), 2.0, return_error=True)
    assert np.all(err < 1e-8 * v)
    assert np.all(np.diff(v) < 0)


def test_isotropic_tends_to_the_corrected_theorem1_constant():
    """E[2/(|zeta|^2 W^2)] ln^2 N increases towards 2/U (never towards the printed 1/U)."""
    Ns = np.array([1e2, 1e5, 1e10, 1e50, 1e300])
    r = ms.crlb_isotropic(Ns, P) * np.log(Ns) ** 2 * U
    assert np.all(np.diff(r) > 0)
    assert r[0] > 1.2 and 1.9 < r[-1] < 2.0


def test_tail_index():
    np.testing.assert_array_equal(ms.crlb_tail_index([1, 2, 3, 4, 6]), [0, 0.5, 1, 1.5, 2.5])
    np.testing.assert_array_equal(ms.crlb_moment_finite([2, 3, 4, 5, 6]), [0, 0, 1, 1, 1])
    np.testing.assert_array_equal(ms.crlb_moment_finite([4, 5, 6], 2.0), [0, 0, 1])


# --------------------------------------------------------------------------- acceptance
def _request_acceptance_by_sum(c, m, kmax=400):
    k = np.arange(kmax)
    pk = stats.poisson.pmf(k, m)
    return float(np.sum(pk * np.minimum(1.0, c / (1.0 + k))))


@pytest.mark.parametrize(("c", "m"), [(1, 0.3), (5, 4.0), (15, 15.0), (15, 40.0), (3, 0.0)])
def test_poisson_request_acceptance_by_direct_sum(c, m):
    expected = 1.0 if m == 0 else _request_acceptance_by_sum(c, m)
    assert ms.poisson_request_acceptance(c, m) == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_size_biased_equals_accepted_over_offered():
    """E[min(1, c/(1+K))] = E[min(K, c)] / E[K] for K ~ Poisson(m)."""
    for c, m in [(4, 3.0), (15, 22.0)]:
        k = np.arange(300)
        pk = stats.poisson.pmf(k, m)
        assert ms.poisson_request_acceptance(c, m) == pytest.approx(
            np.sum(pk * np.minimum(k, c)) / m, rel=1e-12
        )


def test_kappa_s_variants_by_direct_sums():
    psi, mu, N = 15, 1.0, 20
    x = mu * ms.nbar(N)
    n = np.arange(0, 400)
    pk = stats.poisson.pmf(n, x)
    tail = np.sum(np.where(n > psi, pk * psi / np.maximum(n, 1), 0.0))
    assert ms.kappa_s(psi, mu, N, "paper") == pytest.approx(np.sum(pk[:psi]) + tail, rel=1e-12)
    assert ms.kappa_s(psi, mu, N, "typical-bs") == pytest.approx(np.sum(pk[: psi + 1]) + tail, rel=1e-12)
    assert ms.kappa_s(psi, mu, N, "appendix") == pytest.approx(np.sum(pk[:psi]) / psi + tail, rel=1e-12)
    assert ms.kappa_s(psi, mu, N, "derived") == pytest.approx(_request_acceptance_by_sum(psi, mu * N), rel=1e-12)
    # (15) and (24)'s first line differ by exactly the n = psi term.
    assert ms.kappa_s(psi, mu, N, "typical-bs") - ms.kappa_s(psi, mu, N, "paper") == pytest.approx(
        pk[psi], rel=1e-10
    )


def test_kappa_limits():
    # No congestion: 1. Saturation: psi / (mu N).
    assert ms.kappa_s(15, 1e-3, 5) == pytest.approx(1.0, abs=1e-15)
    assert ms.kappa_s(15, 1.0, 3000) == pytest.approx(15 / 3000, rel=1e-9)
    assert ms.kappa_c(15, 1.0, 1) == 1.0  # L = 1: no cooperation request
    assert ms.kappa_c(1, 1.0, 4) == 0.0  # psi = 1: no block left for cooperation
    assert ms.kappa_c(15, 1.0, 5, "derived") == pytest.approx(_request_acceptance_by_sum(14, 4.0), rel=1e-12)


def test_kappa_c_paper_by_direct_sum():
    psi, mu, L = 6, 1.5, 4
    x = mu * ms.nbar(L)
    n = np.arange(0, 300)
    pk = stats.poisson.pmf(n, x)
    ratio = np.where(n >= psi, (psi - 1) / np.maximum(n - 1, 1), 1.0)
    assert ms.kappa_c(psi, mu, L, "paper") == pytest.approx(np.sum(pk * np.minimum(ratio, 1.0)), rel=1e-12)


def test_kappa_vectorised_and_validated():
    k = ms.kappa_s(np.array([[5], [15]]), np.array([0.5, 1.0, 2.0]), 10)
    assert k.shape == (2, 3)
    for kw, name in [({"psi": 0}, "psi"), ({"mu_s": -1.0}, "mu_s"), ({"N": 1.5}, "N")]:
        args = {"psi": 15, "mu_s": 1.0, "N": 10} | kw
        with pytest.raises(ParameterError) as e:
            ms.kappa_s(**args)
        assert e.value.name == name
    with pytest.raises(ParameterError):
        ms.kappa_s(15, 1.0, 10, "nope")


def test_crlb_a_variants():
    N = np.array([2, 10, 15, 30])
    # kappa = 1: mean-field is (12); "paper"/"corrected" are Theorem 1's two constants.
    np.testing.assert_allclose(ms.crlb_a(N, P, kappa=1.0), ms.crlb_eq12(N, P), rtol=1e-12)
    np.testing.assert_allclose(
        ms.crlb_a(N, P, kappa=1.0, variant="paper"), 1 / (U * np.log(N) ** 2), rtol=1e-12
    )
    np.testing.assert_allclose(
        ms.crlb_a(N, P, kappa=0.5, variant="corrected"), 8 / (U * np.log(N) ** 2), rtol=1e-12
    )
    # mean-field by hand at kappa = 0.4
    e = np.array([ms.mean_distance(k, P.bs_density) ** -2.0 for k in range(1, 11)])
    s1, s2 = e.sum(), (e * e).sum()
    kap = 0.4
    assert ms.crlb_a(10, P, kappa=kap) == pytest.approx(
        2 / (P.zeta2 * (kap**2 * (s1**2 - s2) + kap * s2)), rel=1e-12
    )
    # defaults: kappa from the matching Lemma 1 form
    k15 = ms.kappa_s(15, 1.0, 15, "paper")
    assert ms.crlb_a(15, P, variant="paper") == pytest.approx(1 / (k15**2 * U * math.log(15) ** 2))
    with pytest.raises(ParameterError):
        ms.crlb_a(10, P, kappa=1.5)
