"""Scaling of the chunked estimator: process pool versus a Dask LocalCluster, and Dask's overhead.

    python benchmarks/bench_scaling.py [--layouts 131072] [--k 64] [--repeat 2] [--workers 1 2 4]

Every timing is relative to the same kernel run serially in this process (SerialExecutor), with
the same layouts, seed and block size, runs interleaved with the executor's (so a change of load
on a shared machine hits both); every run also checks that the numbers are identical.

(1) Wall time against workers (``--workers``, default 1 2) for the process pool and a LocalCluster (started once,
    outside the timing; its start-up time is reported separately), ``--layouts`` Song layouts;
    with more than 2 workers, also the speed-up of a LocalCluster of that many workers over the
    process pool of 2 (issue 18's aim: about 2x for 4 workers, where the cores exist).
(2) Per-chunk overhead: many chunks of one 1-layout block each, one worker:
    (wall - serial wall) / chunks, and the same in CPU time (this process, where the client and
    the LocalCluster's scheduler run, plus the worker processes; read from /proc, Linux), which
    a loaded machine disturbs much less than wall time.
(3) Dask's overhead against chunk size, one worker (so no parallel speed-up hides it):
    executor / serial - 1 in wall and CPU time for chunks of 256 ... 65536 layouts; the smallest
    chunk with overhead below 5% is reported, beside the size predicted from (2): overhead per
    chunk / (0.05 x serial time per layout).

Keep the total under a minute on two cores (the defaults took ~50 s on a shared 2-core machine).
"""

from __future__ import annotations

import argparse
import math
import os
import time

