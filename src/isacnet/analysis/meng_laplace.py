"""Lemma 2 of Meng & Masouros (meng-masouros-cooperative-isac.md): the incomplete Beta function,
the Laplace exponents H1, H2 of the PPP ring and of the plane beyond r_L, the annulus mean of the
binomial ring, the law (29) of eta_L, the conditional Laplace transforms (19)-(21), and the
argument checks that Theorem 2 shares (:mod:`isacnet.analysis.meng_rate`). Split out of
``meng_rate`` (issue 18); every name here is still importable from there. Derivations: the
module docstring of :mod:`isacnet.analysis.meng_rate`.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import special

from ..params import MengParams, ParameterError, real_array

__all__ = ["incomplete_beta", "H1", "H2", "annulus_mean", "eta_pdf", "laplace_U", "laplace_I1", "laplace_I2"]

Variant = Literal["exact", "pgfl", "paper"]
Model = Literal["exact", "pgfl"]
Shape = Literal["paper", "matched", "zf-matched"]
Unit = Literal["bits", "nats"]

_LN2 = math.log(2.0)
_Q_SMALL = 0.1  # below this ring width eta^-2 - 1, annulus means by Gauss-Legendre
_GL_X, _GL_W = np.polynomial.legendre.leggauss(10)


# --------------------------------------------------------------------------- validation


def _arr(value, name: str, valid: str, ok) -> np.ndarray:
    a = real_array(name, value, valid)  # no strings, bools or complex (real objects such as mpf pass)
    if a.size == 0 or not np.all(np.isfinite(a)) or not np.all(ok(a)):
        shown = value if a.ndim else (value.item() if isinstance(value, np.ndarray) else value)  # "0", not "array(0)"
        raise ParameterError(name, shown if a.ndim == 0 else a.tolist(), valid)
    return a


def _check_alpha(alpha) -> np.ndarray:
    return _arr(alpha, "alpha", "> 2 (a finite real; at alpha <= 2 the PPP interference diverges)", lambda a: a > 2)


def _check_L(L) -> np.ndarray:
    a = np.asarray(L)
    valid = "integer(s) >= 1"
    if a.dtype == bool or a.size == 0:
        raise ParameterError("L", L, valid)
    af = _arr(a, "L", valid, lambda x: x >= 1)
    if np.any(af != np.round(af)):
        raise ParameterError("L", L if af.ndim == 0 else af.tolist(), valid)
    return af.astype(np.int64)


def _check_unit(unit: str) -> float:
    if unit == "nats":
        return 1.0
    if unit == "bits":
        return 1.0 / _LN2
    raise ParameterError("unit", unit, "'bits' or 'nats'")


def _check_params(params) -> MengParams:
    if not isinstance(params, MengParams):
        raise ParameterError("params", type(params).__name__, "a MengParams instance")
    return params


def _shape_params(shape: str, pc: np.ndarray, n_tx: int) -> tuple[np.ndarray, np.ndarray]:
    """(scale theta, shape k) of the interference gain, Gamma(k, theta) with mean k theta = 1:
    Laplace transform (1 + theta z)^-k. theta = the variance matched (errata M-20)."""
    if shape == "paper":
        one = np.ones_like(pc)
        return one, one
    if shape == "matched":  # p^c E1 + p^s E2, independent E_i ~ Exp(1) (orthogonal beams)
        v = pc**2 + (1.0 - pc) ** 2
    elif shape == "zf-matched":  # ZF beams with |<w^c, w^s>|^2 ~ Beta(1, M_t - 1)
        v = 1.0 - 2.0 * pc * (1.0 - pc) * (1.0 - 1.0 / n_tx)
    else:
        raise ParameterError("interference_shape", shape, "'paper' (Gamma(1, 1)), 'matched' or 'zf-matched'")
    return v, 1.0 / v


def _out(a: np.ndarray):
    return a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a


# --------------------------------------------------------------------------- incomplete Beta


def incomplete_beta(x, a, b) -> np.ndarray:
    """Lower incomplete Beta function B(x; a, b) = int_0^x t^(a-1) (1-t)^(b-1) dt, not regularised.

    The B of Lemma 2 (whose printed definition "int_0^a t^b(-1) (1-t)^(c-1) dt" is garbled:
    the exponent is b - 1, errata M-17). scipy's ``betainc`` is the *regularised* I_x(a, b) =
    B(x; a, b)/B(a, b); here it is scaled by B(a, b), and for x > 1/2 computed from the upper
    tail, B(a, b) (1 - I_(1-x)(b, a)), which keeps the relative accuracy of both ends.

    Parameters
    ----------
    x : array_like
        Upper limit, in [0, 1].
    a, b : array_like
        Exponents, > 0 (at a <= 0 the integral diverges at t = 0: Lemma 2 has a = 1 - 2/alpha,
        hence alpha > 2).

    Returns
    -------
    ndarray
        Broadcast shape of the arguments.
    """
    x = _arr(x, "x", "in [0, 1]", lambda t: (t >= 0) & (t <= 1))
    a = _arr(a, "a", "> 0 (the integral diverges at t = 0 for a <= 0)", lambda t: t > 0)
    b = _arr(b, "b", "> 0 (the integral diverges at t = 1 for b <= 0)", lambda t: t > 0)
    return _out(_binc(x, 1.0 - x, a, b))


def _binc(u, v, a, b):
    """B(u; a, b) with v = 1 - u supplied (no cancellation near u = 1)."""
    lo = u <= 0.5
    p = special.betainc(np.where(lo, a, b), np.where(lo, b, a), np.where(lo, u, v))
    return special.beta(a, b) * np.where(lo, p, 1.0 - p)


def _reg_pair(x1, x2, a, b):
    """(I(u1) - I(u2), I(u2)) for u_i = x_i/(1 + x_i), x1 >= x2 >= 0, I the regularised lower
    incomplete Beta; upper tails where u2 > 1/2, so that the difference keeps its digits."""
    u1, v1 = x1 / (1.0 + x1), 1.0 / (1.0 + x1)
    u2, v2 = x2 / (1.0 + x2), 1.0 / (1.0 + x2)
    lo = u2 <= 0.5
    aa, bb = np.where(lo, a, b), np.where(lo, b, a)
    p1 = special.betainc(aa, bb, np.where(lo, u1, v1))
    p2 = special.betainc(aa, bb, np.where(lo, u2, v2))
    diff = np.where(lo, p1 - p2, p2 - p1)
    i2 = np.where(lo, p2, 1.0 - p2)
    return diff, i2


# --------------------------------------------------------------------------- Lemma 2


def _h_parts(x, K, alpha, eta):
    """(H1, H2) of Lemma 2 with gain shape K; no validation. Broadcasts."""
    d = 2.0 / alpha
    y = x * eta**alpha
    ly = np.log1p(y)
    t1 = -np.expm1(-K * ly) / eta**2  # eta^-2 (1 - (1 + x eta^alpha)^-K)
    t2 = np.expm1(-K * np.log1p(x))  # (1 + x)^-K - 1
    diff, i2 = _reg_pair(x, y, 1.0 - d, K + d)
    c = K * x**d * special.beta(1.0 - d, K + d)
    return t1 + t2 + c * diff, c * i2 - t1


def H1(x, K, alpha, eta) -> np.ndarray:
    """Laplace exponent of a PPP ring of (19)-(20): int_1^(eta^-2) (1 - (1 + x s^(-alpha/2))^-K) ds.

    With eta = r/r_L, E[exp(-z sum_ring g_i (r/d_i)^alpha)] = exp(-pi lambda r^2 H1(theta z, K,
    alpha, eta)) for a PPP of density lambda on r < |d| < r_L and gains Gamma(K, scale theta).
    Closed form (Lemma 2, as printed; derivation in the module docstring):
    eta^-2 (1 - (1 + x eta^alpha)^-K) + (1 + x)^-K - 1 + K x^(2/alpha) [B(x/(1+x); 1 - 2/alpha,
    K + 2/alpha) - B(x eta^alpha/(1 + x eta^alpha); 1 - 2/alpha, K + 2/alpha)].

    Parameters
    ----------
    x : array_like
        >= 0 (z p^c in (19), z in (20)).
    K : array_like
        Gain shape, > 0 (M_t - 1 in (19), 1 in (20)).
    alpha : array_like
        Path-loss exponent, > 2.
    eta : array_like
        r/r_L in (0, 1]; H1 = 0 at eta = 1.

    Returns
    -------
    ndarray
        Broadcast shape; H1 >= 0, increasing in x, -> eta^-2 - 1 (the ring's area in units of
        pi r^2) as x -> inf.
    """
    x = _arr(x, "x", ">= 0", lambda t: t >= 0)
    K = _arr(K, "K", "> 0", lambda t: t > 0)
    alpha = _check_alpha(alpha)
    eta = _arr(eta, "eta", "in (0, 1]", lambda t: (t > 0) & (t <= 1))
    return _out(_h_parts(x, K, alpha, eta)[0])


def H2(x, alpha, eta, K=1.0) -> np.ndarray:
    """Laplace exponent of the PPP beyond r_L, (21): int_(eta^-2)^inf (1 - (1 + x s^(-alpha/2))^-K) ds.

    E[exp(-z I2)] = exp(-pi lambda r^2 H2(z, alpha, eta)) (exact given r_L, for the paper's
    Gamma(1, 1) gains, K = 1). Closed form: K x^(2/alpha) B(x eta^alpha/(1 + x eta^alpha);
    1 - 2/alpha, K + 2/alpha) + eta^-2 ((1 + x eta^alpha)^-K - 1); as printed for K = 1.
    ``K`` other than 1 is the "matched" interference shape (errata M-20).

    Parameters
    ----------
    x : array_like
        >= 0.
    alpha : array_like
        > 2 (H2 = inf at alpha <= 2).
    eta : array_like
        r/r_L in (0, 1]; eta = 1 gives the interference of the whole plane beyond r (L = 1).
    K : array_like, optional
        Gain shape, > 0.

    Returns
    -------
    ndarray
        Broadcast shape; H1(x, K, alpha, eta) + H2(x, alpha, eta, K) = H2(x, alpha, 1, K).
    """
    x = _arr(x, "x", ">= 0", lambda t: t >= 0)
    K = _arr(K, "K", "> 0", lambda t: t > 0)
    alpha = _check_alpha(alpha)
    eta = _arr(eta, "eta", "in (0, 1]", lambda t: (t > 0) & (t <= 1))
    return _out(_h_parts(x, K, alpha, eta)[1])


def _annulus_mean(x, K, alpha, eta, q, h1):
    """H1 / q (q = eta^-2 - 1 > 0) with q small done by 10-point Gauss-Legendre in s on [1, 1 + q]
    instead (the closed form cancels there). ``h1`` is the closed form, reused where q is large."""
    out = h1 / np.where(q > 0, q, 1.0)
    small = np.broadcast_to(q < _Q_SMALL, out.shape)
    if np.any(small):
        x, K, alpha, q = (np.broadcast_to(t, small.shape)[small] for t in (x, K, alpha, q))
        s = 1.0 + 0.5 * q[:, None] * (1.0 + _GL_X)
        f = -np.expm1(-K[:, None] * np.log1p(x[:, None] * s ** (-alpha[:, None] / 2)))
        out = np.array(out, copy=True)
        out[small] = 0.5 * (f @ _GL_W)
    return out


def annulus_mean(x, K, alpha, eta) -> np.ndarray:
    """H1(x, K, alpha, eta) / (eta^-2 - 1): the mean over one BS uniform in the ring r < |d| < r_L
    of 1 - (1 + x (r/|d|)^alpha)^-K, i.e. 1 minus the Laplace transform of its normalised power.

    This is what the exact (binomial) ring needs: given r and r_L the L - 2 BSs inside are
    i.i.d. uniform in area. Stable as eta -> 1 (limit 1 - (1 + x)^-K).

    Parameters as in :func:`H1`, with eta in (0, 1].
    """
    x = _arr(x, "x", ">= 0", lambda t: t >= 0)
    K = _arr(K, "K", "> 0", lambda t: t > 0)
    alpha = _check_alpha(alpha)
    eta = _arr(eta, "eta", "in (0, 1]", lambda t: (t > 0) & (t <= 1))
    x, K, alpha, eta = np.broadcast_arrays(x, K, alpha, eta)
    q = -np.expm1(2.0 * np.log(eta)) / eta**2
    h1 = _h_parts(x, K, alpha, eta)[0]
    return _out(_annulus_mean(x, K, alpha, eta, q, h1))


def eta_pdf(eta, L) -> np.ndarray:
    """PDF (29) of eta_L = d_1/d_L: 2 (L-1) eta (1 - eta^2)^(L-2) on (0, 1), L >= 2.

    T_1 = pi lambda d_1^2 and T_L are the 1st and L-th arrivals of a unit-rate Poisson process:
    T_1 ~ Exp(1) and T_L - T_1 ~ Gamma(L-1) independent, so eta^2 = T_1/T_L ~ Beta(1, L-1) and is
    independent of T_L (Beta-Gamma algebra), *not* of T_1 = r's law (errata M-18). For L = 1,
    eta = 1 almost surely (no density); this raises.
    """
    L = _check_L(L)
    if np.any(L < 2):
        raise ParameterError("L", L.tolist() if L.ndim else int(L), ">= 2 (eta_1 = 1 a.s. has no density)")
    eta = _arr(eta, "eta", "in [0, 1]", lambda t: (t >= 0) & (t <= 1))
    return _out(2.0 * (L - 1) * eta * (1.0 - eta**2) ** (L - 2))


def _lemma2_args(z, r, r_L, params):
    params = _check_params(params)
    z = _arr(z, "z", ">= 0", lambda t: t >= 0)
    r = _arr(r, "r", "> 0 [m]", lambda t: t > 0)
    r_L = _arr(r_L, "r_L", "> 0 [m]", lambda t: t > 0)
    if np.any(r_L < r):
        raise ParameterError("r_L", r_L.tolist() if r_L.ndim else float(r_L), ">= r (d_L >= d_1)")
    return z, math.pi * params.bs_density * r**2, r / r_L, params


def _check_kappa(kappa) -> np.ndarray:
    return _arr(kappa, "kappa_c", "in [0, 1]", lambda t: (t >= 0) & (t <= 1))


def _check_pc(p_c) -> np.ndarray:
    return _arr(p_c, "p_c", "in [0, 1] (the communication power share p^c)", lambda t: (t >= 0) & (t <= 1))


def laplace_U(z, r, r_L, params: MengParams, *, kappa_c, p_c=None) -> np.ndarray:
    """E[exp(-z U) | r, r_L], (19), U = sum_{accepting i} g_i (r/d_i)^alpha (the printed U omits
    (r/d_i)^alpha: errata M-21), the ring r < |d| < r_L taken as a PPP of density kappa_c lambda_b:
    exp(-pi kappa_c lambda_b r^2 H1(z p^c, M_t - 1, alpha, r/r_L)). Broadcasts; r, r_L in m."""
    z, t1, eta, params = _lemma2_args(z, r, r_L, params)
    pc = _check_pc(params.comm_power_fraction if p_c is None else p_c)
    k = _check_kappa(kappa_c)
    h1 = _h_parts(z * pc, float(params.n_tx_antennas - 1), params.alpha, eta)[0]
    return _out(np.exp(-k * t1 * h1))


def laplace_I1(z, r, r_L, params: MengParams, *, kappa_c, interference_shape: Shape = "paper", p_c=None):
    """E[exp(-z I1) | r, r_L], (20): the declining ring BSs as a PPP of density (1 - kappa_c)
    lambda_b: exp(-pi (1 - kappa_c) lambda_b r^2 H1(theta z, k, alpha, r/r_L)), (theta, k) = (1, 1)
    for the paper's Gamma(1, 1) interference gains."""
    z, t1, eta, params = _lemma2_args(z, r, r_L, params)
    pc = _check_pc(params.comm_power_fraction if p_c is None else p_c)
    k = _check_kappa(kappa_c)
    th, sh = _shape_params(interference_shape, pc, params.n_tx_antennas)
    h1 = _h_parts(th * z, sh, params.alpha, eta)[0]
    return _out(np.exp(-(1.0 - k) * t1 * h1))


def laplace_I2(z, r, r_L, params: MengParams, *, interference_shape: Shape = "paper", p_c=None):
    """E[exp(-z I2) | r, r_L], (21): exp(-pi lambda_b r^2 H2(theta z, alpha, r/r_L, k)). Exact
    (given r_L the BSs beyond form a PPP)."""
    z, t1, eta, params = _lemma2_args(z, r, r_L, params)
    pc = _check_pc(params.comm_power_fraction if p_c is None else p_c)
    th, sh = _shape_params(interference_shape, pc, params.n_tx_antennas)
    h2 = _h_parts(th * z, sh, params.alpha, eta)[1]
    return _out(np.exp(-t1 * h2))
