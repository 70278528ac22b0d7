"""Speed of Theorem 2 sweeps and of ``meng.optimize`` (issue 18), as ratios in this process.

    python benchmarks/bench_theorem2.py [--n-L 40] [--n-pc 10] [--repeat 3]

On the grid L = 1..n_L x n_pc power shares p^c ("exact" variant, M_t = 4, alpha = 4):

(a) the shared rule (``method="shared"``, the default since 0.5; one node set for every L and
    p^c), one vectorised call;
(b) the pointwise rule (``method="pointwise"``, 0.4's default; nodes fitted to each L), one
    vectorised call, at the default orders (41, 257) and at ``ORDERS_1E6`` = (33, 129);
(c) the shared rule called once per point (a loop: nothing to share);
(d) ``meng.optimize(params, min_rate=2)`` (L <= 20, N <= 30, 101 p^c per L), whole call.

Prints milliseconds per point, each row's time over (a), and the largest relative difference
to (b) at the default orders (~1e-12 accurate).
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
    mr.rate(Ls[:, None], p, p_c=pcs)  # warm-up (imports, caches)
    ref = mr.rate(Ls[:, None], p, p_c=pcs, method="pointwise")
    rows = {
        "(a) shared, one call": lambda: mr.rate(Ls[:, None], p, p_c=pcs),
        "(b) pointwise (41, 257), one call": lambda: mr.rate(Ls[:, None], p, p_c=pcs, method="pointwise"),
        "(b) pointwise ORDERS_1E6, one call": lambda: mr.rate(
            Ls[:, None], p, p_c=pcs, method="pointwise", n_eta=mr.ORDERS_1E6[0], n_z=mr.ORDERS_1E6[1]),
        "(c) shared, per-point loop": lambda: np.array([[mr.rate(int(L), p, p_c=float(c)) for c in pcs] for L in Ls]),
    }
    print(f"{'method':<38}{'total [s]':>10}{'ms/point':>10}{'/ (a)':>8}{'max rel diff':>14}")
    t_a = None
    for name, f in rows.items():
        t = timeit(f, a.repeat if "loop" not in name else 1)
        t_a = t_a or t
        diff = np.max(np.abs(np.asarray(f()) / ref - 1.0))
        print(f"{name:<38}{t:>10.3f}{1e3 * t / n:>10.2f}{t / t_a:>8.1f}{diff:>14.1e}")
    t0 = time.perf_counter()
    d = optimize(p, min_rate=2.0)
    t_opt = time.perf_counter() - t0
    print(f"\n(c) meng.optimize(min_rate=2): {t_opt:.2f} s (L = {d.L}, N = {d.N}, p^c = {d.p_c:.6f})")


if __name__ == "__main__":
    main()
