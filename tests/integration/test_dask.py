"""Chunks on a real Dask cluster (LocalCluster, worker processes on 127.0.0.1): bit-identical to
the serial reference, with any chunk size, with early stopping, and after a worker is killed."""

from __future__ import annotations

import gc
import os
import signal
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

distributed = pytest.importorskip("distributed", reason="dask.distributed is not installed (isacnet[distributed])")

from isacnet import ParameterError, SongParams  # noqa: E402
from isacnet.simulation.engine import Job, SerialExecutor, run_jobs  # noqa: E402
from isacnet.simulation.executors import DaskExecutor, make_executor  # noqa: E402
from isacnet.simulation.song import SongKernel  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """A LocalCluster of 2 worker processes (started and stopped by a DaskExecutor) and its client."""
    with DaskExecutor(n_workers=2) as owner:
        yield owner.client


def _jobs():
    k = SongKernel(SongParams(gamma=2.5), k_nearest=16)
    return [Job(k, 24 * 128 - 5, 3, point=0, block_size=128), Job(k, 10 * 128, 3, point=4, block_size=128)]


def _pids(client) -> set[int]:
    return set(client.run(os.getpid).values())


def test_dask_equals_serial_bit_for_bit(client):
    jobs = _jobs()
    ref = run_jobs(jobs, SerialExecutor(), chunk_blocks=3)
    ex = DaskExecutor(client)
    assert ex.n_workers == 2
    for cb in (1, 4, 64, None):
        assert run_jobs(jobs, ex, chunk_blocks=cb) == ref
    # the work really ran in the workers, and a given client is left open
    pids = {pid for _, pid in ex.imap_unordered(os.getpid, [()] * 6)}
    assert os.getpid() not in pids and pids <= _pids(client)
    assert client.status == "running"


def test_dask_early_stopping_equals_serial(client):
    jobs = _jobs()
    ref = run_jobs(jobs, SerialExecutor(), rel_ci=0.2, chunk_blocks=2)
    assert any(m.stopped_early for m in ref)
    with DaskExecutor(client) as ex:
        out = run_jobs(jobs, ex, rel_ci=0.2, chunk_blocks=1)
    assert out == ref and [m.n_layouts for m in out] == [m.n_layouts for m in ref]
    assert client.status == "running"


@dataclass(frozen=True)
class FailingKernel:
    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        raise ValueError("kernel failed on purpose")


def test_a_failing_chunk_fails_the_run_after_its_retries(client):
    job = Job(FailingKernel(), 40, 0, block_size=4)
    with pytest.raises(ValueError, match="on purpose") as info:
        run_jobs([job], DaskExecutor(client, retries=1), chunk_blocks=1)
    del info  # its traceback holds the generator's frame
    gc.collect()
    deadline = time.monotonic() + 10  # the remaining chunks were cancelled, nothing left behind
    while time.monotonic() < deadline and any(str(k).startswith("isacnet-run_chunk") for k in client.futures):
        time.sleep(0.05)
    assert not any(str(k).startswith("isacnet-run_chunk") for k in client.futures)


def test_repeated_identical_chunks_are_not_deduplicated(client):
    # the same (fn, args) submitted twice must run twice: pure=False / unique keys
    ex = DaskExecutor(client)
    out = list(ex.imap_unordered(uuid.uuid4, [()] * 4))
    assert len({u for _, u in out}) == 4 and sorted(i for i, _ in out) == [0, 1, 2, 3]


def test_bounded_inflight(client):
    class CountingClient:  # forwards to the real client, counting submissions
        def __init__(self, c):
            self.c, self.submitted = c, 0

        def submit(self, *args, **kw):
            self.submitted += 1
            return self.c.submit(*args, **kw)

        def __getattr__(self, name):
            return getattr(self.c, name)

    counting = CountingClient(client)
    ex = DaskExecutor(counting, max_inflight=3)
    seen = []
    for i, _ in ex.imap_unordered(time.sleep, [(0.01,)] * 12):
        assert counting.submitted - len(seen) <= 3  # never more than 3 submitted and not yet returned
        seen.append(i)
    assert sorted(seen) == list(range(12)) and counting.submitted == 12
    assert DaskExecutor(client).n_workers == 2  # default limit: 4 per worker thread


def test_address_mode_leaves_the_cluster_running(client):
    ex = make_executor(None, client.scheduler.address)
    assert isinstance(ex, DaskExecutor) and ex.n_workers == 2
    with ex:
        assert run_jobs(_jobs()[1:], ex) == run_jobs(_jobs()[1:])
    assert ex._client is None  # our own client closed ...
    assert client.status == "running" and len(client.nthreads()) == 2  # ... the cluster not


def test_local_mode_starts_and_stops_its_cluster():
    env = dict(os.environ)
    ex = make_executor(2, "local")
    assert isinstance(ex, DaskExecutor) and ex.n_workers == 2
    assert run_jobs(_jobs()[1:], ex) == run_jobs(_jobs()[1:])
    assert ex._cluster is None and ex._client is None
    assert dict(os.environ) == env  # the nannies' pre-spawn variables were put back


