"""Speed of the Monte Carlo backends (numpy, numba, jax) against the random-number floor.

    python benchmarks/bench_backends.py [--layouts 100000] [--loop-layouts 500] [--repeat 5]

For the Song CRLB kernel (K = 64 TXs + 64 RXs, all four outputs) and the Meng CRLB kernel
(N = 16 BSs, every output), in layouts per second of CPU time:

(a)  per-layout loop: draw one layout, numpy-vectorised pair sum, np.linalg.inv (the strong
     baseline (a2) of bench_song.py / bench_meng_sensing.py);
(b)  the random numbers alone, drawn with numpy as the numpy kernels draw them (K exponentials and
     K uniforms per process and layout, blocks of 4096): the floor of a numpy kernel;
(c)  the kernel alone, ``kernel(block_rng(seed, 0, b), 4096)`` block after block, per backend
     and dtype; and (d) the same through ``experiments.runner.estimate`` (serial), which adds the
     per-block moments of every output.

Timing is CPU time of this process (``time.process_time``, all its threads), the best of
``--repeat`` interleaved rounds: on a shared machine that is far steadier than wall time (which
is shown for the compiled kernels too). JAX's XLA may use more than one thread on CPU; its CPU
time counts them all. Compilation is done before timing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _common import BLOCK, blocks, measure, report, rng_only  # noqa: E402
from bench_meng_sensing import per_layout_loop as meng_loop  # noqa: E402
from bench_song import per_layout_loop as song_loop  # noqa: E402

from isacnet import backends  # noqa: E402
from isacnet.experiments.runner import estimate  # noqa: E402
from isacnet.params import MengParams, SongParams  # noqa: E402
from isacnet.rng import block_rng  # noqa: E402
from isacnet.simulation.meng import MengCrlbKernel  # noqa: E402
from isacnet.simulation.song import SongKernel  # noqa: E402


def kernels(make, n: int) -> dict:
    out = {}
    for backend in ("numpy", "numba", "jax"):
        if not backends.available(backend):
            print(f"({backend} not installed: skipped)")
            continue
        for dtype in ("float64", "float32") if backend != "numpy" else ("float64",):
            k = make(backend, dtype)
            k(block_rng(0, 0, 0), BLOCK)  # compile / warm up, both block sizes used below
            k(block_rng(0, 0, 1), n % BLOCK or BLOCK)
            out[f"{backend} {dtype}" if backend != "numpy" else "numpy"] = k
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", type=int, default=100_000)
    ap.add_argument("--loop-layouts", type=int, default=500)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    n, nl = a.layouts, a.loop_layouts

    sp = SongParams()
    ks = kernels(lambda b, d: SongKernel(sp, k_nearest=64, backend=b, dtype=d), n)
    methods = {
        "(a) per-layout loop, numpy pairs": (lambda: song_loop(sp, nl, 64, 1), nl),
        "(b) random numbers alone (numpy)": (lambda: rng_only(n, 64, 2, processes=2), n),
    }
    for name, k in ks.items():
        methods[f"(c) kernel, {name}"] = (lambda k=k: blocks(k, n, 3), n)
    for name, k in ks.items():
        methods[f"(d) estimate(), {name}"] = (lambda k=k: estimate(k, n, 4), n)
    report("Song CRLB, K = 64 TXs + 64 RXs per layout", measure(methods, a.repeat), "(b) random numbers alone (numpy)")

    mp = MengParams()
    km = kernels(lambda b, d: MengCrlbKernel(mp, 16, backend=b, dtype=d), 4 * n)
    methods = {
        "(a) per-layout loop, numpy pairs": (lambda: meng_loop(mp, nl, 16, 1), nl),
        "(b) random numbers alone (numpy)": (lambda: rng_only(4 * n, 16, 2), 4 * n),
    }
    for name, k in km.items():
        methods[f"(c) kernel, {name}"] = (lambda k=k: blocks(k, 4 * n, 3), 4 * n)
    for name, k in km.items():
        methods[f"(d) estimate(), {name}"] = (lambda k=k: estimate(k, 4 * n, 4), 4 * n)
    report("Meng CRLB, N = 16 BSs per layout", measure(methods, a.repeat), "(b) random numbers alone (numpy)")


if __name__ == "__main__":
    main()
