"""Speed of the ML position estimator (issue 18), as ratios against the 0.2.0 solver in this process.

    python benchmarks/bench_estimator.py [--block 4096] [--loop 150] [--repeat 2]

The fixed layout of the estimator-vs-crlb figure (4 TX, 4 RX, layout_seed 7), noisy range sums at
three transmit powers (the threshold region, the middle and the high-SNR end of the figure), the
same LS starts (aux on the TX side) for every method:

(a) per-layout loop: the 0.2.0 Levenberg-Marquardt solver (``tests/unit/_ml_reference.py``)
    called on one layout at a time (B = 1), as a per-layout ML loop is written;
(b) the 0.2.0 solver on the whole block (every row iterated until the slowest stops);
(c) ``isacnet.localization.ml_estimate``: the batched solver of issue 18 (rows leave the batch
    when they stop, component-wise 2 x 2 algebra);
(d) the whole ``EstimatorKernel`` sample (both LS starts, ML from each, CRLB) with (c);
(e) the control variates of the figure: how many times fewer draws the control-variate
    estimates of the ML and LS mean squared errors need for the CI of the plain means (the
    squared ratio of their standard errors, from the same draws).

Each row prints microseconds per layout (best of ``--repeat``) and the speed-up of (c) over it;
the estimates of (b) and (c) are checked to agree to 1e-6 of the RMS error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from _common import timeit

from isacnet.localization import ls_bistatic, make_scene, ml_estimate, simulate
from isacnet.params import SongParams
from isacnet.simulation.kernels.localization import EstimatorKernel
from isacnet.simulation.statistics import Moments, control_variate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "unit"))
from _ml_reference import ml_estimate_reference  # noqa: E402


def _case(tx_power: float, n: int):
    k = EstimatorKernel(SongParams(tx_power=tx_power), layout_seed=7)
    tx, rx, _ = k.fixed_layout()
    scene = make_scene(tx, rx, np.zeros((1, 2)), k.params).repeat(n)
    m = simulate(np.random.default_rng(18), scene)
    x0 = ls_bistatic(scene.tx, scene.rx, m.range_sum, scene.range_std, aux="tx").estimate
    return k, (scene.tx, scene.rx, m.range_sum, scene.range_std, x0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--block", type=int, default=4096)
    ap.add_argument("--loop", type=int, default=150, help="layouts in the per-layout loop")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--cv-draws", type=int, default=16384, help="draws for (e), the control variates")
    a = ap.parse_args()
    print(f"{'P_t [W]':>8} {'method':<44}{'us/layout':>11}{'(c) faster':>12}")
    for pt in (1e-7, 1e-4, 1.0):
        k, args = _case(pt, a.block)
        ref, new = ml_estimate_reference(*args), ml_estimate(*args)
        rms = np.sqrt(np.nanmean(np.sum(ref.estimate**2, axis=1)))
        diff = np.nanmax(np.linalg.norm(ref.estimate - new.estimate, axis=1))
        assert diff <= 1e-6 * rms, f"(b) and (c) differ by {diff:.3g} m (RMS error {rms:.3g} m)"

        def loop(args=args):
            for i in range(a.loop):
                ml_estimate_reference(*(x[i : i + 1] for x in args))

        t = {
            "(a) per-layout loop, 0.2.0 solver (B = 1)": timeit(loop, a.repeat) / a.loop,
            "(b) 0.2.0 solver, whole block": timeit(lambda args=args: ml_estimate_reference(*args), a.repeat) / a.block,
            "(c) batched solver (issue 18)": timeit(lambda args=args: ml_estimate(*args), a.repeat) / a.block,
        }
        rng = np.random.default_rng(1)
        td = timeit(lambda k=k, rng=rng: k(rng, a.block), a.repeat)
        t["(d) EstimatorKernel sample, 2 starts + CRLB"] = td / a.block
        for name, s in t.items():
            print(f"{pt:>8.0e} {name:<44}{1e6 * s:>11.1f}{s / t['(c) batched solver (issue 18)']:>12.2f}")
        print(
            f"{'':>8} mean LM iterations {new.n_iter.mean():.2f}, max {new.n_iter.max()}; "
            f"largest |(b) - (c)| {diff:.2e} m (RMS error {rms:.3g} m)"
        )
        _control_variates(k, a.cv_draws)


def _control_variates(k, n: int) -> None:
    """(e) The control variates' worth: (stderr of the plain mean / stderr of the control-variate
    estimate)^2 from the same draws, i.e. how many times fewer draws reach the same CI."""
    out = k(np.random.default_rng(2), n)
    for est in ("ml", "ls"):
        y, x, yx = (Moments.of(out[f"{est}_{q}"]).estimate() for q in ("sq_err", "cv_x", "cv_yx"))
        cv = control_variate(y, x, yx)
        print(f"{'':>8} (e) {est.upper()} MSE control variate: {(y.stderr / cv.stderr) ** 2:8.1f}x fewer draws "
              f"({n} draws; estimates {y.mean:.4g} plain, {cv.mean:.4g} +- {cv.stderr:.2g} with the control)")


if __name__ == "__main__":
    main()
