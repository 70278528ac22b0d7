"""Fused numba kernels for the Song CRLB and Meng CRLB Monte Carlo (``backend="numba"``).

Same outputs and same law of layouts as :class:`isacnet.simulation.kernels.song.SongKernel` and
:class:`isacnet.simulation.kernels.meng_crlb.MengCrlbKernel` (tail treatment, separable FIM with the exact
pair-sum fallback, singular FIM -> inf), computed in one pass per layout:

1. draw the layout into scratch arrays of length K (they stay in L1): ordered arrival times
   g_k = cumsum of K standard exponentials (numpy's ziggurat on an inlined SFC64 stream, see
   below; in float32 two per 64-bit output, the float32 ziggurat on each 32-bit half), and the
   bearings, two per 64-bit output;
2. a vectorisable pass (SIMD over the K points) for the path gains g^{-gamma/2} and the unit
   vectors, accumulating the six sums of the separable FIM;
3. the 2x2 closed-form inverse and the outputs.

Bearings without trig and path gains without ``pow``: :mod:`._numba_fastmath`.

Random streams. Each kernel call runs its own SFC64 stream (numpy's algorithm, inlined; its
state is a tuple of four uint64 threaded through the draws, so it lives in registers), seeded
from three raw outputs of the block's Generator as ``np.random.SFC64`` seeds itself (counter 1,
12 outputs discarded: :func:`stream_state`). Calling the Generator's bit generator through its
function pointer for each draw, as the first version did, cost 0.83 of the numpy floor by itself.
The float64 exponentials are numpy's ziggurat, bit for bit what ``np.random.Generator(SFC64)``
gives from the same state (tested), except that an exact 0 (probability 2^-53) is redrawn; the
float32 ones are numpy's float32 ziggurat on the halves of raw outputs, its slow paths taking
24-bit uniforms from fresh outputs; the bearings and the acceptance uniforms use raw outputs.
Exponentials are > 0 (a 0 would put a point on the target). A given seed reproduces this
backend bit for bit (same machine, same numba and LLVM: the vectorised sums are reassociated,
so a CPU with another vector width may differ in the last bits); it is not the numpy backend's
stream. The stream is named in :data:`STREAM` (stored with results).

``dtype="float32"`` runs everything in float32 (float32 exponentials, float32 sums); the
singular threshold (:data:`isacnet.sensing.SINGULAR_RTOL`) and the separable-form trust limit
(:data:`isacnet.backends.SEPARABLE_MAX_AMPLIFICATION`) are keyed by dtype.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from numba.extending import overload

from ..sensing import SINGULAR_RTOL
from . import SEPARABLE_MAX_AMPLIFICATION
from ._api import KernelLike, Outputs, SongCore
from ._numba_fastmath import (  # noqa: F401 - unit_vectors, QUARTER_MAX: re-exported
    QUARTER_MAX,
    TWO_PI,
    _gains,
    _unit,
    _units,
    quarter_code,
    unit_vectors,
)
from ._numba_random import (  # noqa: F401 - stream_state, raw_outputs, exponentials: re-exported for tests
    _B32,
    _FAST,
    _JIT,
    _S32,
    STREAM,
    _double,
    _exp32,
    _exp64,
    _fill_arrivals,
    _fill_bearings,
    _fill_exp,
    _load,
    _next,
    _store,
    exponentials,
    is_f32,
    raw_outputs,
    stream_state,
)


@njit(inline="always", **_JIT)
def _draw_ordered(s, g, u, k):
    """The k nearest points of a unit-rate process: arrival times into g, bearings' u into u."""
    s = _fill_arrivals(s, g, k)
    return _fill_bearings(s, u, k)


