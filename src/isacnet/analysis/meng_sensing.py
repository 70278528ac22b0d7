"""Closed forms of Meng & Masouros, "Cooperative Sensing and Communication for ISAC Networks:
Performance Analysis and Optimization" (../shared/papers/meng-masouros-cooperative-isac.md),
Sections II-B and III, and the acceptance twin of Section IV.

Every function broadcasts over array arguments like a numpy ufunc. "As printed" forms are kept
beside the corrected ones (``variant="paper"``) so that the errata in docs/errata.md can be
reproduced; the default is always the corrected form.

Notation: BSs are ranked by distance d_1 < d_2 < ... from the typical target at the origin; in
arrival-time units g_k = pi lambda_b d_k^2 (a unit-rate Poisson process), w_k = d_k^-beta,
W = sum_k w_k. The exact per-layout CRLB is tr(F^-1) with F of eq. (5), F / |zeta|^2 =
2 (W A + a a^T), which gives the closed form (any beta; derivation in docs/errata.md, M-5)

    tr(F^-1) = (W^2 + |z|^2) / (2 |zeta|^2 W (W det A + a^T adj(A) a)),
    A = sum w_k e_k e_k^T,  a = sum w_k e_k,  z = sum w_k exp(j theta_k),

and tr(F^-1) -> 2 / (|zeta|^2 W^2) as N grows, which is where the factor 2 of (12)-(13) comes
from (and why (14) and (16), which drop it, are off by 2: errata M-7).

At p^s = 0 (all power to communication) |zeta|^2 = 0 and every CRLB here is +inf (no sensing
power, no Fisher information), never a division error.
"""

from __future__ import annotations

import math
from typing import Any, Literal

import numpy as np
from scipy import special

from ..params import MengParams, ParameterError, exp_checked
from ._meng_checks import (  # noqa: F401 - log_gamma_half_ratio, nbar: re-exported (public here)
    _crlb_from_log,
    _ints,
    _log,
    _log_scale,
    _out,
    _reals,
    _require_beta2,
    log_gamma_half_ratio,
    nbar,
)
from .acceptance import (  # noqa: F401  (re-exported: the NB acceptance law, docs/acceptance.md)
    _int_array,
    area_variance,
    kappa_c_nb,
    kappa_s_nb,
    nb_request_acceptance,
)
from .meng_acceptance import (  # noqa: F401 - re-exported: Lemma 1's public home stays here
    KappaVariant,
    kappa_c,
    kappa_s,
    poisson_request_acceptance,
)

EULER_GAMMA = 0.5772156649015329

# --------------------------------------------------------------------------- eq. (5)


def zeta2(params: MengParams, variant: Literal["corrected", "paper"] = "corrected") -> float:
    """|zeta|^2 of the FIM (5) [m^(2 beta - 2)].

    ``"corrected"``: P_t p^s G_t G_r B^2 sigma / (8 pi f_c^2 sigma_s^2), RCS over noise power,
    G_t = M_t - 1, G_r = M_r (errata M-1). ``"paper"``: as printed, with sigma_s^2 in numerator
    and denominator (the noise cancels: P_t p^s G_t G_r B^2 / (8 pi f_c^2)); kept to show that
    the printed form is not even dimensionally a signal-to-noise ratio.
    """
    if variant == "corrected":
        return params.zeta2
    if variant == "paper":
        p = params
        if p.sensing_power_fraction == 0.0:
            return 0.0
        log_v = (
            math.log(p.tx_power)
            + math.log(p.sensing_power_fraction)
            + math.log(p.tx_gain)
            + math.log(p.rx_gain)
            + 2.0 * math.log(p.eff_bandwidth)
            - math.log(8.0 * math.pi)
            - 2.0 * math.log(p.carrier_freq)
        )
        names = (
            "tx_power",
            "sensing_power_fraction",
            "n_tx_antennas",
            "n_rx_antennas",
            "eff_bandwidth",
            "carrier_freq",
        )
        return exp_checked(log_v, {n: getattr(p, n) for n in names}, "|zeta|^2 as printed")
    raise ParameterError("variant", variant, "'corrected' or 'paper'")


# --------------------------------------------------------------------------- distances


