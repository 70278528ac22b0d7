"""Executors: serial (the reference) and a local process pool (the default).

Every executor runs the same worker function (:func:`isacnet.simulation.engine.run_chunk`) and
yields results as they complete; the engine folds them in block order, so the result is the same
bit for bit whichever executor ran it.
"""

from __future__ import annotations

import multiprocessing as mp
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any

from ..params import check_int
from ..simulation.engine import SerialExecutor

__all__ = ["SerialExecutor", "ProcessExecutor", "make_executor"]


def _context():
    """``fork`` on Linux (fast start, and scripts need no ``if __name__ == "__main__"`` guard);
    ``spawn`` elsewhere (macOS, Windows), where fork is unsafe or absent."""
    import sys

    if sys.platform.startswith("linux"):
        return mp.get_context("fork")
    return mp.get_context("spawn")


class ProcessExecutor:
    """A pool of local worker processes.

    At most ``2 * n_workers`` chunks are in flight, so memory stays bounded however many chunks
    a run has. Use as a context manager to reuse one pool across several runs.
    """

    def __init__(self, n_workers: int | None = None):
        self.n_workers = check_int("workers", n_workers or os.cpu_count() or 1, ge=1)
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> ProcessExecutor:
        self._ensure()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _ensure(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.n_workers, mp_context=_context())
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def imap_unordered(self, fn: Callable[..., Any], args: Sequence[tuple]) -> Iterator[tuple[int, Any]]:
        owned = self._pool is None
        pool = self._ensure()
        try:
            it = iter(enumerate(args))
            inflight: dict[Any, int] = {}
            for _ in range(2 * self.n_workers):
                nxt = next(it, None)
                if nxt is None:
                    break
                inflight[pool.submit(fn, *nxt[1])] = nxt[0]
            while inflight:
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                for fut in done:
                    i = inflight.pop(fut)
                    yield i, fut.result()
                    nxt = next(it, None)
                    if nxt is not None:
                        inflight[pool.submit(fn, *nxt[1])] = nxt[0]
        finally:
            if owned:
                self.close()

    def __repr__(self) -> str:
        return f"ProcessExecutor(n_workers={self.n_workers})"


def make_executor(workers: int | None = None):
    """The executor for ``workers``: 1 is the serial reference, None one process per core."""
    if workers is not None and check_int("workers", workers, ge=1) == 1:
        return SerialExecutor()
    return ProcessExecutor(workers)
