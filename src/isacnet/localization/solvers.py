"""Estimators of issue 8: the closed-form LS start and the ML estimate by Levenberg-Marquardt
(see :mod:`isacnet.localization`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..params import ParameterError, check_int, check_real
from .lm import ANCHOR_RTOL, MLResult, _at_anchor, _lm_batched, _Problem, _terms  # noqa: F401 (old path)
from .model import Measurements, Scene, _axis_vectors, _points


# --------------------------------------------------------------------------- least squares start
@dataclass(frozen=True)
class LSResult:
    """estimate (B, 2) [m]; ok (B,) False where the linear system was rank-deficient (estimate NaN)."""

    estimate: np.ndarray
    ok: np.ndarray


LS_RANK_RTOL = 1e-10
"""A least-squares system is rank-deficient when min |R_ii| <= this * max |R_ii| (QR of the
weighted design matrix): the layout cannot be solved by the linearised equations."""


def _batched(tx, rx, range_sum) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """tx (B, N_t, 2), rx (B, N_r, 2) broadcast to the batch of range_sum (B, N_t, N_r)."""
    tx, rx = _points(tx, "tx"), _points(rx, "rx")
    r = np.asarray(range_sum, dtype=float)
    nt, nr = tx.shape[-2], rx.shape[-2]
    if r.ndim != 3 or r.shape[1:] != (nt, nr):
        raise ParameterError("range_sum", f"array of shape {r.shape}", f"an array of shape (B, {nt}, {nr})")
    try:
        tx = np.broadcast_to(tx, (r.shape[0], nt, 2))
        rx = np.broadcast_to(rx, (r.shape[0], nr, 2))
    except ValueError:
        raise ParameterError(
            "tx/rx",
            f"batch shapes {tx.shape[:-2]}, {rx.shape[:-2]}",
            f"broadcastable to the batch ({r.shape[0]},) of range_sum",
        ) from None
    return tx, rx, r


def _solve_ls(A: np.ndarray, b: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Batched weighted least squares min ||w (A z - b)|| by QR; (z, ok).

    One QR of the augmented matrix [w A | w b] (B, m, n + 1), R only: its last column holds Q^T w b
    (issue 18: no Q formed, no (B, m, n) product with it; the same factorisation as before)."""
    n = A.shape[-1]
    Ab = np.concatenate([A * w[..., None], np.where(np.isfinite(b * w), b * w, 0.0)[..., None]], axis=-1)
    Rb = np.linalg.qr(Ab, mode="r")
    R, rhs = Rb[:, :n, :n], Rb[:, :n, n]
    d = np.abs(np.diagonal(R, axis1=-2, axis2=-1))
    ok = np.all(np.isfinite(R), axis=(-2, -1)) & (d.min(axis=-1) > LS_RANK_RTOL * d.max(axis=-1))
    R = np.where(ok[:, None, None], R, np.eye(n))
    rhs = np.where(ok[:, None] & np.isfinite(rhs), rhs, 0.0)
    z = np.linalg.solve(R, rhs[..., None])[..., 0]
    return np.where(ok[:, None], z, np.nan), ok