def mean_distance(n, density: float, variant: Literal["exact", "approx"] = "exact") -> np.ndarray:
    """E[d_n], the mean distance to the n-th nearest BS [m] (text below (12)).

    ``"exact"``: Gamma(n + 1/2) / (sqrt(lambda pi) Gamma(n)) in the log domain.
    ``"approx"``: sqrt(n / (lambda pi)), the paper's approximation; its relative error is
    1/(8n) + O(n^-2) (Gamma(n+1/2)/Gamma(n) = sqrt(n) (1 - 1/(8n) + ...)).
    """
    n = _ints(n, "n").astype(float)
    density = float(_reals(density, "density", gt=0.0))
    log_scale = -0.5 * (math.log(math.pi) + math.log(density))  # ln (pi lam)^-1/2, no overflow
    if variant == "exact":
        log_v = log_gamma_half_ratio(n) + log_scale
    elif variant == "approx":
        log_v = 0.5 * np.log(n) + log_scale
    else:
        raise ParameterError("variant", variant, "'exact' or 'approx'")
    return _out(np.asarray(exp_checked(log_v, {"n": n.tolist(), "density": density}, "E[d_n]", " m")))


def harmonic(n) -> np.ndarray:
    """H_n = sum_{k<=n} 1/k = digamma(n + 1) + Euler's gamma."""
    n = _ints(n, "N").astype(float)
    return _out(special.digamma(n + 1.0) + EULER_GAMMA)


def _power_sum_approx(n: np.ndarray, s: float) -> np.ndarray:
    """sum_{k<=n} k^-s for s >= 1 (digamma at s = 1, Hurwitz zeta otherwise)."""
    if s == 1.0:
        return special.digamma(n + 1.0) + EULER_GAMMA
    return special.zeta(s, 1.0) - special.zeta(s, n + 1.0)


_EXACT_SUM_MAX = 2_000_000


def _distance_power_sums(n: np.ndarray, params: MengParams, distance: str):
    """ln S1, ln S2 and r = S2 / S1^2 for S1 = sum_{k<=n} E[d_k]^-beta, S2 = sum_{k<=n}
    E[d_k]^-2beta, in units of (pi lam_b)^(beta/2) and (pi lam_b)^beta.

    Dimensionless: the density scale is applied by the callers, in the log domain, so that a
    density of 1e-300 or 1e300 does not overflow; and the sums are formed relative to their
    first (largest) term, so that a large beta (E[d_1]^-beta ~ 1.13^beta) does not overflow
    either. r is in (0, 1], exactly 1 at n = 1 (S1^2 - S2 = S1^2 (1 - r), the off-diagonal sum).
    """
    b = params.beta
    if distance == "approx":  # sum k^-s: first term 1, no overflow
        s1, s2 = _power_sum_approx(n, 0.5 * b), _power_sum_approx(n, b)
        # S2 <= S1^2 with equality at n = 1 only; the zeta differences round, so r is set there
        return np.log(s1), np.log(s2), np.where(n == 1, 1.0, np.minimum(s2 / (s1 * s1), 1.0))
    if distance != "exact":
        raise ParameterError("distance", distance, "'exact' or 'approx'")
    nmax = int(n.max())
    if nmax > _EXACT_SUM_MAX:
        raise ParameterError("N", nmax, f"<= {_EXACT_SUM_MAX} with distance='exact' (use distance='approx')")
    k = np.arange(1, nmax + 1, dtype=float)
    lg = log_gamma_half_ratio(k)  # ln(sqrt(pi lam) E d_k), increasing in k
    with np.errstate(under="ignore"):  # far terms below 1e-308 of the first are negligible
        e = np.exp(-b * (lg - lg[0]))  # (E d_k / E d_1)^-beta <= 1
    s1 = np.concatenate([[1.0], np.cumsum(e)])[n]  # index 0 unused (n >= 1)
    s2 = np.concatenate([[1.0], np.cumsum(e * e)])[n]
    return -b * lg[0] + np.log(s1), -2.0 * b * lg[0] + np.log(s2), s2 / (s1 * s1)


# --------------------------------------------------------------------------- eq. (11)


