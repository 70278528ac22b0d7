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
from typing import Literal

import numpy as np
from scipy import special

from ..params import MengParams, ParameterError, exp_checked, real_array
from .acceptance import (  # noqa: F401  (re-exported: the NB acceptance law, docs/acceptance.md)
    _int_array,
    area_variance,
    kappa_c_nb,
    kappa_s_nb,
    nb_request_acceptance,
)

EULER_GAMMA = 0.5772156649015329

# --------------------------------------------------------------------------- validation


def _ints(value, name: str, ge: int = 1) -> np.ndarray:
    valid = f"integer(s) >= {ge}"
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        a = None
    if a is None or a.dtype.kind not in "iu":
        a = real_array(name, value, valid)  # bool, str, complex, None, objects: ParameterError
    bad = ParameterError(name, value if a.ndim == 0 else a.tolist(), valid)
    if a.size == 0:
        raise bad
    if a.dtype.kind == "f" and (not np.all(np.isfinite(a)) or np.any(a != np.round(a))):
        raise bad
    if np.any(a < ge):
        raise bad
    if np.max(np.abs(a)) < 2.0**62:
        return a.astype(np.int64)
    return np.asarray(a, dtype=float)  # beyond int64: exact integers as floats (N = 1e20, ...)


def _reals(value, name: str, *, gt: float | None = None, ge: float | None = None) -> np.ndarray:
    rng = "finite real(s)" + (f" > {gt:g}" if gt is not None else "") + (
        f" >= {ge:g}" if ge is not None else ""
    )
    a = real_array(name, value, rng)
    if (
        a.size == 0
        or not np.all(np.isfinite(a))
        or (gt is not None and np.any(a <= gt))
        or (ge is not None and np.any(a < ge))
    ):
        raise ParameterError(name, value if a.ndim == 0 else a.tolist(), rng)
    return a


def _require_beta2(params: MengParams, what: str) -> None:
    if params.beta != 2.0:
        raise ParameterError("beta", params.beta, f"2 for {what} (the ln^2 N law needs beta = 2)")


def _out(a: np.ndarray):
    return a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a


def _inv_zeta2(params: MengParams) -> float:
    """1 / |zeta|^2; inf at p^s = 0 (no sensing power, no Fisher information: every CRLB is inf)."""
    return math.inf if params.zeta2 == 0.0 else 1.0 / params.zeta2


_CRLB_NAMES = (*MengParams._ZETA_NAMES, "bs_density", "beta")


def _crlb_from_log(log_value, params: MengParams, what: str, inf_ok=False):
    """exp of a CRLB's logarithm [m^2]: the closed forms are 1/(|zeta|^2 (pi lam_b)^beta x a
    dimensionless sum); |zeta|^2 and (pi lam_b)^beta may each overflow or underflow (tx_power =
    1e308, bs_density = 1e-300) while their product does not, so the result is formed in logs.
    +inf at p^s = 0 (ln |zeta|^2 = -inf) and where ``inf_ok`` (a singular form: N = 1, kappa = 0);
    ParameterError where the CRLB is not a normal float64, or its log overflowed."""
    shown = {n: getattr(params, n) for n in _CRLB_NAMES}
    inf_ok = np.asarray(inf_ok, dtype=bool) | (params.sensing_power_fraction == 0.0)
    return exp_checked(log_value, shown, what, " m^2", inf_ok=inf_ok)


def _log_scale(params: MengParams) -> float:
    """ln of |zeta|^2 (pi lam_b)^beta, the scale of every CRLB here (-inf at p^s = 0)."""
    return params.log_zeta2 + params.beta * (math.log(math.pi) + math.log(params.bs_density))


def _log(x) -> np.ndarray:
    """ln of a non-negative array, -inf at 0, without a divide-by-zero warning."""
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(x, dtype=float))


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
        log_v = (math.log(p.tx_power) + math.log(p.sensing_power_fraction) + math.log(p.tx_gain)
                 + math.log(p.rx_gain) + 2.0 * math.log(p.eff_bandwidth) - math.log(8.0 * math.pi)
                 - 2.0 * math.log(p.carrier_freq))
        names = ("tx_power", "sensing_power_fraction", "n_tx_antennas", "n_rx_antennas", "eff_bandwidth",
                 "carrier_freq")
        return exp_checked(log_v, {n: getattr(p, n) for n in names}, "|zeta|^2 as printed")
    raise ParameterError("variant", variant, "'corrected' or 'paper'")


# --------------------------------------------------------------------------- distances


