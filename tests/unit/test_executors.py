"""Executor choice and errors that need no cluster."""

from __future__ import annotations

import sys

import pytest

from isacnet import ParameterError
from isacnet.simulation.executors import ProcessExecutor, SerialExecutor, make_executor, usable_cpus


def test_make_executor_without_scheduler():
    assert isinstance(make_executor(1), SerialExecutor)
    ex = make_executor(3)
    assert isinstance(ex, ProcessExecutor) and ex.n_workers == min(3, usable_cpus())  # capped at the CPUs
    with pytest.raises(ParameterError) as info:
        make_executor(0)
    assert info.value.name == "workers"


def test_missing_dask_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    for scheduler in ("local", "tcp://127.0.0.1:8786"):
        with pytest.raises(ParameterError) as info:
            make_executor(2 if scheduler == "local" else None, scheduler)
        assert info.value.name == "scheduler" and "pip install 'isacnet[distributed]'" in str(info.value)


def test_process_executor_is_reentrant():
    ex = ProcessExecutor(2)
    with ex:
        pool = ex._pool
        with ex:
            assert ex._pool is pool
        assert ex._pool is pool  # the inner exit kept the pool
        assert sorted(i for i, _ in ex.imap_unordered(abs, [(-1,), (2,)])) == [0, 1]
        assert ex._pool is pool
    assert ex._pool is None


def test_cancelled_chunk_gather_error_is_dropped_and_others_kept():
    """After Ctrl-C the in-flight chunks are cancelled; the scheduler's "Couldn't gather keys
    {...: 'forgotten'}" is that cancellation, not an error for the terminal. Other records pass."""
    import logging

    from isacnet.simulation.executors import _ForgottenGatherFilter

    f = _ForgottenGatherFilter()

    def rec(msg, *args):
        return logging.LogRecord("distributed.scheduler", logging.ERROR, __file__, 1, msg, args, None)

    assert not f.filter(rec("Couldn't gather keys %s", {"isacnet-run_chunk-0d4c12a05254-1": "forgotten"}))
    assert f.filter(rec("Couldn't gather keys %s", {"k": "memory"}))
    assert f.filter(rec("Worker %s failed", "tcp://127.0.0.1:1"))


def test_worker_drops_only_the_heartbeat_to_a_stopped_scheduler():
    """The local cluster's workers: the heartbeat that fails because the run (and its scheduler)
    is stopping is not printed; any other worker error is."""
    import logging

    from isacnet.simulation._dask_worker import _ShutdownHeartbeatFilter

    f = _ShutdownHeartbeatFilter()

    def rec(msg):
        return logging.LogRecord("distributed.worker", logging.ERROR, __file__, 1, msg, (), None)

    assert not f.filter(rec("Failed to communicate with scheduler during heartbeat."))
    assert f.filter(rec("Compute Failed"))
    assert f.filter(rec("Failed to communicate with scheduler"))  # not a heartbeat: kept


def _mmapped_bytes_after_20_mib() -> int:
    """In this process: how many bytes glibc mmapped for a 20 MiB numpy array (mallinfo2)."""
    import ctypes

    import numpy as np

    class Info(ctypes.Structure):
        _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                                    "fsmblks", "uordblks", "fordblks", "keepcost")]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = Info
    before = libc.mallinfo2().hblkhd
    a = np.ones(20 << 17)
    grown = libc.mallinfo2().hblkhd - before
    del a
    return int(grown)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt and mallinfo2 are Linux-only")
def test_pool_workers_take_block_temporaries_from_the_heap():
    """A pool worker runs mallopt (executors._keep_freed_memory): a 20 MiB array comes from the
    heap, not from mmap (whose pages are faulted in anew on every block: 14 s of system time in
    `reproduce all --rel-ci 0.01`). In a process without it, glibc mmaps that array."""
    import ctypes
    import subprocess

    try:
        ctypes.CDLL("libc.so.6").mallinfo2  # noqa: B018 - glibc >= 2.33
    except (OSError, AttributeError):
        pytest.skip("needs glibc >= 2.33 (mallinfo2)")
    import inspect
    import textwrap

    code = textwrap.dedent(inspect.getsource(_mmapped_bytes_after_20_mib)) + "\nprint(_mmapped_bytes_after_20_mib())"
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert int(fresh.stdout) >= 20 << 20  # the untuned default: mmapped
    with ProcessExecutor(2) as ex:
        got = [v for _, v in ex.imap_unordered(_mmapped_bytes_after_20_mib, [(), ()])]
    assert got == [0, 0]