@njit(inline="always", **_JIT)
def _draw_window32(s, g, u, limit):
    acc = 0.0
    m = 0
    cap = g.shape[0]
    while True:
        s, r = _next(s)
        s, e = _exp32(s, np.uint32(r >> _S32))
        acc = float(np.float32(np.float32(acc) + e))
        if acc > limit:
            break
        if m == cap:
            raise RuntimeError("disk window holds more points than its capacity; report this")
        g[m] = acc
        m += 1
    return _fill_bearings(s, u, m), m


@njit(inline="always", **_JIT)
def _draw_window64(s, g, u, limit):
    acc = 0.0
    m = 0
    cap = g.shape[0]
    while True:
        s, x = _exp64(s)
        acc += x
        if acc > limit:
            break
        if m == cap:
            raise RuntimeError("disk window holds more points than its capacity; report this")
        g[m] = acc
        m += 1
    return _fill_bearings(s, u, m), m


def _draw_window(s, g, u, limit):  # pragma: no cover - replaced by the overload in compiled code
    """Every point of a unit-rate process with arrival time <= limit (a PPP on a disk window).

    Returns (state, m): their number m (Poisson(limit)); g[:m], u[:m] filled. Raises if
    m > len(g). The loop of g's dtype is picked at compile time (:func:`._numba_random.is_f32`).
    """
    raise NotImplementedError


@overload(_draw_window)
def _ol_draw_window(s, g, u, limit):
    f = _draw_window32 if is_f32(g) else _draw_window64

    def impl(s, g, u, limit):
        return f(s, g, u, limit)

    return impl


@njit(fastmath=_FAST, **_JIT)
def _sums(w, u, m):
    """The sums W, sum w c^2, sum w c s, sum w s^2, sum w c, sum w s over the points, the unit
    vectors (c, s) computed on the fly (SIMD over the points; nothing stored)."""
    T = w.dtype.type
    one = T(1.0)
    W = axx = axy = ayy = ax = ay = T(0.0)
    for j in range(m):
        cj, sj = _unit(u[j], one)
        wj = w[j]
        wc = wj * cj
        ws = wj * sj
        W += wj
        axx += wc * cj
        axy += wc * sj
        ayy += ws * sj
        ax += wc
        ay += ws
    return W, axx, axy, ayy, ax, ay


@njit(inline="always", **_JIT)
def _trace_inverse(sxx, sxy, syy, rtol, inf):
    """tr(S^-1) of a symmetric 2x2 matrix, ``inf`` where det <= rtol tr^2 (sensing.trace_inverse_2x2)."""
    tr = sxx + syy
    det = sxx * syy - sxy * sxy
    if det > rtol * tr * tr:
        return tr / det, False
    return inf, True


# --------------------------------------------------------------------------- Song
@njit(fastmath=_FAST, **_JIT)
def _song_pairs(w, c, s, mt, u, f, h, mr, wt, ut):
    """The exact O(K_t K_r) pair sum with isotropic tails (sensing.pairwise_fim)."""
    T = w.dtype.type
    sxx = sxy = syy = T(0.0)
    for k in range(mt):
        for j in range(mr):
            vx = c[k] + f[j]
            vy = s[k] + h[j]
            wu = w[k] * u[j]
            sxx += wu * vx * vx
            sxy += wu * vx * vy
            syy += wu * vy * vy
    if wt != 0 or ut != 0:
        W = U = axx = axy = ayy = bxx = bxy = byy = T(0.0)
        for k in range(mt):
            W += w[k]
            axx += w[k] * c[k] * c[k]
            axy += w[k] * c[k] * s[k]
            ayy += w[k] * s[k] * s[k]
        for j in range(mr):
            U += u[j]
            bxx += u[j] * f[j] * f[j]
            bxy += u[j] * f[j] * h[j]
            byy += u[j] * h[j] * h[j]
        half = T(0.5)
        sxx += wt * (bxx + half * U) + ut * (axx + half * W) + wt * ut
        syy += wt * (byy + half * U) + ut * (ayy + half * W) + wt * ut
        sxy += wt * bxy + ut * axy
    return sxx, sxy, syy


