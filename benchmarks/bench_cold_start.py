"""Cold start of the numba backend: the first run on a new machine against a warm one.

    python benchmarks/bench_cold_start.py [--figures song-fig1a meng-fig2 meng-fig4-mu1]
                                          [--dtype float64] [--repeat 1]

Runs ``isacnet reproduce FIGURES --quick --backend numba --workers 1`` in a fresh subprocess,
three times, with ``NUMBA_CACHE_DIR`` pointing at a new empty temporary folder:

1. *cold*: nothing is cached, every compiled function the run uses is compiled (what the first
   run on a new machine pays);
2. *warm*: the same folder, now holding numba's on-disk cache: the compiled code is loaded;
3. *no cache*: numba may not write anywhere (``NUMBA_CACHE_LOCATOR_CLASSES`` restricted to the
   user-provided folder, which cannot be created): the backend falls back to compiling in memory
   (:func:`isacnet.backends._numba_random.cache_available`), as every run would without a cache.

Prints the wall times, the extra cost of the cold run (cold - warm, the aim is at most 15 s) and
the ratio cold / warm, and checks that the three runs wrote the same numbers
(``compare_datasets.py``). Wall time of a whole subprocess (interpreter start, imports, the run,
writing the files): on a shared machine run it when it is quiet, or take the best of
``--repeat``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(figures: list[str], dtype: str, out: Path, env: dict[str, str]) -> float:
    """Wall time [s] of one ``isacnet reproduce`` subprocess."""
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
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--figures", nargs="+", default=["song-fig1a", "meng-fig2", "meng-fig4-mu1"])
    ap.add_argument("--dtype", default="float64", choices=("float64", "float32"))
    ap.add_argument("--repeat", type=int, default=1, help="rounds; the best time of each kind is shown")
    a = ap.parse_args()
    base = dict(os.environ)
    base["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), base.get("PYTHONPATH", "")]))
    best = {"cold": float("inf"), "warm": float("inf"), "no cache": float("inf")}
    with tempfile.TemporaryDirectory(prefix="isacnet-cold-") as tmp:
        tmp_path = Path(tmp)
        for r in range(a.repeat):
            cache = tmp_path / f"cache{r}"
            cache.mkdir()
            env = {**base, "NUMBA_CACHE_DIR": str(cache)}
            best["cold"] = min(best["cold"], run(a.figures, a.dtype, tmp_path / f"cold{r}", env))
            best["warm"] = min(best["warm"], run(a.figures, a.dtype, tmp_path / f"warm{r}", env))
            blocker = tmp_path / "a-file"  # a cache folder below a file cannot be made
            blocker.write_text("")
            none = {
                **base,
                "NUMBA_CACHE_DIR": str(blocker / "cache"),
                "NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator",
            }
            best["no cache"] = min(best["no cache"], run(a.figures, a.dtype, tmp_path / f"none{r}", none))
        compare = [sys.executable, str(ROOT / "benchmarks" / "compare_datasets.py")]
        same = all(
            subprocess.run(
                [*compare, str(tmp_path / "cold0"), str(tmp_path / other)], stdout=subprocess.DEVNULL
            ).returncode
            == 0
            for other in ("warm0", "none0")
        )
    print(f"isacnet reproduce {' '.join(a.figures)} --quick --backend numba --dtype {a.dtype} --workers 1")
    print(f"{'run':<28}{'wall s':>10}{'/ warm':>10}")
    for name, t in best.items():
        print(f"{name:<28}{t:>10.2f}{t / best['warm']:>10.2f}")
    print(f"cold start cost (cold - warm): {best['cold'] - best['warm']:.2f} s (aim: <= 15 s)")
    print(f"same numbers in the three runs: {'yes' if same else 'NO'}")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
