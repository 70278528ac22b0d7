"""Slow twin of :func:`isacnet.localization.ml_estimate`: the Levenberg-Marquardt solver of
isacnet 0.2.0 verbatim (every row iterated on the whole batch until the last one stops, (B, 2, 2)
einsums). The batched solver must give the same estimates, flags and costs (to rounding, and to
the solver tolerance where rounding flips an accept/reject decision)."""

from __future__ import annotations

import numpy as np

from isacnet.localization.model import _axis_vectors
from isacnet.localization.solvers import MLResult, _batched
from isacnet.params import ParameterError, check_int, check_real

ANCHOR_RTOL = 1e-9
"""Distances to an anchor below this fraction of the layout's extent are floored there (the cost
has a cusp on every TX and RX, where its curvature is unbounded): this keeps the Jacobians and
Hessians finite; an estimate that ends there is flagged ``at_anchor``."""


def _ml_terms(x, tx, rx, zr, wr, zu, wu, axis):
    """At x (all batched): cost, g = J^T W res, the Gauss-Newton matrix F = J^T W J and the exact
    Hessian H = F - sum w res grad^2(h) of cost/2 (d^2 ||d - x|| = (I - e e^T)/rho)."""
    dt = tx - x[:, None, :]
    dr = rx - x[:, None, :]
    floor = ANCHOR_RTOL * _extent(tx, rx)[:, None]
    rt = np.maximum(np.linalg.norm(dt, axis=-1), floor)
    rr = np.maximum(np.linalg.norm(dr, axis=-1), floor)
    e = dt / rt[..., None]
    f = dr / rr[..., None]
    res = zr - (rt[:, :, None] + rr[:, None, :])
    jac = -(e[:, :, None, :] + f[:, None, :, :])  # d h / d x
    wres = wr * res
    cost = np.einsum("bkl,bkl->b", wres, res)
    g = np.einsum("bkl,bkli->bi", wres, jac)
    F = np.einsum("bkl,bkli,bklj->bij", wr, jac, jac)
    eye = np.eye(2)
    ct = wres.sum(axis=2) / rt  # (B, N_t)
    cr = wres.sum(axis=1) / rr  # (B, N_r)
    S = (
        np.einsum("bk,ij->bij", ct, eye)
        - np.einsum("bk,bki,bkj->bij", ct, e, e)
        + np.einsum("bl,ij->bij", cr, eye)
        - np.einsum("bl,bli,blj->bij", cr, f, f)
    )
    if zu is not None:
        qv = -f
        u = np.einsum("bli,bli->bl", axis, qv)
        pa = axis - u[..., None] * qv  # (I - q q^T) a
        grad = pa / rr[..., None]
        ru = zu - u
        wru = wu * ru
        cost = cost + np.einsum("bl,bl->b", wru, ru)
        g = g + np.einsum("bl,bli->bi", wru, grad)
        F = F + np.einsum("bl,bli,blj->bij", wu, grad, grad)
        # d^2 u = -[q (P a)^T + (P a) q^T + u P] / rho^2,  P = I - q q^T
        c = wru / rr**2
        S = S - (
            np.einsum("bl,bli,blj->bij", c, qv, pa)
            + np.einsum("bl,bli,blj->bij", c, pa, qv)
            + np.einsum("bl,ij->bij", c * u, eye)
            - np.einsum("bl,bli,blj->bij", c * u, qv, qv)
        )
    return cost, g, F, F - S


def _extent(tx: np.ndarray, rx: np.ndarray) -> np.ndarray:
    """Largest coordinate range of each layout's anchors [m], (B,)."""
    lo = np.minimum(tx.min(axis=-2), rx.min(axis=-2))
    hi = np.maximum(tx.max(axis=-2), rx.max(axis=-2))
    return (hi - lo).max(axis=-1)