def ls_bistatic(tx, rx, range_sum, range_std=None, *, aux: str = "auto", reweight: bool = True) -> LSResult:
    """Closed-form least-squares position from range sums (exact without noise).

    With R_k = ||d_k - x|| an auxiliary unknown per TX, ||d_l - x|| = r_kl - R_k squared minus
    R_k^2 = ||d_k - x||^2 is linear in (x, R_k):

        2 (d_l - d_k) . x - 2 r_kl R_k = ||d_l||^2 - ||d_k||^2 - r_kl^2

    (||x||^2 cancels). N_t N_r equations in 2 + N_t unknowns. With one unknown per RX instead
    (``aux="rx"``) the roles of TXs and RXs are swapped; ``"auto"`` takes the side with fewer
    nodes (fewer unknowns). The equations keep only range *differences* across the other side
    (the auxiliary unknown absorbs the sum), so the two choices use different information.

    A range error eps_kl changes the equation by
    2 eps_kl R_l + eps_kl^2, so the weights are 1 / (sigma_kl R_l): first with R_l replaced by
    |r_kl| (>= R_l), then (``reweight``) with R_l = ||d_l - x_1|| from the first solution.
    Without noise every step is exact. Coordinates are centred on the anchors' centroid.

    Parameters
    ----------
    tx : (B, N_t, 2), rx : (B, N_r, 2)      anchor positions [m]
    range_sum : (B, N_t, N_r)               measured range sums [m]
    range_std : (B, N_t, N_r), optional     their standard deviations (None: all equal to 1)
    aux : "auto", "tx" or "rx"              where the auxiliary unknowns sit

    Returns
    -------
    LSResult
    """
    tx, rx, r = _batched(tx, rx, range_sum)
    nt, nr = tx.shape[-2], rx.shape[-2]
    if aux not in ("auto", "tx", "rx"):
        raise ParameterError("aux", aux, "'auto', 'tx' or 'rx'")
    if aux == "auto":
        aux = "tx" if nt <= nr else "rx"
    n_aux = nt if aux == "tx" else nr
    if nt * nr < 2 + n_aux:
        raise ParameterError(
            "layout",
            f"N_t = {nt}, N_r = {nr}, aux = {aux!r}",
            "N_t N_r >= 2 + (number of auxiliary unknowns) pairs for the linear least squares",
        )
    if aux == "rx":  # one auxiliary unknown per RX: swap the roles
        tx, rx = rx, tx
        r = np.swapaxes(r, -1, -2)
        if range_std is not None:
            range_std = np.swapaxes(np.asarray(range_std, float), -1, -2)
        nt, nr = nr, nt
    B = r.shape[0]
    centre = np.concatenate([tx, rx], axis=-2).mean(axis=-2)  # (B, 2)
    t = tx - centre[:, None, :]
    q = rx - centre[:, None, :]
    # rows (k, l), k-major; unknowns (x, y, R_1 .. R_nt)
    A = np.zeros((B, nt, nr, 2 + nt))
    A[..., :2] = 2.0 * (q[:, None, :, :] - t[:, :, None, :])
    for k in range(nt):
        A[:, k, :, 2 + k] = -2.0 * r[:, k, :]
    b = (q**2).sum(-1)[:, None, :] - (t**2).sum(-1)[:, :, None] - r**2
    A = A.reshape(B, nt * nr, 2 + nt)
    b = b.reshape(B, nt * nr)
    sig = np.ones_like(r) if range_std is None else np.broadcast_to(np.asarray(range_std, float), r.shape)
    scale = np.abs(r).max(axis=(-2, -1), keepdims=True) * 1e-12 + np.finfo(float).tiny
    with np.errstate(divide="ignore"):
        w = 1.0 / (sig * np.maximum(np.abs(r), scale))
    z, ok = _solve_ls(A, b, w.reshape(B, -1))
    if reweight:
        x1 = np.where(ok[:, None], z[:, :2], 0.0)
        rl = np.linalg.norm(q - x1[:, None, :], axis=-1)  # (B, nr)
        rl = np.maximum(rl, scale[..., 0])
        w2 = 1.0 / (sig * rl[:, None, :])
        z2, ok2 = _solve_ls(A, b, w2.reshape(B, -1))
        z = np.where((ok & ok2)[:, None], z2, z)  # keep the first solution if the second fails
    return LSResult(z[:, :2] + centre, ok)


