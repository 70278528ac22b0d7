"""JAX kernels for the Song CRLB and Meng CRLB Monte Carlo (``backend="jax"``): one jitted code
path for CPU and GPU.

Same outputs and law of layouts as the numpy kernels, written batch-wise like them (arrays of
shape (n, K)), jit-compiled per (n, K, dtype) with n static: the engine's blocks have one size
(plus a shorter last block), so a run compiles at most twice per kernel.

Random numbers. ``jax.random`` with threefry keys: each call takes 64 bits from the block's
Generator (``rng.integers``) as its key, so the numbers are a deterministic function of
(seed, sweep point, block) through :func:`isacnet.rng.block_rng`, and two calls on the same
Generator get different keys. Reproducible bit for bit for a seed on one device type; not the
numpy backend's stream.

Precision. ``dtype="float64"`` runs inside ``jax.enable_x64`` (a context, no global switch);
``"float32"`` is what a GPU runs fast. Singular threshold and separable-form trust limit are
keyed by dtype as in the numba backend.

The separable Song FIM loses accuracy for the rare layouts with heavy pairs near forward
scatter; as :func:`isacnet.sensing.fisher_sums` does, those layouts are recomputed with the exact
pair sum. Shapes must be static under jit, so the flagged layouts are gathered with
``jnp.nonzero(size=m)`` (m = n // 64 + 8 slots); if more are flagged (never seen at K = 64: 1e-5
of the layouts) the block is rerun with m = n, which gives the same numbers.
"""

from __future__ import annotations

import contextlib
import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ..sensing import SINGULAR_RTOL
from . import SEPARABLE_MAX_AMPLIFICATION
from ._api import SONG_OUTPUTS, KernelLike, SongCore


def _precision(dtype: np.dtype):
    """Context in which jax computes in ``dtype`` (x64 switched on locally for float64)."""
    if dtype == np.float64:
        enable = getattr(jax, "enable_x64", None)
        if enable is None:  # pragma: no cover - jax < 0.4.36
            from jax.experimental import enable_x64 as enable  # type: ignore[attr-defined,no-redef]
        return enable(True)  # type: ignore[misc]
    return contextlib.nullcontext()


STREAM = "jax-threefry2x32-v1"
"""Identifies the random stream of these kernels (stored with results): jax.random on a
threefry key from 64 bits of the block's Generator."""


def _key(rng: np.random.Generator):
    """A threefry key from 64 bits of the block's Generator."""
    data = rng.integers(0, 2**32, size=2, dtype=np.uint32)
    return jax.random.wrap_key_data(jnp.asarray(data, dtype=jnp.uint32), impl="threefry2x32")


def _exponential(key, shape, dtype):
    """Standard exponentials > 0: -log(1 - u) with u = (j + 1/2) eps on the grid of
    ``jax.random.uniform`` (spacing eps = 2^-23 in float32), never 0 (``jax.random.exponential``
    returns 0 with probability 2^-23 per float32 draw: a point on the target, infinite gain)."""
    u = jax.random.uniform(key, shape, dtype) + 0.5 * jnp.finfo(dtype).eps
    return -jnp.log1p(-u)


def _ordered(key, n: int, k: int, dtype):
    """Arrival times (n, k) of a unit-rate process and the bearings of the points, uniform."""
    ke, ka = jax.random.split(key)
    g = jnp.cumsum(_exponential(ke, (n, k), dtype), axis=1)
    phi = jax.random.uniform(ka, (n, k), dtype, minval=-math.pi, maxval=math.pi)
    return g, phi


def _trace_inverse(sxx, sxy, syy, rtol):
    tr = sxx + syy
    det = sxx * syy - sxy * sxy
    singular = ~(det > rtol * tr * tr)
    return jnp.where(singular, jnp.inf, tr / jnp.where(singular, 1, det)), singular


def _rowsums(w, c, s):
    wc, ws = w * c, w * s
    return w.sum(1), (wc * c).sum(1), (wc * s).sum(1), (ws * s).sum(1), wc.sum(1), ws.sum(1)


