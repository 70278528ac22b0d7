"""Peak memory of a long Monte Carlo run: set by the chunk size, not by the number of layouts.

    python benchmarks/bench_memory.py [--layouts 1000000000] [--workers 2] [--backend numba]

Runs ``isacnet run`` on a one-point spec (Meng CRLB, N = 16 BSs, the default parameters) in a
fresh output folder, and samples every 0.2 s the memory of the whole process tree (the CLI and
its worker processes): the sum of RSS (pages shared after fork counted once per process, an
upper bound) and of PSS (shared pages split between the processes that map them). Prints the
peaks, the wall time, and the tree's memory at every tenth of the run, which shows whether it
grows with the number of layouts done. Needs psutil.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SPEC = """\
[figure]
id = "memory-check"
title = "Meng CRLB at N = 16: memory of a long run"
model = "meng-sensing"

[params]

[sweep]
dim = "n_bs"
parameters = ["n_bs"]
values = [16]
label = "cooperating BSs N"
units = ""

[monte_carlo]
n_layouts = {n}
quick_n_layouts = 4096
seed = 7
backend = "{backend}"
"""


def watch(cmd: list[str], every: float = 0.2) -> dict:
    import psutil

    p = subprocess.Popen(cmd)
    root = psutil.Process(p.pid)
    t0 = time.perf_counter()
    samples: list[tuple[float, int, int, int]] = []
    while p.poll() is None:
        try:
            procs = [root, *root.children(recursive=True)]
            rss = sum(q.memory_info().rss for q in procs)
            pss = sum(q.memory_full_info().pss for q in procs)
        except psutil.Error:  # a process ended between listing and reading
            continue
        samples.append((time.perf_counter() - t0, len(procs), rss >> 20, pss >> 20))
        time.sleep(every)
    wall = time.perf_counter() - t0
    tenths = [samples[round(i * (len(samples) - 1) / 10)] for i in range(11)] if samples else []
    return {
        "returncode": p.returncode,
        "wall_s": round(wall, 1),
        "peak_rss_mib": max((s[2] for s in samples), default=0),
        "peak_pss_mib": max((s[3] for s in samples), default=0),
        "every_tenth (s, processes, rss MiB, pss MiB)": [(round(t, 1), n, r, q) for t, n, r, q in tenths],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", type=int, default=1_000_000_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--backend", default="numba", choices=["numpy", "numba", "jax"])
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        spec = Path(tmp) / "memory-check.toml"
        spec.write_text(SPEC.format(n=a.layouts, backend=a.backend))
        cmd = [sys.executable, "-m", "isacnet", "run", str(spec), "--out", str(Path(tmp) / "out"),
               "--workers", str(a.workers), "--no-progress"]  # fmt: skip
        res = watch(cmd)
        chunks = Path(tmp) / "out" / ".isacnet-chunks"
        res["chunk_store_mib"] = round(sum(f.stat().st_size for f in chunks.rglob("*") if f.is_file()) / 2**20, 1)
    if res["returncode"] != 0:
        raise SystemExit(f"isacnet run failed (exit {res['returncode']})")
    tenths = res.pop("every_tenth (s, processes, rss MiB, pss MiB)")
    print(json.dumps({"layouts": a.layouts, "workers": a.workers, "backend": a.backend} | res))
    print("every tenth of the run (s, processes, rss MiB, pss MiB):", tenths)


if __name__ == "__main__":
    main()
