"""Per-layout Fisher information of bistatic-delay localisation, and its CRLB.

Song et al., Lemma 2 / Theorem 1: for TXs k and RXs l around a target at d_s,

    S = sum_k sum_l 8 pi^2 M_r |alpha_kl|^2 beta^2 v_kl v_kl^T                 (15)
      = (M_r eta / c^2) sum_k sum_l g_k L_k L_l (e_k + f_l)(e_k + f_l)^T

with L = distance^-gamma, g_k = |a^H(theta_k) w_k|^2 the TX beam gain toward the target,
e_k, f_l the unit vectors from the target toward TX k and RX l, and the delay gradient
v_kl = d tau_kl / d d_s = -(e_k + f_l) / c (derived from tau's definition, not from the angles
(3)-(4); see docs/errata.md S-1). The CRLB of the position is tr(S^{-1}) (18).

The pair sum is separable (``separable_fim``): with W = sum w_k, A = sum w_k e_k e_k^T,
a = sum w_k e_k and U, B, b the same over RXs,

    sum_k sum_l w_k u_l (e_k + f_l)(e_k + f_l)^T = U A + W B + a b^T + b a^T,

which costs O(N_t + N_r) instead of O(N_t N_r). The O(N_t N_r) pair loop is the test oracle.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from .beams import BeamSpec, steering_vector, tx_beam_gain  # noqa: F401 - steering_vector: re-exported
from .geometry import arrival_power, directions_from_uniforms
from .params import SPEED_OF_LIGHT, MengParams, ParameterError, SongParams, real_array

SINGULAR_RTOL = {np.dtype(np.float64): 1e-13, np.dtype(np.float32): 1e-5}
"""A 2x2 FIM is treated as singular when det(S) <= rtol * tr(S)^2 (condition number above
~4/rtol, about 100 units of rounding): the position cannot be resolved in some direction (the
matrix is rank-deficient to working precision) and the CRLB is reported as inf."""

SEPARABLE_MAX_AMPLIFICATION = 1e8
"""The separable form cancels when heavy TX-RX pairs are near forward scatter (e_k + f_l ~ 0):
its rounding error in tr(S^-1) is about eps * mag * tr(S) / det(S), with mag the sum of the
magnitudes of its terms. Layouts where ``mag * tr / det`` exceeds this are recomputed with the
exact pair sum (see :func:`fisher_sums`)."""


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.einsum("...k,...k->...", a, b)


DIRECTION_SUMS = ("W", "ax", "ay", "axx", "axy", "ayy")
"""Rows of :func:`direction_sums`: sum w, sum w e, sum w e e^T (upper triangle)."""


def direction_sums(
    w: np.ndarray, ex: np.ndarray, ey: np.ndarray, out: np.ndarray | None = None, work: np.ndarray | None = None
) -> np.ndarray:
    """The six single sums of one point set that the separable FIM is made of.

    Parameters
    ----------
    w, ex, ey : ndarray, shape (..., K)
        Weights and unit-vector components.
    out : ndarray, shape (6, ...), optional
    work : ndarray, shape (2, ..., K), optional
        Scratch space (w ex and w ey).

    Returns
    -------
    sums : ndarray, shape (6, ...)
        W = sum w_k, (ax, ay) = sum w_k e_k, (axx, axy, ayy) = sum w_k e_k e_k^T (rows in the order
        of :data:`DIRECTION_SUMS`).
    """
    w, ex, ey = np.broadcast_arrays(w, ex, ey)
    if out is None:
        out = np.empty((6,) + w.shape[:-1])
    o = out
    if w.ndim == 1:  # one point set: einsum needs array outputs
        w, ex, ey, o = w[None], ex[None], ey[None], out[:, None]
        work = None if work is None else work[:, None]
    wx, wy = np.empty((2,) + w.shape) if work is None else work
    np.multiply(w, ex, out=wx)
    np.multiply(w, ey, out=wy)
    np.einsum("...k->...", w, out=o[0])
    np.einsum("...k,...k->...", w, ex, out=o[1])
    np.einsum("...k,...k->...", w, ey, out=o[2])
    np.einsum("...k,...k->...", wx, ex, out=o[3])
    np.einsum("...k,...k->...", wx, ey, out=o[4])
    np.einsum("...k,...k->...", wy, ey, out=o[5])
    return out


def fim_from_direction_sums(
    a: np.ndarray,
    b: np.ndarray,
    w_tail: np.ndarray | float = 0.0,
    u_tail: np.ndarray | float = 0.0,
    with_magnitude: bool = False,
) -> tuple[np.ndarray, ...]:
    """sum_k sum_l w_k u_l (e_k + f_l)(e_k + f_l)^T from the :func:`direction_sums` of both sets.

    With W, A = sum w e e^T, a = sum w e (TXs) and U, B, b (RXs): U A + W B + a b^T + b a^T.
    ``w_tail``, ``u_tail``: total weight of further isotropic points (conditional mean): adds
    w_tail to W and w_tail/2 I to A (same for RX). ``with_magnitude`` also returns the sum of the
    magnitudes of the terms, 2 U W + 2 |a| |b| (rounding error of the entries ~ eps times it).

    Parameters
    ----------
    a, b : ndarray, shape (6, ...)
    w_tail, u_tail : ndarray, shape (...), or float

    Returns
    -------
    sxx, sxy, syy[, mag] : ndarray, shape (...)
    """
    W = a[0] + w_tail
    axx = a[3] + 0.5 * w_tail
    ayy = a[5] + 0.5 * w_tail
    axy, ax, ay = a[4], a[1], a[2]
    U = b[0] + u_tail
    bxx = b[3] + 0.5 * u_tail
    byy = b[5] + 0.5 * u_tail
    bxy, bx, by = b[4], b[1], b[2]
    sxx = U * axx + W * bxx + 2.0 * ax * bx
    syy = U * ayy + W * byy + 2.0 * ay * by
    sxy = U * axy + W * bxy + ax * by + ay * bx
    if with_magnitude:
        # tr(U A) = U W for unit vectors: the entries' rounding error is ~eps * this; used to
        # detect cancellation (fisher_sums).
        return sxx, sxy, syy, 2.0 * U * W + 2.0 * np.hypot(ax, ay) * np.hypot(bx, by)
    return sxx, sxy, syy


def separable_fim(
    w: np.ndarray,
    ex: np.ndarray,
    ey: np.ndarray,
    u: np.ndarray,
    fx: np.ndarray,
    fy: np.ndarray,
    w_tail: np.ndarray | float = 0.0,
    u_tail: np.ndarray | float = 0.0,
    with_magnitude: bool = False,
) -> tuple[np.ndarray, ...]:
    """Entries of sum_k sum_l w_k u_l (e_k + f_l)(e_k + f_l)^T in O(N_t + N_r).

    Parameters
    ----------
    w, ex, ey : ndarray, shape (..., N_t)
        TX weights and unit-vector components.
    u, fx, fy : ndarray, shape (..., N_r)
        RX weights and unit-vector components.
    w_tail, u_tail : ndarray, shape (...), or float
        Total weight of further TXs / RXs with isotropic, zero-mean directions, entered by their
        conditional mean: adds ``w_tail`` to W and ``w_tail/2 * I`` to A (same for RX).
    with_magnitude : bool
        Also return the sum of the magnitudes of the terms (:func:`fim_from_direction_sums`).

    Returns
    -------
    sxx, sxy, syy : ndarray, shape (...)
    """
    return fim_from_direction_sums(direction_sums(w, ex, ey), direction_sums(u, fx, fy), w_tail, u_tail, with_magnitude)


def pairwise_fim(w, ex, ey, u, fx, fy, w_tail=0.0, u_tail=0.0):
    """The same sums as :func:`separable_fim` by the plain O(N_t N_r) pair sum (no cancellation).

    The isotropic tails enter as their conditional means: W_t (B + U/2 I) + U_t (A + W/2 I)
    + W_t U_t I, which equals what the separable form gives.
    """
    vx = ex[..., :, None] + fx[..., None, :]
    vy = ey[..., :, None] + fy[..., None, :]
    wu = w[..., :, None] * u[..., None, :]
    sxx = (wu * vx * vx).sum(axis=(-2, -1))
    sxy = (wu * vx * vy).sum(axis=(-2, -1))
    syy = (wu * vy * vy).sum(axis=(-2, -1))
    if np.any(w_tail) or np.any(u_tail):
        W, U = w.sum(-1), u.sum(-1)
        sxx = sxx + w_tail * (_rowdot(u * fx, fx) + 0.5 * U) + u_tail * (_rowdot(w * ex, ex) + 0.5 * W)
        syy = syy + w_tail * (_rowdot(u * fy, fy) + 0.5 * U) + u_tail * (_rowdot(w * ey, ey) + 0.5 * W)
        sxy = sxy + w_tail * _rowdot(u * fx, fy) + u_tail * _rowdot(w * ex, ey)
        sxx = sxx + w_tail * u_tail
        syy = syy + w_tail * u_tail
    return sxx, sxy, syy


def needs_pair_sum(sxx: np.ndarray, sxy: np.ndarray, syy: np.ndarray, mag: np.ndarray) -> np.ndarray:
    """Layouts whose separable sums may have lost accuracy: not (tr > 0 and mag tr < 1e8 det).

    ``mag * tr / det`` bounds the amplification of the entries' rounding in tr(S^-1)
    (:data:`SEPARABLE_MAX_AMPLIFICATION`); such layouts are recomputed by :func:`pairwise_fim`.
    """
    tr = sxx + syy
    det = sxx * syy - sxy * sxy
    return ~((tr > 0) & (mag * tr < SEPARABLE_MAX_AMPLIFICATION * det))


def fisher_sums(w, ex, ey, u, fx, fy, w_tail=0.0, u_tail=0.0, method="auto"):
    """sum_k sum_l w_k u_l (e_k + f_l)(e_k + f_l)^T, accurately, batched over leading axes.

    ``method="separable"``: O(N_t + N_r) always. ``"pairs"``: the O(N_t N_r) pair sum always.
    ``"auto"`` (default): separable, then the layouts whose rounding could be amplified by more
    than :data:`SEPARABLE_MAX_AMPLIFICATION` (heavy pairs near forward scatter, or nearly
    singular S; :func:`needs_pair_sum`) are recomputed by the pair sum. Returns (sxx, sxy, syy)
    of the batch shape.
    """
    if method not in ("auto", "separable", "pairs"):
        raise ParameterError("method", method, "'auto', 'separable' or 'pairs'")
    batch = np.broadcast_shapes(w.shape[:-1], u.shape[:-1], np.shape(w_tail), np.shape(u_tail))
    nt, nr = w.shape[-1], u.shape[-1]
    w, ex, ey = (np.broadcast_to(a, batch + (nt,)).reshape(-1, nt) for a in (w, ex, ey))
    u, fx, fy = (np.broadcast_to(a, batch + (nr,)).reshape(-1, nr) for a in (u, fx, fy))
    wt = np.broadcast_to(w_tail, batch).reshape(-1)
    ut = np.broadcast_to(u_tail, batch).reshape(-1)
    if method == "pairs":
        out = pairwise_fim(w, ex, ey, u, fx, fy, wt, ut)
    else:
        sxx, sxy, syy, mag = separable_fim(w, ex, ey, u, fx, fy, wt, ut, with_magnitude=True)
        if method == "auto":
            redo = needs_pair_sum(sxx, sxy, syy, mag)
            if np.any(redo):
                px, pxy, py = pairwise_fim(w[redo], ex[redo], ey[redo], u[redo], fx[redo], fy[redo], wt[redo], ut[redo])
                sxx, sxy, syy = sxx.copy(), sxy.copy(), syy.copy()
                sxx[redo], sxy[redo], syy[redo] = px, pxy, py
        out = (sxx, sxy, syy)
    return tuple(np.reshape(a, batch) for a in out)


# --------------------------------------------------------------------------- ordered layouts
SUB_BATCH_POINTS = 1 << 14
"""Points per sub-batch of :func:`ordered_direction_sums`: 16384 doubles are 128 KiB an array,
so the dozen arrays a sub-batch uses stay in a 2 MiB L2 cache (a block of 4096 x 64 points is
2 MiB an array; passes over it run from L3/memory at 2-4x the cost)."""


def ordered_layout(
    e: np.ndarray, u: np.ndarray, p: float, keep: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ordered layouts from their random numbers, in arrival-time units.

    Parameters
    ----------
    e, u : ndarray, shape (n, K)
        Unit exponentials (the gaps between arrival times) and uniforms on [0, 1) (the bearings).
    p : float
        Path-gain exponent: w = g**p (-gamma/2 for a path loss r^-gamma).
    keep : ndarray of bool, shape (n, K), optional
        Points kept (thinning); the others get w = 0.

    Returns
    -------
    g, w, ex, ey : ndarray, shape (n, K)
        Arrival times g = cumsum(e) (:func:`isacnet.geometry.ordered_arrivals`), weights
        (:func:`isacnet.geometry.arrival_power`), and the unit vectors (cos, sin)(2 pi u)
        (:func:`isacnet.geometry.directions_from_uniforms`).
    """
    work = np.empty((7,) + np.shape(e))
    _ordered_layout_into(work, e, u, p, keep)
    return work[0], work[1], work[2], work[3]