def log_gamma_half_ratio(n) -> np.ndarray:
    """ln(Gamma(n + 1/2) / Gamma(n)) to ~1e-16 relative for every n >= 1.

    gammaln differences (and scipy's beta/poch) lose up to 1e-9 for n in 300..1e6; beyond
    n = 20 we use DLMF 5.11.8, ln Gamma(n + h) - ln Gamma(n) ~ h ln n + sum_k (-1)^k
    (B_k(h) - B_k) / (k (k-1) n^(k-1)), at h = 1/2 (B_k(1/2) = (2^(1-k) - 1) B_k):
    1/2 ln n - 1/(8n) + 1/(192 n^3) - 1/(640 n^5) + 17/(14336 n^7) - 5115/(3041280 n^9).
    """
    n = np.asarray(n, dtype=float)
    small = n < 20.0
    ns = np.where(small, n, 20.0)
    nl = np.where(small, 20.0, n)
    r = 1.0 / nl
    r2 = r * r
    poly = -1.0 / 8 + r2 * (1.0 / 192 + r2 * (-1.0 / 640 + r2 * (17.0 / 14336 - r2 * 5115.0 / 3041280)))
    series = 0.5 * np.log(nl) + r * poly
    return np.where(small, special.gammaln(ns + 0.5) - special.gammaln(ns), series)



def mean_distance(
    n, density: float, variant: Literal["exact", "approx"] = "exact"
) -> np.ndarray:
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


def nbar(n) -> np.ndarray:
    """N-bar = Gamma(n + 1/2)^2 / Gamma(n)^2 = pi lambda_b E[d_n]^2 (Lemma 1).

    The paper uses it as the mean load per BS over mu; the exact mean load is mu n by mass
    transport (each point sends n requests), and N-bar = n - 1/4 + 1/(32 n) + ... < n
    (errata M-10).
    """
    n = _ints(n, "N").astype(float)
    return _out(np.exp(2.0 * log_gamma_half_ratio(n)))


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
        raise ParameterError(
            "N", nmax, f"<= {_EXACT_SUM_MAX} with distance='exact' (use distance='approx')"
        )
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
    return _out(np.asarray(_crlb_from_log(math.log(2.0) - _log_scale(params) - 2.0 * _log(s), params,
                                          "the CRLB (13)")))


def theorem1_constant(
    params: MengParams, variant: Literal["corrected", "paper"] = "corrected"
) -> float:
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


def crlb_theorem1(
    N, params: MengParams, variant: Literal["corrected", "paper"] = "corrected"
) -> np.ndarray:
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
        log_small = np.where(np.isfinite(poch) & (poch > 0), np.log(poch),
                             special.gammaln(nn + beta) - special.gammaln(nn))
        log_pref = np.where(big_n, beta * np.log(n) + beta * (beta - 1.0) / (2.0 * n), log_small)
        log_scale = log_pref + 2.0 * xs
        val = np.exp(log_scale) * fine
        err = np.exp(log_scale) * np.abs(fine - coarse) + 1e-14 * val
    if not (np.all(np.isfinite(val)) and np.all(val > 0) and np.all(np.isfinite(err))):
        raise ParameterError("beta", beta, "a path-loss exponent at which E[1/S^2] is a normal float64 "
                             f"for N = {n.tolist() if n.ndim else float(n)} (its quadrature overflowed)")
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


# --------------------------------------------------------------------------- Lemma 1 / kappa


def _poisson_tail_sum(psi: np.ndarray, x: np.ndarray, shift: int) -> np.ndarray:
    """sum_{n >= psi+1} e^-x x^n / ((n - shift) n!) in the log domain (shift 0 or 1)."""
    psi, x = np.broadcast_arrays(np.asarray(psi, dtype=float), np.asarray(x, dtype=float))
    if psi.size == 0:
        return np.zeros(psi.shape)
    sq = np.sqrt(x)
    n0 = np.maximum(psi + 1.0, np.floor(x - 12.0 * sq - 40.0))
    J = int(math.ceil(24.0 * float(np.max(sq)) + 120.0))
    n = n0[..., None] + np.arange(J)
    with np.errstate(divide="ignore"):
        lt = -x[..., None] + special.xlogy(n, x[..., None]) - special.gammaln(n + 1.0) - np.log(n - shift)
    return np.exp(special.logsumexp(lt, axis=-1))