def crlb_eq11(
    dist: np.ndarray,
    theta: np.ndarray,
    beta: float = 2.0,
    zeta2_value: float = 1.0,
    variant: Literal["corrected", "paper"] = "corrected",
) -> np.ndarray:
    """The bracket of eq. (11) for explicit layouts: tr(F^-1) as a ratio of pair sums [m^2]::

        numerator   2 sum_{i,j} D_ij (1 + cos(theta_i - theta_j)) = tr(F) / |zeta|^2
        denominator sum over pairs-of-pairs p = (k, l) < q = (i, j) of D_p D_q (a_p b_q - a_q b_p)^2
                    = det(F) / |zeta|^4 (Cauchy-Binet / Lagrange identity)

    with D_ij = d_i^-beta d_j^-beta, a_ij = cos theta_i + cos theta_j, b_ij = sin theta_i +
    sin theta_j. ``"corrected"``: exactly that, so the result equals tr(F^-1) (errata M-4).
    ``"paper"``: as printed, with the factor 2 in the denominator and the lower limit
    j > max((k - i) N + l, 1), which drops the pairs q = (i, 1), i > k.

    Costs O(N^4) per layout: a check of (5)/(11), not a way to compute the CRLB.

    Parameters
    ----------
    dist, theta : ndarray, shape (..., N)
        Distances [m] and bearings [rad] of the N BSs.
    beta : float
        Path-loss exponent.
    zeta2_value : float
        |zeta|^2.

    Returns
    -------
    ndarray, shape (...); inf where the denominator vanishes (one BS, collinear BSs).
    """
    dist = _reals(dist, "dist", gt=0.0)
    theta = _reals(theta, "theta")
    dist, theta = np.broadcast_arrays(dist, theta)
    N = dist.shape[-1]
    w = dist ** (-float(beta))
    c, s = np.cos(theta), np.sin(theta)
    D = (w[..., :, None] * w[..., None, :]).reshape(*w.shape[:-1], N * N)
    a = (c[..., :, None] + c[..., None, :]).reshape(D.shape)
    b = (s[..., :, None] + s[..., None, :]).reshape(D.shape)
    num = 2.0 * np.sum(D * (1.0 + np.cos(theta[..., :, None] - theta[..., None, :])).reshape(D.shape), -1)
    cross = a[..., :, None] * b[..., None, :] - a[..., None, :] * b[..., :, None]  # (p, q)
    term = D[..., :, None] * D[..., None, :] * cross**2
    p = np.arange(N * N)
    if variant == "corrected":
        mask = p[None, :] > p[:, None]
        factor = 1.0
    elif variant == "paper":
        k, ll = np.divmod(p, N)  # p = (k-1) N + l - 1, 0-based divmod
        k, ll = k + 1, ll + 1
        i, j = k, ll  # q = (i, j) runs over the same pair indices
        lower = np.maximum((k[:, None] - i[None, :]) * N + ll[:, None], 1)
        mask = (i[None, :] >= k[:, None]) & (j[None, :] > lower)
        factor = 2.0
    else:
        raise ParameterError("variant", variant, "'corrected' or 'paper'")
    den = factor * np.sum(np.where(mask, term, 0.0), axis=(-2, -1))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # num/den beyond float64: inf
        out = np.where(den > 1e-12 * num * num, num / np.where(den > 0, den, 1.0), np.inf)
    return _out(out / zeta2_value)


# --------------------------------------------------------------------------- eqs. (12)-(14)


def crlb_eq12(
    N,
    params: MengParams,
    index_set: Literal["all", "offdiag"] = "all",
    distance: Literal["exact", "approx"] = "exact",
) -> np.ndarray:
    """Proposition 1: 2 / (|zeta|^2 sum_{k,l} E[d_k]^-beta E[d_l]^-beta) [m^2].

    ``index_set="all"``: eq. (12) as printed, every (k, l) including the monostatic k = l; this
    is the large-N form tr(F^-1) ~ 2/(|zeta|^2 W^2) with each w_k replaced by E[d_k]^-beta.
    ``"offdiag"``: the last line of (22), l != k only; infinite at N = 1 (errata M-6).
    ``distance="approx"`` uses E[d_n] ~ sqrt(n / (lambda pi)), which turns (12) into (13).
    """
    n = _ints(N, "N")
    ls1, _, r = _distance_power_sums(n, params, distance)
    if index_set == "all":
        log_den = 2.0 * ls1
    elif index_set == "offdiag":  # S1^2 - S2 = S1^2 (1 - r); -inf at N = 1 (r = 1)
        with np.errstate(divide="ignore"):
            log_den = 2.0 * ls1 + np.log1p(-r)
    else:
        raise ParameterError("index_set", index_set, "'all' or 'offdiag'")
    log_v = math.log(2.0) - _log_scale(params) - log_den
    return _out(np.asarray(_crlb_from_log(log_v, params, "the CRLB (12)", inf_ok=(index_set == "offdiag") & (n == 1))))


