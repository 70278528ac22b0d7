"""Meng CoMP rate (Lemma 2, Theorem 2) against mpmath and against independent routes.

* B(x; a, b), H1, H2 and the ring mean against mpmath: ``betainc(regularized=False)`` and direct
  ``quad`` of the PGFL integrand in the distance variable, 2/r^2 int (1 - (1 + z r^a x^-a)^-K) x dx.
* Theorem 2 against an mpmath 2-D integral (adaptive tanh-sinh in z with break points 1 and
  eta^-alpha, and in eta), written here from the derivation, not from the code (``_mp_rate``).
  The L >= 2 values take about a minute each at 15 digits, so they are stored (``MP_RATE``);
  generating snippet::

      >>> for case in MP_RATE: print(case, mpmath.nstr(_mp_rate(*case), 17))

  L = 1 is recomputed live, and one L >= 2 value in the slow set.
* L = 1, M_t = 2 against the coverage route of Andrews, Baccelli & Ganti (2011):
  R = int_0^inf dt / (1 + rho((e^t - 1)/p^c, alpha)), rho(T, a) = T^(2/a) int_(T^(-2/a))^inf
  du / (1 + u^(a/2)); 1.49 nats at alpha = 4, p^c = 1 (their 2.15 bit/s/Hz).
* The "exact" and "pgfl" rates against the expectation over the true joint law of
  (T_1, T_L) = (pi lambda r^2, pi lambda r_L^2) of ``rate_conditional``, by an independent
  product Gauss-Legendre rule in (ln T_1, ln(T_L - T_1)) with the densities T_1 ~ Exp(1),
  T_L - T_1 ~ Gamma(L - 1) (no eta, no analytic T_L average).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from scipy import special

from isacnet.analysis import meng_rate as mr
from isacnet.params import MengParams

# --------------------------------------------------------------------------- mpmath twins


def _mp_h1(x, K, al, eta):
    d = 2 / al
    y = x * eta**al
    return (
        eta**-2 * (1 - (1 + y) ** -K)
        + (1 + x) ** -K
        - 1
        + K * x**d * mpmath.betainc(1 - d, K + d, y / (1 + y), x / (1 + x))
    )


def _mp_h2(x, al, eta, K=1):
    d = 2 / al
    y = x * eta**al
    return K * x**d * mpmath.betainc(1 - d, K + d, 0, y / (1 + y)) + eta**-2 * ((1 + y) ** -K - 1)


def _mp_F(z, eta, L, pc, kap, M, al, var, th, k):
    D = (1 + pc * z) ** (1 - M)
    if L == 1:
        return (1 - D) / (1 + _mp_h2(th * z, al, mpmath.mpf(1), k))
    hI, hD, h2 = _mp_h1(th * z, k, al, eta), _mp_h1(pc * z, M - 1, al, eta), _mp_h2(th * z, al, eta, k)
    if var in ("paper", "pgfl"):
        cY = (1 - kap) * hI + h2
        cS = cY + kap * hD
        if var == "paper":
            return 1 / (1 + cY) - D / (1 + cS)
        return (1 + eta**2 * cY) ** -L - D * (1 + eta**2 * cS) ** -L
    q = eta**-2 - 1
    AY = 1 - (1 - kap) * hI / q
    AS = 1 - kap * hD / q - (1 - kap) * hI / q
    eI, eD = (1 + th * z * eta**al) ** -k, (1 + pc * z * eta**al) ** (1 - M)
    BY, BS = kap + (1 - kap) * eI, kap * eD + (1 - kap) * eI
    return (1 + eta**2 * h2) ** -L * (AY ** (L - 2) * BY - D * AS ** (L - 2) * BS)


def _mp_rate(L, pc, kap, M, al, var, shape="paper", dps=20):
    """Theorem 2 [nats] by mpmath: int_0^1 f_eta int_0^inf F/z dz d eta, f_eta of (29)."""
    with mpmath.workdps(dps):
        pc, kap, al = mpmath.mpf(pc), mpmath.mpf(kap), mpmath.mpf(al)
        th = mpmath.mpf(1) if shape == "paper" else pc**2 + (1 - pc) ** 2
        k = 1 / th

        def inner(eta):
            return mpmath.quad(lambda z: _mp_F(z, eta, L, pc, kap, M, al, var, th, k) / z, [0, 1, eta**-al, mpmath.inf])

        if L == 1:
            return inner(mpmath.mpf(1))
        return mpmath.quad(lambda e: 2 * (L - 1) * e * (1 - e**2) ** (L - 2) * inner(e), [0, mpmath.mpf(1) / 2, 1])


# (L, p^c, kappa_c, M_t, alpha, variant, interference shape) -> R [nats], from _mp_rate(..., dps=15)
# (1 to 4 minutes each). At dps 15 mpmath's own error can reach 1e-8 (seen at L = 1, alpha = 5; the
# live L = 1 test uses dps 20); these all agree with the code to < 1e-12.
MP_RATE = {
    (2, 0.6, 0.8, 4, 4, "paper", "paper"): "2.63429214039324",
    (2, 0.6, 0.8, 4, 4, "exact", "paper"): "2.61368673483763",
    (2, 0.6, 0.8, 4, 4, "pgfl", "paper"): "2.5769930180293157",
    (4, 0.3, 0.5, 4, 4, "paper", "paper"): "2.0567866681388289",
    (4, 0.3, 0.5, 4, 4, "pgfl", "paper"): "2.0984618142443163",
    (4, 0.3, 0.5, 4, 4, "exact", "paper"): "2.1346706519434839",
    (3, 0.9, 1.0, 2, 3, "exact", "paper"): "1.3713944289406221",
    (3, 0.9, 1.0, 2, 3, "paper", "paper"): "1.4215620971057212",
    (6, 0.6, 0.9, 8, 4, "exact", "matched"): "4.4940107646194702",
    (3, 0.5, 0.0, 4, 3.5, "exact", "paper"): "1.5437983980948842",
    (10, 0.6, 0.7, 4, 4, "exact", "paper"): "3.4000486928124265",
}


def _params(M, alpha, pc):
    return MengParams(n_tx_antennas=M, alpha=alpha, sensing_power_fraction=1.0 - pc)


# --------------------------------------------------------------------------- special functions


@pytest.mark.parametrize(
    "x, a, b",
    [
        (0.3, 0.5, 1.5),
        (0.999999, 0.5, 3.5),
        (1.0, 0.25, 1.75),
        (1e-8, 0.5, 1.5),
        (0.7, 0.01, 2.99),
        (0.5, 1 / 3, 7 / 3),
    ],
)
def test_incomplete_beta_vs_mpmath(x, a, b):
    ref = float(mpmath.betainc(a, b, 0, x, regularized=False))
    assert mr.incomplete_beta(x, a, b) == pytest.approx(ref, rel=1e-13)


def test_incomplete_beta_is_not_regularised():
    # B(1; a, b) = B(a, b) = Gamma(a)Gamma(b)/Gamma(a+b); scipy's betainc would give 1.
    assert mr.incomplete_beta(1.0, 0.5, 1.5) == pytest.approx(math.pi / 2, rel=1e-14)


def _one_minus_lt(y, K):
    """1 - (1 + y)^-K without cancellation at small y."""
    return -mpmath.expm1(-K * mpmath.log1p(y))


def _pgfl_ring(z, K, al, r, rL):
    """2/r^2 int_r^rL (1 - (1 + z r^al x^-al)^-K) x dx: the PGFL exponent in distance units."""
    return 2 * mpmath.quad(lambda x: _one_minus_lt(z * r**al * x**-al, K) * x, [r, rL]) / r**2


@pytest.mark.parametrize(
    "z, K, al, eta",
    [
        (0.8, 3, 4, 0.4),
        (1e-3, 1, 4, 0.1),
        (50.0, 3, 3, 0.7),
        (2.0, 2.5, 2.5, 0.95),
        (1e4, 1, 6, 0.05),
        (0.3, 7, 4, 0.999),
    ],
)
def test_H1_is_the_ring_pgfl(z, K, al, eta):
    with mpmath.workdps(30):
        r = mpmath.mpf("1.7")
        ref = _pgfl_ring(mpmath.mpf(z), K, al, r, r / mpmath.mpf(eta))
    assert mr.H1(z, K, al, eta) == pytest.approx(float(ref), rel=1e-11, abs=1e-15)


@pytest.mark.parametrize(
    "z, al, eta, K",
    [(0.8, 4, 0.4, 1), (1e-3, 4, 0.1, 1), (50.0, 3, 0.7, 1), (2.0, 2.5, 1.0, 1), (1e4, 6, 0.05, 1), (3.0, 4, 0.5, 1.6)],
)
def test_H2_is_the_outer_pgfl(z, al, eta, K):
    with mpmath.workdps(30):
        r = mpmath.mpf("0.9")
        rL = r / mpmath.mpf(eta)
        al = mpmath.mpf(al)

        def f(w):  # x = rL w^(-1/(al-2)) maps (rL, inf) onto (0, 1] with a bounded integrand
            x = rL * w ** (-1 / (al - 2))
            return _one_minus_lt(z * r**al * x**-al, K) * x * x / (w * (al - 2))

        ref = 2 * mpmath.quad(f, [0, 1]) / r**2
    assert mr.H2(z, al, eta, K) == pytest.approx(float(ref), rel=1e-11)


def test_H_closed_forms_match_mpmath_betainc_form_for_large_x():
    # large x: the difference of two near-complete Beta functions (upper tails in the code)
    for x in (1e3, 1e8, 1e12):
        with mpmath.workdps(40):
            ref1 = _mp_h1(mpmath.mpf(x), 3, mpmath.mpf(4), mpmath.mpf("0.3"))
            ref2 = _mp_h2(mpmath.mpf(x), mpmath.mpf(4), mpmath.mpf("0.3"))
        assert mr.H1(x, 3, 4.0, 0.3) == pytest.approx(float(ref1), rel=1e-12)
        assert mr.H2(x, 4.0, 0.3) == pytest.approx(float(ref2), rel=1e-12)


@pytest.mark.parametrize("eta", [0.2, 0.9, 0.99999, 1 - 1e-12])
def test_annulus_mean_vs_mpmath(eta):
    x, K, al = 2.5, 3.0, 4.0
    with mpmath.workdps(40):
        e = mpmath.mpf(eta)
        ref = mpmath.quad(lambda s: _one_minus_lt(x * s ** (-mpmath.mpf(al) / 2), K), [1, e**-2]) / (e**-2 - 1)
    assert mr.annulus_mean(x, K, al, eta) == pytest.approx(float(ref), rel=1e-12)


# --------------------------------------------------------------------------- Theorem 2


@pytest.mark.parametrize("pc, M, alpha", [(0.6, 4, 4.0), (0.3, 2, 3.0), (1.0, 8, 5.0)])
def test_rate_L1_vs_mpmath(pc, M, alpha):
    ref = float(_mp_rate(1, pc, 1.0, M, alpha, "exact"))
    p = _params(M, alpha, pc)
    for variant in ("exact", "pgfl", "paper"):
        assert mr.rate(1, p, variant=variant, unit="nats") == pytest.approx(ref, rel=1e-9)


def _andrews_rate(pc):
    """Andrews et al. (2011), alpha = 4, Rayleigh fading, no noise: P(SIR > T) = 1/(1 + rho(T)),
    rho(T) = sqrt(T) (pi/2 - arctan(1/sqrt(T))); R = int_0^inf P(SIR > e^t - 1) dt [nats].
    Desired gain p^c Exp(1): P(p^c g/I > T) = 1/(1 + rho(T/p^c))."""

    def cover(t):
        T = mpmath.expm1(t) / pc
        return 1 / (1 + mpmath.sqrt(T) * (mpmath.pi / 2 - mpmath.atan(1 / mpmath.sqrt(T))))

    with mpmath.workdps(25):
        return mpmath.quad(cover, [0, 1, 5, 20, mpmath.inf])


@pytest.mark.parametrize("pc", [1.0, 0.4])
def test_rate_L1_rayleigh_matches_andrews_coverage_route(pc):
    ref = float(_andrews_rate(pc))
    if pc == 1.0:
        assert ref == pytest.approx(2.15 * math.log(2), abs=0.005)  # Andrews et al.'s 2.15 bit/s/Hz
    p = _params(2, 4.0, pc)
    assert mr.rate(1, p, unit="nats") == pytest.approx(ref, rel=1e-9)
    # kappa_c = 0: every ring BS interferes, which is L = 1 again, for every variant
    for variant in ("exact", "pgfl", "paper"):
        assert mr.rate(4, p, kappa_c=0.0, variant=variant, unit="nats") == pytest.approx(ref, rel=1e-9)


@pytest.mark.parametrize("case", sorted(MP_RATE))
def test_rate_vs_stored_mpmath(case):
    L, pc, kap, M, al, variant, shape = case
    got, err = mr.rate(
        L, _params(M, al, pc), kappa_c=kap, variant=variant, unit="nats", interference_shape=shape, return_error=True
    )
    ref = float(MP_RATE[case])
    assert got == pytest.approx(ref, rel=1e-9)
    assert err < 1e-6 * ref


@pytest.mark.slow
def test_rate_vs_live_mpmath():
    """About a minute: one L >= 2 value recomputed (dps 15, whose own error can reach 1e-8)."""
    case = (2, 0.4, 0.5, 3, 4, "exact", "paper")
    ref = float(_mp_rate(*case, dps=15))
    L, pc, kap, M, al, variant, shape = case
    got = mr.rate(L, _params(M, al, pc), kappa_c=kap, variant=variant, unit="nats")
    assert got == pytest.approx(ref, rel=1e-7)


# --------------------------------------------------------------------------- joint law route


def _gl_rule(parts, order=8):
    """Composite Gauss-Legendre: ``parts`` = [(lo, hi, panels), ...]."""
    x, w = np.polynomial.legendre.leggauss(order)
    nodes, weights = [], []
    for lo, hi, n in parts:
        e = np.linspace(lo, hi, n + 1)
        a, b = e[:-1, None], e[1:, None]
        nodes.append(((a + b) / 2 + (b - a) / 2 * x).ravel())
        weights.append(((b - a) / 2 * w).ravel())
    return np.concatenate(nodes), np.concatenate(weights)


# ln T_1 and ln S: the integrands are ~ e^y (1 + |y|) (S: e^((L-1) w)) below -4 and decay like
# exp(-e^y) above
_LOG_RULE = [(-34.0, -4.0, 3), (-4.0, 4.0, 8)]


@pytest.mark.parametrize(
    "model, L, kap, pc",
    [
        ("exact", 3, 0.7, 0.6),
        pytest.param("pgfl", 4, 0.5, 0.3, marks=pytest.mark.slow),
        pytest.param("exact", 2, 0.5, 0.3, marks=pytest.mark.slow),
        pytest.param("pgfl", 2, 0.7, 0.6, marks=pytest.mark.slow),
    ],
)
def test_rate_is_the_average_of_rate_conditional_over_T1_TL(model, L, kap, pc):
    """E over T_1 ~ Exp(1), S = T_L - T_1 ~ Gamma(L-1) (independent) of the conditional rate."""
    p = _params(4, 4.0, pc)
    y, wy = _gl_rule(_LOG_RULE)  # ln T_1
    w, ww = _gl_rule(_LOG_RULE)  # ln S
    T1, S = np.exp(y)[:, None], np.exp(w)[None, :]
    dens = T1 * np.exp(-T1) * S ** (L - 1) * np.exp(-S - special.gammaln(L - 1))  # Jacobians included
    lam = p.bs_density
    r = np.sqrt(T1 / (math.pi * lam))
    rL = np.sqrt((T1 + S) / (math.pi * lam))
    rc = mr.rate_conditional(r, rL, L, p, kappa_c=kap, model=model, unit="nats", n_z=129)
    ref = float(wy @ (rc * dens) @ ww)
    assert mr.rate(L, p, kappa_c=kap, variant=model, unit="nats") == pytest.approx(ref, rel=1e-7)


@pytest.mark.parametrize("L", [1, 3])
def test_rate_given_r_averages_to_rate(L):
    """(18) conditional on r only (r_L averaged given r), then T_1 ~ Exp(1)."""
    p = _params(4, 4.0, 0.6)
    y, wy = _gl_rule(_LOG_RULE)
    T1 = np.exp(y)
    r = np.sqrt(T1 / (math.pi * p.bs_density))
    rc = mr.rate_conditional(r, None, L, p, kappa_c=0.8, unit="nats", n_z=129)
    ref = float(wy @ (rc * T1 * np.exp(-T1)))
    assert mr.rate(L, p, kappa_c=0.8, unit="nats") == pytest.approx(ref, rel=1e-7)