def _solve2(F: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """F^-1 g for (B, 2, 2) F, closed form; (step, ok) with ok False where det <= 0."""
    a, b, d = F[:, 0, 0], F[:, 0, 1], F[:, 1, 1]
    with np.errstate(over="ignore", invalid="ignore"):
        det = a * d - b * b
        ok = np.isfinite(det) & (det > 1e-14 * (a + d) ** 2) & np.all(np.isfinite(g), axis=-1)
    safe = np.where(ok, det, 1.0)
    with np.errstate(over="ignore", invalid="ignore"):
        step = np.stack([(d * g[:, 0] - b * g[:, 1]) / safe, (a * g[:, 1] - b * g[:, 0]) / safe], axis=-1)
    ok &= np.all(np.isfinite(step), axis=-1)
    return np.where(ok[:, None], step, 0.0), ok


def ml_estimate_reference(
    tx,
    rx,
    range_sum,
    range_std,
    x0,
    *,
    dircos=None,
    dircos_std=None,
    rx_array_axis=0.0,
    max_iter: int = 100,
    tol: float = 1e-10,
    hessian: str = "exact",
) -> MLResult:
    """Maximum-likelihood position by Levenberg-Marquardt, batched over B layouts/draws.

    Minimises sum_kl (r_kl - h_kl(x))^2 / sigma_kl^2 [+ sum_l (u_l - u_l(x))^2 / s_l^2] from
    ``x0`` (e.g. :func:`ls_bistatic`). Each iteration solves (H + mu diag H) delta = g, accepts
    the step if the cost decreases (then mu /= 10) and otherwise raises mu (x 10). H is the
    Gauss-Newton matrix F = J^T W J (``hessian="gauss-newton"``) or, by default, the exact
    Hessian F - sum w res grad^2 h where it is positive definite (F elsewhere): plain Gauss-Newton
    converges only linearly when the residuals are large (low SNR), the exact Hessian
    quadratically. A row has converged when the decrement g^T F^-1 g (the cost reduction of a
    Gauss-Newton step, chi-square units) is below ``tol``; one last undamped step is then taken
    (kept if the cost does not increase), which puts the estimate at the minimum to within
    ~tol (Newton) rather than ~sqrt(tol) standard deviations. The cost has a cusp on every TX
    and RX, where it can have a (non-smooth) minimum: when a step heads for an anchor, the anchor
    itself is tried, and a row that sits on an anchor with no descent step stops there; such rows
    are flagged ``at_anchor`` and not ``converged``. (With AoA the direction cosine is also
    discontinuous on each RX; at SNRs where its standard deviation exceeds 1 the cost can have
    an infimum next to an RX that no point attains: those rows end unconverged.) Rows that do
    not converge within ``max_iter`` (or whose mu exceeds 1e16) are flagged, never hidden. Rows
    with a non-finite ``x0`` are not iterated (estimate NaN, not converged).

    Parameters
    ----------
    tx (B, N_t, 2), rx (B, N_r, 2); range_sum, range_std (B, N_t, N_r) [m]; x0 (B, 2) [m];
    dircos, dircos_std (B, N_r) or None; rx_array_axis broadcastable to (B, N_r) [rad].
    """
    max_iter = check_int("max_iter", max_iter, ge=1)
    tol = check_real("tol", tol, gt=0.0)
    if hessian not in ("exact", "gauss-newton"):
        raise ParameterError("hessian", hessian, "'exact' or 'gauss-newton'")
    tx, rx, zr = _batched(tx, rx, range_sum)
    wr = np.broadcast_to(np.asarray(range_std, dtype=float), zr.shape) ** -2.0
    B, nr = zr.shape[0], zr.shape[2]
    zu = wu = axis = None
    if dircos is not None:
        if dircos_std is None:
            raise ParameterError("dircos_std", None, "the direction cosines' standard deviations (B, N_r)")
        zu = np.broadcast_to(np.asarray(dircos, dtype=float), (B, nr))
        with np.errstate(divide="ignore"):
            wu = np.broadcast_to(np.asarray(dircos_std, dtype=float), (B, nr)) ** -2.0  # inf std -> 0
        axis = _axis_vectors(rx_array_axis, zu.shape)
        zu = np.where(wu > 0, zu, 0.0)
    x = np.array(x0, dtype=float, copy=True)
    if x.shape != (B, 2):
        raise ParameterError("x0", f"array of shape {x.shape}", f"starting positions of shape ({B}, 2) [m]")
    alive = np.all(np.isfinite(x), axis=-1)
    x[~alive] = 0.0

    def terms(xx, rows=slice(None)):
        sub = (None if a is None else a[rows] for a in (tx, rx, zr, wr, zu, wu, axis))
        cost, g, F, H = _ml_terms(xx, *sub)
        if hessian == "exact":
            with np.errstate(over="ignore", invalid="ignore"):
                det = H[:, 0, 0] * H[:, 1, 1] - H[:, 0, 1] ** 2
                pd = (H[:, 0, 0] > 0) & (det > 1e-12 * (H[:, 0, 0] + H[:, 1, 1]) ** 2) & np.isfinite(det)
            H = np.where(pd[:, None, None], H, F)
        else:
            H = F
        return cost, g, F, H

    anchors = np.concatenate([tx, rx], axis=1)
    near_tol = 2.0 * ANCHOR_RTOL * _extent(tx, rx)
    cost, g, F, H = terms(x)
    mu = np.full(B, 1e-3)
    converged = np.zeros(B, dtype=bool)
    stalled = ~alive
    n_iter = np.zeros(B, dtype=np.int64)
    for _ in range(max_iter + 1):
        gn, ok = _solve2(F, g)
        dec = np.where(ok, np.einsum("bi,bi->b", g, gn), np.inf)
        newly = ~stalled & ~converged & (dec < tol)  # converged: take one last undamped step
        act = ~converged & ~newly & ~stalled & (n_iter < max_iter)
        if not (act.any() or newly.any()):
            break
        tr = H[:, 0, 0] + H[:, 1, 1]
        damp = np.zeros_like(H)
        damp[:, 0, 0] = np.abs(H[:, 0, 0]) + 1e-12 * np.abs(tr)
        damp[:, 1, 1] = np.abs(H[:, 1, 1]) + 1e-12 * np.abs(tr)
        step, sok = _solve2(H + np.where(newly, 0.0, mu)[:, None, None] * damp, g)
        xt = x + step
        ct, gt, Ft, Ht = terms(xt)
        better = np.where(newly, ct <= cost, ct < cost)
        accept = (act | newly) & sok & np.isfinite(ct) & better
        x = np.where(accept[:, None], xt, x)
        cost = np.where(accept, ct, cost)
        g = np.where(accept[:, None], gt, g)
        F = np.where(accept[:, None, None], Ft, F)
        H = np.where(accept[:, None, None], Ht, H)
        mu = np.where(accept & act, np.maximum(mu / 10.0, 1e-12), np.where(act, mu * 10.0, mu))
        # Cusps: the cost is not differentiable on the anchors and can have its minimum there,
        # which LM approaches only slowly. When the step heads for an anchor, try the anchor.
        dist = np.linalg.norm(anchors - x[:, None, :], axis=-1)
        j = np.argmin(dist, axis=-1)
        dmin = dist[np.arange(B), j]
        cand = np.flatnonzero(act & (dmin > near_tol) & (dmin < 3.0 * np.linalg.norm(step, axis=-1)))
        if cand.size:
            xa = anchors[cand, j[cand]]
            ca, ga, Fa, Ha = terms(xa, cand)
            take = np.isfinite(ca) & (ca < cost[cand])
            rows = cand[take]
            x[rows], cost[rows], g[rows], F[rows], H[rows] = xa[take], ca[take], ga[take], Fa[take], Ha[take]
            dmin[rows] = 0.0
        stalled |= act & (mu > 1e16) | act & ~accept & (dmin <= near_tol)  # no descent from a cusp
        converged |= newly
        n_iter += act
    x = np.where(alive[:, None], x, np.nan)
    at = _at_anchor(x, tx, rx)
    return MLResult(x, converged & alive & ~at, n_iter, np.where(alive, cost, np.nan), at)


def _at_anchor(x: np.ndarray, tx: np.ndarray, rx: np.ndarray) -> np.ndarray:
    tx = np.broadcast_to(tx, x.shape[:1] + tx.shape[1:])
    rx = np.broadcast_to(rx, x.shape[:1] + rx.shape[1:])
    anchors = np.concatenate([tx, rx], axis=1)
    with np.errstate(invalid="ignore"):
        dmin = np.linalg.norm(anchors - x[:, None, :], axis=-1).min(axis=-1)
        return dmin <= 2.0 * ANCHOR_RTOL * _extent(tx, rx)
