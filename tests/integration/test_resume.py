"""Killed runs resume from stored chunks and end with the same numbers, bit for bit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np

from isacnet import SongParams
from isacnet.experiments.chunkstore import ChunkStore, job_key
from isacnet.experiments.store import load_dataset
from isacnet.simulation.engine import Job, run_jobs
from isacnet.simulation.song import SongKernel


def _job(n=20 * 256, seed=3, gamma=2.5):
    return Job(SongKernel(SongParams(gamma=gamma), k_nearest=16), n, seed, point=0, block_size=256)


def test_partial_cache_gives_identical_moments(tmp_path):
    job = _job()
    (ref,) = run_jobs([job], chunk_blocks=3)
    store = ChunkStore(tmp_path, keep_chunks=True)  # (by default a finished job keeps only its record)
    # Pretend a run died after some chunks: store blocks 0-5 and 11-13 only.
    from isacnet.simulation.engine import run_chunk

    store.save(job, 0, run_chunk(job, 0, 6))
    store.save(job, 11, run_chunk(job, 11, 3))
    assert sorted(store.load(job)) == [0, 1, 2, 3, 4, 5, 11, 12, 13]
    (resumed,) = run_jobs([job], chunk_blocks=4, cache=store)
    assert resumed == ref  # dataclass equality: every float identical
    assert sorted(store.load(job)) == list(range(20))


def test_changed_config_never_reuses_chunks(tmp_path):
    a, b, c = _job(), _job(seed=4), _job(gamma=3.0)
    assert len({job_key(a), job_key(b), job_key(c)}) == 3
    store = ChunkStore(tmp_path)
    run_jobs([a], cache=store)
    assert store.load(b) == {} and store.load(c) == {}


def test_corrupt_chunk_file_is_recomputed(tmp_path):
    job = _job()
    store = ChunkStore(tmp_path, keep_chunks=True)
    (ref,) = run_jobs([job], chunk_blocks=5, cache=store)
    files = sorted((tmp_path / job_key(job)).glob("chunk-*.json"))
    files[1].write_text('{"first_block": 5, "blocks": [')  # a torn write
    (tmp_path / f"{job_key(job)}.json").unlink()  # the finished job's record: without it, chunks are read
    assert 5 not in store.load(job)
    (again,) = run_jobs([job], chunk_blocks=5, cache=store)
    assert again == ref


def test_sigkill_then_rerun_equals_uninterrupted(tmp_path):
    args = [sys.executable, "-m", "isacnet.cli", "reproduce", "song-fig1a", "--n-layouts", "100000",
            "--workers", "1", "--no-progress"]
    ref_dir, run_dir = tmp_path / "ref", tmp_path / "run"
    subprocess.run([*args, "--out", str(ref_dir)], check=True, capture_output=True)
    proc = subprocess.Popen([*args, "--out", str(run_dir)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    chunks = run_dir / ".isacnet-chunks"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(chunks.rglob("chunk-*.json"))) < 6:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # chunks stored, or (a point finished meanwhile) consolidated into the point's record
    n_before = len(list(chunks.rglob("chunk-*.json"))) + len(list(chunks.glob("*.json")))
    assert n_before >= 1 and not (run_dir / "song-fig1a.nc").exists()
    subprocess.run([*args, "--out", str(run_dir)], check=True, capture_output=True)
    a, b = load_dataset(ref_dir / "song-fig1a.nc"), load_dataset(run_dir / "song-fig1a.nc")
    for v in a.data_vars:
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)
