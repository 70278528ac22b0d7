"""Speed of the Song expected-CRLB estimator, as ratios against baselines run in this process.

    python benchmarks/bench_song.py [--layouts 200000] [--k 64]

(a) per-layout loops as research code typically writes them: draw one layout, build the
    positions, the pair-sum FIM, np.linalg.inv; (a1) with a Python double loop over TX-RX pairs,
    (a2) numpy-vectorised over the pairs (a strong baseline);
(b) the cost of drawing the same random numbers alone (K exponentials and K uniforms per
    process per layout, in blocks of 4096 like the estimator);
(c) isacnet.song.monte_carlo, serial (one core), all four per-layout quantities.
"""

from __future__ import annotations

import argparse
import math

import numpy as np
from _common import print_ratios, rng_only, timeit

from isacnet import SongParams, song
from isacnet.params import SPEED_OF_LIGHT


def draw_layout(rng: np.random.Generator, p: SongParams, k: int) -> tuple[np.ndarray, np.ndarray]:
    """One layout: the k nearest TXs and RXs around the target at the origin, (k, 2) each."""
    pts = []
    for lam in (p.tx_density, p.rx_density):
        r = np.sqrt(np.cumsum(rng.exponential(size=k)) / (math.pi * lam))
        phi = rng.uniform(0, 2 * math.pi, size=k)
        pts.append(np.stack([r * np.cos(phi), r * np.sin(phi)], 1))
    return pts[0], pts[1]


def per_layout_pair_loop(p: SongParams, n: int, k: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    const = p.n_rx_antennas * p.n_tx_antennas * p.eta / SPEED_OF_LIGHT**2
    acc = 0.0
    for _ in range(n):
        tx, rx = draw_layout(rng, p, k)
        S = np.zeros((2, 2))
        for t in tx:
            for q in rx:
                dt, dr = np.linalg.norm(t), np.linalg.norm(q)
                v = t / dt + q / dr
                S += const * dt**-p.gamma * dr**-p.gamma * np.outer(v, v)
        acc += np.trace(np.linalg.inv(S))
    return acc / n


def per_layout_loop(p: SongParams, n: int, k: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    const = p.n_rx_antennas * p.n_tx_antennas * p.eta / SPEED_OF_LIGHT**2
    acc = 0.0
    for _ in range(n):
        tx, rx = draw_layout(rng, p, k)
        et = tx / np.linalg.norm(tx, axis=1, keepdims=True)
        er = rx / np.linalg.norm(rx, axis=1, keepdims=True)
        lt = np.linalg.norm(tx, axis=1) ** -p.gamma
        lr = np.linalg.norm(rx, axis=1) ** -p.gamma
        v = et[:, None, :] + er[None, :, :]  # (k, k, 2)
        w = lt[:, None] * lr[None, :]
        S = const * np.einsum("kl,kli,klj->ij", w, v, v)
        acc += np.trace(np.linalg.inv(S))
    return acc / n






def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", type=int, default=200_000)
    ap.add_argument("--loop-layouts", type=int, default=2_000)
    ap.add_argument("--k", type=int, default=64)
    a = ap.parse_args()
    p = SongParams()
    n, k = a.layouts, a.k
    n_pair = max(1, a.loop_layouts // 100)
    t_pair = timeit(lambda: per_layout_pair_loop(p, n_pair, k, 1), repeat=1) / n_pair
    t_loop = timeit(lambda: per_layout_loop(p, a.loop_layouts, k, 1), repeat=1) / a.loop_layouts
    t_rng = timeit(lambda: rng_only(n, k, 2, processes=2)) / n
    t_ours = timeit(lambda: song.monte_carlo(p, n, seed=3, k_nearest=k)) / n
    rows = [("(a1) per-layout, pair loop", t_pair), ("(a2) per-layout, numpy pairs", t_loop),
            ("(b) random numbers alone", t_rng), ("(c) isacnet.song.monte_carlo", t_ours)]
    print_ratios(f"Song expected CRLB, K = {k} TXs + {k} RXs per layout, one core",
                 rows, t_ours, t_rng, [t_pair, t_loop])

if __name__ == "__main__":
    main()
