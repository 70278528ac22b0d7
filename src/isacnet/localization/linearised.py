"""First-order (small-noise) error maps of the estimators, for control variates (issue 18).

With the measurement noise n (the range-sum errors, then the direction-cosine errors: the order
of :func:`noise_vector`), an estimator whose error is smooth in n at n = 0 has the error
e = A n + O(|n|^2) for a fixed 2 x M matrix A. Its squared linearised error X = |A n|^2 has the
exact mean E[X] = tr(A Sigma A^T) (Sigma the known noise covariance, whatever the noise law), so
X - E[X] is a zero-mean control variate for the squared error |e|^2, strongly correlated with it
where the noise is small (:func:`isacnet.simulation.statistics.control_variate`).

* ML: A = F^-1 J^T W (one Gauss-Newton step from the truth), J the Jacobian of the noiseless
  measurements in the target position, W = Sigma^-1 and F = J^T W J the FIM, so E[X] = tr(F^-1),
  the CRLB (:func:`ml_error_map`).
* LS: the derivative of :func:`isacnet.localization.ls_bistatic` at the noiseless range sums, by
  central differences (:func:`ls_error_map`). Any A gives an unbiased control; a less exact one
  only removes less variance.
"""

from __future__ import annotations

import numpy as np

from .lm import _solve2
from .model import Measurements, Scene, _axis_vectors, _unit, noiseless
from .solvers import ls_bistatic


def noise_vector(scene: Scene, meas: Measurements) -> np.ndarray:
    """The noise of each row, (B, M): range-sum errors (k-major), then direction-cosine errors.

    Direction cosines without information (infinite standard deviation) contribute 0."""
    clean = noiseless(scene)
    r = (meas.range_sum - clean.range_sum).reshape(scene.size, -1)
    if meas.dircos is None or scene.dircos_std is None:
        return r
    u = np.where(np.isfinite(scene.dircos_std), meas.dircos - clean.dircos, 0.0)
    return np.concatenate([r, u], axis=1)


def noise_std(scene: Scene) -> np.ndarray:
    """The standard deviations of :func:`noise_vector`'s entries, (B, M) (inf: no information)."""
    s = scene.range_std.reshape(scene.size, -1)
    if scene.dircos_std is None:
        return s
    return np.concatenate([s, scene.dircos_std], axis=1)


def ml_error_map(scene: Scene) -> tuple[np.ndarray, np.ndarray]:
    """A = F^-1 J^T W of every row, (B, 2, M), and E|A n|^2 = tr(A Sigma A^T), (B,) [m^2].

    J rows: -(e_k + f_l) for the range sum of pair (k, l) (e, f unit vectors from the target
    toward TX k and RX l), (a_l - u_l q_l) / rho_l for the direction cosine of RX l. Rows with an
    infinite standard deviation carry weight 0. Where F is singular (a layout that cannot
    localise the target: its CRLB is infinite) A = 0: the control is then 0, still of mean 0."""
    e, _ = _unit(scene.tx, scene.target, "tx")
    f, dr = _unit(scene.rx, scene.target, "rx")
    b = scene.size
    jac = -(e[:, :, None, :] + f[:, None, :, :]).reshape(b, -1, 2)
    if scene.dircos_std is not None:
        q = -f
        a = _axis_vectors(scene.rx_axis, f.shape[:-1])
        u = np.einsum("bli,bli->bl", a, q)
        jac = np.concatenate([jac, (a - u[..., None] * q) / dr[..., None]], axis=1)
    std = noise_std(scene)
    with np.errstate(divide="ignore"):
        w = np.where(np.isfinite(std), 1.0 / (std * std), 0.0)
    fim = np.einsum("bm,bmi,bmj->bij", w, jac, jac)
    g = jac * w[..., None]  # (B, M, 2): column m of J^T W
    m = g.shape[1]
    # F^-1 g for every column by the solver's guarded 2 x 2 solve (0 where F is singular)
    a, c, d = (np.repeat(fim[:, i, j], m) for i, j in ((0, 0), (0, 1), (1, 1)))
    step, _ = _solve2(a, c, d, g[..., 0].ravel(), g[..., 1].ravel())
    amap = np.swapaxes(step.reshape(b, m, 2), 1, 2)
    return amap, expected_square(amap, std)


def expected_square(amap: np.ndarray, std: np.ndarray) -> np.ndarray:
    """E|A n|^2 = sum_m |A_m|^2 sigma_m^2 for independent zero-mean noise of standard deviations
    ``std`` (inf: a measurement without information, whose column of A is 0): ``amap`` (..., 2, M)
    and ``std`` (..., M) broadcast; returns (...) [m^2]."""
    var = np.where(np.isfinite(std), std * std, 0.0)
    return np.einsum("...im,...m,...im->...", amap, var, amap)


def ls_error_map(scene: Scene, aux: str, rel_step: float = 1e-6) -> tuple[np.ndarray, float]:
    """dLS/dr of a single-layout scene (B = 1) at its noiseless range sums, (2, M), and
    E|A n|^2, by central differences with the step ``rel_step`` times the largest range sum.

    The LS start uses the range sums only: the direction-cosine columns (if any) are 0."""
    clean = noiseless(scene).range_sum[0]
    nt, nr = clean.shape
    h = rel_step * float(np.abs(clean).max())
    step = h * np.eye(nt * nr).reshape(nt * nr, nt, nr)
    r = np.concatenate([clean + step, clean - step])
    m = 2 * nt * nr
    std = np.broadcast_to(scene.range_std[0], (m, nt, nr))
    est = ls_bistatic(scene.tx[0], scene.rx[0], r, std, aux=aux).estimate
    amap = ((est[: nt * nr] - est[nt * nr :]) / (2.0 * h)).T
    if not np.all(np.isfinite(amap)):  # a rank-deficient LS system: no control (0, of mean 0)
        amap = np.zeros_like(amap)
    std_all = noise_std(scene)[0]
    amap = np.concatenate([amap, np.zeros((2, std_all.size - nt * nr))], axis=1)
    return amap, float(expected_square(amap, std_all))