def crlb_eq13(N, params: MengParams) -> np.ndarray:
    """Eq. (13): 2 / (|zeta|^2 lambda_b^beta pi^beta sum_{k,l} k^-beta/2 l^-beta/2) [m^2].

    At beta = 2 the double sum is H_N^2. Any N (digamma / Hurwitz zeta, no loop).
    """
    n = _ints(N, "N").astype(float)
    b = params.beta
    s = _power_sum_approx(n, 0.5 * b)
    return _out(np.asarray(_crlb_from_log(math.log(2.0) - _log_scale(params) - 2.0 * _log(s), params, "the CRLB (13)")))


def theorem1_constant(params: MengParams, variant: Literal["corrected", "paper"] = "corrected") -> float:
    """lim_{N->inf} CRLB ln^2 N [m^2] at beta = 2 (Theorem 1, eq. (14)).

    ``"corrected"``: 2 / (|zeta|^2 lambda_b^2 pi^2), what (12), (13) and the exact tr(F^-1)
    give (errata M-7). ``"paper"``: 1 / (|zeta|^2 lambda_b^2 pi^2) as printed.
    """
    _require_beta2(params, "Theorem 1")
    return _crlb_from_log(_log_theorem1_constant(params, variant), params, "the Theorem 1 constant (14)")


def _log_theorem1_constant(params: MengParams, variant: str) -> float:
    _require_beta2(params, "Theorem 1")
    c = {"corrected": 2.0, "paper": 1.0}.get(variant)
    if c is None:
        raise ParameterError("variant", variant, "'corrected' or 'paper'")
    return math.log(c) - _log_scale(params)


def crlb_theorem1(N, params: MengParams, variant: Literal["corrected", "paper"] = "corrected") -> np.ndarray:
    """Theorem 1 used as an approximation: constant / ln^2 N [m^2] (inf at N = 1)."""
    n = _ints(N, "N").astype(float)
    log_c = _log_theorem1_constant(params, variant)
    return _out(np.asarray(_crlb_from_log(log_c - 2.0 * _log(np.log(n)), params, "Theorem 1 (14)", inf_ok=n == 1)))


# --------------------------------------------------------------------------- E[2/(zeta^2 W^2)]


def _one_minus_phi(u: np.ndarray, beta: float) -> np.ndarray:
    """1 - phi(u), phi(u) = int_0^1 exp(-u y^-beta/2) dy = e^-u - u^(2/beta) Gamma(1-2/beta, u)."""
    if beta == 2.0:
        return -np.expm1(-u) + u * special.exp1(u)
    a = 1.0 - 2.0 / beta
    return -np.expm1(-u) + u ** (2.0 / beta) * special.gammaincc(a, u) * special.gamma(a)


def _log_phi(u: np.ndarray, beta: float) -> np.ndarray:
    small = u <= 1.0
    us = np.where(small, u, 1.0)
    ul = np.where(small, 1.0, u)
    with np.errstate(divide="ignore"):
        lo = np.log1p(-_one_minus_phi(us, beta))
        if beta == 2.0:
            hi = np.log(special.expn(2, ul))
        else:
            a = 1.0 - 2.0 / beta
            hi = np.log(np.exp(-ul) - ul ** (2.0 / beta) * special.gammaincc(a, ul) * special.gamma(a))
    return np.where(small, lo, hi)


_GL_X, _GL_W = np.polynomial.legendre.leggauss(20)


def _composite_gl(f, lo: np.ndarray, hi: np.ndarray, panels: int) -> np.ndarray:
    """Composite 20-point Gauss-Legendre of f(x) (vectorised over the shape of lo/hi)."""
    edges = lo[..., None] + (hi - lo)[..., None] * np.linspace(0.0, 1.0, panels + 1)
    a, b = edges[..., :-1], edges[..., 1:]
    x = 0.5 * (a + b)[..., None] + 0.5 * (b - a)[..., None] * _GL_X
    return np.sum(0.5 * (b - a)[..., None] * _GL_W * f(x), axis=(-2, -1))


