"""Coverage of the CoMP link: closed form (analysis.coverage), per-layout SINR (comm), meta.

Expected values come from other routes: the Andrews-Baccelli-Ganti formula, Theorem 2's rate
(analysis.meng_rate, a different integral), explicit loops, limits.
"""

import math

import numpy as np
import pytest
from scipy import integrate

from isacnet import comm
from isacnet.analysis import coverage as cv
from isacnet.analysis import meta
from isacnet.analysis.meng_rate import rate
from isacnet.params import MengParams, ParameterError
from isacnet.simulation.kernels.coverage import CoverageKernel

ABG = MengParams(n_tx_antennas=2, sensing_power_fraction=0.0)


def rho4(T):
    s = np.sqrt(T)
    return s * (np.pi / 2 - np.arctan(1 / s))


def test_abg_coverage_identity():
    T = np.logspace(-4, 4, 17)
    c = cv.coverage(T, 1, ABG, kappa_c=1.0)
    np.testing.assert_allclose(c, 1 / (1 + rho4(T)), rtol=1e-10, atol=1e-12)


def test_abg_mean_rate():
    # ABG (2011): 1.49 nats/s/Hz = 2.15 bits/s/Hz at alpha = 4; here from their coverage formula
    f = lambda T: 1 / ((1 + rho4(T)) * (1 + T))  # noqa: E731
    ref = sum(integrate.quad(f, a, b, epsabs=1e-13, limit=400)[0] for a, b in ((0, 1), (1, 1e4), (1e4, np.inf)))
    assert cv.rate_from_coverage(1, ABG, kappa_c=1.0, unit="nats") == pytest.approx(ref, abs=1e-7)
    assert cv.rate_from_coverage(1, ABG, kappa_c=1.0) == pytest.approx(ref / math.log(2), abs=1e-7)
    assert round(ref / math.log(2), 3) == 2.148


@pytest.mark.slow
@pytest.mark.parametrize("L", [1, 2, 3, 6])
def test_rate_from_coverage_matches_theorem2(L):
    p = MengParams()
    r_cov = cv.rate_from_coverage(L, p, kappa_c=0.7)
    assert r_cov == pytest.approx(float(rate(L, p, kappa_c=0.7, variant="exact")), abs=2e-7)


def test_noise_to_zero_is_interference_limited():
    T = np.array([0.01, 1.0, 100.0])
    p = MengParams()
    a = cv.coverage(T, 3, p, kappa_c=0.6, noise=1e-30)
    b = cv.coverage(T, 3, p, kappa_c=0.6)
    np.testing.assert_allclose(a, b, atol=1e-8)
    assert np.all(cv.coverage(T, 3, p, kappa_c=0.6, noise="params") < b)  # noise only hurts


def test_noise_level_value():
    p = MengParams()
    assert cv.noise_level(p, "params") == pytest.approx(1e-11 / (math.pi * 1e-6) ** 2)
    assert cv.noise_level(p) == 0.0
    assert CoverageKernel(p, 2, kappa_c=1.0, noise="params").nu == cv.noise_level(p, "params")


def test_nakagami_m_continuity_and_m1_default():
    T = np.array([0.1, 1.0, 10.0])
    p = MengParams()
    np.testing.assert_allclose(cv.coverage(T, 2, p, m=1.0), cv.coverage(T, 2, p), atol=0)
    np.testing.assert_allclose(cv.coverage(T, 2, p, m=1.0 + 1e-7), cv.coverage(T, 2, p), atol=1e-6)


def test_broadcasting_shapes():
    p = MengParams()
    T = cv.db_to_linear(np.linspace(-10, 20, 5))[:, None]
    c = cv.coverage(T, np.array([1, 2, 3])[None, :], p)
    assert c.shape == (5, 3)
    assert isinstance(cv.coverage(1.0, 2, p), float)
    np.testing.assert_allclose(c[:, 1], cv.coverage(T[:, 0], 2, p), atol=0)
    assert np.all(np.diff(c, axis=0) < 0)  # decreasing in the threshold


def test_db_helpers():
    assert cv.db_to_linear(-30.0) == pytest.approx(1e-3)
    assert cv.linear_to_db(100.0) == pytest.approx(20.0)


