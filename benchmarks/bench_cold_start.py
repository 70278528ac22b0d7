"""Cold start of the numba backend: the first run on a new machine against a warm one.

    python benchmarks/bench_cold_start.py [--figures song-fig1a meng-fig2 meng-fig4-mu1]
                                          [--dtype float64] [--repeat 1] [--src PATH]

Runs ``isacnet reproduce FIGURES --quick --backend numba --workers 1`` in a fresh subprocess,
three times, with ``NUMBA_CACHE_DIR`` pointing at a new empty temporary folder:

1. *cold*: nothing is cached, every compiled function the run uses is compiled (what the first
   run on a new machine pays);
2. *warm*: the same folder, now holding numba's on-disk cache: the compiled code is loaded;
3. *no cache*: numba may not write anywhere (``NUMBA_CACHE_LOCATOR_CLASSES`` restricted to the
   user-provided folder, which cannot be created): the backend falls back to compiling in memory
   (:func:`isacnet.backends._numba_random.cache_available`), as every run would without a cache.

Prints the wall and CPU times (CPU: user + system of the subprocess, steadier than wall time when
other jobs share the cores), the extra cost of the cold run (cold - warm, the aim is at most 15 s)
and the ratios to the warm run, and checks that the three runs wrote the same numbers
(``compare_datasets.py``). Wall time of a whole subprocess (interpreter start, imports, the run,
writing the files): on a shared machine run it when it is quiet, or take the best of
``--repeat``.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(figures: list[str], dtype: str, out: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall, CPU) time [s] of one ``isacnet reproduce`` subprocess (CPU: its user + system time,
    steadier than wall time on a shared machine)."""
    cmd = [
        sys.executable,
        "-m",
        "isacnet",
        "reproduce",
        *figures,
        "--quick",
        "--backend",
        "numba",
        "--dtype",
        dtype,
        "--workers",
        "1",
        "--no-progress",
        "--out",
        str(out),
    ]
    r0, t0 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    r1, t1 = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
    return t1 - t0, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


def _best(a: tuple[float, float], b: tuple[float, float]) -> tuple[float, float]:
    return (min(a[0], b[0]), min(a[1], b[1]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--figures", nargs="+", default=["song-fig1a", "meng-fig2", "meng-fig4-mu1"])
    ap.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    ap.add_argument("--repeat", type=int, default=1, help="rounds; the best time of each kind is shown")
    ap.add_argument("--src", default=str(ROOT / "src"), help="isacnet sources to run (an older checkout's src)")
    a = ap.parse_args()
    base = dict(os.environ)
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [a.src, base.get("PYTHONPATH", "")]))
    inf = (float("inf"), float("inf"))
    best = {"cold": inf, "warm": inf, "no cache": inf}
    with tempfile.TemporaryDirectory(prefix="isacnet-cold-") as tmp:
        tmp_path = Path(tmp)
        for r in range(a.repeat):
            cache = tmp_path / f"cache{r}"
            cache.mkdir()
            env = {**base, "NUMBA_CACHE_DIR": str(cache)}
            best["cold"] = _best(best["cold"], run(a.figures, a.dtype, tmp_path / f"cold{r}", env))
            best["warm"] = _best(best["warm"], run(a.figures, a.dtype, tmp_path / f"warm{r}", env))
            blocker = tmp_path / "a-file"  # a cache folder below a file cannot be made
            blocker.write_text("")
            none = {
                **base,
                "NUMBA_CACHE_DIR": str(blocker / "cache"),
                "NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator",
            }
            try:
                best["no cache"] = _best(best["no cache"], run(a.figures, a.dtype, tmp_path / f"none{r}", none))
            except subprocess.CalledProcessError:  # before 0.3.1: the backend did not import
                best["no cache"] = (math.nan, math.nan)
        compare = [sys.executable, str(ROOT / "benchmarks" / "compare_datasets.py")]
        same = all(
            subprocess.run(
                [*compare, str(tmp_path / "cold0"), str(tmp_path / other)], stdout=subprocess.DEVNULL
            ).returncode
            == 0
            for other in ("warm0", "none0")
            if (tmp_path / other / "index.html").exists() or other == "warm0"
        )
    print(f"sources: {a.src}")
    print(f"isacnet reproduce {' '.join(a.figures)} --quick --backend numba --dtype {a.dtype} --workers 1")
    print(f"{'run':<12}{'wall s':>10}{'/ warm':>10}{'CPU s':>10}{'/ warm':>10}")
    (ww, wc) = best["warm"]
    for name, (w, c) in best.items():
        print(f"{name:<12}{w:>10.2f}{w / ww:>10.2f}{c:>10.2f}{c / wc:>10.2f}")
    (cw, cc) = best["cold"]
    print(f"cold start cost (cold - warm): {cw - ww:.2f} s wall, {cc - wc:.2f} s CPU (aim: <= 15 s)")
    if math.isnan(best["no cache"][0]):
        print("no cache: the run failed (the numba backend could not be imported without a cache folder)")
    print(f"same numbers in the runs: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