@njit(fastmath=_FAST, **_JIT)
def _song_layout(gt, at, wt_, ct, st, mt, gr, ar, wr, cr, sr, mr, tails, tail_coef, quarter, p, amp, rtol, out, i):
    """One layout already drawn into gt/at (TX) and gr/ar (RX): out[:, i] = (tr S^-1 in
    arrival-time units, inf if singular; W; U), W and U with their tails. Returns 1 if the
    separable form was replaced by the pair sum."""
    T = out.dtype.type
    _gains(gt, wt_, mt, quarter, p)
    _gains(gr, wr, mr, quarter, p)
    W, axx, axy, ayy, ax, ay = _sums(wt_, at, mt)
    U, bxx, bxy, byy, bx, by = _sums(wr, ar, mr)
    tail_t = tail_r = T(0.0)
    if tails:
        tail_t = T(tail_coef) * gt[mt - 1] * wt_[mt - 1]  # 2 g_K^{1-gamma/2} / (gamma - 2)
        tail_r = T(tail_coef) * gr[mr - 1] * wr[mr - 1]
    half = T(0.5)
    W += tail_t
    axx += half * tail_t
    ayy += half * tail_t
    U += tail_r
    bxx += half * tail_r
    byy += half * tail_r
    two = T(2.0)
    sxx = U * axx + W * bxx + two * ax * bx
    syy = U * ayy + W * byy + two * ay * by
    sxy = U * axy + W * bxy + ax * by + ay * bx
    mag = two * U * W + two * np.sqrt((ax * ax + ay * ay) * (bx * bx + by * by))
    tr = sxx + syy
    det = sxx * syy - sxy * sxy
    redo = 0
    if not (tr > 0 and mag * tr < T(amp) * det):
        _units(at, ct, st, mt)  # rare: about 1e-5 of the layouts at K = 64
        _units(ar, cr, sr, mr)
        sxx, sxy, syy = _song_pairs(wt_, ct, st, mt, wr, cr, sr, mr, tail_t, tail_r)
        redo = 1
    out[0, i], _ = _trace_inverse(sxx, sxy, syy, T(rtol), T(np.inf))
    out[1, i] = W
    out[2, i] = U
    return redo


@njit(fastmath=_FAST, **_JIT)
def _song_block(st, n, k, window, limit_t, limit_r, tail_coef, quarter, p, amp, rtol, out):
    s = _load(st)
    T = out.dtype.type
    gt, at, wt_, ct, st = np.empty(k, T), np.empty(k, T), np.empty(k, T), np.empty(k, T), np.empty(k, T)
    gr, ar, wr, cr, sr = np.empty(k, T), np.empty(k, T), np.empty(k, T), np.empty(k, T), np.empty(k, T)
    redone = 0
    tails = not window
    for i in range(n):
        if window:
            s, mt = _draw_window(s, gt, at, limit_t)
            s, mr = _draw_window(s, gr, ar, limit_r)
        else:
            s = _draw_ordered(s, gt, at, k)
            s = _draw_ordered(s, gr, ar, k)
            mt = mr = k
        redone += _song_layout(
            gt, at, wt_, ct, st, mt, gr, ar, wr, cr, sr, mr, tails, tail_coef, quarter, p, amp, rtol, out, i
        )
    return redone


@njit(**_JIT)
def _song_draws(st, n, k, window, limit_t, limit_r, g_t, u_t, g_r, u_r):
    """The layouts :func:`_song_block` draws from the same state (g = inf past m)."""
    s = _load(st)
    T = g_t.dtype.type
    gt, at, gr, ar = np.empty(k, T), np.empty(k, T), np.empty(k, T), np.empty(k, T)
    for i in range(n):
        if window:
            s, mt = _draw_window(s, gt, at, limit_t)
            s, mr = _draw_window(s, gr, ar, limit_r)
        else:
            s = _draw_ordered(s, gt, at, k)
            s = _draw_ordered(s, gr, ar, k)
            mt = mr = k
        g_t[i, :] = np.inf
        g_r[i, :] = np.inf
        g_t[i, :mt] = gt[:mt]
        u_t[i, :mt] = at[:mt]
        g_r[i, :mr] = gr[:mr]
        u_r[i, :mr] = ar[:mr]