@pytest.mark.parametrize(
    "kw",
    [
        dict(threshold=0.0),
        dict(threshold=-1.0),
        dict(threshold=float("nan")),
        dict(L=0),
        dict(L=1.5),
        dict(jt="foo"),
        dict(jt="coherent"),
        dict(jt="noncoherent"),  # M_t = 4: no closed form
        dict(m=0.3),
        dict(kappa_c=1.5),
        dict(p_c=-0.1),
        dict(noise=-1.0),
        dict(noise="foo"),
        dict(n_v=100),
    ],
)
def test_bad_input(kw):
    args = dict(threshold=1.0, L=2)
    args.update(kw)
    T, L = args.pop("threshold"), args.pop("L")
    with pytest.raises(ParameterError):
        cv.coverage(T, L, MengParams(), **args)


@pytest.mark.slow
def test_error_estimate_bounds_the_error():
    T = np.array([1e-3, 1.0, 1e3])
    p = MengParams()
    c, e = cv.coverage(T, 4, p, kappa_c=0.5, return_error=True)
    ref = cv.coverage(T, 4, p, kappa_c=0.5, n_v=481, n_eta=161)
    assert np.all(np.abs(c - ref) <= e + 1e-12)


@pytest.mark.parametrize("k, alpha", [(30.0, 2.5), (60.0, 6.0), (17.5, 4.0), (100.0, 2.05), (3.0, 4.0)])
def test_G_table_against_mpmath_for_large_shapes(k, alpha):
    """scipy's hyp2f1 is far off near |x| = 1 for large shapes (7e6 relative at k = 30, alpha = 2.5,
    t = -0.15) and non-finite above e^41.8 at k = 17.5, alpha = 4; the table must not inherit it."""
    import mpmath as mp

    from isacnet.analysis.coverage_pgfl import _Gim

    mp.mp.dps = 30
    try:
        d = mp.mpf(2) / alpha
        t = np.concatenate([np.linspace(-8.0, 4.0, 23), [-0.15, 37.0, 42.0, 60.0]])
        x = 1j * np.exp(t)
        ref = np.array([complex((1 + mp.mpc(z)) ** -k - 1 + k * mp.mpc(z) / (1 - d)
                                * mp.hyp2f1(k + 1, 1 - d, 2 - d, -mp.mpc(z))) for z in x])
        got = _Gim(x, k, alpha)
        np.testing.assert_allclose(got, ref, rtol=3e-9)
        np.testing.assert_allclose(_Gim(-x, k, alpha), ref.conj(), rtol=3e-9)
    finally:
        mp.mp.dps = 15


def test_G_table_matches_direct():
    x = 1j * np.concatenate([np.logspace(-20, 40, 3001), -np.logspace(-20, 40, 301)])
    for k, a in ((1.0, 4.0), (3.0, 3.0), (0.6, 2.5)):
        g = cv._G(x, k, a)
        assert np.max(np.abs(cv._Gim(x, k, a) - g) / np.maximum(1, np.abs(g))) < 1e-9


# --------------------------------------------------------------------------- comm


def _slow_signal(w, g, served, jt, ph):
    out = []
    for i in range(w.shape[0]):
        z, p, a = 0j, 0.0, 0.0
        for k in range(w.shape[1]):
            if served[i, k]:
                amp = math.sqrt(g[i, k] * w[i, k])
                p += amp * amp
                a += amp
                z += amp * complex(math.cos(ph[i, k]), math.sin(ph[i, k]))
        out.append({"power-sum": p, "coherent": a * a, "noncoherent": abs(z) ** 2}[jt])
    return np.array(out)


@pytest.mark.parametrize("jt", comm.JT_MODELS)
def test_served_signal_slow_twin(jt):
    rng = np.random.default_rng(3)
    w, g = rng.random((50, 4)), rng.exponential(size=(50, 4))
    served = rng.random((50, 4)) < 0.6
    ph = rng.uniform(0, 2 * np.pi, (50, 4))
    np.testing.assert_allclose(comm.served_signal(w, g, served, jt, ph), _slow_signal(w, g, served, jt, ph), rtol=1e-12)