def _ordered_layout_into(work: np.ndarray, e, u, p, keep) -> None:
    """work[0:4] = g, w, ex, ey of :func:`ordered_layout`; work[4:7] is scratch."""
    g, w, ex, ey = work[:4]
    np.cumsum(e, axis=-1, out=g)
    arrival_power(g, p, out=w)
    if keep is not None:
        w *= keep
    directions_from_uniforms(u, out=(ex, ey), work=(work[4], work[5], work[6]))


def ordered_direction_sums(
    e: np.ndarray,
    u: np.ndarray | np.random.Generator,
    p: float,
    keep: np.ndarray | None = None,
    squares: bool = False,
    sub_batch: int = SUB_BATCH_POINTS,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`direction_sums` of the :func:`ordered_layout` of (e, u), in cache-sized sub-batches.

    The layouts of a block are never built whole: sub-batches of about ``sub_batch`` points are
    turned into layouts and summed while they are in cache, in one preallocated workspace (no
    allocation per sub-batch: with glibc's adaptive mmap threshold off, e.g.
    ``MALLOC_TRIM_THRESHOLD_`` set, every 128 KiB temporary would be a fresh mmap). The layouts
    are exactly those of :func:`ordered_layout`; the sums differ from
    ``direction_sums(*ordered_layout(e, u, p, keep)[1:])`` at most by rounding.

    Parameters
    ----------
    e : ndarray, shape (n, K)
        Unit exponentials, as in :func:`ordered_layout`.
    u : ndarray, shape (n, K), or numpy.random.Generator
        The uniforms, or a Generator to draw them from, sub-batch by sub-batch in row order: the
        same numbers as ``u.random((n, K))`` would give, never stored whole.
    p, keep
        As in :func:`ordered_layout` (``keep`` only with an array ``u``).
    squares : bool
        Also return sum w_k^2 as a seventh row.
    sub_batch : int
        Points per sub-batch (at least one layout).

    Returns
    -------
    sums : ndarray, shape (6, n), or (7, n) with ``squares``
    g_last : ndarray, shape (n,)
        The K-th arrival time of each layout.
    """
    n, k = e.shape
    draw = isinstance(u, np.random.Generator)
    if draw and keep is not None:
        raise ParameterError("keep", "an array with a Generator u", "None when the uniforms are drawn here")
    sums = np.empty((7 if squares else 6, n))
    g_last = np.empty(n)
    step = max(1, min(n, sub_batch // k))
    space = np.empty((8 if draw else 7, step, k))
    for i in range(0, n, step):
        rows = slice(i, min(i + step, n))
        work = space[:, : rows.stop - i]
        if draw:
            ui = u.random(out=work[7])  # type: ignore[union-attr]
        else:
            ui = u[rows]  # type: ignore[index]
        _ordered_layout_into(work, e[rows], ui, p, None if keep is None else keep[rows])
        g, w, ex, ey = work[:4]
        direction_sums(w, ex, ey, out=sums[:6, rows], work=work[4:6])
        if squares:
            np.einsum("ij,ij->i", w, w, out=sums[6, rows])
        g_last[rows] = g[:, -1]
    return sums, g_last


def trace_inverse_2x2(
    sxx: np.ndarray, sxy: np.ndarray, syy: np.ndarray, rtol: float | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """tr(S^{-1}) of symmetric 2x2 matrices, with singular ones set to +inf.

    Returns
    -------
    tr_inv : ndarray
        (sxx + syy) / det, or inf where det <= rtol * tr^2.
    singular : ndarray of bool
        Where the matrix was judged singular (counted by callers, never hidden).
    """
    sxx, sxy, syy = np.broadcast_arrays(*(np.asarray(a) for a in (sxx, sxy, syy)))
    dt = np.result_type(sxx.dtype, np.float32)
    if rtol is None:
        rtol = SINGULAR_RTOL.get(np.dtype(dt), 1e-10)
    tr = sxx + syy
    det = sxx * syy - sxy * sxy
    singular = ~(det > rtol * tr * tr)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(singular, np.inf, tr / np.where(singular, 1.0, det))
    return out, singular


# --------------------------------------------------------------------------- Song FIM / CRLB
def _positions(name: str, value, min_ndim: int) -> np.ndarray:
    """Finite positions [m] of shape (..., 2) with at least ``min_ndim`` axes, else ParameterError."""
    valid = "finite positions [m], an array of shape " + ("(..., N, 2)" if min_ndim > 1 else "(..., 2)")
    a = real_array(name, value, valid)
    if a.ndim < min_ndim or a.shape[-1] != 2:
        raise ParameterError(name, f"array of shape {a.shape}", valid)
    if not np.all(np.isfinite(a)):
        raise ParameterError(name, "non-finite positions", valid)
    return a


def _unit_and_gain(points: np.ndarray, target: np.ndarray, gamma: float, who: str):
    d = np.asarray(points, dtype=float) - np.asarray(target, dtype=float)[..., None, :]
    dist = np.linalg.norm(d, axis=-1)
    if np.any(dist == 0.0):
        raise ParameterError(who, "a position equal to the target", "positions distinct from the target")
    return d[..., 0] / dist, d[..., 1] / dist, dist ** (-gamma)


def _paper_angle_vectors(points: np.ndarray, target: np.ndarray):
    """cos/sin of the paper's theta = arctan((x_k - x)/(y_k - y)), principal value (eqs. 3-4)."""
    d = np.asarray(points, dtype=float) - np.asarray(target, dtype=float)[..., None, :]
    with np.errstate(divide="ignore", over="ignore"):  # dx/dy = +-inf: arctan gives +-pi/2, the limit
        theta = np.arctan(d[..., 0] / d[..., 1])
    return np.cos(theta), np.sin(theta)


def song_fim(
    tx: np.ndarray,
    rx: np.ndarray,
    target: np.ndarray,
    params: SongParams,
    beamformer: BeamSpec = "matched",
    array_axis: np.ndarray | float = 0.0,
    gradient: Literal["exact", "paper"] = "exact",
    method: Literal["auto", "separable", "pairs"] = "auto",
) -> np.ndarray:
    """S_ds of Song eq. (15) for explicit layouts, in O(N_t + N_r).

    Parameters
    ----------
    tx : ndarray, shape (..., N_t, 2)
        TX positions [m].
    rx : ndarray, shape (..., N_r, 2)
        RX positions [m].
    target : ndarray, shape (..., 2) or (2,)
        Target position d_s [m].
    params : SongParams
    beamformer, array_axis
        See :func:`tx_beam_gain`.
    gradient : "exact" or "paper"
        "exact": v_kl = -(e_k + f_l)/c from the delay's definition. "paper": eq. (16) with the
        angles of eqs. (3)-(4) taken literally (principal-value arctan); wrong, kept only to
        reproduce the erratum (docs/errata.md S-1).
    method : "auto", "separable" or "pairs"
        How the pair sum is evaluated (:func:`fisher_sums`): "auto" is O(N_t + N_r) and falls
        back to the exact pair sum only for layouts where the separable form would lose accuracy.

    Returns
    -------
    S : ndarray, shape (..., 2, 2)
        Fisher information of (x, y) [m^-2].
    """
    tx, rx, target = _positions("tx", tx, 2), _positions("rx", rx, 2), _positions("target", target, 1)
    ex, ey, lt = _unit_and_gain(tx, target, params.gamma, "tx")
    fx, fy, lr = _unit_and_gain(rx, target, params.gamma, "rx")
    if gradient == "paper":
        ex, ey = _paper_angle_vectors(tx, target)
        fx, fy = _paper_angle_vectors(rx, target)
    elif gradient != "exact":
        raise ParameterError("gradient", gradient, "'exact' or 'paper'")
    g = tx_beam_gain(tx, target, params.n_tx_antennas, beamformer, array_axis)
    sxx, sxy, syy = fisher_sums(g * lt, ex, ey, lr, fx, fy, method=method)
    const = params.n_rx_antennas * params.eta / SPEED_OF_LIGHT**2
    return const * np.stack([np.stack([sxx, sxy], -1), np.stack([sxy, syy], -1)], -2)


def song_crlb(
    tx: np.ndarray,
    rx: np.ndarray,
    target: np.ndarray,
    params: SongParams,
    beamformer: BeamSpec = "matched",
    array_axis: np.ndarray | float = 0.0,
    gradient: Literal["exact", "paper"] = "exact",
    method: Literal["auto", "separable", "pairs"] = "auto",
) -> np.ndarray:
    """CRLB tr(S_ds^{-1}) of Song eq. (18) [m^2], shape (...); inf where S is singular.

    One TX and one RX give a rank-one S (the target is only known to lie on an ellipse):
    the result is inf, never NaN. Arguments as in :func:`song_fim`.
    """
    S = song_fim(tx, rx, target, params, beamformer, array_axis, gradient, method)
    tr, _ = trace_inverse_2x2(S[..., 0, 0], S[..., 0, 1], S[..., 1, 1])
    return tr


# --------------------------------------------------------------------------- Meng & Masouros (5)
def meng_fim(bs_xy: np.ndarray, target_xy: np.ndarray, params: MengParams) -> np.ndarray:
    """F_N of eq. (5) for explicit layouts [m^-2 at beta = 2], in O(N).

    Every BS transmits and receives, so the double sum over (i, j) runs over the same set,
    monostatic i = j included: ``separable_fim`` with that set as TX and RX.

    Parameters
    ----------
    bs_xy : ndarray, shape (..., N, 2)
        BS positions [m].
    target_xy : ndarray, shape (..., 2) or (2,)
        Target position [m].
    params : MengParams

    Returns
    -------
    F : ndarray, shape (..., 2, 2)
    """
    bs_xy = real_array("bs_xy", bs_xy, "BS positions [m], an array of shape (..., N, 2)")
    target_xy = real_array("target_xy", target_xy, "a target position [m], shape (..., 2)")
    if bs_xy.ndim < 2 or bs_xy.shape[-1] != 2:
        raise ParameterError("bs_xy", f"array of shape {bs_xy.shape}", "an array of shape (..., N, 2)")
    if target_xy.shape[-1:] != (2,):
        raise ParameterError("target_xy", f"array of shape {target_xy.shape}", "shape (..., 2)")
    if not (np.all(np.isfinite(bs_xy)) and np.all(np.isfinite(target_xy))):
        raise ParameterError("bs_xy", "non-finite positions", "finite positions [m]")
    d = bs_xy - target_xy[..., None, :]
    dist = np.hypot(d[..., 0], d[..., 1])
    if np.any(dist == 0.0):
        raise ParameterError("bs_xy", "a BS at the target", "BS positions distinct from the target")
    w = dist ** (-params.beta)
    ex, ey = d[..., 0] / dist, d[..., 1] / dist
    sxx, sxy, syy = separable_fim(w, ex, ey, w, ex, ey)
    f = params.zeta2 * np.stack([np.stack([sxx, sxy], -1), np.stack([sxy, syy], -1)], -2)
    return f


def meng_crlb(bs_xy: np.ndarray, target_xy: np.ndarray, params: MengParams) -> np.ndarray:
    """tr(F_N^-1) [m^2], shape (...); inf where F is singular (one BS, or all BSs collinear
    with the target). Arguments as in :func:`meng_fim`."""
    f = meng_fim(bs_xy, target_xy, params)
    tr, _ = trace_inverse_2x2(f[..., 0, 0], f[..., 0, 1], f[..., 1, 1])
    return tr
