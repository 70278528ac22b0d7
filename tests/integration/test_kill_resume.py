"""Kill-and-resume: `isacnet run CONFIG` SIGKILLed at random moments, restarted, equals an
uninterrupted run bit for bit.

Each trial starts the command as a subprocess whose storage is slowed down (a pause in the
middle of every chunk write and before every rename, so that kills land inside writes, not only
between them), kills it (and its process group) with SIGKILL at a random moment of one of four
kinds, checks what the killed run left on disk, sometimes kills the restarted run too, and
finally reruns the same command to completion. Then:

* every file under a data name (``chunk-*.json``, a finished point's record ``<key>.json``,
  ``<id>.nc``/``.csv``) is complete: a torn write is only ever a ``.tmp`` file, which is never read;
* chunks stored before the restart are untouched (or, once their point is finished, replaced by
  the point's record) and the restart stored only the missing blocks (every block of every
  unfinished point exactly once over all chunk files; a finished point's record is not redone);
* the netCDF values and the CSV bytes equal those of an uninterrupted run;
* a changed seed or parameter in the same output folder reuses no chunk.

``SLOW_TRIALS`` trials run under ``-m slow``; ``FAST_TRIALS`` in the default set. The trial
kinds and delays come from a fixed seed.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from isacnet.cli import CHUNK_DIR, run_cli
from isacnet.experiments.store import load_dataset

FAST_TRIALS = 2
SLOW_TRIALS = 24
WRITE_PAUSE_S = 0.03  # inside every chunk write and before every rename, in the killed runs

CONFIG = """\
[figure]
id = "kr"
model = "song"

[params]
gamma = 3.0

[sweep]
parameters = ["n_rx_antennas"]
values = [1, 4]

[monte_carlo]
n_layouts = 3000
seed = 11
block_size = 100
k_nearest = 4
"""
N_POINTS, N_BLOCKS = 2, 30

# The killed process: the real command line, with chunk writes split in two halves around a
# pause and every rename delayed (monkeypatched in that process only).
BOOTSTRAP = f"""
import os, sys, time
pause = {WRITE_PAUSE_S}
_fdopen, _replace = os.fdopen, os.replace

class _HalfWrite:
    def __init__(self, f):
        self.f = f
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return self.f.__exit__(*exc)
    def write(self, text):
        h = len(text) // 2
        self.f.write(text[:h])
        self.f.flush()
        time.sleep(pause)
        return self.f.write(text[h:])
    def __getattr__(self, name):
        return getattr(self.f, name)

def _slow_replace(a, b):
    time.sleep(pause)
    return _replace(a, b)

