"""The numba backend's random numbers, in one module: an inlined SFC64 stream, numpy's ziggurat
exponential (float64 and float32) and normal samplers, a Marsaglia-Tsang gamma and a Beta(n, 1).

The stream is numpy's SFC64 algorithm, inlined: its state (a, b, c, counter) is a tuple of four
uint64 threaded through the draws (``s, x = _draw(s)``), so that it lives in registers; calling
the Generator's bit generator through its function pointer for every draw cost about 60% of the
numpy floor by itself. Each kernel call seeds the state from three raw outputs of the block's
Generator (:func:`stream_state`), as ``np.random.SFC64`` seeds itself from a SeedSequence. These
samplers buy a measured 1.7x over numba's own ``np.random.Generator`` support.

The float64 exponentials are numpy's ziggurat, bit for bit what ``np.random.Generator(SFC64)``
gives from the same state (tested), except that an exact 0 (probability 2^-53) is redrawn; the
float32 ones are numpy's float32 ziggurat on the halves of raw outputs. The tables are numpy's,
vendored in :mod:`._ziggurat_tables` by ``docs/scripts/make_ziggurat_tables.py`` (no import of
numba's private modules). The normal ziggurat and the gamma sampler are derived in the docstring
of :mod:`.numba_rate`; the identities of the tables are checked in the tests.

:data:`STREAM` names the stream (stored with results and in every job's identity).
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, types
from numba.extending import overload

from . import _ziggurat_tables as _Z

if tuple(int(x) for x in numba.__version__.split(".")[:2]) < (0, 59):  # pragma: no cover
    raise ImportError(f"numba >= 0.59 is needed, found {numba.__version__}")

STREAM = "sfc64-inline-v2"
"""Identifies the random stream of these kernels (stored with results: a change of the stream
changes the kernels' reprs, hence the chunk-cache keys). v1 called the Generator per draw."""

FAST = {"reassoc", "contract"}
"""Vectorised sums (reassociation) and FMA; never nnan/ninf: inf must survive (singular FIM)."""


def _probe() -> None:  # pragma: no cover - never called: its source file locates the cache
    """A function of this folder, for :func:`cache_available`."""


def cache_available() -> bool:
    """Whether numba can keep this backend's compiled code on disk (``cache=True``).

    numba writes it to ``NUMBA_CACHE_DIR`` when set, else to the ``__pycache__`` beside these
    sources, else to the user's cache folder, whichever is writable first; a later process loads
    it instead of compiling again (the source file's time stamp and numba's version are checked).
    Where none is writable, ``cache=True`` would make every decorator raise at import: the
    backend then compiles in memory, as without a cache (same code, same numbers).
    """
    try:
        from numba.core.caching import FunctionCache

        FunctionCache(_probe)
    except Exception:  # RuntimeError "no locator available", or an OSError of a locator
        return False
    return True


CACHE = cache_available()
"""Whether the compiled functions of the numba backend are cached on disk (see
:func:`cache_available`)."""
JIT = {"cache": CACHE, "error_model": "numpy", "nogil": True}
"""Options of every compiled function of the numba backend."""
_JIT, _FAST = JIT, FAST

_FE, _KE, _WE = np.asarray(_Z.FE, np.float64), np.asarray(_Z.KE, np.uint64), np.asarray(_Z.WE, np.float64)
_FE_F, _KE_F, _WE_F = np.asarray(_Z.FE_F, np.float32), np.asarray(_Z.KE_F, np.uint32), np.asarray(_Z.WE_F, np.float32)
_EXP_R, _EXP_R_F = np.float64(_Z.EXP_R), np.float32(_Z.EXP_R_F)
_FI, _KI, _WI = np.asarray(_Z.FI, np.float64), np.asarray(_Z.KI, np.uint64), np.asarray(_Z.WI, np.float64)
_NOR_R, _NOR_INV_R = float(_Z.NOR_R), float(_Z.NOR_INV_R)


# The stream is numpy's SFC64 algorithm, inlined: its state (a, b, c, counter) is a tuple of four
# uint64 threaded through the draws (``s, x = _draw(s)``), so that it lives in registers; calling
# the Generator's bit generator through its function pointer for every draw cost about 60% of
# the numpy floor by itself. Each kernel call seeds the state from three raw outputs of the
# block's Generator (:func:`stream_state`), as np.random.SFC64 seeds itself from a SeedSequence.
_S3, _S8, _S11, _S24, _S32, _S40, _ONE = (np.uint64(x) for x in (3, 8, 11, 24, 32, 40, 1))
_B8, _B32 = np.uint64(0xFF), np.uint64(0xFFFFFFFF)
_U32_1, _U32_8, _U32_FF = np.uint32(1), np.uint32(8), np.uint32(0xFF)


def stream_state(rng: np.random.Generator) -> np.ndarray:
    """The uint64[4] SFC64 state of one kernel call: three raw 64-bit outputs of ``rng``'s bit
    generator, counter 1, then 12 outputs discarded (numpy's SFC64 seeding)."""
    st = np.empty(4, np.uint64)
    st[:3] = rng.bit_generator.random_raw(3)
    st[3] = 1
    raw_outputs(st, np.empty(12, np.uint64))
    return st


@njit(inline="always", **_JIT)
def _load(st):
    return (st[0], st[1], st[2], st[3])


@njit(inline="always", **_JIT)
def _store(st, s):
    st[0], st[1], st[2], st[3] = s


@njit(inline="always", **_JIT)
def _next(s):
    """One SFC64 step: (new state, 64-bit output)."""
    a, b, c, n = s
    t = a + b + n
    return (b ^ (b >> _S11), c + (c << _S3), ((c << _S24) | (c >> _S40)) + t, n + _ONE), t


@njit(**_JIT)
def raw_outputs(st, out):
    """Fill ``out`` (uint64) with the stream's outputs from state ``st`` (advanced in place)."""
    s = _load(st)
    for j in range(out.shape[0]):
        s, out[j] = _next(s)
    _store(st, s)


@njit(inline="always", **_JIT)
def _double(s):
    """numpy's next_double: (x >> 11) 2^-53, in [0, 1)."""
    s, r = _next(s)
    return s, float(np.int64(r >> _S11)) * 2.0**-53


@njit(inline="always", **_JIT)
def _float(s):
    """A float32 uniform on [0, 1) from the top 24 bits of one output."""
    s, r = _next(s)
    return s, np.float32(np.int64(r >> _S40)) * np.float32(2.0**-24)


@njit(inline="always", **_JIT)
def _exp64_candidate(r):
    """The ziggurat's candidate from one 64-bit output: (layer idx, integer ri, x = ri we[idx]),
    and whether the rectangle test accepts it (98.9%; an exact 0 is not accepted)."""
    ri = r >> _S3
    idx = ri & _B8
    ri >>= _S8
    x = float(np.int64(ri)) * _WE[idx]
    return idx, ri, x, ri < _KE[idx] and ri != 0


@njit(**_JIT)
def _exp64_slow(s, idx, ri, x):
    """The rest of numpy's float64 exponential ziggurat after the rectangle test failed (the
    tail beyond r for idx 0, else the wedge test; a rejection restarts with a fresh output), and
    the redraw of an exact 0 (ri = 0, probability 2^-53: it would put a point on the target)."""
    while True:
        if ri != 0:
            if idx == 0:
                s, u = _double(s)
                return s, _EXP_R - np.log1p(-u)
            s, u = _double(s)
            if (_FE[idx - 1] - _FE[idx]) * u + _FE[idx] < np.exp(-x):
                return s, x
        s, r = _next(s)
        idx, ri, x, ok = _exp64_candidate(r)
        if ok:
            return s, x


@njit(inline="always", **_JIT)
def _exp64(s):
    """A standard exponential > 0: numpy's float64 ziggurat (its stream, bar the redrawn 0)."""
    s, r = _next(s)
    idx, ri, x, ok = _exp64_candidate(r)
    if ok:  # 98.9%
        return s, x
    return _exp64_slow(s, idx, ri, x)


@njit(inline="always", **_JIT)
def _exp32_candidate(w):
    """numpy's float32 ziggurat candidate from the 32-bit word ``w``: (idx, ri, x, accepted by
    the rectangle test; an exact 0 is not)."""
    ri = w >> _U32_1
    idx = ri & _U32_FF
    ri >>= _U32_8
    x = np.float32(np.float32(np.int64(ri)) * _WE_F[idx])
    return idx, ri, x, ri < _KE_F[idx] and ri != 0


@njit(**_JIT)
def _exp32_slow(s, idx, ri, x):
    """numpy's float32 ziggurat after a failed rectangle test on a 32-bit word (or a 0, redrawn);
    restarts take the top half of a fresh output."""
    while True:
        if ri != 0:
            if idx == 0:
                s, u = _float(s)
                return s, np.float32(_EXP_R_F - np.float32(np.log1p(-u)))
            s, u = _float(s)
            if (_FE_F[idx - 1] - _FE_F[idx]) * u + _FE_F[idx] < np.float32(np.exp(-x)):
                return s, x
        s, r = _next(s)
        idx, ri, x, ok = _exp32_candidate(np.uint32(r >> _S32))
        if ok:
            return s, x


@njit(inline="always", **_JIT)
def _exp32(s, w):
    """A float32 standard exponential > 0: numpy's float32 ziggurat on the 32-bit word ``w``."""
    idx, ri, x, ok = _exp32_candidate(w)
    if ok:
        return s, x
    return _exp32_slow(s, idx, ri, x)


@njit(inline="always", **_JIT)
def _fill_exp32(s, buf, start, m):
    for j in range(start, start + m - 1, 2):
        s, r = _next(s)
        s, buf[j] = _exp32(s, np.uint32(r >> _S32))
        s, buf[j + 1] = _exp32(s, np.uint32(r & _B32))
    if m % 2:
        s, r = _next(s)
        s, buf[start + m - 1] = _exp32(s, np.uint32(r >> _S32))
    return s


@njit(inline="always", **_JIT)
def _fill_exp64(s, buf, start, m):
    for j in range(start, start + m):
        s, buf[j] = _exp64(s)
    return s


def _fill_exp(s, buf, start, m):  # pragma: no cover - replaced by the overload in compiled code
    """buf[start:start + m] = m standard exponentials > 0 of buf's dtype (float32: two per
    64-bit output, top half first; an odd last one takes the top half of a fresh output).

    The float32 or float64 loop is picked when the caller is compiled (:func:`is_f32`), so a
    kernel compiles only the one of its dtype."""
    raise NotImplementedError


@njit(inline="always", **_JIT)
def _fill_arrivals32(s, g, k):
    a32 = np.float32(0.0)
    for j in range(0, k - 1, 2):
        s, r = _next(s)
        s, e = _exp32(s, np.uint32(r >> _S32))
        a32 += e
        g[j] = a32
        s, e = _exp32(s, np.uint32(r & _B32))
        a32 += e
        g[j + 1] = a32
    if k % 2:
        s, r = _next(s)
        s, e = _exp32(s, np.uint32(r >> _S32))
        g[k - 1] = a32 + e
    return s


@njit(inline="always", **_JIT)
def _fill_arrivals64(s, g, k):
    a64 = 0.0
    for j in range(k):
        s, x = _exp64(s)
        a64 += x
        g[j] = a64
    return s


def _fill_arrivals(s, g, k):  # pragma: no cover - replaced by the overload in compiled code
    """g[:k] = cumulative sums of k standard exponentials (as :func:`_fill_exp` draws them), summed
    in g's dtype as they are drawn (the add chain overlaps the draws): the ordered arrival times
    of the k nearest points of a unit-rate process. One dtype's loop compiled (:func:`is_f32`)."""
    raise NotImplementedError


def is_f32(a) -> bool:
    """Whether the numba type ``a`` is a float32 array (in an overload: picks a dtype's loop).

    A runtime test of the dtype (``buf.itemsize == 4``: the itemsize is a field of numba's array,
    not a constant) compiled, and inlined, both loops in every kernel: twice the code to compile
    for nothing. The overloads below pick the loop when the caller is compiled; it is the same
    code as before, so the numbers are the same (checked bit for bit on every figure). They are not
    inlined at numba's IR level (``inline="always"`` there trips numba's SSA checks with a
    NumbaIRAssumptionWarning) but compiled as functions with numba's default options, which
    matter nowhere here: the loops hold no division (error_model) and no reduction (fastmath)."""
    return isinstance(a, types.Array) and a.dtype == types.float32


@overload(_fill_exp)
def _ol_fill_exp(s, buf, start, m):
    f = _fill_exp32 if is_f32(buf) else _fill_exp64

    def impl(s, buf, start, m):
        return f(s, buf, start, m)

    return impl


@overload(_fill_arrivals)
def _ol_fill_arrivals(s, g, k):
    f = _fill_arrivals32 if is_f32(g) else _fill_arrivals64

    def impl(s, g, k):
        return f(s, g, k)

    return impl


@njit(**_JIT)
def exponentials(st, out):
    """Fill ``out`` (float32 or float64) with the kernels' exponentials from state ``st``
    (advanced in place), as :func:`_fill_exp` draws them. For tests."""
    s = _load(st)
    s = _fill_exp(s, out, 0, out.shape[0])
    _store(st, s)


@njit(inline="always", **_JIT)
def _angle_pair(s):
    """Two independent bearings' u in (0, 1), each (j + 1/2) / 2^32 from one 64-bit output."""
    s, r = _next(s)
    hi = np.int64(r >> _S32)
    lo = np.int64(r & _B32)
    return s, (float(hi) + 0.5) * 2.0**-32, (float(lo) + 0.5) * 2.0**-32


@njit(inline="always", **_JIT)
def _fill_bearings(s, u, m):
    """u[:m] = the bearings' u, two per 64-bit output (an odd last one: the top half)."""
    for j in range(0, m - 1, 2):
        s, a, b = _angle_pair(s)
        u[j] = a
        u[j + 1] = b
    if m % 2:
        s, a, _ = _angle_pair(s)
        u[m - 1] = a
    return s


MAX_UNIFORMS = 4
""""zf-law" draws t ~ Beta(M_t - 1, 1) as the largest of M_t - 1 uniforms up to M_t - 1 = 4 (one
raw output each), else as exp(-E / (M_t - 1)) (an exponential and an ``exp`` call)."""

_U1, _M52 = np.uint64(1), np.uint64((1 << 52) - 1)


# --------------------------------------------------------------------------- samplers
@njit(inline="always", **_JIT)
def _normal_candidate(r):
    """The ziggurat's candidate from one 64-bit output (8 bits layer, 1 sign, 52 bits x):
    (idx, neg, x) and whether the rectangle test accepts it (99.3%)."""
    idx = r & _B8
    r >>= _S8
    neg = (r & _U1) != 0
    j = (r >> _U1) & _M52
    x = float(np.int64(j)) * _WI[idx]
    return idx, neg, -x if neg else x, j < _KI[idx]


@njit(**_JIT)
def _normal_slow(s, idx, neg, x):
    """The ziggurat after a failed rectangle test: the wedge test (idx >= 1) or the tail beyond r
    (idx 0); a rejected wedge starts again with a fresh output."""
    while True:
        if idx == 0:
            while True:
                s, u1 = _double(s)
                s, u2 = _double(s)
                xx = -_NOR_INV_R * np.log1p(-u1)  # Exp(r)
                yy = -np.log1p(-u2)
                if yy + yy > xx * xx:
                    return s, -(_NOR_R + xx) if neg else _NOR_R + xx
        s, u = _double(s)
        if (_FI[idx - 1] - _FI[idx]) * u + _FI[idx] < np.exp(-0.5 * x * x):
            return s, x
        s, r = _next(s)
        idx, neg, x, ok = _normal_candidate(r)
        if ok:
            return s, x


@njit(inline="always", **_JIT)
def _normal(s):
    """A float64 standard normal (ziggurat, module docstring): 8 bits layer, 1 sign, 52 bits x."""
    s, r = _next(s)
    idx, neg, x, ok = _normal_candidate(r)
    if ok:  # 99.3%
        return s, x
    return _normal_slow(s, idx, neg, x)


@njit(inline="always", **_JIT)
def _gamma_mt(s, d, c):
    """Gamma(d + 1/3), d + 1/3 >= 1, c = 1 / sqrt(9 d): Marsaglia-Tsang (module docstring)."""
    while True:
        s, x = _normal(s)
        v = 1.0 + c * x
        if v <= 0.0:
            continue
        v = v * v * v
        s, u = _double(s)
        x2 = x * x
        if u < 1.0 - 0.0331 * (x2 * x2):
            return s, d * v
        if np.log(u) < 0.5 * x2 + d * (1.0 - v + np.log(v)):
            return s, d * v


@njit(inline="always", **_JIT)
def _beta_top(s, n):
    """t ~ Beta(n, 1), P(t <= x) = x^n (float64): the largest of n uniforms for n <= MAX_UNIFORMS,
    else exp(-E / n)."""
    if n <= MAX_UNIFORMS:
        s, x = _double(s)
        for _ in range(1, n):
            s, y = _double(s)
            x = max(x, y)
        return s, x
    s, e = _exp64(s)
    return s, np.exp(-e / n)


@njit(**_JIT)
def beta_tops(st, n, out):
    """Fill the float64 array ``out`` with the kernel's Beta(n, 1) variates from state ``st``
    (advanced in place). For tests."""
    s = _load(st)
    for j in range(out.shape[0]):
        s, out[j] = _beta_top(s, n)
    st[0], st[1], st[2], st[3] = s


@njit(**_JIT)
def normals(st, out):
    """Fill the float64 array ``out`` with the kernel's standard normals from state ``st``
    (advanced in place). For tests."""
    s = _load(st)
    for j in range(out.shape[0]):
        s, out[j] = _normal(s)
    st[0], st[1], st[2], st[3] = s


@njit(**_JIT)
def gammas(st, a, out):
    """Fill the float64 array ``out`` with the kernel's Gamma(a) variates (a >= 1) from state
    ``st`` (advanced in place). For tests."""
    s = _load(st)
    d = a - 1.0 / 3.0
    c = 1.0 / np.sqrt(9.0 * d)
    for j in range(out.shape[0]):
        s, out[j] = _gamma_mt(s, d, c)
    st[0], st[1], st[2], st[3] = s