@partial(jax.jit, static_argnames=("n", "k", "window", "m_redo", "dtype"))
def _song_core(
    key, limit_t, limit_r, mhalf, tail_coef, amp, rtol, inv_const, scale_t, scale_r, *, n, k, window, m_redo, dtype
):
    kt, kr = jax.random.split(key)
    cst = partial(jnp.asarray, dtype=dtype)

    def process(key, limit):
        g, phi = _ordered(key, n, k, dtype)
        c, s = jnp.cos(phi), jnp.sin(phi)
        w = g ** cst(mhalf)
        if window:
            inside = g <= limit
            return jnp.where(inside, w, 0), c, s, jnp.zeros(n, dtype), inside[:, -1]
        return w, c, s, cst(tail_coef) * g[:, -1] * w[:, -1], jnp.zeros(n, bool)

    w, c, s, wt, over_t = process(kt, limit_t)
    u, f, h, ut, over_r = process(kr, limit_r)
    W, axx, axy, ayy, ax, ay = _rowsums(w, c, s)
    U, bxx, bxy, byy, bx, by = _rowsums(u, f, h)
    W, axx, ayy = W + wt, axx + 0.5 * wt, ayy + 0.5 * wt
    U, bxx, byy = U + ut, bxx + 0.5 * ut, byy + 0.5 * ut
    sxx = U * axx + W * bxx + 2 * ax * bx
    syy = U * ayy + W * byy + 2 * ay * by
    sxy = U * axy + W * bxy + ax * by + ay * bx
    mag = 2 * U * W + 2 * jnp.hypot(ax, ay) * jnp.hypot(bx, by)
    tr = sxx + syy
    det = sxx * syy - sxy * sxy
    redo = ~((tr > 0) & (mag * tr < cst(amp) * det))
    # Exact pair sum (sensing.pairwise_fim) for the flagged layouts, m_redo slots.
    idx = jnp.nonzero(redo, size=m_redo, fill_value=n)[0]

    def take(a):
        return jnp.take(a, idx, axis=0, mode="clip")

    wi, ci, si, ui, fi, hi, wti, uti = map(take, (w, c, s, u, f, h, wt, ut))
    vx = ci[:, :, None] + fi[:, None, :]
    vy = si[:, :, None] + hi[:, None, :]
    wu = wi[:, :, None] * ui[:, None, :]
    pxx = (wu * vx * vx).sum((1, 2))
    pxy = (wu * vx * vy).sum((1, 2))
    pyy = (wu * vy * vy).sum((1, 2))
    Wi, Ui = wi.sum(1), ui.sum(1)
    pxx += wti * ((ui * fi * fi).sum(1) + 0.5 * Ui) + uti * ((wi * ci * ci).sum(1) + 0.5 * Wi) + wti * uti
    pyy += wti * ((ui * hi * hi).sum(1) + 0.5 * Ui) + uti * ((wi * si * si).sum(1) + 0.5 * Wi) + wti * uti
    pxy += wti * (ui * fi * hi).sum(1) + uti * (wi * ci * si).sum(1)
    sxx = sxx.at[idx].set(pxx, mode="drop")
    sxy = sxy.at[idx].set(pxy, mode="drop")
    syy = syy.at[idx].set(pyy, mode="drop")
    tr_inv, _ = _trace_inverse(sxx, sxy, syy, cst(rtol))
    ic = cst(inv_const)
    out = jnp.stack([tr_inv * ic, 2 * ic / (W * U), 1 / (cst(scale_t) * W), 1 / (cst(scale_r) * U)])
    return out, redo.sum(), jnp.any(over_t | over_r)


SONG_ROWS = SONG_OUTPUTS


def song_core(kernel: KernelLike, rng: np.random.Generator, n: int) -> SongCore:
    """``SongKernel(..., backend="jax")(rng, n)`` and the number of layouts of this call
    recomputed by the exact pair sum: ({quantity: (n,) numpy array of kernel.dtype}, redone)."""
    dt = np.dtype(kernel.dtype)
    c = kernel.core_constants()  # the constants are the kernel module's (simulation/song.py)
    window, k, lim_t, lim_r, tail, half = c["window"], c["k"], c["lim_t"], c["lim_r"], c["tail_coef"], c["half"]
    scale_t, scale_r, const = c["scale_t"], c["scale_r"], c["const"]
    with _precision(dt):
        key = _key(rng)
        args = (
            key,
            lim_t,
            lim_r,
            -half,
            tail,
            SEPARABLE_MAX_AMPLIFICATION[dt],
            SINGULAR_RTOL[dt],
            1.0 / const,
            scale_t,
            scale_r,
        )
        m = n // 64 + 8
        out, redone, over = _song_core(*args, n=n, k=k, window=window, m_redo=m, dtype=dt)
        if int(redone) > m:
            out, redone, over = _song_core(*args, n=n, k=k, window=window, m_redo=n, dtype=dt)
        if bool(over):  # pragma: no cover - probability < 1e-15 per layout
            raise RuntimeError("disk window not filled by the ordered sample; report this")
        out = np.asarray(out)
    return dict(zip(SONG_ROWS, out, strict=True)), int(redone)