os.fdopen = lambda *a, **k: _HalfWrite(_fdopen(*a, **k))
os.replace = _slow_replace
from isacnet.cli import run_cli
sys.exit(run_cli(sys.argv[1:]))
"""

KINDS = ("chunk-boundary", "mid-chunk-write", "random-time", "final-write")


def _args(cfg: Path, out: Path, *extra: str) -> list[str]:
    return ["run", str(cfg), "--out", str(out), "--workers", "1", "--no-progress", *extra]


def _chunk_files(out: Path) -> list[Path]:
    """The chunk files now; a point's folder may vanish mid-listing (the run consolidates a
    finished point into its record), so a listing that races with that is simply retried."""
    for _ in range(100):
        try:
            return sorted((out / CHUNK_DIR).glob("*/chunk-*.json"))
        except FileNotFoundError:
            continue
    return sorted((out / CHUNK_DIR).glob("*/chunk-*.json"))


def _records(out: Path) -> dict[str, Path]:
    """Finished points' records, by job key (the point's chunks are removed once it is recorded)."""
    return {f.stem: f for f in sorted((out / CHUNK_DIR).glob("*.json"))}


def _unchanged_or_recorded(out: Path, files: dict[Path, bytes]) -> None:
    """Stored chunks are never rewritten; one may be gone only once its point is recorded."""
    records = _records(out)
    for f, content in files.items():
        if f.exists():
            assert f.read_bytes() == content, f
        else:
            assert f.parent.name in records, f


def _temps(out: Path) -> list[Path]:
    return sorted(out.glob(".*.tmp")) + sorted((out / CHUNK_DIR).glob("*/.chunk-*.tmp"))


def _wait(pred, proc, timeout: float = 30.0) -> bool:
    t_end = time.monotonic() + timeout
    while time.monotonic() < t_end:
        if pred():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.002)
    return False


def _kill_once(cfg: Path, out: Path, kind: str, rng: np.random.Generator) -> dict:
    """Start the command, SIGKILL its process group at a moment of ``kind``; what happened."""
    proc = subprocess.Popen(
        [sys.executable, "-c", BOOTSTRAP, *_args(cfg, out)],
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    before = len(_chunk_files(out))
    if kind == "chunk-boundary":  # right after the k-th new chunk file appears
        k = before + int(rng.integers(1, 12))
        _wait(lambda: len(_chunk_files(out)) >= k, proc)
    elif kind == "mid-chunk-write":  # while a chunk's temporary file exists (half written or not renamed)
        k = before + int(rng.integers(0, 10))
        _wait(lambda: len(_chunk_files(out)) >= k and any((out / CHUNK_DIR).glob("*/.chunk-*.tmp")), proc)
    elif kind == "final-write":  # while a result file is being written
        _wait(lambda: any(out.glob(".kr.*.tmp")), proc)
    else:  # anywhere: imports, chunks, result files, or after the end
        time.sleep(float(rng.uniform(0.2, 3.0)))
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    rc = proc.wait()
    return {"kind": kind, "killed": rc == -signal.SIGKILL, "temps": len(_temps(out))}


def _check_data_files_complete(out: Path, ref: Path) -> None:
    """Nothing under a data name is torn: chunks parse and hold whole blocks; results are final."""
    for f in _chunk_files(out):
        doc = json.loads(f.read_text(encoding="utf-8"))
        first, n = (int(x) for x in f.stem.split("-")[1:])
        assert doc["first_block"] == first and len(doc["blocks"]) == n, f
        for blk in doc["blocks"]:
            assert len(blk) == len(doc["quantities"]) and all(len(v) == 6 for v in blk), f
    for f in _records(out).values():
        doc = json.loads(f.read_text(encoding="utf-8"))
        assert doc["prefixes"][-1][0] == N_BLOCKS and len(doc["sha256"]) == 64, f
    if (out / "kr.csv").exists():  # renamed into place only when complete
        assert (out / "kr.csv").read_bytes() == (ref / "kr.csv").read_bytes()
    if (out / "kr.nc").exists():  # (its attrs hold the creation time: compare the values)
        _assert_same_values(load_dataset(out / "kr.nc"), load_dataset(ref / "kr.nc"))


def _blocks_by_job(out: Path) -> dict[str, list[int]]:
    cover: dict[str, list[int]] = {}
    for f in _chunk_files(out):
        first, n = (int(x) for x in f.stem.split("-")[1:])
        cover.setdefault(f.parent.name, []).extend(range(first, first + n))
    return cover


def _assert_same_values(a, b) -> None:
    assert set(a.data_vars) == set(b.data_vars) and set(a.coords) == set(b.coords)
    for v in list(a.data_vars) + list(a.coords):
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)  # NaN == NaN, else exact
        assert a[v].dtype == b[v].dtype, v


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run (in this process: the same code as the command line)."""
    d = tmp_path_factory.mktemp("kr-ref")
    cfg = d / "kr.toml"
    cfg.write_text(CONFIG)
    assert run_cli(_args(cfg, d / "out")) == 0
    return cfg, d / "out"


def _trial(i: int, tmp: Path, reference) -> dict:
    cfg, ref = reference
    rng = np.random.default_rng([2024, i])
    out = tmp / f"trial{i}"
    kinds = [KINDS[i % len(KINDS)]] + ([str(rng.choice(KINDS))] if rng.random() < 0.35 else [])
    log = []
    for kind in kinds:  # one or two killed runs, each resuming the previous one
        snapshot = {f: f.read_bytes() for f in _chunk_files(out)}
        log.append(_kill_once(cfg, out, kind, rng))
        _check_data_files_complete(out, ref)
        _unchanged_or_recorded(out, snapshot)  # a later run never rewrites a stored chunk
    stored = {f: f.read_bytes() for f in _chunk_files(out)}
    recorded = set(_records(out))
    # the same command, to completion; --keep-chunks so that what it computed can be counted
    assert run_cli(_args(cfg, out, "--keep-chunks")) == 0
    _unchanged_or_recorded(out, stored)
    cover = _blocks_by_job(out)
    assert len(_records(out)) == N_POINTS
    for key in _records(out):
        if key in recorded:  # finished before the restart: nothing of it recomputed
            assert {f for f in _chunk_files(out) if f.parent.name == key} <= set(stored)
        else:  # every block exactly once: only the missing ones were redone
            assert sorted(cover.get(key, [])) == list(range(N_BLOCKS)), key
    _assert_same_values(load_dataset(out / "kr.nc"), load_dataset(ref / "kr.nc"))
    assert (out / "kr.csv").read_bytes() == (ref / "kr.csv").read_bytes()
    for t in _temps(out):  # left-overs of the kills: never under a data name
        assert t.name.startswith(".") and t.suffix == ".tmp"
    return {"kills": log, "stored_before_restart": sum(int(f.stem.split("-")[2]) for f in stored
                                                       if f.parent.name not in recorded) + N_BLOCKS * len(recorded),
            "points_recorded_before_restart": len(recorded)}


