"""The JAX kernels on a GPU against the CPU backends: layouts/s, float32 and float64.

    python benchmarks/bench_gpu.py [--gpu-layouts 8388608] [--cpu-layouts 131072] [--repeat 3]

For the Song CRLB kernel (K = 64 TXs + 64 RXs, all four outputs) and the Meng CRLB kernel
(N = 16 BSs, every output), in layouts per second of **wall** time (a GPU's work is not CPU time
of this process), best of ``--repeat`` interleaved rounds, compilation done before timing:

(b)  the random numbers alone, drawn with numpy on one core as the numpy kernels draw them (the
     floor of bench_backends.py);
(c)  ``kernel(block_rng(seed, 0, b), block)`` block after block: numpy and numba (one core each),
     JAX on the CPU (blocks of 4096, as the engine draws them), and JAX on the GPU in blocks of
     4096, 65,536 and 1,048,576 layouts. Every call includes what a user's call includes: the key
     sent to the device, the kernel, and the outputs copied back as numpy arrays.

Two checks print beside the table, so that a fast wrong number cannot pass for a result:

* the same key on the CPU and on the GPU (JAX's threefry gives the same bits on both): the
  largest relative difference of each output, which is rounding only;
* the GPU's mean of each output against the numpy kernel's mean (different streams):
  |difference| / (combined standard error), which must stay below 5.

Without a GPU the GPU rows are skipped with a message (the script then measures only the CPU).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _common import blocks, rng_only  # noqa: E402

from isacnet import backends  # noqa: E402
from isacnet.params import MengParams, SongParams  # noqa: E402
from isacnet.rng import block_rng  # noqa: E402
from isacnet.simulation.meng import MengCrlbKernel  # noqa: E402
from isacnet.simulation.montecarlo import estimate  # noqa: E402
from isacnet.simulation.song import SongKernel  # noqa: E402


def _device(kind: str):
    import jax

    try:
        return jax.devices(kind)[0]
    except RuntimeError:
        return None


def _on(device, f):
    """``f()`` with ``device`` as JAX's default device (no-op for the CPU backends)."""
    if device is None:
        return f()
    import jax

    with jax.default_device(device):
        return f()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gpu-layouts", type=int, default=1 << 23, help="layouts per GPU timing")
    ap.add_argument("--cpu-layouts", type=int, default=1 << 17, help="layouts per CPU timing")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--device", default="gpu", help="JAX platform of the 'GPU' rows ('cpu' tries the script out)")
    a = ap.parse_args()
    if not backends.available("jax"):
        sys.exit("bench_gpu.py needs jax (pip install 'isacnet[gpu]')")
    import jax

    cpu, gpu = _device("cpu"), _device(a.device)
    print(f"jax {jax.__version__}; CPU: {os.cpu_count()} cores; GPU: {gpu.device_kind if gpu else 'none'}")
    if gpu is None:
        print("(no GPU visible to JAX: the GPU rows are skipped)")

    cases = {
        # (make kernel, points per process, processes: TXs and RXs for Song, the BSs for Meng)
        "Song CRLB, K = 64 TXs + 64 RXs": (
            lambda b, d: SongKernel(SongParams(), k_nearest=64, backend=b, dtype=d),
            64,
            2,
        ),
        "Meng CRLB, N = 16 BSs": (lambda b, d: MengCrlbKernel(MengParams(), 16, backend=b, dtype=d), 16, 1),
    }
    for title, (make, k, procs) in cases.items():
        nc, ng = a.cpu_layouts, a.gpu_layouts
        floor_name = "(b) random numbers alone (numpy, 1 core)"
        rows: dict[str, tuple] = {floor_name: (lambda nc=nc, k=k, p=procs: rng_only(nc, k, 2, p), nc)}
        knp = make("numpy", "float64")
        rows["(c) numpy, 1 core"] = (lambda nc=nc, kk=knp: blocks(kk, nc, 1, 4096), nc)
        gpu_kernels = {}
        for dt in ("float64", "float32"):
            if backends.available("numba"):
                kk = make("numba", dt)
                kk(block_rng(0, 0, 0), 4096)
                rows[f"(c) numba {dt}, 1 core"] = (lambda nc=nc, kk=kk: blocks(kk, nc, 1, 4096), nc)
            kk = make("jax", dt)
            _on(cpu, lambda kk=kk: kk(block_rng(0, 0, 0), 4096))
            rows[f"(c) jax {dt}, CPU, blocks of 4096"] = (
                lambda nc=nc, kk=kk: _on(cpu, lambda: blocks(kk, nc // 4, 1, 4096)),
                nc // 4,
            )
            if gpu is not None:
                kk = make("jax", dt)
                gpu_kernels[dt] = kk
                for block in (4096, 1 << 16, 1 << 20):
                    n = min(ng, 64 * block) if block == 4096 else ng
                    _on(gpu, lambda kk=kk, block=block: kk(block_rng(0, 0, 0), block))  # compile
                    rows[f"(c) jax {dt}, GPU, blocks of {block}"] = (
                        lambda kk=kk, block=block, n=n: _on(gpu, lambda: blocks(kk, n, 1, block)),
                        n,
                    )
        best = dict.fromkeys(rows, math.inf)
        for _ in range(a.repeat):
            for name, (f, n) in rows.items():
                t0 = time.perf_counter()
                f()
                best[name] = min(best[name], (time.perf_counter() - t0) / n)
        floor = best[floor_name]
        base = best["(c) numpy, 1 core"]
        print(f"\n{title}")
        print(f"{'method':<44}{'layouts/s':>16}{'ns/layout':>11}{'/ floor':>9}{'vs numpy':>10}")
        for name, t in best.items():
            print(f"{name:<44}{1 / t:>16,.0f}{1e9 * t:>11.2f}{t / floor:>9.3f}{base / t:>10.1f}")

        if gpu is None:
            continue
        print("checks:")
        ref = estimate(make("numpy", "float64"), 1 << 18, 11)  # the same reference for both dtypes
        for dt, kk in gpu_kernels.items():
            n = 1 << 16
            on_cpu = _on(cpu, lambda kk=kk, n=n: kk(block_rng(7, 0, 0), n))
            on_gpu = _on(gpu, lambda kk=kk, n=n: kk(block_rng(7, 0, 0), n))
            worst = []
            for q, v in on_cpu.items():
                x, y = np.asarray(v, np.float64), np.asarray(on_gpu[q], np.float64)
                both = np.isfinite(x) & np.isfinite(y)
                if not np.array_equal(np.isfinite(x), np.isfinite(y)):
                    worst.append(f"{q}: finite on one device only in {int((np.isfinite(x) != np.isfinite(y)).sum())}")
                    continue
                den = np.maximum(np.abs(x[both]), np.finfo(np.float64).tiny)
                worst.append(f"{q} {np.max(np.abs(x[both] - y[both]) / den):.1e}")
            print(f"  same key, CPU vs GPU, {dt}, {n} layouts, largest relative difference: " + ", ".join(worst))
            got = _on(gpu, lambda kk=kk: estimate(kk, 1 << 22, 12, block_size=1 << 20))
            z = {
                q: abs(got[q].mean - e.mean) / math.hypot(e.stderr, got[q].stderr)
                for q, e in ref.items()
                if e.stderr > 0
            }
            worst_z = max(z.values())
            status = "ok" if worst_z < 5 else "FAILED"
            print(
                f"  GPU {dt} mean (4,194,304 layouts) vs numpy mean (262,144): largest |z| = {worst_z:.2f} "
                f"({max(z, key=z.get)}) {status}"
            )


if __name__ == "__main__":
    main()