# --------------------------------------------------------------------------- maximum likelihood
def _ml_terms(x, tx, rx, zr, wr, zu, wu, axis):
    """At x (all batched): cost, g = J^T W res, the Gauss-Newton matrix F = J^T W J and the exact
    Hessian H = F - sum w res grad^2(h) of cost/2 (d^2 ||d - x|| = (I - e e^T)/rho); F and H
    (B, 2, 2). The component form of :mod:`isacnet.localization.lm` in matrix shape."""
    B = x.shape[0]
    tx, rx = np.broadcast_to(tx, (B,) + tx.shape[1:]), np.broadcast_to(rx, (B,) + rx.shape[1:])
    zr, wr = np.broadcast_to(zr, (B,) + zr.shape[1:]), np.broadcast_to(wr, (B,) + wr.shape[1:])
    cost, g, F, S = _terms(x, _Problem.build(tx, rx, zr, wr, zu, wu, axis))

    def mat(c):
        return np.stack([np.stack([c[0], c[1]], -1), np.stack([c[1], c[2]], -1)], -2)

    return cost, np.stack(g, axis=-1), mat(F), mat([F[i] - S[i] for i in range(3)])


def _ml_problem(tx, rx, range_sum, range_std, dircos, dircos_std, rx_array_axis) -> _Problem:
    """The validated, batched data of an ML problem."""
    tx, rx, zr = _batched(tx, rx, range_sum)
    wr = np.broadcast_to(np.asarray(range_std, dtype=float), zr.shape) ** -2.0
    B, nr = zr.shape[0], zr.shape[2]
    if dircos is None:
        return _Problem.build(tx, rx, zr, wr)
    if dircos_std is None:
        raise ParameterError("dircos_std", None, "the direction cosines' standard deviations (B, N_r)")
    zu = np.broadcast_to(np.asarray(dircos, dtype=float), (B, nr))
    with np.errstate(divide="ignore"):
        wu = np.broadcast_to(np.asarray(dircos_std, dtype=float), (B, nr)) ** -2.0  # inf std -> 0
    axis = _axis_vectors(rx_array_axis, zu.shape)
    return _Problem.build(tx, rx, zr, wr, np.where(wu > 0, zu, 0.0), wu, axis)


