"""Where the time of the numpy Monte Carlo kernels goes, step by step, against their random numbers.

    python benchmarks/bench_numpy_breakdown.py [--repeat 15]

For one block of 4096 layouts (Song: K = 64 TXs + 64 RXs; Meng: N = 16 BSs), CPU time per
layout of each step, best of ``--repeat`` interleaved rounds, in two versions:

* "whole block": each step on the whole (4096, K) arrays (2 MiB each for K = 64, beyond L2), with
  np.cos/np.sin of 2 pi u, np.power and the separable sums of ``fisher_sums`` -- the way the
  kernels worked before the sub-batched path;
* "sub-batched": the steps as the kernels run them now, on sub-batches of 16384 points that stay
  in cache (``sensing.ordered_direction_sums``): np.cumsum, ``geometry.arrival_power``,
  ``geometry.directions_from_uniforms``, ``sensing.direction_sums``.

The floor is (b) of bench_backends.py: the kernel's random numbers alone, drawn with numpy.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import rng_only  # noqa: E402

from isacnet.geometry import arrival_power, directions_from_uniforms  # noqa: E402
from isacnet.params import MengParams, SongParams  # noqa: E402
from isacnet.rng import block_rng  # noqa: E402
from isacnet.sensing import SUB_BATCH_POINTS, direction_sums, fisher_sums, trace_inverse_2x2  # noqa: E402
from isacnet.simulation.meng import MengCrlbKernel  # noqa: E402
from isacnet.simulation.song import SongKernel  # noqa: E402

N = 4096


def steps(k: int, p: float, processes: int, kernel) -> dict[str, object]:
    """{step name: callable} for one block; each callable does the step for every process."""
    rng = np.random.default_rng(1)
    e, u = rng.standard_exponential((N, k)), rng.random((N, k))
    g = np.cumsum(e, axis=1)
    w = g**p
    phi = u * (2 * math.pi)
    ex, ey = np.cos(phi), np.sin(phi)
    step = SUB_BATCH_POINTS // k
    space = np.empty((6, step, k))
    sums = np.empty((6, N))

    def sub(f):
        def run():
            for _ in range(processes):
                for i in range(0, N, step):
                    f(slice(i, i + step))

        return run

    def each(f):
        def run():
            for _ in range(processes):
                f()

        return run

    def held_draws():  # as the kernels drew: every array alive until the end of the block
        return [(rng.standard_exponential((N, k)), rng.random((N, k))) for _ in range(processes)]

    out = {
        "floor: random numbers alone (bench_backends (b))": lambda: rng_only(N, k, 2, processes=processes),
        "whole: draws, all arrays held": held_draws,
        "whole: cumsum": each(lambda: np.cumsum(e, axis=1)),
        "whole: g**p (np.power)": each(lambda: g**p),
        "whole: 2 pi u, np.cos, np.sin": each(lambda: (np.cos(u * (2 * math.pi)), np.sin(u * (2 * math.pi)))),
        "whole: FIM sums + fallback test (fisher_sums)": lambda: fisher_sums(w, ex, ey, w, ey, ex),
        "sub: cumsum": sub(lambda r: np.cumsum(e[r], axis=1, out=space[0])),
        "sub: arrival_power": sub(lambda r: arrival_power(g[r], p, out=space[0])),
        "sub: directions_from_uniforms": sub(
            lambda r: directions_from_uniforms(u[r], out=(space[0], space[1]), work=space[2:5])
        ),
        "sub: direction_sums": sub(lambda r: direction_sums(w[r], ex[r], ey[r], out=sums[:, r], work=space[:2])),
        "per layout: 2x2 inverse": lambda: trace_inverse_2x2(sums[3], sums[4], sums[5]),
        "KERNEL (numpy, as it is now)": lambda: kernel(block_rng(3, 0, 0), N),
    }
    return out


def measure(table: dict[str, object], repeat: int) -> dict[str, float]:
    best = dict.fromkeys(table, math.inf)
    for _ in range(repeat):
        for name, f in table.items():
            t0 = time.process_time_ns()
            f()
            best[name] = min(best[name], (time.process_time_ns() - t0) / N)
    return best


def report(title: str, res: dict[str, float], points: int) -> None:
    floor = res[next(iter(res))]
    print(f"\n{title}")
    print(f"{'step':<52}{'ns/layout':>10}{'ns/point':>10}{'/ floor':>9}")
    for name, t in res.items():
        print(f"{name:<52}{t:>10.0f}{t / points:>10.2f}{t / floor:>9.2f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=15)
    a = ap.parse_args()
    sp, mp = SongParams(), MengParams()
    song = steps(64, -0.5 * sp.gamma, 2, SongKernel(sp, k_nearest=64))
    report("Song, K = 64 TXs + 64 RXs (2 processes of 64 points)", measure(song, a.repeat), 128)
    meng = steps(16, -0.5 * mp.beta, 1, MengCrlbKernel(mp, 16))
    report("Meng, N = 16 BSs (1 process of 16 points)", measure(meng, a.repeat), 16)


if __name__ == "__main__":
    main()