def isotropic_moment(N, beta: float = 2.0, return_error: bool = False):
    """E[1/S^2] for S = sum_{k<=N} g_k^-beta/2 over unit-rate arrivals g_1 < ... < g_N.

    Given g_N = t, g_1..g_{N-1} are i.i.d. uniform on (0, t), so
    E[e^{-sS}] = E[e^{-s t^-b} phi(s t^-b)^{N-1}] with b = beta/2 and phi as in
    :func:`_one_minus_phi` (phi = E_2, the exponential integral, at beta = 2). Then
    E[1/S^2] = int_0^inf s E[e^{-sS}] ds = (Gamma(N + beta)/Gamma(N)) int_0^inf u e^-u phi(u)^{N-1} du.

    The integral is taken in x = ln u by composite Gauss-Legendre (64 panels of 20 nodes) on
    [ln u* - 20, ln min(10^3 u*, 200)], u* the scale where (N-1)(1 - phi) = 1/2, with u*^2
    factored out so that N up to 1e300 neither under- nor overflows; the error estimate is the
    difference to the rule with half the panels.

    Returns
    -------
    value : ndarray (same shape as N)
    error : ndarray (only with ``return_error``)
    """
    n = _ints(N, "N").astype(float)
    beta = float(_reals(beta, "beta", ge=2.0))
    # u*: bisection in log u on (n-1)(1 - phi(u)) = 1/2 (u* = 1 for n = 1).
    lo = np.full(n.shape, -720.0)
    hi = np.full(n.shape, math.log(200.0))
    for _ in range(90):
        mid = 0.5 * (lo + hi)
        big = (n - 1.0) * _one_minus_phi(np.exp(mid), beta) > 0.5
        hi = np.where(big, mid, hi)
        lo = np.where(big, lo, mid)
    xs = np.where(n > 1, 0.5 * (lo + hi), 0.0)  # ln u*
    x_lo = xs - 20.0
    x_hi = np.minimum(xs + math.log(1e3), math.log(200.0))
    nm1 = (n - 1.0)[..., None, None]
    xs3 = xs[..., None, None]

    def f(x):  # u^2 e^-u phi^(n-1) / u*^2, in x = ln u
        u = np.exp(x)
        return np.exp(2.0 * (x - xs3) - u + nm1 * _log_phi(u, beta))

    with np.errstate(all="ignore"):  # checked below: a non-finite result is refused
        fine = _composite_gl(f, x_lo, x_hi, 64)
        coarse = _composite_gl(f, x_lo, x_hi, 32)
        # log Gamma(n + beta)/Gamma(n): poch where it does not overflow (large beta: gammaln),
        # asymptotics beyond n = 1e12.
        big_n = n > 1e12
        nn = np.where(big_n, 2.0, n)
        poch = special.poch(nn, beta)
        log_small = np.where(
            np.isfinite(poch) & (poch > 0), np.log(poch), special.gammaln(nn + beta) - special.gammaln(nn)
        )
        log_pref = np.where(big_n, beta * np.log(n) + beta * (beta - 1.0) / (2.0 * n), log_small)
        log_scale = log_pref + 2.0 * xs
        val = np.exp(log_scale) * fine
        err = np.exp(log_scale) * np.abs(fine - coarse) + 1e-14 * val
    if not (np.all(np.isfinite(val)) and np.all(val > 0) and np.all(np.isfinite(err))):
        raise ParameterError(
            "beta",
            beta,
            "a path-loss exponent at which E[1/S^2] is a normal float64 "
            f"for N = {n.tolist() if n.ndim else float(n)} (its quadrature overflowed)",
        )
    return (_out(val), _out(err)) if return_error else _out(val)


def crlb_isotropic(N, params: MengParams, return_error: bool = False):
    """E[2 / (|zeta|^2 W^2)] exactly: (12) without the mean-field step [m^2].

    2 (pi lambda_b)^-beta E[1/S^2] / |zeta|^2 (:func:`isotropic_moment`). It is the expectation
    of the large-N form of tr(F^-1) (isotropic A = W I / 2, a = 0); the Monte Carlo ratio
    E[tr F^-1] / this -> 1 as N grows, and at beta = 2 it times ln^2 N -> 2/(|zeta|^2 pi^2
    lambda_b^2) (Theorem 1, corrected). Not in the paper.
    """
    log_c = math.log(2.0) - _log_scale(params)
    v, e = isotropic_moment(N, params.beta, return_error=True)
    val = _out(np.asarray(_crlb_from_log(log_c + _log(v), params, "E[2/(|zeta|^2 W^2)]")))
    if not return_error:
        return val
    if not math.isfinite(log_c):
        return val, 0.0 * np.asarray(e)  # inf at p^s = 0 is exact
    with np.errstate(under="ignore"):  # an error estimate below the normal range is 0 in effect
        err = np.exp(np.minimum(log_c + _log(e), 709.0))
    return val, _out(np.asarray(err))


