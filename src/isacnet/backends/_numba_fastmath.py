"""The numba backend's fast maths, in one module: bearings without trig, path gains without ``pow``.

Bearings without trig. A bearing is phi = 2 pi u - pi with u = (j + 1/2) / 2^32, j a uniform
32-bit integer: phi is uniform on a grid of 2^32 angles, each within pi / 2^32 = 7.3e-10 rad of
a continuous uniform angle coupled to it (numpy's own uniforms are on a 2^-53 grid). Its cosine
and sine come from the Taylor polynomials of degree 12/13 at theta = phi / 8 (|theta| <= pi/8,
truncation < 3e-17) followed by three double-angle steps (c, s) -> (c^2 - s^2, 2 c s): about
1e-15 from np.cos / np.sin (tested), no libm calls, vectorisable.

Path gains. g^{-gamma/2} is computed without ``pow`` when 4 * gamma/2 = q is an integer below 16:
1 / g^(q/4) for q = 4, 8, 12; otherwise from y = g^(-1/4), a float32 estimate refined by two
Newton steps (float64; within 4 ulp) or two float32 square roots (float32), then y^q. Other
exponents use ``pow`` (about 15 ns a point instead of 1). The Song tail beyond the K-th point,
2 g_K^{1-gamma/2} / (gamma - 2), is 2 g_K w_K / (gamma - 2).

The numpy backend reaches the same accuracy by other algorithms (a quarter-turn reduction and a
Chebyshev sine in :func:`isacnet.geometry.directions_from_uniforms`; ``g ** -p``): sharing one
implementation would change the numbers of one of the two backends, which a restructure must not.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, types
from numba.extending import overload

from ._numba_random import _FAST, _JIT

TWO_PI = 2.0 * math.pi
QUARTER_MAX = 15
"""Exponents p = q/4 with q <= 15 avoid ``pow`` (division, or Newton steps / square roots)."""


def _unit(u, one):  # pragma: no cover - replaced by the overload in compiled code
    """(cos phi, sin phi) of phi = 2 pi u - pi, in the float type of ``one``."""
    raise NotImplementedError


_COS = (1.0, -1.0 / 2, 1.0 / 24, -1.0 / 720, 1.0 / 40320, -1.0 / 3628800, 1.0 / 479001600)
_SIN = (1.0, -1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880, -1.0 / 39916800, 1.0 / 6227020800)


@overload(_unit, inline="always")
def _ol_unit(u, one):
    T = np.float32 if isinstance(one, types.Float) and one.bitwidth == 32 else np.float64
    c0, c1, c2, c3, c4, c5, c6 = (T(x) for x in _COS)
    s0, s1, s2, s3, s4, s5, s6 = (T(x) for x in _SIN)
    mid, scale, two = T(0.5), T(TWO_PI / 8.0), T(2.0)

    def impl(u, one):
        t = (u - mid) * scale  # theta = phi / 8, |theta| <= pi / 8
        t2 = t * t
        c = c0 + t2 * (c1 + t2 * (c2 + t2 * (c3 + t2 * (c4 + t2 * (c5 + t2 * c6)))))
        s = t * (s0 + t2 * (s1 + t2 * (s2 + t2 * (s3 + t2 * (s4 + t2 * (s5 + t2 * s6))))))
        c, s = c * c - s * s, two * c * s
        c, s = c * c - s * s, two * c * s
        c, s = c * c - s * s, two * c * s
        return c, s

    return impl


@njit(**_JIT)
def unit_vectors(u):
    """(cos(2 pi u - pi), sin(2 pi u - pi)) for a 1-D array u (the kernels' bearing map)."""
    one = u.dtype.type(1.0)
    c = np.empty_like(u)
    s = np.empty_like(u)
    for j in range(u.shape[0]):
        c[j], s[j] = _unit(u[j], one)
    return c, s


# --------------------------------------------------------------------------- path gains
def quarter_code(p: float) -> int:
    """4 p if it is an integer in 1..QUARTER_MAX (sqrt-chain gains), else -1 (``pow``)."""
    q = 4.0 * p
    return int(q) if q == int(q) and 1 <= q <= QUARTER_MAX else -1


@njit(inline="always", **_JIT)
def _ipow(x, a, one):
    """x ** a for a in 0..3 (loop-invariant selects)."""
    y = x if a >= 1 else one
    y = y * x if a >= 2 else y
    return y * x if a >= 3 else y


def _quarter_gain(x, a, rem, one):  # pragma: no cover - replaced by the overload in compiled code
    """x ** -(a + rem / 4) for rem in 1..3, in the float type of ``one``."""
    raise NotImplementedError


@overload(_quarter_gain, inline="always")
def _ol_quarter_gain(x, a, rem, one):
    if isinstance(one, types.Float) and one.bitwidth == 32:

        def impl32(x, a, rem, one):
            r = np.sqrt(x)
            r4 = np.sqrt(r)
            d = r4 if rem == 1 else (r if rem == 2 else r * r4)
            return one / (_ipow(x, a, one) * d)

        return impl32

    def impl64(x, a, rem, one):
        # y = x^(-1/4): float32 estimate (rel. error ~1e-7), then two Newton steps for
        # y^-4 = x, y <- y (5 - x y^4) / 4 (quadratic: 1e-14, then rounding), measured within
        # 4 ulp of pow; then x^(-q/4) = y^q by binary powers (q = 4 a + rem <= 15, a few ulp).
        y = np.float64(np.float32(1.0) / np.sqrt(np.sqrt(np.float32(x))))
        y2 = y * y
        y = y * (5.0 - x * (y2 * y2)) * 0.25
        y2 = y * y
        y = y * (5.0 - x * (y2 * y2)) * 0.25
        q = 4 * a + rem
        y2 = y * y
        y4 = y2 * y2
        w = y if q & 1 else 1.0
        w = w * y2 if q & 2 else w
        w = w * y4 if q & 4 else w
        return w * (y4 * y4) if q & 8 else w

    return impl64


@njit(fastmath=_FAST, **_JIT)
def _gains(g, w, m, quarter, p):
    """w[:m] = g[:m] ** -p; ``quarter`` from :func:`quarter_code` (< 0: ``pow``). One loop per
    case, so that each vectorises."""
    T = w.dtype.type
    one = T(1.0)
    if quarter < 0:
        mp = T(-p)
        for j in range(m):
            w[j] = g[j] ** mp
        return
    a = quarter // 4
    rem = quarter % 4
    if rem == 0:
        for j in range(m):
            w[j] = one / _ipow(g[j], a, one)
    else:
        for j in range(m):
            w[j] = _quarter_gain(g[j], a, rem, one)


@njit(fastmath=_FAST, **_JIT)
def _units(u, c, s, m):
    """c[:m], s[:m] = the unit vectors of the bearings u[:m]."""
    one = c.dtype.type(1.0)
    for j in range(m):
        c[j], s[j] = _unit(u[j], one)
