"""Speed of Theorem 2 sweeps and of ``meng.optimize`` (issue 18), as ratios in this process.

    python benchmarks/bench_theorem2.py [--n-L 40] [--n-pc 10] [--repeat 3]

(a) per-point loop: ``meng_rate.rate(L, params, p_c=pc)`` called once per (L, p^c) (a single
    row: nothing to share), at the default orders (41, 257) (~1e-12), at ``ORDERS_1E6`` = (33, 129)
    (1e-6 relative: worst 1.3e-7 over the tested domain) and at the optimiser's (21, 129);
(b) the same grid in one vectorised call: rows with the same L share their quadrature nodes and
    the p^c-free Laplace terms (issue 18); the same numbers to 1e-13 relative (checked here: the
    summation order of the quadrature differs with the batch shape);
(c) ``meng.optimize(params, min_rate=2)`` (L <= 20, N <= 30, 101 p^c per L), whole call.

Prints milliseconds per point and the speed-up of (b) over (a).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from _common import timeit

from isacnet.analysis import meng_rate as mr
from isacnet.analysis.optimize import optimize
from isacnet.params import MengParams


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-L", type=int, default=40)
    ap.add_argument("--n-pc", type=int, default=10)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    p = MengParams()
    Ls = np.arange(1, a.n_L + 1)
    pcs = np.linspace(0.05, 1.0, a.n_pc)
    n = Ls.size * pcs.size
    print(f"Theorem 2 (exact), M_t = 4, alpha = 4: {a.n_L} cluster sizes x {a.n_pc} p^c = {n} points")
    print(f"{'orders':<12}{'method':<34}{'total [s]':>11}{'ms/point':>10}{'(b) faster':>12}")
    for ne, nz in ((41, 257), mr.ORDERS_1E6, (21, 129)):

        def loop(ne=ne, nz=nz):
            return np.array([[mr.rate(int(L), p, p_c=float(c), n_eta=ne, n_z=nz) for c in pcs] for L in Ls])

        def vec(ne=ne, nz=nz):
            return mr.rate(Ls[:, None], p, p_c=pcs, n_eta=ne, n_z=nz)

        diff = np.max(np.abs(loop() / vec() - 1.0))
        assert diff < 1e-13, f"the vectorised sweep differs from the per-point loop by {diff:.2e} relative"
        t_loop = timeit(loop, 1)
        t_vec = timeit(vec, a.repeat)
        for name, t in (("(a) per-point loop", t_loop), ("(b) one vectorised call", t_vec)):
            print(f"{str((ne, nz)):<12}{name:<34}{t:>11.3f}{1e3 * t / n:>10.2f}{t / t_vec:>12.2f}")
    t0 = time.perf_counter()
    d = optimize(p, min_rate=2.0)
    t_opt = time.perf_counter() - t0
    print(f"\n(c) meng.optimize(min_rate=2): {t_opt:.2f} s (L = {d.L}, N = {d.N}, p^c = {d.p_c:.6f})")


if __name__ == "__main__":
    main()