def poisson_request_acceptance(capacity, m) -> np.ndarray:
    """E[min(1, c / (1 + K))], K ~ Poisson(m): acceptance of a typical request (size-biased).

    A request sees its BS with load 1 + K (Slivnyak: the Palm load of a Poisson load is
    1 + Poisson), and is among the c accepted with probability min(1, c/(1+K)). Closed form:

        Q(c, m) + (c / m) P(c + 1, m)  =  E[min(K, c)] / m,

    Q, P the regularised upper/lower incomplete gamma functions (Q(c, m) = P(K <= c - 1),
    P(c+1, m) = P(K >= c + 1)). Equal to 1 at m = 0 and 0 at c = 0 < m.
    """
    c = _ints(capacity, "capacity", ge=0).astype(float)
    m = _reals(m, "m", ge=0.0)
    c, m = np.broadcast_arrays(c, m)
    mm = np.where(m > 0, m, 1.0)
    cc = np.where(c > 0, c, 1.0)
    val = special.gammaincc(cc, mm) + c * (special.gammainc(cc + 1.0, mm) / mm)  # P/m <= 1: no overflow
    val = np.where(c == 0, 0.0, val)
    return _out(np.clip(np.where(m == 0, 1.0, val), 0.0, 1.0))


def _printed_load(mu: np.ndarray, n: np.ndarray, name: str) -> np.ndarray:
    """x = mu n-bar of the printed forms; their Poisson tail is summed term by term over
    ~24 sqrt(x) terms, so x is limited to 1e8 (ParameterError naming ``name``)."""
    with np.errstate(over="ignore"):
        x = mu * nbar(n)
    if np.any(~(x <= 1e8)):
        raise ParameterError(name, mu.tolist() if mu.ndim else float(mu),
                             "such that mu * N-bar <= 1e8 for the printed variants (use variant='nb')")
    return x


_PSI_MAX = 2**53


def _check_acceptance_args(psi, mu, n, mu_name: str, n_name: str) -> None:
    """Input validation shared by kappa_s and kappa_c (issue 14): psi must fit the integer
    arithmetic of the acceptance forms (psi <= 2^53; 10**30 gave an error naming an internal
    ``capacity``), and the mean load mu n must be a finite float64."""
    _int_array(psi, "psi", 1)
    m = _reals(mu, mu_name, gt=0.0)
    k = np.asarray(_int_array(n, n_name, 1), dtype=float)
    with np.errstate(over="ignore"):
        load = m * k
    if not np.all(np.isfinite(load)):
        raise ParameterError(mu_name, mu, f"a value with {mu_name} x {n_name} (the mean load per BS) finite "
                             "in float64")


KappaVariant = Literal["nb", "derived", "poisson", "paper", "appendix", "typical-bs"]


def kappa_s(psi, mu_s, N, variant: KappaVariant = "nb") -> np.ndarray:
    """Acceptance probability of a sensing request, Lemma 1 (15) (errata M-9 to M-11, M-34).

    ``"nb"`` (default; docs/acceptance.md): accepted over offered requests, E[min(D, psi)]/E[D],
    with the load D of a BS mixed Poisson over the area of the region whose points rank it among
    their N nearest: exact mean mu_s N, exact area variance v(N) (:mod:`.acceptance`), Gamma
    mixing, so D is negative binomial and kappa_s is a regularised incomplete beta closed form
    (at N = 1 the size-biased Voronoi-cell law NB(4.5, 3.5/(3.5 + mu_s)) of Ferenc-Neda / Yu-Kim /
    Singh-Dhillon-Andrews, with the shape 3.569 of the exact cell-area variance).

    ``"derived"`` (alias ``"poisson"``; the default before): Poisson load of mean mu_s N seen by a
    request (size-biased): :func:`poisson_request_acceptance` (psi, mu_s N) =
    Q(psi, mu_s N) + psi/(mu_s N) P(psi+1, mu_s N). Overestimates near mu_s N = psi.

    Paper forms, all with x = mu_s N-bar (:func:`nbar`) and T = sum_{n>psi} e^-x x^n/(n n!):

    ``"paper"``
        (15): Q(psi, x) + psi T -- drops the n = psi term.
    ``"appendix"``
        (24), last line: Q(psi, x)/psi + psi T  (Gamma(psi, x)/psi!).
    ``"typical-bs"``
        (24), first line: Q(psi+1, x) + psi T = E[min(1, psi/K)], the view of a
        typical BS (an idle BS counts as accepting).

    Parameters
    ----------
    psi : array_like of int in [1, 2**53]
        Resource blocks per BS.
    mu_s : array_like of float > 0
        lambda_s / lambda_b.
    N : array_like of int >= 1 (<= 2**53 for "nb")
        Requests per target (cluster size).
    variant : str
        One of the above.

    Returns
    -------
    ndarray or float
        kappa_s in [0, 1], shape ``broadcast(psi, mu_s, N)``.
    """
    _check_acceptance_args(psi, mu_s, N, "mu_s", "N")  # an overflowing mean load is refused, never clipped
    if variant == "nb":
        return kappa_s_nb(psi, mu_s, N)
    psi = _int_array(psi, "psi", 1)
    mu_s = _reals(mu_s, "mu_s", gt=0.0)
    n = _ints(N, "N")
    if variant in ("derived", "poisson"):
        with np.errstate(over="ignore"):  # mu_s N beyond 1.8e308: kappa = psi/(mu_s N) rounds to 0
            m = np.minimum(mu_s * n, np.finfo(float).max)
        return poisson_request_acceptance(psi, m)
    x = _printed_load(mu_s, n, "mu_s")
    psi, x = np.broadcast_arrays(psi, np.asarray(x, dtype=float))
    t = psi * _poisson_tail_sum(psi, x, 0)
    if variant == "paper":
        out = special.gammaincc(psi, x) + t
    elif variant == "appendix":
        out = special.gammaincc(psi, x) / psi + t
    elif variant == "typical-bs":
        out = special.gammaincc(psi + 1.0, x) + t
    else:
        raise ParameterError(
            "variant", variant, "'nb', 'derived' ('poisson'), 'paper', 'appendix' or 'typical-bs'"
        )
    return _out(out)