def test_local_workers_keep_glibc_adaptive_malloc(client):
    # Dask's default MALLOC_TRIM_THRESHOLD_ made the kernels ~35% slower in the workers
    got = set(client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_")).values())
    assert got == {os.environ.get("MALLOC_TRIM_THRESHOLD_")}
    assert set(client.run(lambda: os.environ.get("OMP_NUM_THREADS")).values()) == {"1"}


def test_unreachable_scheduler_is_a_clear_error():
    t0 = time.perf_counter()
    with pytest.raises(ParameterError) as info:
        DaskExecutor(address="tcp://127.0.0.1:9", connect_timeout=0.5)
    assert info.value.name == "scheduler" and "reachable" in str(info.value)
    assert time.perf_counter() - t0 < 10


def test_make_executor_validation(client):
    with pytest.raises(ParameterError) as info:
        make_executor(None, "not an address")
    assert info.value.name == "scheduler"
    with pytest.raises(ParameterError) as info:
        make_executor(3, client.scheduler.address)  # the cluster's workers are the cluster's
    assert info.value.name == "workers"
    with pytest.raises(ParameterError):
        make_executor(0, "local")


# --------------------------------------------------------------------------- a worker dies
@dataclass(frozen=True)
class SlowLoggingKernel:
    """Sleeps per block and leaves start/done marker files, so a test can see an interrupted task."""

    folder: str
    delay: float = 0.15

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        tag = f"{os.getpid()}-{uuid.uuid4().hex}"
        Path(self.folder, f"start-{tag}").touch()
        time.sleep(self.delay)
        x = rng.standard_normal(n)
        Path(self.folder, f"done-{tag}").touch()
        return {"x": x, "x2": x * x}


class _KillOnce:
    """Wraps an executor; after the first result, SIGKILLs a worker that is mid-task."""

    def __init__(self, inner: DaskExecutor, folder: Path):
        self.inner, self.folder, self.n_workers, self.killed = inner, folder, inner.n_workers, None

    def imap_unordered(self, fn, args):
        for k, item in enumerate(self.inner.imap_unordered(fn, args)):
            if k == 0 and self.killed is None:
                live = set(self.inner.client.run(os.getpid).values())
                deadline = time.monotonic() + 10
                while time.monotonic() < deadline:
                    running = {f.name[6:] for f in self.folder.glob("start-*")} - {
                        f.name[5:] for f in self.folder.glob("done-*")
                    }  # "<pid>-<uuid>" of unfinished blocks
                    busy = sorted({int(t.split("-")[0]) for t in running} & live)
                    if busy:
                        os.kill(busy[0], signal.SIGKILL)
                        self.killed = busy[0]
                        break
                    time.sleep(0.005)
            yield item


@pytest.mark.slow
def test_worker_killed_mid_run_gives_the_serial_result(tmp_path):
    kernel = SlowLoggingKernel(str(tmp_path))
    jobs = [Job(kernel, 16 * 8, 1, point=p, block_size=8) for p in range(2)]
    ref = run_jobs(jobs, SerialExecutor())
    for f in tmp_path.iterdir():
        f.unlink()
    with DaskExecutor(n_workers=2) as owner:
        c = owner.client
        before = _pids(c)
        ex = _KillOnce(DaskExecutor(c), tmp_path)
        out = run_jobs(jobs, ex, chunk_blocks=2)
        assert out == ref
        killed = ex.killed
        assert killed in before, (killed, before)
        # the killed worker really was mid-task: a block it started never finished there
        started = {f.name.split("-", 1)[1] for f in tmp_path.glob(f"start-{killed}-*")}
        done = {f.name.split("-", 1)[1] for f in tmp_path.glob(f"done-{killed}-*")}
        assert started - done, (killed, len(started), len(done))
        # the nanny restarted it: two workers again, the killed process gone
        deadline, after = time.monotonic() + 60, set()
        while time.monotonic() < deadline:
            try:
                after = _pids(c)
            except Exception:  # a worker still (re)starting
                after = set()
            if len(after) == 2 and killed not in after:
                break
            time.sleep(0.2)
        assert len(after) == 2 and killed not in after, (killed, before, after)


# --------------------------------------------------------------------------- command line
@pytest.mark.slow
def test_cli_scheduler_local_equals_serial(tmp_path):
    from isacnet.cli import run_cli
    from isacnet.experiments.store import load_dataset

    cfg = tmp_path / "sweep.toml"
    cfg.write_text(
        '[figure]\nid = "on-dask"\nmodel = "song"\n'
        "[params]\ngamma = 3.0\n"
        '[sweep]\nparameters = ["n_rx_antennas"]\nvalues = [1, 8]\n'
        "[monte_carlo]\nn_layouts = 4096\nseed = 7\nblock_size = 128\nk_nearest = 16\n"
    )
    common = ["run", str(cfg), "--no-progress", "--rel-ci", "0.1"]
    assert run_cli([*common, "--workers", "1", "--out", str(tmp_path / "serial")]) == 0
    assert run_cli([*common, "--scheduler", "local", "--workers", "2", "--out", str(tmp_path / "dask")]) == 0
    a = load_dataset(tmp_path / "serial" / "on-dask.nc")
    b = load_dataset(tmp_path / "dask" / "on-dask.nc")
    assert b.attrs["executor"].startswith("DaskExecutor(local")
    for v in ("crlb", "crlb_stderr", "jensen", "n_layouts_used"):
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt and mallinfo2 are Linux-only")
def test_local_cluster_workers_take_block_temporaries_from_the_heap(client):
    """The preload of isacnet's LocalCluster runs mallopt as the process pool's initializer does:
    a 20 MiB array comes from the heap in every worker (meta-coop on Dask, 2 workers: 9.2 -> 7.2 s)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").mallinfo2  # noqa: B018 - glibc >= 2.33
    except (OSError, AttributeError):
        pytest.skip("needs glibc >= 2.33 (mallinfo2)")
    from tests.unit.test_executors import _mmapped_bytes_after_20_mib

    assert set(client.run(_mmapped_bytes_after_20_mib).values()) == {0}
