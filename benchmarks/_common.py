"""Shared pieces of the benchmarks: best-of timing, the random-number baseline, the ratio table."""

from __future__ import annotations

import math
import time

import numpy as np

from isacnet.rng import block_rng

BLOCK = 4096
"""Layouts per block, as the estimator draws them."""


def timeit(f, repeat: int = 3) -> float:
    """Best wall time of ``repeat`` calls of ``f`` [s]."""
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def rng_only(n: int, k: int, seed: int, processes: int = 1, block: int = 4096) -> float:
    """Draw what the kernels draw, nothing else: per process and layout, k exponentials (the
    ordered radii) and k uniforms (the angles), in blocks like the estimator."""
    rng = np.random.default_rng(seed)
    s = 0.0
    for i in range(0, n, block):
        m = min(block, n - i)
        for _ in range(processes):
            s += rng.standard_exponential((m, k))[0, 0] + rng.random((m, k))[0, 0]
    return s


def print_ratios(title: str, rows: list[tuple[str, float]], t_ours: float, t_rng: float, loops: list[float]) -> None:
    """A table of layouts/s and time relative to ours, then the headline ratios."""
    print(title)
    print(f"{'method':<36}{'layouts/s':>14}{'time / ours':>14}")
    for name, t in rows:
        print(f"{name:<36}{1 / t:>14,.0f}{t / t_ours:>14.3f}")
    print("speed-up over the per-layout loops: "
          + ", ".join(f"{t / t_ours:,.0f}x (a{i + 1})" for i, t in enumerate(loops)))
    print(f"cost relative to drawing the random numbers alone: {t_ours / t_rng:.2f}x")


def blocks(kernel, n: int, seed: int, block: int = BLOCK) -> None:
    """``n`` layouts of ``kernel`` in blocks of ``block``, each from its own generator (as the
    estimator draws them), results discarded."""
    for b in range(-(-n // block)):
        kernel(block_rng(seed, 0, b), min(block, n - b * block))


def measure(methods: dict, repeat: int) -> dict[str, tuple[float, float]]:
    """{name: (best CPU s per layout, best wall s per layout)}, interleaved rounds."""
    best = {name: (math.inf, math.inf) for name in methods}
    for _ in range(repeat):
        for name, (f, n) in methods.items():
            c0, w0 = time.process_time(), time.perf_counter()
            f()
            c, w = (time.process_time() - c0) / n, (time.perf_counter() - w0) / n
            best[name] = (min(best[name][0], c), min(best[name][1], w))
    return best


def report(title: str, res: dict[str, tuple[float, float]], floor: str) -> None:
    t_rng = res[floor][0]
    print(f"\n{title}")
    print(f"{'method':<44}{'layouts/s (CPU)':>17}{'ns/layout':>11}{'/ floor':>9}{'wall ns':>10}")
    for name, (c, w) in res.items():
        print(f"{name:<44}{1 / c:>17,.0f}{1e9 * c:>11.0f}{c / t_rng:>9.2f}{1e9 * w:>10.0f}")