def test_jt_ordering():
    rng = np.random.default_rng(4)
    w, g = rng.random((200, 3)), rng.exponential(size=(200, 3))
    served = np.ones((200, 3), bool)
    ph = rng.uniform(0, 2 * np.pi, (200, 3))
    ps = comm.served_signal(w, g, served, "power-sum")
    assert np.all(comm.served_signal(w, g, served, "coherent") >= ps * (1 - 1e-12))
    nc = comm.served_signal(w, g, served, "noncoherent", ph)
    assert np.all(nc <= comm.served_signal(w, g, served, "coherent") * (1 + 1e-12))


def test_success_single_k1_is_success_nc():
    rng = np.random.default_rng(5)
    w1, wi = rng.random(20) + 0.5, rng.random((20, 6))
    a = comm.success_single([0.3, 3.0], w1, wi, 1, 0.7, 0.2)
    b = comm.success_nc([0.3, 3.0], w1, wi, 0.7, 0.2)
    np.testing.assert_allclose(a, b, rtol=1e-13)


def test_success_single_gamma_against_fading_average():
    # P(g w1 > th (I + nu)) with g ~ Gamma(3, scale), I = sum E_j w_j: average the Gamma tail over I by MC
    from scipy import special

    rng = np.random.default_rng(6)
    w1, wi, th, sc, nu = np.array([0.8]), np.array([[0.5, 0.2, 0.05]]), 2.0, 0.5, 0.1
    interf = rng.exponential(size=(400_000, 3)) @ wi[0]
    f = special.gammaincc(3, th * (interf + nu) / (sc * w1[0]))
    got = comm.success_single([th], w1, wi, 3, sc, nu)[0, 0]
    assert abs(got - f.mean()) <= 4 * f.std() / math.sqrt(f.size)


# --------------------------------------------------------------------------- meta


def test_meta_moment_first_is_abg():
    T = np.array([0.1, 1.0, 10.0])
    np.testing.assert_allclose(meta.meta_moment(T, 1, ABG), 1 / (1 + rho4(T)), rtol=1e-10)


def test_meta_moment_against_haenggi_hypergeometric():
    import mpmath as mp

    mp.mp.dps = 30
    try:
        for th, b in ((0.5, 2.0), (3.0, 0.5), (10.0, 3.0)):
            ref = 1 / mp.hyp2f1(b, -0.5, 0.5, -th)
            assert meta.meta_moment(th, b, ABG) == pytest.approx(float(ref), rel=1e-10)
    finally:
        mp.mp.dps = 15


def test_beta_fraction():
    # a Beta(2, 3) law: M1 = 2/5, M2 = 2*3/(5*6) = 1/5
    from scipy import stats

    x = np.linspace(0.05, 0.95, 7)
    np.testing.assert_allclose(meta.beta_fraction_above(x, 0.4, 0.2), stats.beta(2, 3).sf(x), rtol=1e-12)
    with pytest.raises(ParameterError):
        meta.beta_fraction_above(0.5, 0.4, 0.1)


def test_inaccurate_or_overflowing_quadrature_is_said_not_silent():
    """Where the rule does not converge (alpha near 2, many cooperating BSs) the values come with
    a QuadratureWarning naming the worst point; where it overflows, an error naming the point."""
    import warnings

    coverage = cv.coverage

    from isacnet.params import QuadratureWarning

    p = MengParams(alpha=2.5)
    with pytest.warns(QuadratureWarning, match=r"threshold = 1000, L = 40"):
        c, e = coverage(1e3, 40, p, return_error=True)
    assert e > 1e-3 and 0.0 <= c <= 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a converged point: no warning
        coverage(np.array([0.1, 1.0, 10.0]), 3, p)
    with pytest.raises(FloatingPointError, match=r"L = 40, alpha = 2.05"):
        coverage(1.0, 40, MengParams(alpha=2.05), method="pointwise")
    # the shared rule (|Q| <= 1 - a: no overflow) returns it, flagged, and a finer rule confirms
    # the flag was needed and the value is close: 0.043023 +- 0.017 against 0.0430051
    with pytest.warns(QuadratureWarning, match=r"L = 40"):
        c, e = coverage(1.0, 40, MengParams(alpha=2.05), return_error=True)
    fine, e_fine = coverage(1.0, 40, MengParams(alpha=2.05), n_v=1921, n_eta=321, return_error=True)
    assert e_fine < 1e-9 and abs(c - fine) <= e