def ml_estimate(
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

    Each row leaves the batch as soon as it stops (issue 18: a batch costs the sum of its rows'
    iterations, not B times the slowest row's); :mod:`isacnet.localization.lm` has the details.

    Parameters
    ----------
    tx (B, N_t, 2), rx (B, N_r, 2); range_sum, range_std (B, N_t, N_r) [m]; x0 (B, 2) [m];
    dircos, dircos_std (B, N_r) or None; rx_array_axis broadcastable to (B, N_r) [rad].
    """
    max_iter = check_int("max_iter", max_iter, ge=1)
    tol = check_real("tol", tol, gt=0.0)
    if hessian not in ("exact", "gauss-newton"):
        raise ParameterError("hessian", hessian, "'exact' or 'gauss-newton'")
    p = _ml_problem(tx, rx, range_sum, range_std, dircos, dircos_std, rx_array_axis)
    B = p.zr.shape[0]
    x = np.array(x0, dtype=float, copy=True)
    if x.shape != (B, 2):
        raise ParameterError("x0", f"array of shape {x.shape}", f"starting positions of shape ({B}, 2) [m]")
    alive = np.all(np.isfinite(x), axis=-1)
    rows = np.flatnonzero(alive)
    est, cost = np.full((B, 2), np.nan), np.full(B, np.nan)
    conv, n_iter = np.zeros(B, dtype=bool), np.zeros(B, dtype=np.int64)
    est[rows], cost[rows], conv[rows], n_iter[rows] = _lm_batched(
        x[rows], p.take(rows), max_iter, tol, hessian == "exact"
    )
    at = _at_anchor(est, *_batched(tx, rx, range_sum)[:2])
    return MLResult(est, conv & ~at, n_iter, cost, at)


def ls_sides(starts: str, nt: int, nr: int) -> list[str]:
    """The ``aux`` sides of the LS starts :func:`locate` uses: ["auto"], or with ``starts="both"``
    each of "tx" and "rx" whose linear system is identifiable (N_t N_r >= 2 + its unknowns)."""
    if starts == "both":
        return [a for a, n in (("tx", nt), ("rx", nr)) if nt * nr >= 2 + n]
    return ["auto"]


def locate(
    scene: Scene, meas: Measurements, *, starts: str = "both", max_iter: int = 100, hessian: str = "exact"
) -> tuple[LSResult, MLResult]:
    """LS start(s) then ML, for every row of a scene: the receiver of issue 8.

    ``starts="both"`` (when both are identifiable) computes the LS solution with the auxiliary
    unknowns on the TX side and on the RX side, reports as the LS estimate the one with the
    smaller ML cost, runs Levenberg-Marquardt from each and keeps the result of smaller cost
    (fewer starts trapped in a wrong basin of the cost at low SNR). ``"auto"``: one LS start
    (:func:`ls_bistatic` with ``aux="auto"``).

    Returns (LSResult, MLResult), both of batch size B.
    """
    if starts not in ("both", "auto"):
        raise ParameterError("starts", starts, "'both' or 'auto'")
    sides = ls_sides(starts, scene.tx.shape[-2], scene.rx.shape[-2])
    lss = [ls_bistatic(scene.tx, scene.rx, meas.range_sum, scene.range_std, aux=side) for side in sides]
    mls = _ml_stacked(scene, meas, [ls.estimate for ls in lss], max_iter, hessian)
    best_ls, best_ml = lss[0], mls[0]
    ls_cost = _cost_at(best_ls.estimate, scene, meas)
    for ls, ml in zip(lss[1:], mls[1:], strict=True):
        c0 = _cost_at(ls.estimate, scene, meas)
        take_ls = np.isfinite(c0) & ~(c0 >= ls_cost)  # NaN-safe: a failed LS never wins
        best_ls = LSResult(np.where(take_ls[:, None], ls.estimate, best_ls.estimate), best_ls.ok | ls.ok)
        ls_cost = np.where(take_ls, c0, ls_cost)
        take = np.isfinite(ml.cost) & ~(ml.cost >= best_ml.cost)
        best_ml = MLResult(
            *(
                np.where(take[(slice(None),) + (None,) * (a.ndim - 1)], a, b)
                for a, b in zip(
                    (ml.estimate, ml.converged, ml.n_iter, ml.cost, ml.at_anchor),
                    (best_ml.estimate, best_ml.converged, best_ml.n_iter, best_ml.cost, best_ml.at_anchor),
                    strict=True,
                )
            )
        )
    return best_ls, best_ml


def _ml_stacked(scene: Scene, meas: Measurements, starts: list, max_iter: int, hessian: str) -> list[MLResult]:
    """ML from each start in ``starts`` (each (B, 2)), as one batch of len(starts) B rows."""
    n, B = len(starts), scene.size

    def rep(a):
        return None if a is None else np.concatenate([np.broadcast_to(a, (B,) + np.shape(a)[1:])] * n)

    nr = scene.rx.shape[-2]
    axis = 0.0 if meas.dircos is None else rep(np.broadcast_to(np.asarray(scene.rx_axis, float), (B, nr)))
    ml = ml_estimate(
        rep(scene.tx),
        rep(scene.rx),
        rep(meas.range_sum),
        rep(scene.range_std),
        np.concatenate(starts),
        dircos=rep(meas.dircos),
        dircos_std=rep(scene.dircos_std),
        rx_array_axis=axis,
        max_iter=max_iter,
        hessian=hessian,
    )
    return [MLResult(*(a[i * B : (i + 1) * B] for a in ml.__dict__.values())) for i in range(n)]


def _cost_at(x: np.ndarray, scene: Scene, meas: Measurements) -> np.ndarray:
    """The ML cost (weighted residual sum of squares) at x; NaN rows stay NaN."""
    ok = np.all(np.isfinite(x), axis=-1)
    p = _ml_problem(scene.tx, scene.rx, meas.range_sum, scene.range_std, meas.dircos, scene.dircos_std, scene.rx_axis)
    cost = _terms(np.where(ok[:, None], x, 0.0), p)[0]
    return np.where(ok, cost, np.nan)
