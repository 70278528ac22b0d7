"""Meng closed forms against high-precision values (mpmath, 30 digits).

``ISOTROPIC_UNIFORM``: E[1/S^2], S = sum_{k<=N} g_k^-beta/2 over unit-rate arrivals, from a
derivation independent of the code's Laplace-transform route: given g_N = t the other N - 1
arrivals are i.i.d. uniform on (0, t), and 1/S^2 scales as t^beta, so
E[1/S^2] = Gamma(N + beta)/Gamma(N) E[(1 + sum_{i<N} U_i^-beta/2)^-2] (1-D or 2-D mpmath quad).

``ISOTROPIC_LAPLACE``: large N, the Laplace form (N(N+1) int u e^-u E_2(u)^(N-1) du at beta = 2)
integrated by mpmath in x = ln u with unit-spaced break points: checks the code's fixed-order
quadrature, its range and its u*^2 rescaling, up to N = 1e10.

Generating snippet (also in ``_iso_uniform`` / ``_iso_laplace`` below; ~7 s):

    >>> for N, beta in ISOTROPIC_UNIFORM: print(N, beta, mpmath.nstr(_iso_uniform(N, beta), 25))
    >>> for N, beta in ISOTROPIC_LAPLACE: print(N, beta, mpmath.nstr(_iso_laplace(N, beta), 25))

The Poisson sums of Lemma 1, E[d_n] and the harmonic sums are recomputed here with mpmath
(term-by-term ``fsum``, ``quad``, ``harmonic``) from their definitions, not from the closed forms.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from isacnet.analysis import meng_sensing as ms
from isacnet.params import MengParams

DPS = 30

ISOTROPIC_UNIFORM = {
    (2, 2): "0.6822338332806562869932145",
    (2, 3): "2.115941768686065568617436",
    (2, 4): "8.628330588459304269181048",
    (3, 2): "0.3977705740305643279289853",
    (3, 3): "1.279455109227285417102951",
}

ISOTROPIC_LAPLACE = {
    (10, 2): "0.1159748762665512568294984",
    (100, 2): "0.0300762157989458882791543",
    (100_000, 2): "0.005426839320132430117592874",
    (10_000_000_000, 2): "0.001508091175937760095774607",
    (1000, 3): "0.1701528444502047508332017",
}


def _iso_uniform(N, beta):
    b = mpmath.mpf(beta) / 2
    pref = mpmath.gamma(N + beta) / mpmath.gamma(N)
    if N == 2:
        return pref * mpmath.quad(lambda u: 1 / (1 + u**-b) ** 2, [0, 1])
    return pref * mpmath.quad(lambda u, v: 1 / (1 + u**-b + v**-b) ** 2, [0, 1], [0, 1])


def _iso_laplace(N, beta):
    N, b = mpmath.mpf(N), mpmath.mpf(beta)
    if beta == 2:
        def phi(u):
            return mpmath.expint(2, u)
    else:
        a = 1 - 2 / b

        def phi(u):
            return mpmath.exp(-u) - u ** (2 / b) * mpmath.gammainc(a, u)

    def f(x):
        return mpmath.exp(2 * x - mpmath.exp(x)) * phi(mpmath.exp(x)) ** (N - 1)

    xs = -mpmath.log(N * mpmath.log(N + 1) + 1)
    pts = [p for p in (xs - 25 + k for k in range(36)) if p < mpmath.log(200)] + [mpmath.log(200)]
    return mpmath.exp(mpmath.loggamma(N + b) - mpmath.loggamma(N)) * mpmath.quad(f, pts)


@pytest.mark.parametrize(("key", "ref"), list(ISOTROPIC_UNIFORM.items()))
def test_isotropic_moment_against_uniform_representation(key, ref):
    N, beta = key
    v, err = ms.isotropic_moment(N, float(beta), return_error=True)
    assert v == pytest.approx(float(ref), rel=1e-13)
    assert err < 1e-12 * v


@pytest.mark.parametrize(("key", "ref"), list(ISOTROPIC_LAPLACE.items()))
def test_isotropic_moment_large_n(key, ref):
    N, beta = key
    v, err = ms.isotropic_moment(N, float(beta), return_error=True)
    assert abs(v - float(ref)) <= max(1e-12 * float(ref), 10 * err)


def test_reference_table_is_reproducible():
    with mpmath.workdps(DPS):
        assert float(_iso_uniform(2, 2)) == pytest.approx(float(ISOTROPIC_UNIFORM[(2, 2)]), rel=1e-15)
        assert float(_iso_laplace(10, 2)) == pytest.approx(float(ISOTROPIC_LAPLACE[(10, 2)]), rel=1e-15)


def _poisson_sum(psi, m, rule):
    """sum_k Poisson(m)(k) rule(k), summed term by term in mpmath (k up to m + 40 sqrt(m) + 200;
    the rest is below 1e-40)."""
    m = mpmath.mpf(m)
    kmax = int(m + 40 * mpmath.sqrt(m) + 200)
    return mpmath.fsum(
        mpmath.exp(-m + k * mpmath.log(m) - mpmath.loggamma(k + 1)) * rule(k) for k in range(kmax)
    )


@pytest.mark.parametrize(("psi", "mu", "N"), [(15, 1.0, 15), (15, 1.0, 30), (5, 0.5, 7), (1, 2.0, 3)])
def test_kappa_s_against_mpmath_sums(psi, mu, N):
    with mpmath.workdps(DPS):
        derived = _poisson_sum(psi, mu * N, lambda k: min(mpmath.mpf(1), mpmath.mpf(psi) / (1 + k)))
        x = mu * (mpmath.gamma(N + mpmath.mpf(1) / 2) / mpmath.gamma(N)) ** 2
        paper = _poisson_sum(psi, x, lambda k: 1 if k <= psi - 1 else (0 if k == psi else mpmath.mpf(psi) / k))
        appendix = mpmath.gammainc(psi, x) / mpmath.factorial(psi) + _poisson_sum(
            psi, x, lambda k: 0 if k <= psi else mpmath.mpf(psi) / k)
        typical = _poisson_sum(psi, x, lambda k: min(mpmath.mpf(1), mpmath.mpf(psi) / k) if k else 1)
    assert ms.kappa_s(psi, mu, N, "derived") == pytest.approx(float(derived), rel=1e-13)
    assert ms.kappa_s(psi, mu, N, "paper") == pytest.approx(float(paper), rel=1e-13)
    assert ms.kappa_s(psi, mu, N, "appendix") == pytest.approx(float(appendix), rel=1e-13)
    assert ms.kappa_s(psi, mu, N, "typical-bs") == pytest.approx(float(typical), rel=1e-13)


@pytest.mark.parametrize(("psi", "mu", "L"), [(15, 1.0, 16), (4, 2.0, 5), (2, 1.0, 3)])
def test_kappa_c_against_mpmath_sums(psi, mu, L):
    with mpmath.workdps(DPS):
        derived = _poisson_sum(psi - 1, mu * (L - 1),
                              lambda k: min(mpmath.mpf(1), mpmath.mpf(psi - 1) / (1 + k)))
        x = mu * (mpmath.gamma(L + mpmath.mpf(1) / 2) / mpmath.gamma(L)) ** 2
        paper = _poisson_sum(psi, x, lambda k: 1 if k <= psi else mpmath.mpf(psi - 1) / (k - 1))
    assert ms.kappa_c(psi, mu, L, "derived") == pytest.approx(float(derived), rel=1e-13)
    assert ms.kappa_c(psi, mu, L, "paper") == pytest.approx(float(paper), rel=1e-13)


def test_kappa_large_load_log_domain():
    """m = 5000: the Poisson terms underflow in a naive sum; the log-domain sums do not."""
    with mpmath.workdps(DPS):
        x = 1.0 * (mpmath.gamma(5000.5) / mpmath.gamma(5000)) ** 2
        tail = _poisson_sum(15, x, lambda k: 0 if k <= 15 else mpmath.mpf(15) / k)
    assert ms.kappa_s(15, 1.0, 5000, "paper") == pytest.approx(float(tail), rel=1e-11)
    assert ms.kappa_s(15, 1.0, 5000, "derived") == pytest.approx(15 / 5000, rel=1e-12)
    assert ms.kappa_s(15, 1.0, 5000) == pytest.approx(15 / 5000, rel=1e-12)


@pytest.mark.parametrize("n", [1, 2, 5, 40, 1000])
def test_mean_distance_against_quadrature_of_the_pdf(n):
    lam = 1e-6
    with mpmath.workdps(DPS):
        a = mpmath.pi * lam

        def pdf(r):
            return 2 * a**n * r ** (2 * n - 1) * mpmath.exp(-a * r * r) / mpmath.gamma(n)

        mode = mpmath.sqrt((n - mpmath.mpf(1) / 2) / a)
        ref = mpmath.quad(lambda r: r * pdf(r), [0, mode / 2, mode, 2 * mode, mpmath.inf])
        nbar = (mpmath.gamma(n + mpmath.mpf(1) / 2) / mpmath.gamma(n)) ** 2
    assert ms.mean_distance(n, lam) == pytest.approx(float(ref), rel=1e-12)
    assert ms.nbar(n) == pytest.approx(float(nbar), rel=1e-12)


def test_eq12_eq13_theorem1_against_mpmath():
    p = MengParams()
    z = mpmath.mpf(p.zeta2)
    lam = mpmath.mpf(p.bs_density)
    with mpmath.workdps(DPS):
        for N in (1, 3, 25):
            s = mpmath.fsum((mpmath.gamma(k) / mpmath.gamma(k + mpmath.mpf(1) / 2)) ** 2
                            for k in range(1, N + 1)) * mpmath.pi * lam
            assert ms.crlb_eq12(N, p) == pytest.approx(float(2 / (z * s * s)), rel=1e-12)
        for N in (10, 10**6, 10**12):
            h = mpmath.harmonic(N)
            ref = 2 / (z * (mpmath.pi * lam) ** 2 * h * h)
            assert ms.crlb_eq13(N, p) == pytest.approx(float(ref), rel=1e-12)
            assert ms.crlb_theorem1(N, p) == pytest.approx(
                float(2 / (z * (mpmath.pi * lam) ** 2 * mpmath.log(N) ** 2)), rel=1e-12)


def test_two_bs_tail_constant():
    """w1 = w2: tr = (3 + cos phi) / (8 sin^2 phi) (times 1/(|zeta|^2 w^2)); the exact
    P(tr > t) over a uniform phi (mpmath findroot) approaches (sqrt 2 + 1) / (2 pi sqrt t):
    the tail index 1/2 of N = 2 (errata M-8)."""
    with mpmath.workdps(DPS):
        for t in (1e2, 1e4, 1e6):
            def g(phi, t=t):
                return (3 + mpmath.cos(phi)) - 8 * t * mpmath.sin(phi) ** 2

            p0 = mpmath.findroot(g, 1 / mpmath.sqrt(2 * t))
            p1 = mpmath.findroot(g, mpmath.pi - 1 / (2 * mpmath.sqrt(t)))
            prob = (2 * p0 + 2 * (mpmath.pi - p1)) / (2 * mpmath.pi)
            asym = (mpmath.sqrt(2) + 1) / (2 * mpmath.pi * mpmath.sqrt(t))
            assert float(prob / asym) == pytest.approx(1.0, abs=3.0 / math.sqrt(t))
    # and the code's N = 2 CRLB is that function of phi
    P = MengParams()
    phi = np.linspace(0.1, 3.0, 7)
    bs = np.stack([np.stack([np.ones_like(phi), np.zeros_like(phi)], -1),
                   np.stack([np.cos(phi), np.sin(phi)], -1)], 1)
    from isacnet import meng

    np.testing.assert_allclose(meng.crlb_layout(bs, np.zeros(2), P) * P.zeta2,
                               (3 + np.cos(phi)) / (8 * np.sin(phi) ** 2), rtol=1e-10)