def _song_setup(kernel):
    c = kernel.core_constants()  # the constants are the kernel module's (simulation/song.py)
    return (
        c["window"],
        c["k"],
        c["lim_t"],
        c["lim_r"],
        c["tail_coef"],
        c["half"],
        1.0 / c["const"],
        c["scale_t"],
        c["scale_r"],
    )


def song_core(kernel: KernelLike, rng: np.random.Generator, n: int) -> SongCore:
    """``SongKernel(..., backend="numba")(rng, n)`` and the number of layouts of this call
    recomputed by the exact pair sum: ({quantity: (n,) array of kernel.dtype}, redone)."""
    dt = np.dtype(kernel.dtype)
    window, k, lim_t, lim_r, tail, half, inv_const, sc_t, sc_r = _song_setup(kernel)
    out = np.empty((3, n), dt)
    q = quarter_code(half)
    amp, rtol = SEPARABLE_MAX_AMPLIFICATION[dt], SINGULAR_RTOL[dt]
    redone = _song_block(stream_state(rng), n, k, window, lim_t, lim_r, tail, q, half, amp, rtol, out)
    c, tr, W, U = dt.type(inv_const), out[0], out[1], out[2]
    with np.errstate(divide="ignore"):
        outputs: Outputs = {
            "crlb": tr * c,
            "jensen": 2 * c / (W * U),
            "inv_sum_tx": 1 / (dt.type(sc_t) * W),
            "inv_sum_rx": 1 / (dt.type(sc_r) * U),
        }
    return outputs, int(redone)


