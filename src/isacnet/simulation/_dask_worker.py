"""Preloaded into every worker of the local Dask cluster (``LocalCluster(preload=[...])``).

Ctrl-C in a terminal sends SIGINT to the whole process group, workers included; the run's own
process handles it (it closes the cluster and keeps the finished chunks), so a worker ignores
it instead of printing a KeyboardInterrupt traceback of its own.
"""

from __future__ import annotations

import logging
import signal
import threading


def dask_setup(worker: object = None) -> None:
    """Dask's preload hook: ignore SIGINT in this worker process (main thread only); cancelled
    tasks (a run stopped by Ctrl-C) are not worth a warning line each."""
    logging.getLogger("distributed.worker.state_machine").setLevel(logging.ERROR)
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_IGN)