def _report(trials: list[dict], wall: float, path: Path) -> dict:
    kills = [k for t in trials for k in t["kills"]]
    doc = {
        "trials": len(trials),
        "killed_runs": len(kills),
        "killed_by_kind": {k: sum(x["kind"] == k and x["killed"] for x in kills) for k in KINDS},
        "kills_leaving_a_temp_file": sum(x["temps"] > 0 for x in kills),
        "blocks_stored_before_restart": [t["stored_before_restart"] for t in trials],
        "points_recorded_before_restart": [t["points_recorded_before_restart"] for t in trials],
        "wall_s": round(wall, 1),
    }
    target = os.environ.get("ISACNET_KILL_REPORT") or str(path / "kill_resume_report.json")
    Path(target).write_text(json.dumps(doc, indent=1))
    return doc


def test_kill_and_resume_fast(tmp_path, reference):
    t0 = time.perf_counter()
    trials = [_trial(i, tmp_path, reference) for i in (0, 1)]  # chunk boundary, mid chunk write
    doc = _report(trials, time.perf_counter() - t0, tmp_path)
    assert doc["killed_runs"] >= FAST_TRIALS


@pytest.mark.slow
def test_kill_and_resume_many(tmp_path, reference):
    """SLOW_TRIALS trials, two at a time (the killed runs are subprocesses)."""
    from concurrent.futures import ThreadPoolExecutor

    t0 = time.perf_counter()
    with ThreadPoolExecutor(2) as pool:
        trials = list(pool.map(lambda i: _trial(i, tmp_path, reference), range(SLOW_TRIALS)))
    doc = _report(trials, time.perf_counter() - t0, tmp_path)
    assert doc["trials"] >= 20
    # the kinds of kill really happened: mid-write kills left a temporary file behind
    assert doc["killed_by_kind"]["mid-chunk-write"] >= 3 and doc["kills_leaving_a_temp_file"] >= 3
    assert doc["killed_by_kind"]["chunk-boundary"] >= 3


def test_changed_config_reuses_no_chunk(tmp_path, reference):
    """Same output folder, another seed / parameter: new chunk folders, numbers of a fresh run."""
    cfg, ref = reference
    out = tmp_path / "shared"
    assert run_cli(_args(cfg, out)) == 0
    first = {f: f.read_bytes() for f in (out / CHUNK_DIR).rglob("*.json")}  # the finished points' records
    assert len(first) == N_POINTS and not _chunk_files(out)  # (chunks consolidated)
    for change, extra in ((None, ("--seed", "12")), (("gamma = 3.0", "gamma = 3.5"), ())):
        c = tmp_path / f"cfg{len(extra)}.toml"
        c.write_text(CONFIG.replace(*change) if change else CONFIG)
        dirs_before = {p.name for p in (out / CHUNK_DIR).iterdir()}
        assert run_cli(_args(c, out, *extra)) == 0
        new_dirs = {p.name for p in (out / CHUNK_DIR).iterdir()} - dirs_before
        assert len(new_dirs) == N_POINTS  # all new keys: nothing reused
        if extra:  # the numbers are those of a fresh run
            assert run_cli(_args(c, tmp_path / "fresh", *extra)) == 0
            _assert_same_values(load_dataset(out / "kr.nc"), load_dataset(tmp_path / "fresh" / "kr.nc"))
    for f, content in first.items():
        assert f.read_bytes() == content
    # and the original config still resumes from its own chunks: nothing to compute, same numbers
    assert run_cli(_args(cfg, out)) == 0
    _assert_same_values(load_dataset(out / "kr.nc"), load_dataset(ref / "kr.nc"))


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_pool_workers_exit_when_parent_is_killed(tmp_path):
    cfg = tmp_path / "big.toml"
    cfg.write_text(CONFIG.replace("n_layouts = 3000", "n_layouts = 40000000"))
    proc = subprocess.Popen(
        [sys.executable, "-m", "isacnet.cli", *_args(cfg, tmp_path / "out")[:-3], "--workers", "2", "--no-progress"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    kids: list[int] = []
    try:
        assert _wait(lambda: len(_children(proc.pid)) >= 2, proc, timeout=60)
        kids = _children(proc.pid)
        os.kill(proc.pid, signal.SIGKILL)  # the parent only, as `kill -9 PID` does
        proc.wait()
        t_end = time.monotonic() + 15
        while time.monotonic() < t_end and any(Path(f"/proc/{k}").exists() for k in kids):
            time.sleep(0.1)
        survivors = [k for k in kids if Path(f"/proc/{k}").exists()]
        assert not survivors, f"orphaned pool workers still alive: {survivors}"
    finally:
        for k in kids:  # never leave them behind
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
