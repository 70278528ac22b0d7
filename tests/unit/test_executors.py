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
