"""The numba Meng-rate kernel in law: against the numpy backend, closed forms and exact laws.

* numba vs numpy (independent streams): z = |m_1 - m_2| / sqrt(se_1^2 + se_2^2) < 5 for
  E[rate_nats] and E[n_accepted], a two-sample KS test on rate_nats (p > 1e-5), and
  E[n_accepted] = kappa_c (L - 1) (binomial standard error), for every interference shape,
  L in {1, 4, 10}, kappa_c < 1 and = 1, float32 and float64 (a fast subset by default).
* The drawn gains (``numba_rate.rate_draws``): interferer laws by KS against their CDFs derived
  here (Exp(1); Gamma(1/v, v); the hypoexponential p^c E_1 + p^s E_2; the ZF law
  E_t[P(nu_1 E_1 + nu_2 E_2 <= x)], t ~ Beta(M_t - 1, 1), by quadrature), mean 1 and the variance
  (1, v, (p^c)^2 + (p^s)^2, 1 - 2 p^c p^s (1 - 1/M_t)); desired Gamma(M_t - 1, p^c).
* The samplers: standard normal (ziggurat) and Gamma(a), a >= 1 (Marsaglia-Tsang): KS against
  scipy.stats, mean and variance within 5 standard errors, the ziggurat's tail path.
* L = 1: E[ln(1 + SIR)] = int_0^inf (1/z) (1 - (1 + p^c z)^(1 - M_t)) / (1 + A(z)) dz with
  A(z) = int_1^inf (1 - L_G(z v^(-alpha/2))) dv (L_G the interferer gain's Laplace transform;
  derivation in tests/statistical/test_meng_rate_sim.py), within 5 se + the tail bias budget 1e-4.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special, stats

from isacnet import backends
from isacnet.meng import rate_kernel
from isacnet.params import MengParams
from isacnet.rng import block_rng

pytestmark = pytest.mark.skipif(
    not backends.available("numba"), reason="numba is not installed (pip install 'isacnet[fast]')"
)

Z = 5.0
P_KS = 1e-5
TAIL_BIAS = 1e-4
DTYPES = ["float64", "float32"]
SHAPES = ["exp", "matched", "sum", "zf-law"]


def mean_se(x) -> tuple[float, float]:
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(x.size))


def var_se(x) -> tuple[float, float]:
    """Sample variance and its standard error sqrt((mu_4 - sigma^4) / n)."""
    x = np.asarray(x, dtype=float)
    c = x - x.mean()
    v = float(np.mean(c * c))
    return v, math.sqrt(max(float(np.mean(c**4)) - v * v, 0.0) / x.size)


# --------------------------------------------------------------------------- numba vs numpy
_NUMPY: dict = {}


def numpy_rates(shape: str, L: int, kappa: float, n: int) -> dict[str, np.ndarray]:
    key = (shape, L, kappa, n)
    if key not in _NUMPY:
        _NUMPY[key] = rate_kernel(MengParams(), L, kappa_c=kappa, interference_shape=shape)(block_rng(61, L, 0), n)
    return _NUMPY[key]


def check_agreement(shape, L, kappa, dtype, n):
    ref = numpy_rates(shape, L, kappa, n)
    k = rate_kernel(MengParams(), L, kappa_c=kappa, interference_shape=shape, backend="numba", dtype=dtype)
    got = k(block_rng(62, L, 1 + DTYPES.index(dtype)), n)
    for q in ("rate_nats", "sir_db", "n_accepted"):
        (m1, s1), (m2, s2) = mean_se(got[q]), mean_se(ref[q])
        if s1 == s2 == 0.0:  # kappa_c = 1 or L = 1: n_accepted = L - 1 exactly
            assert m1 == m2 == L - 1, q
        else:
            assert abs(m1 - m2) <= Z * math.hypot(s1, s2), (q, m1, s1, m2, s2)
    m, _ = mean_se(got["n_accepted"])
    assert abs(m - kappa * (L - 1)) <= Z * math.sqrt(kappa * (1 - kappa) * (L - 1) / n) + 1e-12
    assert stats.ks_2samp(got["rate_nats"].astype(float), ref["rate_nats"]).pvalue > P_KS


FAST = [  # (shape, L, kappa, dtype): every shape, L and dtype at least once
    ("exp", 10, 1.0, "float32"),
    ("exp", 4, 0.6, "float64"),
    ("matched", 10, 0.6, "float64"),
    ("matched", 1, 1.0, "float32"),
    ("sum", 4, 1.0, "float32"),
    ("sum", 10, 0.6, "float64"),
    ("zf-law", 4, 0.6, "float32"),
    ("zf-law", 10, 1.0, "float64"),
]


@pytest.mark.parametrize(("shape", "L", "kappa", "dtype"), FAST)
def test_numba_agrees_with_numpy(shape, L, kappa, dtype):
    check_agreement(shape, L, kappa, dtype, 20_000)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kappa", [0.6, 1.0])
@pytest.mark.parametrize("L", [1, 4, 10])
@pytest.mark.parametrize("shape", SHAPES)
def test_numba_agrees_with_numpy_full_grid(shape, L, kappa, dtype):
    check_agreement(shape, L, kappa, dtype, 100_000)


# --------------------------------------------------------------------------- the drawn gains
def zf_cdf(x, mt: int, pc: float) -> np.ndarray:
    """P(nu_1 E_1 + nu_2 E_2 <= x) averaged over t ~ Beta(M_t - 1, 1) (density (M_t-1) t^(M_t-2)),
    nu_{1,2} = (1 +- sqrt(1 - 4 c)) / 2, c = p^c p^s t; the hypoexponential CDF
    1 - (nu_1 e^(-x/nu_1) - nu_2 e^(-x/nu_2)) / (nu_1 - nu_2), nu_1 > nu_2 for t < 1 when
    4 p^c p^s < 1 (p^c != 1/2)."""
    x = np.asarray(x, dtype=float)
    ps = 1.0 - pc

    def f(t):
        c = pc * ps * t
        nu1 = 0.5 * (1.0 + math.sqrt(1.0 - 4.0 * c))
        nu2 = c / nu1
        if nu2 == 0.0:
            cdf = -np.expm1(-x / nu1)
        else:
            cdf = 1.0 - (nu1 * np.exp(-x / nu1) - nu2 * np.exp(-x / nu2)) / (nu1 - nu2)
        return (mt - 1) * t ** (mt - 2) * cdf

    return integrate.quad_vec(f, 0.0, 1.0, epsabs=1e-12, epsrel=1e-10)[0]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "mt"), [(s, 4) for s in SHAPES] + [("zf-law", 8)])  # t: max of uniforms / exp
def test_drawn_gain_laws(shape, mt, dtype):
    from isacnet.backends import numba_rate

    ps = 0.3
    pc = 1.0 - ps
    p = MengParams(n_tx_antennas=mt, sensing_power_fraction=ps)
    k = rate_kernel(p, 2, kappa_c=1.0, k_nearest=31, interference_shape=shape, backend="numba", dtype=dtype)
    d = numba_rate.rate_draws(k, block_rng(63, SHAPES.index(shape) + mt, DTYPES.index(dtype)), 12_000)
    g = d["interferer"].astype(float).ravel()  # 360,000 independent gains (variance: se ~ 0.003)
    v = pc * pc + ps * ps
    law = {
        "exp": (stats.expon.cdf, 1.0),
        "matched": (stats.gamma(1.0 / v, scale=v).cdf, v),
        "sum": (lambda x: 1.0 - (pc * np.exp(-x / pc) - ps * np.exp(-x / ps)) / (pc - ps), v),
        "zf-law": (lambda x: zf_cdf(x, mt, pc), 1.0 - 2.0 * pc * ps * (1.0 - 1.0 / mt)),
    }
    cdf, var = law[shape]
    assert stats.kstest(g[:20_000], cdf).pvalue > P_KS
    m, se = mean_se(g)
    assert abs(m - 1.0) <= Z * se, (m, se)
    s2, se2 = var_se(g)
    assert abs(s2 - var) <= Z * se2, (s2, var, se2)
    gd = d["desired"].astype(float).ravel()  # kappa_c = 1: both columns drawn
    assert stats.kstest(gd, stats.gamma(mt - 1, scale=pc).cdf).pvalue > P_KS
    m, se = mean_se(gd)
    assert abs(m - (mt - 1) * pc) <= Z * se


# --------------------------------------------------------------------------- samplers
def test_normal_sampler_law():
    from isacnet.backends.numba_kernels import stream_state
    from isacnet.backends.numba_rate import _NOR_R, normals

    n = 2_000_000
    x = np.empty(n)
    normals(stream_state(block_rng(64, 0, 0)), x)
    assert stats.kstest(x[:200_000], "norm").pvalue > P_KS
    assert abs(x.mean()) <= Z / math.sqrt(n)
    assert abs(x.var() - 1.0) <= Z * math.sqrt(2.0 / n)
    assert abs(np.mean(x**4) - 3.0) <= Z * math.sqrt(96.0 / n)  # Var X^4 = 105 - 9
    for lo in (0.0, 1.0, 2.5):
        p = special.erfc(lo / math.sqrt(2)) / 2
        frac = np.mean(x > lo)
        assert abs(frac - p) <= Z * math.sqrt(p * (1 - p) / n), (lo, frac, p)
    # the tail path: P(|X| > r), both signs, and the law of |X| beyond r
    tail = np.abs(x[np.abs(x) > _NOR_R])
    p = special.erfc(_NOR_R / math.sqrt(2))
    assert abs(tail.size / n - p) <= Z * math.sqrt(p * (1 - p) / n)
    assert abs(np.sum(x > _NOR_R) - np.sum(x < -_NOR_R)) <= Z * math.sqrt(tail.size)
    pr = special.erfc(_NOR_R / math.sqrt(2))
    assert stats.kstest(tail, lambda t: (pr - special.erfc(t / math.sqrt(2))) / pr).pvalue > P_KS


@pytest.mark.parametrize("a", [1.0, 1.25, 1.0 / 0.58, 2.0, 5.5])  # 1 / 0.58: "matched" at p^s = 0.3
def test_gamma_sampler_law(a):
    from isacnet.backends.numba_kernels import stream_state
    from isacnet.backends.numba_rate import gammas

    n = 200_000
    x = np.empty(n)
    gammas(stream_state(block_rng(65, 0, int(10 * a))), a, x)
    assert np.all(x > 0)
    assert stats.kstest(x, stats.gamma(a).cdf).pvalue > P_KS
    assert abs(x.mean() - a) <= Z * math.sqrt(a / n)
    s2, _ = var_se(x)
    assert abs(s2 - a) <= Z * math.sqrt((2 * a * a + 6 * a) / n)  # central mu_4 = 3 a^2 + 6 a


@pytest.mark.parametrize("n", [1, 3, 4, 5, 7])  # the largest of n uniforms (n <= 4), exp(-E / n)
def test_beta_sampler_law(n):
    """t ~ Beta(n, 1) (zf-law: 1 - |rho|^2 with n = M_t - 1): KS, mean n / (n + 1) and
    variance n / ((n + 1)^2 (n + 2)) within 5 standard errors."""
    from isacnet.backends.numba_kernels import stream_state
    from isacnet.backends.numba_rate import beta_tops

    size = 200_000
    x = np.empty(size)
    beta_tops(stream_state(block_rng(67, 0, n)), n, x)
    assert np.all((x >= 0) & (x < 1))
    assert stats.kstest(x, stats.beta(n, 1).cdf).pvalue > P_KS
    m, se = mean_se(x)
    assert abs(m - n / (n + 1)) <= Z * se
    s2, se2 = var_se(x)
    assert abs(s2 - n / ((n + 1) ** 2 * (n + 2))) <= Z * se2


# --------------------------------------------------------------------------- L = 1 closed form
def rate_l1(mt: int, pc: float, alpha: float, log_laplace) -> float:
    """int_0^inf (1/z)(1 - (1 + p^c z)^(1 - M_t)) / (1 + A(z)) dz [nats] (module docstring);
    ``log_laplace(s)`` = ln E[e^(-s G)], so 1 - L_G = -expm1(log_laplace) without cancellation."""

    def a_of(z):
        f = lambda v: -math.expm1(log_laplace(z * v ** (-alpha / 2)))  # noqa: E731
        return integrate.quad(f, 1.0, np.inf, epsabs=0.0, epsrel=1e-10, limit=200)[0]

    def g(z):
        return -math.expm1((1 - mt) * math.log1p(pc * z)) / z / (1.0 + a_of(z))

    return sum(integrate.quad(g, lo, hi, epsabs=0.0, epsrel=1e-9, limit=200)[0] for lo, hi in ((0, 1), (1, np.inf)))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ["exp", "matched", "sum"])
def test_l1_matches_closed_form(shape, dtype):
    mt, ps, alpha = 4, 0.3, 4.0
    pc = 1.0 - ps
    v = pc * pc + ps * ps
    log_laplace = {
        "exp": lambda s: -math.log1p(s),
        "matched": lambda s: -math.log1p(v * s) / v,  # Gamma(1/v, v)
        "sum": lambda s: -math.log1p(pc * s) - math.log1p(ps * s),
    }[shape]
    exact = rate_l1(mt, pc, alpha, log_laplace)
    if shape == "exp":  # A(z) = sqrt(z) arctan(sqrt(z)) at alpha = 4 (closed form)
        ref = sum(
            integrate.quad(
                lambda z: -math.expm1(-3 * math.log1p(pc * z)) / z / (1 + math.sqrt(z) * math.atan(math.sqrt(z))),
                lo,
                hi,
                epsrel=1e-11,
                limit=200,
            )[0]
            for lo, hi in ((0, 1), (1, np.inf))
        )
        assert exact == pytest.approx(ref, rel=1e-8)
    p = MengParams(n_tx_antennas=mt, sensing_power_fraction=ps, alpha=alpha)
    k = rate_kernel(p, 1, interference_shape=shape, backend="numba", dtype=dtype)
    m, se = mean_se(k(block_rng(66, SHAPES.index(shape), DTYPES.index(dtype)), 400_000)["rate_nats"])
    assert abs(m - exact) <= Z * se + TAIL_BIAS * exact, (m, se, exact)
    assert se < 2e-3 * exact
