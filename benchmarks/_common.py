"""Shared pieces of the benchmarks: best-of timing, the random-number baseline, the ratio table."""

from __future__ import annotations

import math
import time

import numpy as np


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