# --------------------------------------------------------------------------- heavy tails


def crlb_tail_index(N) -> np.ndarray:
    """Tail index of tr(F^-1) over PPP layouts: P(tr F^-1 > t) ~ C t^-(N-1)/2 (errata M-8).

    The FIM is singular exactly when all N bearings are collinear (theta_i - theta_1 in
    {0, pi}), a set of codimension N - 1 in the angles, near which det F is a positive definite
    quadratic form in the N - 1 angle offsets. So E[tr F^-1 | distances] < inf iff
    (N-1)/2 > 1, i.e. N >= 4, and the variance is finite iff N >= 6. N = 1 is always singular
    (index 0 here).
    """
    n = _ints(N, "N").astype(float)
    return _out(0.5 * (n - 1.0))


def crlb_moment_finite(N, order: float = 1.0) -> np.ndarray:
    """Whether E[(tr F^-1)^order] < inf over PPP layouts of the N nearest BSs (order > 0)."""
    order = float(_reals(order, "order", gt=0.0))
    return _out(np.asarray(crlb_tail_index(N)) > order)


# --------------------------------------------------------------------------- eq. (16)


def crlb_a(
    N,
    params: MengParams,
    kappa=None,
    variant: Literal["paper", "corrected", "mean-field"] = "mean-field",
) -> np.ndarray:
    """CRLB with acceptance, eq. (16) [m^2].

    ``"paper"``
        1 / (kappa^2 |zeta|^2 lambda_b^2 pi^2 ln^2 N), kappa from (15) as printed.
    ``"corrected"``
        2 / (kappa^2 |zeta|^2 lambda_b^2 pi^2 ln^2 N) (Theorem 1's corrected
        constant), kappa derived (Poisson load, M-9; the NB law of M-34 is not
        yet used here, so Design.kappa_s (NB) and this CRLB's kappa differ).
    ``"mean-field"``
        (12) with each BS kept independently with probability kappa:
        2 / (|zeta|^2 (kappa^2 (S1^2 - S2) + kappa S2)), S1 = sum E[d_k]^-beta,
        S2 = sum E[d_k]^-2beta (a bistatic pair needs both BSs, a monostatic
        link one), exact E[d_k]; equals (12) at kappa = 1. Any beta.

    ``kappa`` (broadcast with N) overrides the default kappa_s(psi, mu_s, N) of the variant.
    All three are finite although, with acceptance, the CRLB of a typical target has infinite
    mean (a cluster of 0 to 3 accepting BSs has positive probability): compare them with the
    median or geometric mean of the simulation, not with a mean (errata M-13).
    """
    n = _ints(N, "N")
    if kappa is None:
        kv: Any = "paper" if variant == "paper" else "derived"  # NB (M-34) here is pending: it moves Fig. 5 and M-32
        kappa = kappa_s(params.resource_blocks, params.mu_s, n, kv)
    kappa = _reals(kappa, "kappa", ge=0.0)
    if np.any(kappa > 1.0):
        raise ParameterError("kappa", kappa.tolist() if kappa.ndim else float(kappa), "in [0, 1]")
    if variant in ("paper", "corrected"):
        log_c = _log_theorem1_constant(params, "paper" if variant == "paper" else "corrected")
        log_v = log_c - 2.0 * _log(kappa) - 2.0 * _log(np.log(n.astype(float)))
        singular = (kappa == 0) | (n == 1)
        return _out(np.asarray(_crlb_from_log(log_v, params, f"CRLB_a (16, {variant})", inf_ok=singular)))
    if variant != "mean-field":
        raise ParameterError("variant", variant, "'paper', 'corrected' or 'mean-field'")
    ls1, _, r = _distance_power_sums(n, params, "exact")
    # kappa^2 (S1^2 - S2) + kappa S2 = S1^2 (kappa^2 (1 - r) + kappa r): 0 at kappa = 0
    log_v = math.log(2.0) - _log_scale(params) - 2.0 * ls1 - _log(kappa**2 * (1.0 - r) + kappa * r)
    return _out(np.asarray(_crlb_from_log(log_v, params, "CRLB_a (16, mean-field)", inf_ok=kappa == 0)))
