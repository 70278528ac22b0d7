"""Preloaded into every worker of the local Dask cluster (``LocalCluster(preload=[...])``).

Ctrl-C in a terminal sends SIGINT to the whole process group, workers included; the run's own
process handles it (it closes the cluster and keeps the finished chunks), so a worker ignores
it instead of printing a KeyboardInterrupt traceback of its own. It also takes the multi-MB
temporaries of each block from the heap (:func:`isacnet.simulation.executors.keep_freed_memory`).
"""

from __future__ import annotations

import logging
import signal
import threading


class _ShutdownHeartbeatFilter(logging.Filter):
    """Drops "Failed to communicate with scheduler during heartbeat" (and its traceback): the
    scheduler of isacnet's local cluster lives in the run's own process, so it is gone only when
    the run is stopping (Ctrl-C, the end of the run), and a heartbeat already in flight then
    fails. It is not an error for the terminal; everything else the worker logs passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Failed to communicate with scheduler during heartbeat")


def dask_setup(worker: object = None) -> None:
    """Dask's preload hook: ignore SIGINT in this worker process (main thread only); cancelled
    tasks (a run stopped by Ctrl-C) are not worth a warning line each, nor the heartbeat that
    finds the run's scheduler gone."""
    from .executors import keep_freed_memory

    keep_freed_memory()  # block temporaries from the heap, as in the process pool's workers
    logging.getLogger("distributed.worker.state_machine").setLevel(logging.ERROR)
    logging.getLogger("distributed.worker").addFilter(_ShutdownHeartbeatFilter())
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