def kappa_c(psi, mu_c, L, variant: Literal["nb", "derived", "poisson", "paper"] = "nb") -> np.ndarray:
    """Acceptance probability of a communication cooperation request (Section IV).

    Model (errata M-12): the nearest BS is the user's anchor and serves it; the L - 1
    cooperation requests go to BSs 2..L and compete for psi - 1 blocks per BS (one block kept for
    the anchor role: "psi - 1 users besides the typical user"); 1 at L = 1 (nothing to accept),
    0 at psi = 1 < L. The cooperation load of a BS has mean mu_c (L - 1) (mass transport).

    ``"nb"`` (default; docs/acceptance.md): that load negative binomial, mixed over the area of
    the region whose points rank the BS 2..L (exact mean L - 1 and variance v(L - 1, skip 1),
    Gamma mixing): E[min(D, psi - 1)]/E[D] in closed form (:mod:`.acceptance`).

    ``"derived"`` (alias ``"poisson"``; the default before): a Poisson load seen by a request,
    :func:`poisson_request_acceptance` (psi - 1, mu_c (L - 1)).

    ``"paper"``: as printed, x = mu_c L-bar, Q(psi, x) + sum_{n>=psi} (psi-1) e^-x x^n /
    ((n-1) n!), with its n = psi term read as P(K = psi) (the ratio (psi-1)/(n-1) is 1 there).

    Parameters
    ----------
    psi : array_like of int in [1, 2**53]
    mu_c : array_like of float > 0
        lambda_u / lambda_b.
    L : array_like of int >= 1 (<= 2**53 for "nb")
        Cooperating BSs (cluster size).
    variant : str

    Returns
    -------
    ndarray or float
        kappa_c in [0, 1], shape ``broadcast(psi, mu_c, L)``.
    """
    _check_acceptance_args(psi, mu_c, L, "mu_c", "L")  # an overflowing mean load is refused, never clipped
    if variant == "nb":
        return kappa_c_nb(psi, mu_c, L)
    psi = _int_array(psi, "psi", 1)
    mu_c = _reals(mu_c, "mu_c", gt=0.0)
    L = _ints(L, "L")
    if variant in ("derived", "poisson"):
        psi, mu_c, L = np.broadcast_arrays(psi, mu_c, L)
        with np.errstate(over="ignore"):
            m = np.minimum(mu_c * (L - 1), np.finfo(float).max)
        val = np.asarray(poisson_request_acceptance(psi - 1, m), dtype=float)
        return _out(np.where(L == 1, 1.0, val))
    if variant != "paper":
        raise ParameterError("variant", variant, "'nb', 'derived' ('poisson') or 'paper'")
    x = _printed_load(mu_c, L, "mu_c")
    psi, x = np.broadcast_arrays(psi.astype(float), np.asarray(x, dtype=float))
    p_at = np.exp(-x + special.xlogy(psi, x) - special.gammaln(psi + 1.0))
    t = (psi - 1.0) * _poisson_tail_sum(psi, x, 1)
    return _out(special.gammaincc(psi, x) + p_at + t)


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
        kv = "paper" if variant == "paper" else "derived"  # NB (M-34) here is pending: it moves Fig. 5 and M-32
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