def song(kernel, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """``SongKernel(..., backend="numba")(rng, n)``: {quantity: (n,) array of kernel.dtype}."""
    return song_core(kernel, rng, n)[0]


def song_draws(kernel, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The layouts that ``song(kernel, rng, n)`` would use, for tests: arrival times ``g_t``,
    ``g_r`` (n, K) of kernel.dtype (inf past the points of a window), the bearings' ``u_t``,
    ``u_r`` and the bearings ``phi_t``, ``phi_r`` = 2 pi u - pi [rad] (float64)."""
    dt = np.dtype(kernel.dtype)
    window, k, lim_t, lim_r, *_ = _song_setup(kernel)
    arrs = [np.zeros((n, k), dt) for _ in range(4)]
    _song_draws(stream_state(rng), n, k, window, lim_t, lim_r, *arrs)
    out = dict(zip(("g_t", "u_t", "g_r", "u_r"), arrs, strict=True))
    for s in ("t", "r"):
        out[f"phi_{s}"] = TWO_PI * out[f"u_{s}"].astype(np.float64) - math.pi
    return out


# --------------------------------------------------------------------------- Meng
@njit(inline="always", **_JIT)
def _draw_meng(s, g, u, keep, k, kappa):
    s = _draw_ordered(s, g, u, k)
    if kappa < 1.0:
        for j in range(k):
            s, x = _double(s)
            keep[j] = x < kappa
    return s


@njit(fastmath=_FAST, **_JIT)
def _meng_sums(w, u, keep, k, thinned):
    """Zero the gains of refused BSs; W, sum w c^2, w c s, w s^2, w c, w s, sum w^2, count."""
    T = w.dtype.type
    one = T(1.0)
    zero = T(0.0)
    W = axx = axy = ayy = ax = ay = Q = zero
    cnt = 0
    for j in range(k):
        cj, sj = _unit(u[j], one)
        wj = w[j]
        if thinned:
            wj = wj if keep[j] else zero
        cnt += wj != zero
        wc = wj * cj
        ws = wj * sj
        W += wj
        axx += wc * cj
        axy += wc * sj
        ayy += ws * sj
        ax += wc
        ay += ws
        Q += wj * wj
    return W, axx, axy, ayy, ax, ay, Q, cnt


@njit(fastmath=_FAST, **_JIT)
def _meng_block(st, n, k, kappa, quarter, p, rtol, out):
    """Per layout: tr(F^-1) in arrival-time units (inf if singular), W, sum w^2, cluster size."""
    s = _load(st)
    T = out.dtype.type
    g, u, w = np.empty(k, T), np.empty(k, T), np.empty(k, T)
    keep = np.ones(k, np.bool_)
    thinned = kappa < 1.0
    two, inf, tol = T(2.0), T(np.inf), T(rtol)
    for i in range(n):
        s = _draw_meng(s, g, u, keep, k, kappa)
        _gains(g, w, k, quarter, p)
        W, axx, axy, ayy, ax, ay, Q, cnt = _meng_sums(w, u, keep, k, thinned)
        # separable_fim(w, c, s, w, c, s) = 2 (W A + a a^T)
        sxx = two * (W * axx + ax * ax)
        syy = two * (W * ayy + ay * ay)
        sxy = two * (W * axy + ax * ay)
        out[0, i], _ = _trace_inverse(sxx, sxy, syy, tol, inf)
        out[1, i] = W
        out[2, i] = Q
        out[3, i] = T(cnt)


@njit(**_JIT)
def _meng_draws(st, n, k, kappa, g_out, u_out, keep_out):
    s = _load(st)
    T = g_out.dtype.type
    g, u = np.empty(k, T), np.empty(k, T)
    keep = np.ones(k, np.bool_)
    for i in range(n):
        s = _draw_meng(s, g, u, keep, k, kappa)
        g_out[i] = g
        u_out[i] = u
        keep_out[i] = keep


def meng_crlb(kernel, rng: np.random.Generator, n: int, raw: bool = False):
    """``MengCrlbKernel(..., backend="numba")(rng, n)``: {quantity: (n,) array of kernel.dtype};
    with ``raw``, the (n,) array of tr(F^-1) [m^2] alone."""
    dt = np.dtype(kernel.dtype)
    c = kernel.core_constants()  # the constants are the kernel module's (simulation/kernels/meng_crlb.py)
    half, const = c["half"], c["const"]
    out = np.empty((4, n), dt)
    _meng_block(stream_state(rng), n, kernel.n_bs, kernel.kappa, quarter_code(half), half, SINGULAR_RTOL[dt], out)
    inv_const = dt.type(1.0 / const)
    tr = out[0] * inv_const  # [m^2]; inf where singular
    if raw:
        return tr
    W, Q = out[1], out[2]
    with np.errstate(divide="ignore"):
        rows = {
            "log_crlb": np.log(tr),
            "singular": np.isinf(tr).astype(dt),
            "cluster_size": out[3],
            "crlb": tr,
            "isotropic": 2 * inv_const / (W * W),
            "jensen": 2 * inv_const / (W * W + Q),
        }
    for i, t in enumerate(kernel.thresholds):
        rows[f"cdf_{i}"] = (tr <= dt.type(t)).astype(dt)
    return {q: rows[q] for q in kernel.quantities}


def meng_draws(kernel, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The layouts ``meng_crlb(kernel, rng, n)`` would use: ``g``, ``u``, ``phi`` = 2 pi u - pi
    [rad] and ``keep``, each (n, N)."""
    dt = np.dtype(kernel.dtype)
    N = kernel.n_bs
    g, u, keep = np.zeros((n, N), dt), np.zeros((n, N), dt), np.ones((n, N), bool)
    _meng_draws(stream_state(rng), n, N, kernel.kappa, g, u, keep)
    return {"g": g, "u": u, "phi": TWO_PI * u.astype(np.float64) - math.pi, "keep": keep}