from isacnet import SongParams
from isacnet.simulation.engine import Job, SerialExecutor, run_jobs
from isacnet.simulation.executors import DaskExecutor, ProcessExecutor
from isacnet.simulation.song import SongKernel

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_cpu(pid: int) -> float:
    """utime + stime [s] of process ``pid`` (Linux /proc; NaN elsewhere)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK
    except (OSError, IndexError, ValueError):
        return math.nan


def _worker_pids(executor) -> list[int]:
    if isinstance(executor, DaskExecutor):
        return list(executor.client.run(os.getpid).values())
    if isinstance(executor, ProcessExecutor) and executor._pool is not None:
        return list(executor._pool._processes)  # private, fine for a benchmark
    return []


def _run(jobs, executor, **kw) -> tuple[float, float]:
    """Wall and CPU time [s] (this process + the executor's workers) of one run."""
    pids = _worker_pids(executor)
    c0 = time.process_time() + sum(_proc_cpu(p) for p in pids)
    t0 = time.perf_counter()
    run_jobs(jobs, executor, **kw)
    wall = time.perf_counter() - t0
    return wall, time.process_time() + sum(_proc_cpu(p) for p in pids) - c0


def _vs_serial(jobs, executor, repeat: int, **kw) -> dict[str, float]:
    """Best wall and CPU times of the serial reference and of ``executor`` (interleaved runs)."""
    serial = SerialExecutor()
    if run_jobs(jobs, executor, **kw) != run_jobs(jobs, serial, **kw):  # also the warm-up
        raise AssertionError(f"{executor!r}: numbers differ from the serial run")
    best = dict.fromkeys(("wall_ser", "cpu_ser", "wall", "cpu"), math.inf)
    for _ in range(repeat):
        w, c = _run(jobs, serial, **kw)
        best["wall_ser"], best["cpu_ser"] = min(best["wall_ser"], w), min(best["cpu_ser"], c)
        w, c = _run(jobs, executor, **kw)
        best["wall"], best["cpu"] = min(best["wall"], w), min(best["cpu"], c)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", type=int, default=1 << 17)
    ap.add_argument("--k", type=int, default=64, help="TXs and RXs sampled per layout")
    ap.add_argument("--repeat", type=int, default=2, help="best of this many runs")
    ap.add_argument("--tiny-chunks", type=int, default=200, help="chunks in the per-chunk overhead test")
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts of part (1)")
    a = ap.parse_args()
    kernel = SongKernel(SongParams(), k_nearest=a.k)
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")

    # (1) wall time against workers
    jobs = [Job(kernel, a.layouts, 1, block_size=4096)]
    print(f"(1) {a.layouts} layouts, K = {a.k}, blocks of 4096, default chunking")
    print(f"{'executor':<20}{'workers':>8}{'serial [s]':>12}{'wall [s]':>10}{'speed-up':>10}{'start [s]':>11}")
    t_layout = math.inf  # serial CPU time of one layout [s]
    walls = {}
    for workers in a.workers:
        for name, ex in (
            ("process pool", ProcessExecutor(workers)),
            ("Dask LocalCluster", DaskExecutor(n_workers=workers)),
        ):
            t0 = time.perf_counter()
            with ex:
                t_start = time.perf_counter() - t0
                r = _vs_serial(jobs, ex, a.repeat)
            t_layout = min(t_layout, r["cpu_ser"] / a.layouts)
            speed = r["wall_ser"] / r["wall"]
            walls[name, workers] = r["wall"]
            print(f"{name:<20}{workers:>8}{r['wall_ser']:>12.3f}{r['wall']:>10.3f}{speed:>10.2f}{t_start:>11.2f}")

    for w in a.workers:
        if w > 2 and ("process pool", 2) in walls:
            print(
                f"-> Dask LocalCluster with {w} workers against the process pool with 2: "
                f"{walls['process pool', 2] / walls['Dask LocalCluster', w]:.2f}x faster (ideal {w / 2:g}x)"
            )

    # (2) per-chunk overhead: 1-layout blocks, one block per chunk, one worker
    tiny = [Job(kernel, a.tiny_chunks, 2, block_size=1)]
    print(f"\n(2) per-chunk overhead, {a.tiny_chunks} chunks of one 1-layout block, one worker [ms per chunk]")
    print(f"{'executor':<20}{'wall':>8}{'CPU':>8}{'serial wall':>13}")
    per_chunk = {}
    for name, ex in (("process pool", ProcessExecutor(1)), ("Dask LocalCluster", DaskExecutor(n_workers=1))):
        with ex:
            r = _vs_serial(tiny, ex, a.repeat, chunk_blocks=1)
        w, c = ((r[k] - r[f"{k}_ser"]) / a.tiny_chunks for k in ("wall", "cpu"))
        per_chunk[name] = (w, c)
        print(f"{name:<20}{1e3 * w:>8.2f}{1e3 * c:>8.2f}{1e3 * r['wall_ser'] / a.tiny_chunks:>13.2f}")
    w, c = per_chunk["Dask LocalCluster"]
    print(
        f"-> Dask overhead < 5% predicted above {w / (0.05 * t_layout):,.0f} layouts per chunk (wall), "
        f"{c / (0.05 * t_layout):,.0f} (CPU); serial cost {1e6 * t_layout:.2f} us per layout"
    )

    # (3) Dask overhead against chunk size, one worker
    n3 = min(a.layouts, 1 << 16)
    print(f"\n(3) Dask overhead against chunk size, one worker, {n3} layouts")
    print(
        f"{'chunk [layouts]':>16}{'block':>7}{'blocks/chunk':>14}{'serial [s]':>12}{'Dask [s]':>10}"
        f"{'wall over':>11}{'CPU over':>10}"
    )
    rows = []
    with DaskExecutor(n_workers=1) as ex:
        for block, cb in ((256, 1), (1024, 1), (4096, 1), (4096, 4), (4096, 16)):
            r = _vs_serial([Job(kernel, n3, 3, block_size=block)], ex, a.repeat, chunk_blocks=cb)
            ow, oc = r["wall"] / r["wall_ser"] - 1.0, r["cpu"] / r["cpu_ser"] - 1.0
            rows.append((block * cb, ow, oc))
            print(f"{block * cb:>16}{block:>7}{cb:>14}{r['wall_ser']:>12.3f}{r['wall']:>10.3f}{ow:>11.1%}{oc:>10.1%}")
    for key, col in (("wall", 1), ("CPU", 2)):
        ok = [size for i, (size, *_) in enumerate(rows) if all(r[col] < 0.05 for r in rows[i:])]
        print(
            f"smallest chunk from which Dask's {key} overhead stays < 5%: "
            + (f"{ok[0]} layouts" if ok else "none measured")
        )


if __name__ == "__main__":
    main()
