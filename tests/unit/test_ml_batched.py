"""The batched Levenberg-Marquardt solver (issue 18) against its slow twin, the 0.2.0 solver
(``_ml_reference.py``: every row iterated on the whole batch, (B, 2, 2) einsums).

Both take the same steps row by row, so the estimates agree to rounding; where rounding flips an
accept/reject decision at the solver tolerance they agree to within the tolerance (a Newton
decrement of 1e-10 chi-square units: 1e-5 standard deviations of the estimate).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from _ml_reference import ml_estimate_reference

from isacnet import SongParams
from isacnet import estimation as E
from isacnet.simulation.kernels.localization import ppp_layouts


def _problem(tx_power: float, aoa: bool, n: int, seed: int):
    p = SongParams(tx_power=tx_power, n_rx_antennas=8)
    rng = np.random.default_rng(seed)
    tx, rx, axis = ppp_layouts(rng, n, p, 3, 4, "random")
    target = rng.uniform(-20.0, 20.0, (n, 2))
    scene = E.make_scene(tx, rx, target, p, aoa=aoa, rx_array_axis=axis)
    m = E.simulate(rng, scene)
    x0 = E.ls_bistatic(scene.tx, scene.rx, m.range_sum, scene.range_std).estimate
    sd = np.sqrt(E.crlb_delay_aoa(tx, rx, target, p, aoa=aoa, rx_array_axis=axis))
    kw = dict(dircos=m.dircos, dircos_std=scene.dircos_std, rx_array_axis=scene.rx_axis)
    return (scene.tx, scene.rx, m.range_sum, scene.range_std, x0), kw, sd


@pytest.mark.parametrize("hessian", ["exact", "gauss-newton"])
@pytest.mark.parametrize("aoa", [False, True])
@pytest.mark.parametrize("tx_power", [1e-7, 1e-4, 1.0])
def test_batched_ml_matches_the_per_batch_reference(tx_power, aoa, hessian):
    args, kw, sd = _problem(tx_power, aoa, 400, seed=int(-math.log10(tx_power)) + 10 * aoa)
    x0 = args[-1].copy()
    x0[7] = np.nan  # a failed start: not iterated, NaN
    args = args[:-1] + (x0,)
    ref = ml_estimate_reference(*args, **kw, hessian=hessian, max_iter=100)
    new = E.ml_estimate(*args, **kw, hessian=hessian, max_iter=100)
    assert np.isnan(new.estimate[7]).all() and np.isnan(new.cost[7]) and not new.converged[7]
    ok = np.isfinite(ref.estimate[:, 0])
    assert np.array_equal(ok, np.isfinite(new.estimate[:, 0]))
    err = np.linalg.norm(new.estimate[ok] - ref.estimate[ok], axis=1) / sd[ok]
    both = (new.converged & ref.converged)[ok]
    assert both.sum() >= 10  # (Gauss-Newton converges only linearly at low SNR: many rows run out)
    assert err[both].max() < 1e-4, f"largest difference {err[both].max():.2e} standard deviations"
    np.testing.assert_allclose(new.cost[ok][both], ref.cost[ok][both], rtol=1e-9, atol=1e-9)
    # rows that ran out of iterations or sit on an anchor depend on their path, and the flags and
    # counts can differ where rounding flipped a decision: rarely
    assert np.mean(err > 1e-4) <= 0.01
    for a, b in ((new.converged, ref.converged), (new.at_anchor, ref.at_anchor)):
        assert np.mean(a != b) <= 0.01
    assert np.mean(new.n_iter != ref.n_iter) <= 0.05  # slow (Gauss-Newton, low SNR) rows drift more


def test_locate_with_both_starts_matches_two_reference_runs():
    """locate stacks the two LS starts into one batch: the same result as two separate runs."""
    p = SongParams(tx_power=1e-5)
    rng = np.random.default_rng(4)
    tx, rx, _ = ppp_layouts(rng, 300, p, 4, 4)
    scene = E.make_scene(tx, rx, np.zeros((300, 2)), p)
    m = E.simulate(rng, scene)
    _, ml = E.locate(scene, m)
    runs = [
        ml_estimate_reference(
            scene.tx,
            scene.rx,
            m.range_sum,
            scene.range_std,
            E.ls_bistatic(scene.tx, scene.rx, m.range_sum, scene.range_std, aux=side).estimate,
        )
        for side in ("tx", "rx")
    ]
    best = np.where((runs[1].cost < runs[0].cost)[:, None], runs[1].estimate, runs[0].estimate)
    sd = np.sqrt(E.crlb_delay_aoa(tx, rx, np.zeros((300, 2)), p))
    assert (np.linalg.norm(ml.estimate - best, axis=1) / sd).max() < 1e-4


def test_least_squares_start_matches_lstsq():
    """The LS start's solver (QR of the augmented matrix, R only) against numpy's lstsq."""
    from isacnet.localization.solvers import _solve_ls

    g = np.random.default_rng(9)
    A, b, w = g.normal(size=(40, 16, 6)), g.normal(size=(40, 16)), g.uniform(0.5, 2.0, (40, 16))
    z, ok = _solve_ls(A, b, w)
    assert ok.all()
    for i in range(40):
        ref = np.linalg.lstsq(A[i] * w[i, :, None], b[i] * w[i], rcond=None)[0]
        np.testing.assert_allclose(z[i], ref, rtol=1e-10, atol=1e-12)
    A[3, :, 2] = A[3, :, 1]  # rank-deficient: flagged, NaN
    z2, ok2 = _solve_ls(A, b, w)
    assert not ok2[3] and np.isnan(z2[3]).all() and ok2.sum() == 39
