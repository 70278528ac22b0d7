"""The PGFL function G of the coverage closed form (:mod:`isacnet.analysis.coverage`) and its
fast evaluation on the characteristic-function ray.

G(x, k) = int_1^inf (1 - (1 + x u^(-alpha/2))^-k) du = (1 + x)^-k - 1 + k x/(1 - delta)
2F1(k + 1, 1 - delta; 2 - delta; -x), delta = 2/alpha; its k -> inf limit G_det (a deterministic
gain, the shared gain of non-coherent JT); and the means of both integrands over a ring
u ~ U(a, 1). Split out of :mod:`isacnet.analysis.coverage` (module size); the names are
re-exported there.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import special

from ..params import ParameterError

__all__ = ["G"]

_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)
_Q_SMALL = 0.05  # ring width 1 - a below which the ring mean is done by Gauss-Legendre


def _G(x, k, alpha):
    """int_1^inf (1 - (1 + x u^(-alpha/2))^-k) du for Re x >= 0 or x on the imaginary axis."""
    d = 2.0 / alpha
    return np.expm1(-k * np.log1p(x)) + k * x / (1.0 - d) * special.hyp2f1(k + 1.0, 1.0 - d, 2.0 - d, -x)


def G(x, k, alpha):
    """PGFL exponent int_1^inf (1 - (1 + x u^(-alpha/2))^-k) du (complex x allowed).

    = (1 + x)^-k - 1 + k x / (1 - 2/alpha) 2F1(k + 1, 1 - 2/alpha; 2 - 2/alpha; -x); for real x
    it equals H2(x, alpha, 1, k) of :mod:`isacnet.analysis.meng_rate` (Lemma 2, eq. (21)).

    Parameters
    ----------
    x : array_like, complex
        Re x >= 0 (Laplace) or purely imaginary (characteristic function).
    k : float
        Gain shape (> 0).
    alpha : float
        Path-loss exponent (> 2).

    Returns
    -------
    ndarray, complex, the shape of x.
    """
    x = np.asarray(x, dtype=complex)
    if not np.all(np.isfinite(x)) or np.any(x.real < 0):
        raise ParameterError("x", "array", "finite, Re x >= 0")
    if not (np.isfinite(k) and k > 0):
        raise ParameterError("k", k, "> 0")
    if not (np.isfinite(alpha) and alpha > 2):
        raise ParameterError("alpha", alpha, "> 2")
    return _G(x, float(k), float(alpha))


_TAB_LO, _TAB_HI, _TAB_STEP = -36.0, 80.0, 1.0 / 64.0


_GL32_X, _GL32_W = np.polynomial.legendre.leggauss(32)
_EULER_WINDOW = (-4.0, 3.0)  # ln|x| where scipy's hyp2f1 is checked against Euler's integral


def _F_ray(r, k, alpha):
    """2F1(k + 1, 1 - delta; 2 - delta; -i r) by Euler's integral (c - b = 1):
    (1 - delta) int_0^1 t^-delta (1 + i r t)^-(k + 1) dt, on panels [2^-(j+1), 2^-j] (32-point
    Gauss-Legendre each) down to t0 = 1e-18 / ((k + 1) r), below which the integral is
    t0^(1 - delta) to 1e-18. Within 3e-15 of mpmath at k up to 100, alpha 2.05..6 (tests)."""
    d = 2.0 / alpha
    out = np.empty(r.size, complex)
    for j, rj in enumerate(r):
        t0 = 1e-18 / ((k + 1.0) * rj)
        edges = 2.0 ** -np.arange(math.ceil(math.log2(1.0 / t0)), -1, -1.0)
        edges[0] = min(t0, edges[0])
        lo, hi = edges[:-1, None], edges[1:, None]
        t = 0.5 * (hi - lo) * (_GL32_X + 1.0) + lo
        f = t ** (-d) * np.exp(-(k + 1.0) * np.log1p(1j * rj * t))
        out[j] = edges[0] ** (1.0 - d) + (1.0 - d) * (0.5 * (hi - lo) * f * _GL32_W).sum()
    return out


@functools.lru_cache(maxsize=32)
def _table(k: float, alpha: float):
    """G(i e^t, k) and dG/dt on the grid t = -36 .. 80 (step 1/64), for Hermite interpolation.

    From scipy's hyp2f1, checked where it is known to break down. Near |x| = 1 (t in
    _EULER_WINDOW) Euler's integral (:func:`_F_ray`) replaces it wherever the two differ by more
    than 1e-12 relative: for large shapes scipy is far off there (k = 30, alpha = 2.5: 7e6
    relative at t = -0.15; k = 100, alpha = 2.05: 5e64), while for k <= 12 they agree to 1e-14.
    Beyond |x| = e^36 the large-|x| form k B(1 - delta, k + delta) x^delta - 1 (exact up to
    O(|x|^-k) terms) replaces it likewise (k = 17.5, alpha = 4: 1e-6 off above e^36, non-finite
    above e^41.8). tests/unit/test_coverage.py::test_G_table_against_mpmath_for_large_shapes."""
    t = np.arange(_TAB_LO, _TAB_HI + 0.5 * _TAB_STEP, _TAB_STEP)
    x = 1j * np.exp(t)
    d = 2.0 / alpha
    c = k * d / (1.0 - d)
    with np.errstate(over="ignore", invalid="ignore"):
        g = _G(x, k, alpha)
        dg = x * c * special.hyp2f1(k + 1.0, 1.0 - d, 2.0 - d, -x)  # x G'(x)
    win = np.flatnonzero((t >= _EULER_WINDOW[0]) & (t <= _EULER_WINDOW[1]))
    dg_e = x[win] * c * _F_ray(np.exp(t[win]), k, alpha)
    g_e = np.expm1(-k * np.log1p(x[win])) + dg_e / d
    _replace_where_off(g, dg, win, g_e, dg_e)
    big = np.flatnonzero(t > 36.0)
    lead = k * special.beta(1.0 - d, k + d) * x[big] ** d
    _replace_where_off(g, dg, big, lead - 1.0, d * lead)
    return g, dg


def _replace_where_off(g, dg, idx, g_ok, dg_ok):
    off = ~np.isfinite(g[idx]) | ~np.isfinite(dg[idx]) | (np.abs(g[idx] - g_ok) > 1e-12 * np.abs(g_ok))
    g[idx[off]] = g_ok[off]
    dg[idx[off]] = dg_ok[off]


@functools.lru_cache(maxsize=32)
def _horner(k: float, alpha: float) -> np.ndarray:
    """The cubic Hermite interpolant of :func:`_table` as polynomial coefficients per interval:
    (4, n - 1) complex, [c3, c2, c1, c0] of p(s) = ((c3 s + c2) s + c1) s + c0 on s in [0, 1)."""
    g, dg = _table(k, alpha)
    g0, g1, d0, d1 = g[:-1], g[1:], _TAB_STEP * dg[:-1], _TAB_STEP * dg[1:]
    return np.stack([2.0 * (g0 - g1) + d0 + d1, 3.0 * (g1 - g0) - 2.0 * d0 - d1, d0, g0])


_CHUNK = 8192  # _Gim works through large arrays in chunks of this many points (its temporaries
# then stay in the allocator's reuse: a fresh array of 10^5+ points costs its page faults)


def _Gim(x, k, alpha, out=None):
    """G(x, k) for purely imaginary x (the characteristic-function ray), by cubic Hermite
    interpolation in t = ln|x| of a cached table (relative error ~1e-11 for k <= 12, up to 2e-9
    at k = 60; tests), the series k x / (alpha/2 - 1) - k (k+1)/2 x^2 / (alpha - 1) below
    |x| = e^-36 and k B(1 - delta, k + delta) x^delta - 1 above e^80. G(-i r) = conj G(i r).

    Evaluated by Horner's rule on the interval's coefficients (:func:`_horner`), in chunks of
    ``_CHUNK`` points: the closed forms call it on arrays of 10^5-10^6 points, where every
    temporary array of that size costs. ``out``: a complex array of x's shape to write into (x
    itself may be it)."""
    x = np.asarray(x)
    if out is None:
        out = np.empty(x.shape, dtype=complex)
    c = _horner(float(k), float(alpha))
    if x.size <= _CHUNK:
        _Gim_chunk(x, k, alpha, c, out)
        return out
    xf, of = x.reshape(-1), out.reshape(-1)  # views where contiguous (the closed forms' arrays are)
    for j in range(0, xf.size, _CHUNK):
        _Gim_chunk(xf[j:j + _CHUNK], k, alpha, c, of[j:j + _CHUNK])
    if not np.shares_memory(of, out):
        out[...] = of.reshape(out.shape)
    return out


def _Gim_chunk(x, k, alpha, c, out):
    neg = x.imag < 0
    t = np.abs(x.imag)
    with np.errstate(divide="ignore"):
        np.log(t, out=t)
    lo, hi = t < _TAB_LO, t >= _TAB_HI
    u = np.clip(t, _TAB_LO, _TAB_HI - 1e-9)
    u -= _TAB_LO
    u /= _TAB_STEP
    i = u.astype(np.intp)  # u >= 0: truncation is the floor
    u -= i
    uc = u.astype(complex)  # complex times complex: a complex times a real array is cast per element
    # i is in range by construction (u clipped above): mode="clip" lets numpy write into ``out``
    # directly (with the default "raise" it buffers the output: 2x slower), the same values
    np.take(c[0], i, out=out, mode="clip")
    cj = np.empty_like(uc)
    for j in (1, 2, 3):
        out *= uc
        out += np.take(c[j], i, out=cj, mode="clip")
    if np.any(lo):
        z = 1j * np.exp(t[lo])
        out[lo] = k * z / (0.5 * alpha - 1.0) - 0.5 * k * (k + 1.0) * z * z / (alpha - 1.0)
    if np.any(hi):
        d = 2.0 / alpha
        out[hi] = k * special.beta(1.0 - d, k + d) * (1j * np.exp(t[hi])) ** d - 1.0
    np.conjugate(out, out=out, where=neg)


def _ring(x, a, one_m_a, G_of, f_of):
    """Mean over u uniform on (a, 1) of f(x u^(-alpha/2)) = 1 - (1 + .)^-k or 1 - exp(-.), from
    ``G_of`` (its integral from 1 to inf) as (a G(x a^(-alpha/2)) - G(x)) / (1 - a), or by
    12-point Gauss-Legendre on thin rings (1 - a < _Q_SMALL), where that difference cancels.
    ``f_of(x, u)`` is the integrand. Broadcasts x with a."""
    x, a, one_m_a = np.broadcast_arrays(x, a, one_m_a)
    out = np.empty(x.shape, dtype=complex)
    thin = one_m_a < _Q_SMALL
    w = ~thin
    if np.any(w):
        xa, aa, qa = x[w], a[w], one_m_a[w]
        out[w] = (aa * G_of(xa, aa) - G_of(xa, None)) / qa
    if np.any(thin):
        xt, at, qt = x[thin], a[thin], one_m_a[thin]
        u = at[:, None] + 0.5 * qt[:, None] * (1.0 + _GL_X)
        out[thin] = 0.5 * (f_of(xt[:, None], u) @ _GL_W)
    return out


def _ring_mean(x, k, alpha, a, one_m_a):
    """Mean over u uniform on (a, 1) of 1 - (1 + x u^(-alpha/2))^-k. Broadcasts x with a."""
    return _ring(
        x, a, one_m_a,
        lambda xs, aa: _Gim(xs if aa is None else xs * aa ** (-0.5 * alpha), k, alpha),
        lambda xs, u: -np.expm1(-k * np.log1p(xs * u ** (-0.5 * alpha))),
    )


def _G_det(x, alpha):
    """k -> inf limit of G: int_1^inf (1 - exp(-x u^(-alpha/2))) du, Re x >= 0:
    e^-x - 1 + x/(1 - delta) 1F1(1 - delta; 2 - delta; -x)."""
    d = 2.0 / alpha
    return np.expm1(-x) + x / (1.0 - d) * special.hyp1f1(1.0 - d, 2.0 - d, -x)


def _ring_mean_det(x, alpha, a, one_m_a):
    """Mean over u uniform on (a, 1) of 1 - exp(-x u^(-alpha/2))."""
    return _ring(
        x, a, one_m_a,
        lambda xs, aa: _G_det(xs if aa is None else xs * aa ** (-0.5 * alpha), alpha),
        lambda xs, u: -np.expm1(-xs * u ** (-0.5 * alpha)),
    )