def song(kernel, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """``SongKernel(..., backend="jax")(rng, n)``: {quantity: (n,) numpy array of kernel.dtype}."""
    return song_core(kernel, rng, n)[0]


@partial(jax.jit, static_argnames=("n", "k", "dtype"))
def _song_draws(key, *, n, k, dtype):
    kt, kr = jax.random.split(key)
    return (*_ordered(kt, n, k, dtype), *_ordered(kr, n, k, dtype))


def song_draws(kernel, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The layouts ``song(kernel, rng, n)`` would use, for tests: arrival times ``g_t``, ``g_r``
    and bearings ``phi_t``, ``phi_r`` [rad], each (n, K) of kernel.dtype (in a window, the
    points with g > density * area are outside)."""
    dt = np.dtype(kernel.dtype)
    k = kernel.k_nearest if kernel.window_radius is None else kernel.window_kmax
    with _precision(dt):
        arrs = _song_draws(_key(rng), n=n, k=k, dtype=dt)
        return dict(zip(("g_t", "phi_t", "g_r", "phi_r"), map(np.asarray, arrs), strict=True))


@partial(jax.jit, static_argnames=("n", "k", "thinned", "dtype"))
def _meng_core(key, kappa, mhalf, rtol, inv_const, thresholds, *, n, k, thinned, dtype):
    cst = partial(jnp.asarray, dtype=dtype)
    kl, kk = jax.random.split(key)
    g, phi = _ordered(kl, n, k, dtype)
    c, s = jnp.cos(phi), jnp.sin(phi)
    w = g ** cst(mhalf)
    if thinned:
        w = jnp.where(jax.random.uniform(kk, (n, k), dtype) < kappa, w, 0)
    W, axx, axy, ayy, ax, ay = _rowsums(w, c, s)
    Q = (w * w).sum(1)
    # separable_fim(w, c, s, w, c, s) = 2 (W A + a a^T)
    sxx = 2 * (W * axx + ax * ax)
    syy = 2 * (W * ayy + ay * ay)
    sxy = 2 * (W * axy + ax * ay)
    tr_inv, singular = _trace_inverse(sxx, sxy, syy, cst(rtol))
    ic = cst(inv_const)
    tr = tr_inv * ic
    rows = [
        jnp.log(tr),
        singular.astype(dtype),
        (w != 0).sum(1).astype(dtype),
        tr,
        2 * ic / (W * W),
        2 * ic / (W * W + Q),
    ]
    cdf = (tr[None, :] <= thresholds[:, None]).astype(dtype)
    return jnp.concatenate([jnp.stack(rows), cdf])


@partial(jax.jit, static_argnames=("n", "k", "dtype"))
def _meng_draws(key, kappa, *, n, k, dtype):
    kl, kk = jax.random.split(key)
    g, phi = _ordered(kl, n, k, dtype)
    return g, phi, jax.random.uniform(kk, (n, k), dtype) < kappa


def meng_draws(kernel, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The layouts ``meng_crlb(kernel, rng, n)`` would use: ``g``, ``phi`` [rad] and ``keep``
    (n, N) (``keep`` is all True without thinning)."""
    dt = np.dtype(kernel.dtype)
    with _precision(dt):
        g, phi, keep = map(np.asarray, _meng_draws(_key(rng), kernel.kappa, n=n, k=kernel.n_bs, dtype=dt))
    return {"g": g, "phi": phi, "keep": keep if kernel.kappa < 1.0 else np.ones_like(keep)}


MENG_ROWS = ("log_crlb", "singular", "cluster_size", "crlb", "isotropic", "jensen")


def meng_crlb(kernel, rng: np.random.Generator, n: int, raw: bool = False):
    """``MengCrlbKernel(..., backend="jax")(rng, n)``: {quantity: (n,) array of kernel.dtype};
    with ``raw``, the (n,) array of tr(F^-1) [m^2] alone."""
    dt = np.dtype(kernel.dtype)
    c = kernel.core_constants()  # the constants are the kernel module's (simulation/kernels/meng_crlb.py)
    half, const = c["half"], c["const"]
    with _precision(dt):
        thr = jnp.asarray(np.asarray(kernel.thresholds, dtype=dt).reshape(-1))
        out = _meng_core(
            _key(rng),
            kernel.kappa,
            -half,
            SINGULAR_RTOL[dt],
            1.0 / const,
            thr,
            n=n,
            k=kernel.n_bs,
            thinned=kernel.kappa < 1.0,
            dtype=dt,
        )
        out = np.asarray(out)
    rows = dict(zip(MENG_ROWS + tuple(f"cdf_{i}" for i in range(len(kernel.thresholds))), out, strict=True))
    if raw:
        return rows["crlb"]
    return {q: rows[q] for q in kernel.quantities}
