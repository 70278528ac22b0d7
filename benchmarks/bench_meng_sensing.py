"""Speed of the Meng cooperative-sensing estimators, as ratios against baselines in this process.

    python benchmarks/bench_meng_sensing.py [--layouts 200000] [--loop-layouts 2000] [--n 16]

Expected CRLB of the N nearest BSs (every BS transmits and receives):

(a1) a per-layout loop as research code typically writes it: draw one layout, then the double
     Python loop over (i, j) of eq. (5), np.linalg.inv, trace;
(a2) per-layout loop with the (i, j) pair sum vectorised by numpy (a strong baseline);
(b)  the cost of drawing the same random numbers alone (N exponentials and N uniforms per layout,
     in blocks of 4096 like the estimator);
(c)  isacnet.meng.monte_carlo, serial (one core), every per-layout output and its moments.

Spatial acceptance simulation (isacnet.load on a torus, no Lemma 1): seconds per typical
request, and per torus, for the counting simulation and for the cluster kernel ("shrink").
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from _common import print_ratios, rng_only, timeit

from isacnet import meng
from isacnet.params import MengParams
from isacnet.rng import block_rng
from isacnet.simulation.meng import MengClusterKernel


def _layout(rng, n_bs: int, lam: float) -> np.ndarray:
    r = np.sqrt(np.cumsum(rng.exponential(size=n_bs)) / (math.pi * lam))
    phi = rng.uniform(0, 2 * math.pi, size=n_bs)
    return np.stack([r * np.cos(phi), r * np.sin(phi)], 1)


def per_layout_pair_loop(p: MengParams, n: int, n_bs: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    acc = 0.0
    for _ in range(n):
        bs = _layout(rng, n_bs, p.bs_density)
        F = np.zeros((2, 2))
        for i in range(n_bs):
            for j in range(n_bs):
                di, dj = np.linalg.norm(bs[i]), np.linalg.norm(bs[j])
                v = bs[i] / di + bs[j] / dj
                F += p.zeta2 * di**-p.beta * dj**-p.beta * np.outer(v, v)
        acc += np.trace(np.linalg.inv(F))
    return acc / n


def per_layout_loop(p: MengParams, n: int, n_bs: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    acc = 0.0
    for _ in range(n):
        bs = _layout(rng, n_bs, p.bs_density)
        d = np.linalg.norm(bs, axis=1)
        e = bs / d[:, None]
        w = d**-p.beta
        v = e[:, None, :] + e[None, :, :]
        F = p.zeta2 * np.einsum("ij,ijk,ijl->kl", w[:, None] * w[None, :], v, v)
        acc += np.trace(np.linalg.inv(F))
    return acc / n






def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", type=int, default=200_000)
    ap.add_argument("--loop-layouts", type=int, default=2_000)
    ap.add_argument("--n", type=int, default=16, help="cluster size N")
    ap.add_argument("--tori", type=int, default=100)
    a = ap.parse_args()
    p = MengParams()
    n, N = a.layouts, a.n
    n_pair = max(1, a.loop_layouts // 10)
    t_pair = timeit(lambda: per_layout_pair_loop(p, n_pair, N, 1), repeat=1) / n_pair
    t_loop = timeit(lambda: per_layout_loop(p, a.loop_layouts, N, 1), repeat=1) / a.loop_layouts
    t_rng = timeit(lambda: rng_only(n, N, 2)) / n
    t_ours = timeit(lambda: meng.monte_carlo(N, p, n, seed=3)) / n
    rows = [("(a1) per-layout, (i,j) Python loop", t_pair), ("(a2) per-layout, numpy pairs", t_loop),
            ("(b) random numbers alone", t_rng), ("(c) isacnet.meng.monte_carlo", t_ours)]
    print_ratios(f"Meng expected CRLB, N = {N} BSs per layout (monostatic + bistatic), one core",
                 rows, t_ours, t_rng, [t_pair, t_loop])
    print(f"\nSpatial acceptance on a torus, N = 15, psi = {p.resource_blocks}, {a.tori} tori")
    t0 = time.perf_counter()
    r = meng.simulate_acceptance(p, 15, a.tori, seed=4)
    t_acc = time.perf_counter() - t0
    n_req = int(r.counts.requests.sum())
    k = MengClusterKernel(p, 15)
    t0 = time.perf_counter()
    k(block_rng(5, 0, 0), a.tori)
    t_cl = time.perf_counter() - t0
    ke = MengClusterKernel(p, 30, rule="extend")
    t0 = time.perf_counter()
    out = ke(block_rng(6, 0, 0), max(1, a.tori // 4))
    t_ex = (time.perf_counter() - t0) / max(1, a.tori // 4)
    print(f"{'simulation':<44}{'us/request':>12}{'ms/torus':>12}")
    print(f"{'counting (load.simulate_acceptance)':<44}{1e6 * t_acc / n_req:>12.3f}{1e3 * t_acc / a.tori:>12.2f}")
    print(f"{'cluster kernel, shrink, + CRLB per target':<44}"
          f"{1e6 * t_cl / n_req:>12.3f}{1e3 * t_cl / a.tori:>12.2f}")
    print(f"{'cluster kernel, extend N=30 (' + format(out['rounds'].mean(), '.0f') + ' rounds)':<44}"
          f"{'':>12}{1e3 * t_ex:>12.2f}")
    print(f"acceptance {r.acceptance} (closed form {r.closed_form:.4f}); "
          f"{n_req / a.tori:.0f} requests per torus")


if __name__ == "__main__":
    main()
