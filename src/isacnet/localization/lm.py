"""The maximum-likelihood position estimate by Levenberg-Marquardt, batched over layouts (issue 18).

The same algorithm as isacnet 0.2.0 (see :func:`ml_estimate`), organised for speed:

* the cost, gradient, Gauss-Newton matrix and exact Hessian are written out in components (the 2 x 2
  matrices as three (b,) arrays, no (b, N_t, N_r, 2) Jacobian and no einsum), with the
  x-independent sums of the weights computed once per batch;
* every iteration works on the rows still iterating only: a row leaves the working set as soon as it
  has converged, stalled or used its iterations, so a batch costs the *sum* of its rows' iterations
  rather than the batch size times the slowest row's iterations (at low SNR a few rows need ten
  times the mean).

Each row goes through exactly the steps of the 0.2.0 loop (kept as the slow twin
``tests/unit/_ml_reference.py``); estimates agree with it to rounding, except where rounding flips
an accept/reject decision at the solver tolerance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ANCHOR_RTOL = 1e-9
"""Distances to an anchor below this fraction of the layout's extent are floored there (the cost
has a cusp on every TX and RX, where its curvature is unbounded): this keeps the Jacobians and
Hessians finite; an estimate that ends there is flagged ``at_anchor``."""

# columns of the per-row state: cost, g = J^T W res (2), F = J^T W J and H (xx, xy, yy each)
_COST, _G, _F, _H = 0, slice(1, 3), slice(3, 6), slice(6, 9)


@dataclass(frozen=True)
class MLResult:
    """ML estimates and how the iteration ended.

    estimate (B, 2) [m]; converged (B,) bool: the Gauss-Newton decrement g^T F^-1 g fell below
    ``tol`` at a point off the anchors (a smooth stationary point); n_iter (B,) int: LM
    iterations used; cost (B,): the weighted residual sum of squares (chi-square units) at the
    estimate; at_anchor (B,) bool: the estimate sits on a TX or RX (within 2 ANCHOR_RTOL of the
    layout's extent), a cusp of the cost where it can have a minimum without a zero gradient
    (such rows are not "converged" in the smooth sense).
    """

    estimate: np.ndarray
    converged: np.ndarray
    n_iter: np.ndarray
    cost: np.ndarray
    at_anchor: np.ndarray


def _extent(tx: np.ndarray, rx: np.ndarray) -> np.ndarray:
    """Largest coordinate range of each layout's anchors [m], (B,)."""
    lo = np.minimum(tx.min(axis=-2), rx.min(axis=-2))
    hi = np.maximum(tx.max(axis=-2), rx.max(axis=-2))
    return (hi - lo).max(axis=-1)


@dataclass(frozen=True)
class _Problem:
    """The data of b rows: anchors split in coordinates (b, N), measurements and weights, the
    weight sums over RXs (b, N_t) and TXs (b, N_r), the distance floor (b,); AoA parts or None."""

    tx0: np.ndarray
    tx1: np.ndarray
    rx0: np.ndarray
    rx1: np.ndarray
    zr: np.ndarray
    wr: np.ndarray
    wt: np.ndarray
    wl: np.ndarray
    floor: np.ndarray
    zu: np.ndarray | None = None
    wu: np.ndarray | None = None
    ax0: np.ndarray | None = None
    ax1: np.ndarray | None = None

    @classmethod
    def build(cls, tx, rx, zr, wr, zu=None, wu=None, axis=None) -> _Problem:
        aoa = {} if zu is None else {"zu": zu, "wu": wu, "ax0": axis[..., 0], "ax1": axis[..., 1]}
        floor = ANCHOR_RTOL * _extent(tx, rx)
        return cls(tx[..., 0], tx[..., 1], rx[..., 0], rx[..., 1], zr, wr, _sum(wr, 2), _sum(wr, 1), floor, **aoa)

    def take(self, rows) -> _Problem:
        """The rows ``rows`` (an index array or a boolean mask)."""
        return _Problem(**{k: None if v is None else v[rows] for k, v in self.__dict__.items()})  # type: ignore[arg-type]


def _sum(a: np.ndarray, axis: int) -> np.ndarray:
    """``a.sum(axis)`` bit for bit, as whole-slice adds (issue 18): numpy reduces a short axis of a
    (b, 4) array about 10 times slower than 3 adds of (b,) slices.

    numpy adds fewer than 8 terms in order, starting from +0: ((0 + a_0) + a_1) + ..., which is
    ((a_0 + a_1) + a_2) + ... except that it is never -0 (the final + 0.0 restores that)."""
    n = a.shape[axis]
    if not 2 <= n < 8:
        return a.sum(axis)
    v = np.moveaxis(a, axis, 0)
    out = v[0] + v[1]
    for i in range(2, n):
        out += v[i]
    out += 0.0
    return out


def _terms(x: np.ndarray, p: _Problem) -> tuple[np.ndarray, list, list, list]:
    """At x (b, 2): cost, g = J^T W res, F = J^T W J and S = sum w res grad^2(h) (the exact
    Hessian of cost/2 is F - S); g as (gx, gy), F and S as (xx, xy, yy), each (b,).

    With e_k = (d_k - x)/rho_k, f_l = (d_l - x)/rho_l and s_k = sum_l w res, s_l = sum_k w res:
    g = -sum_k s_k e_k - sum_l s_l f_l, F = sum_k W_k e e^T + sum_l W_l f f^T + sum_kl w (e f^T +
    f e^T), S = sum_k (s_k / rho_k)(I - e e^T) + sum_l (s_l / rho_l)(I - f f^T).
    """
    x0, x1 = x[:, 0:1], x[:, 1:2]
    dtx, dty, drx, dry = p.tx0 - x0, p.tx1 - x1, p.rx0 - x0, p.rx1 - x1
    rt = np.maximum(np.sqrt(dtx * dtx + dty * dty), p.floor[:, None])
    rr = np.maximum(np.sqrt(drx * drx + dry * dry), p.floor[:, None])
    ex, ey, fx, fy = dtx / rt, dty / rt, drx / rr, dry / rr
    res = p.zr - rt[:, :, None] - rr[:, None, :]
    wres = p.wr * res
    cost = (wres * res).sum(axis=(1, 2))
    st, sl = _sum(wres, 2), _sum(wres, 1)
    g = [-(_sum(st * ex, 1) + _sum(sl * fx, 1)), -(_sum(st * ey, 1) + _sum(sl * fy, 1))]
    wfx = _sum(p.wr * fx[:, None, :], 2)  # sum_l w_kl f_l, (b, N_t)
    wfy = _sum(p.wr * fy[:, None, :], 2)
    F = [
        _sum(p.wt * ex * ex, 1) + _sum(p.wl * fx * fx, 1) + 2.0 * _sum(ex * wfx, 1),
        _sum(p.wt * ex * ey, 1) + _sum(p.wl * fx * fy, 1) + _sum(ex * wfy + ey * wfx, 1),
        _sum(p.wt * ey * ey, 1) + _sum(p.wl * fy * fy, 1) + 2.0 * _sum(ey * wfy, 1),
    ]
    ct, cr = st / rt, sl / rr
    S = [
        _sum(ct * (1.0 - ex * ex), 1) + _sum(cr * (1.0 - fx * fx), 1),
        -_sum(ct * ex * ey, 1) - _sum(cr * fx * fy, 1),
        _sum(ct * (1.0 - ey * ey), 1) + _sum(cr * (1.0 - fy * fy), 1),
    ]
    if p.zu is not None:
        cost = cost + _aoa_terms(-fx, -fy, rr, p, g, F, S)
    return cost, g, F, S


def _aoa_terms(qx, qy, rr, p: _Problem, g: list, F: list, S: list) -> np.ndarray:
    """Adds the direction-cosine terms to g, F and S in place; returns their cost (b,).

    u_l = a_l . q_l, grad u = (a - u q)/rho, grad^2 u = -[q (P a)^T + (P a) q^T + u P]/rho^2 with
    P = I - q q^T (q the unit vector from RX l toward x)."""
    assert p.zu is not None and p.wu is not None and p.ax0 is not None and p.ax1 is not None
    u = p.ax0 * qx + p.ax1 * qy
    pax, pay = p.ax0 - u * qx, p.ax1 - u * qy
    grx, gry = pax / rr, pay / rr
    ru = p.zu - u
    wru = p.wu * ru
    g[0] = g[0] + _sum(wru * grx, 1)
    g[1] = g[1] + _sum(wru * gry, 1)
    F[0] = F[0] + _sum(p.wu * grx * grx, 1)
    F[1] = F[1] + _sum(p.wu * grx * gry, 1)
    F[2] = F[2] + _sum(p.wu * gry * gry, 1)
    c = wru / (rr * rr)
    cu = c * u
    S[0] = S[0] - _sum(2.0 * c * qx * pax + cu * (1.0 - qx * qx), 1)
    S[1] = S[1] - _sum(c * (qx * pay + pax * qy) - cu * qx * qy, 1)
    S[2] = S[2] - _sum(2.0 * c * qy * pay + cu * (1.0 - qy * qy), 1)
    return _sum(wru * ru, 1)


def _state(x: np.ndarray, p: _Problem, exact: bool) -> np.ndarray:
    """(b, 9): cost, g (2), F (3) and the matrix H (3) the step uses: the exact Hessian F - S where
    it is positive definite and ``exact``, F elsewhere."""
    cost, g, F, S = _terms(x, p)
    H: list = F
    if exact:
        hxx, hxy, hyy = F[0] - S[0], F[1] - S[1], F[2] - S[2]
        with np.errstate(over="ignore", invalid="ignore"):
            det = hxx * hyy - hxy * hxy
            pd = (hxx > 0) & (det > 1e-12 * (hxx + hyy) ** 2) & np.isfinite(det)
        H = [np.where(pd, hxx, F[0]), np.where(pd, hxy, F[1]), np.where(pd, hyy, F[2])]
    return np.stack([cost, *g, *F, *H], axis=1)


def _solve2(a, b, d, g0, g1) -> tuple[np.ndarray, np.ndarray]:
    """[[a, b], [b, d]]^-1 (g0, g1) in closed form, (b,) arrays; (step (b, 2), ok) with ok False
    (and step 0) where the determinant is not safely positive or anything is non-finite."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        det = a * d - b * b
        ok = np.isfinite(det) & (det > 1e-14 * (a + d) ** 2) & np.isfinite(g0) & np.isfinite(g1)
        safe = np.where(ok, det, 1.0)
        step = np.stack([(d * g0 - b * g1) / safe, (a * g1 - b * g0) / safe], axis=-1)
    ok &= np.all(np.isfinite(step), axis=-1)
    return np.where(ok[:, None], step, 0.0), ok


def _at_anchor(x: np.ndarray, tx: np.ndarray, rx: np.ndarray) -> np.ndarray:
    tx = np.broadcast_to(tx, x.shape[:1] + tx.shape[1:])
    rx = np.broadcast_to(rx, x.shape[:1] + rx.shape[1:])
    anchors = np.concatenate([tx, rx], axis=1)
    with np.errstate(invalid="ignore"):
        dmin = np.linalg.norm(anchors - x[:, None, :], axis=-1).min(axis=-1)
        return dmin <= 2.0 * ANCHOR_RTOL * _extent(tx, rx)


def _nearest_anchor(x: np.ndarray, p: _Problem) -> tuple[np.ndarray, np.ndarray]:
    """The nearest TX or RX to each row's x: its position (b, 2) and distance (b,)."""
    a0 = np.concatenate([p.tx0, p.rx0], axis=1)
    a1 = np.concatenate([p.tx1, p.rx1], axis=1)
    d0, d1 = a0 - x[:, 0:1], a1 - x[:, 1:2]
    dist = np.sqrt(d0 * d0 + d1 * d1)
    j = np.argmin(dist, axis=1)
    r = np.arange(x.shape[0])
    return np.stack([a0[r, j], a1[r, j]], axis=1), dist[r, j]


def _iteration(x, st, mu, newly, p: _Problem, exact: bool) -> tuple[np.ndarray, ...]:
    """One LM iteration of the rows of ``p`` (all iterating): ``newly`` rows (converged) take one
    undamped step, kept if the cost does not increase; the others a damped one, mu / 10 on
    success and x 10 on failure. A step that heads for an anchor also tries the anchor (a cusp of
    the cost). Returns x, state, mu, and the rows that stalled (no descent: mu > 1e16, or a
    rejected step from an anchor)."""
    act = ~newly
    h = st[:, _H]
    tr = np.abs(h[:, 0] + h[:, 2])
    m = np.where(newly, 0.0, mu)
    a = h[:, 0] + m * (np.abs(h[:, 0]) + 1e-12 * tr)
    d = h[:, 2] + m * (np.abs(h[:, 2]) + 1e-12 * tr)
    step, sok = _solve2(a, h[:, 1], d, st[:, 1], st[:, 2])
    xt = x + step
    stt = _state(xt, p, exact)
    ct, cost = stt[:, _COST], st[:, _COST]
    better = np.where(newly, ct <= cost, ct < cost)
    accept = sok & np.isfinite(ct) & better
    x = np.where(accept[:, None], xt, x)
    st = np.where(accept[:, None], stt, st)
    mu = np.where(accept & act, np.maximum(mu / 10.0, 1e-12), np.where(act, mu * 10.0, mu))
    xa, dmin = _nearest_anchor(x, p)
    near = 2.0 * p.floor
    cand = np.flatnonzero(act & (dmin > near) & (dmin < 3.0 * np.sqrt(_sum(step * step, 1))))
    if cand.size:
        sa = _state(xa[cand], p.take(cand), exact)
        take = np.isfinite(sa[:, _COST]) & (sa[:, _COST] < st[cand, _COST])
        rows = cand[take]
        x[rows], st[rows], dmin[rows] = xa[rows], sa[take], 0.0
    stalled = act & ((mu > 1e16) | ~accept & (dmin <= near))
    return x, st, mu, stalled


def _lm_batched(x0: np.ndarray, p: _Problem, max_iter: int, tol: float, exact: bool) -> tuple[np.ndarray, ...]:
    """The Levenberg-Marquardt loop of :func:`isacnet.localization.ml_estimate` over a working set.

    Minimises sum_kl w_kl (r_kl - ||d_k - x|| - ||d_l - x||)^2 [+ sum_l w_l (u_l - u_l(x))^2] per
    row; a row leaves the working set when its Gauss-Newton decrement g^T F^-1 g < ``tol`` (after
    one last undamped step), when it stalls, or after ``max_iter`` iterations.

    Parameters
    ----------
    x0 : (B, 2) ndarray
        Finite starting positions [m].
    p : _Problem
        The B rows' anchors [m], measurements [m] and weights [m^-2] (``_Problem.build``).
    max_iter : int
        Iterations per row.
    tol : float
        Decrement threshold [chi-square units].
    exact : bool
        Use the exact Hessian where it is positive definite (else Gauss-Newton).

    Returns
    -------
    x : (B, 2) ndarray [m]; cost : (B,) ndarray; converged : (B,) bool; n_iter : (B,) int
    """
    B = x0.shape[0]
    x_out, cost_out = x0.copy(), np.zeros(B)
    conv, n_iter = np.zeros(B, dtype=bool), np.zeros(B, dtype=np.int64)
    idx = np.arange(B)
    x, st, mu, n = x0.copy(), _state(x0, p, exact), np.full(B, 1e-3), np.zeros(B, dtype=np.int64)
    cost_out[:] = st[:, _COST]
    for _ in range(max_iter + 1):
        gn, ok = _solve2(st[:, 3], st[:, 4], st[:, 5], st[:, 1], st[:, 2])
        dec = np.where(ok, _sum(st[:, _G] * gn, 1), np.inf)
        newly = dec < tol
        go = newly | (n < max_iter)  # the others are done: nothing changes them any more
        if not go.all():
            idx, x, st, mu, n, newly, p = idx[go], x[go], st[go], mu[go], n[go], newly[go], p.take(go)
        if idx.size == 0:
            break
        x, st, mu, stalled = _iteration(x, st, mu, newly, p, exact)
        n = n + ~newly
        x_out[idx], cost_out[idx], n_iter[idx] = x, st[:, _COST], n
        conv[idx[newly]] = True
        keep = ~newly & ~stalled
        if not keep.all():
            idx, x, st, mu, n, p = idx[keep], x[keep], st[keep], mu[keep], n[keep], p.take(keep)
    return x_out, cost_out, conv, n_iter
