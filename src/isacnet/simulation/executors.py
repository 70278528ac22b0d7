"""Executors: serial (the reference), a local process pool (the default) and a Dask cluster.

Every executor runs the same worker function (:func:`isacnet.simulation.engine.run_chunk`) and
yields results as they complete; the engine folds them in block order, so the result is the same
bit for bit whichever executor ran it. Each keeps a bounded number of chunks in flight, so memory
stays flat however many chunks a run has. Executors holding resources are reentrant context
managers: nested ``with`` blocks share one pool (or cluster), released by the outermost.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from ..params import ParameterError, check_int, check_real
from .engine import SerialExecutor

__all__ = ["SerialExecutor", "ProcessExecutor", "DaskExecutor", "WorkerDied", "make_executor", "usable_cpus"]

INSTALL_HINT = "pip install 'isacnet[distributed]'"


def _context():
    """``fork`` on Linux (fast start, and scripts need no ``if __name__ == "__main__"`` guard);
    ``spawn`` elsewhere (macOS, Windows), where fork is unsafe or absent."""
    import sys

    if sys.platform.startswith("linux") and "jax" not in sys.modules:  # JAX's threads do not survive fork
        return mp.get_context("fork")
    return mp.get_context("spawn")


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


class WorkerDied(RuntimeError):
    """Pool worker processes kept dying (killed, e.g. by the out-of-memory killer) while running
    the same chunks, after :attr:`ProcessExecutor.retries` reruns."""


def _die_with_parent() -> None:
    """Pool-worker initializer: on Linux, ask the kernel to SIGKILL this worker when the process
    that started it dies (``prctl(PR_SET_PDEATHSIG)``), so that a SIGKILLed run leaves no
    orphaned workers blocked on a pipe. Elsewhere a no-op (the pool notices a dead parent there
    only through its broken pipes). Everywhere: Ctrl-C and SIGTERM are the parent's to handle
    (it stops the pool), so a worker does not print a traceback of its own."""
    import signal
    import sys

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # 1 = PR_SET_PDEATHSIG
    except OSError:  # pragma: no cover - no glibc (e.g. musl): keep the old behaviour
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(1)
    _keep_freed_memory(libc)


MMAP_THRESHOLD = 32 << 20
"""A pool worker takes blocks below this (32 MiB, glibc's largest) from its heap, not from mmap."""
TRIM_THRESHOLD = 256 << 20
"""... and hands freed heap memory back to the kernel only beyond this much (256 MiB)."""


def keep_freed_memory() -> None:
    """:func:`_keep_freed_memory` in this process (a worker of isacnet's: the process pool's,
    the local Dask cluster's); a no-op where there is no glibc."""
    import ctypes
    import sys

    if not sys.platform.startswith("linux"):
        return
    try:
        _keep_freed_memory(ctypes.CDLL("libc.so.6"))
    except OSError:  # pragma: no cover - no glibc (e.g. musl)
        pass


def _keep_freed_memory(libc) -> None:
    """In a pool worker (our process, not the user's): glibc's ``mallopt`` so that the multi-MB
    numpy temporaries of every block reuse freed heap memory instead of being mmapped, unmapped
    and faulted in again each time. The kernels' system time was 14 s of the 118 s of CPU of
    ``reproduce all --rel-ci 0.01`` on 2 cores (meta-coop alone: 6.3 s of system time, 0.4 s
    with this; docs/performance.md). A worker keeps up to TRIM_THRESHOLD of freed memory."""
    try:
        libc.mallopt(-3, MMAP_THRESHOLD)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, TRIM_THRESHOLD)  # M_TRIM_THRESHOLD
    except AttributeError:  # pragma: no cover - a libc without mallopt
        pass


class _Reentrant:
    """Context manager that may be entered more than once: the outermost ``with`` starts the
    resource (``_ensure``) and closes it (``close``), inner ones reuse it."""

    _depth = 0

    def _ensure(self) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        self._ensure()
        self._depth += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth <= 0:
            self._depth = 0
            self.close()


class ProcessExecutor(_Reentrant):
    """A pool of local worker processes.

    At most ``2 * n_workers`` chunks are in flight, so memory stays bounded however many chunks
    a run has. Use as a context manager to reuse one pool across several runs.

    A worker that dies mid-chunk (SIGKILL, the out-of-memory killer) breaks the pool: a new pool
    is started and the chunks that were in flight are rerun (they draw the same random numbers,
    so the result is unchanged), up to ``retries`` times for the same chunk, each said in one
    line on stderr; then :class:`WorkerDied` is raised (chunks finished so far are kept by the
    caller's cache). ``n_workers`` is capped at the usable CPUs (:func:`usable_cpus`).
    """

    def __init__(self, n_workers: int | None = None, retries: int = 2):
        n = check_int("workers", n_workers or usable_cpus(), ge=1)
        self.requested = n
        self.n_workers = min(n, usable_cpus())
        self.retries = check_int("retries", retries, ge=0)
        self._pool: ProcessPoolExecutor | None = None
        self._depth = 0

    def _ensure(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.n_workers, mp_context=_context(), initializer=_die_with_parent)
        return self._pool

    def close(self, kill: bool = False) -> None:
        """Shut the pool down; ``kill``: stop its workers at once (after an interrupt), instead
        of letting running chunks finish."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            for proc in list(getattr(pool, "_processes", {}).values()):
                try:
                    proc.kill()
                except (OSError, AttributeError):  # already gone
                    pass
        try:
            pool.shutdown(wait=True, cancel_futures=True)
        except BrokenProcessPool:  # pragma: no cover - a worker killed during shutdown
            pass

    def __exit__(self, *exc: object) -> None:
        self._depth -= 1
        if self._depth <= 0:
            self._depth = 0
            self.close(kill=exc[0] is not None)

    def imap_unordered(self, fn: Callable[..., Any], args: Iterable[tuple]) -> Iterator[tuple[int, Any]]:
        owned = self._pool is None
        pool = self._ensure()
        failed = True
        try:
            it = iter(enumerate(args))
            inflight: dict[Any, tuple[int, tuple]] = {}
            deaths: dict[int, int] = {}  # chunk index -> pools broken while it ran

            def submit(item: tuple[int, tuple]) -> None:
                inflight[pool.submit(fn, *item[1])] = item

            for _ in range(2 * self.n_workers):
                nxt = next(it, None)
                if nxt is None:
                    break
                submit(nxt)
            while inflight:
                done, _ = wait(inflight, return_when=FIRST_COMPLETED)
                broken = []
                for fut in done:
                    item = inflight.pop(fut)
                    try:
                        result = fut.result()
                    except BrokenProcessPool:
                        broken.append(item)
                        continue
                    yield item[0], result
                    nxt = next(it, None)
                    if nxt is not None:
                        submit(nxt)
                if broken:
                    broken += list(inflight.values())  # every chunk in flight died with the pool
                    inflight.clear()
                    pool = self._restart(broken, deaths)
                    for item in sorted(broken, key=lambda x: x[0]):
                        submit(item)
            failed = False
        finally:
            if owned:
                self.close(kill=failed)

    def _restart(self, broken: list[tuple[int, tuple]], deaths: dict[int, int]) -> ProcessPoolExecutor:
        """A new pool after a worker died; raise WorkerDied once a chunk has seen too many."""
        import sys

        worst = 0
        for i, _ in broken:
            deaths[i] = deaths.get(i, 0) + 1
            worst = max(worst, deaths[i])
        self.close(kill=True)
        if worst > self.retries:
            raise WorkerDied(
                f"worker processes died {worst} times while running the same chunk (killed, e.g. out of "
                "memory: try fewer --workers or a smaller block_size); finished chunks are kept"
            )
        print(f"note: a worker process died (killed, e.g. out of memory); rerunning its {len(broken)} "
              f"chunk(s) in a new pool (retry {worst} of {self.retries})", file=sys.stderr, flush=True)
        return self._ensure()

    def __repr__(self) -> str:
        return f"ProcessExecutor(n_workers={self.n_workers})"


class DaskExecutor(_Reentrant):
    """Chunks run as tasks on a ``dask.distributed`` cluster.

    Three ways to get a cluster:

    * ``DaskExecutor(client=c)``: an existing :class:`distributed.Client`; never closed here.
    * ``DaskExecutor(address="tcp://host:8786")``: connect to a running scheduler (a client is
      opened here and closed again; the cluster is left running).
    * ``DaskExecutor(n_workers=N)``: start a ``LocalCluster`` of N single-threaded worker
      processes bound to 127.0.0.1 (dashboard off unless ``dashboard_address`` is given), started
      on first use and shut down when done (or when the outermost ``with`` exits).

    At most ``max_inflight`` chunks (default ``4 * n_workers``: with fewer, the client-scheduler
    round trip of a few ms per chunk is not hidden, benchmarks/bench_scaling.py) are submitted at
    a time; results are small (per-block moments), so memory stays flat. Each
    chunk is its own task with a unique key (never deduplicated against another chunk) and may be
    retried ``retries`` times if it raises. A worker that dies mid-task (killed, out of memory)
    is handled by the scheduler: its tasks are rerun elsewhere, up to Dask's
    ``distributed.scheduler.allowed-failures`` times (default 3) before the run fails with
    ``KilledWorker``. A rerun chunk draws the same random numbers, so the result is unchanged.

    Parameters
    ----------
    client : distributed.Client, optional
    address : str, optional
        Scheduler address, e.g. ``"tcp://10.0.0.5:8786"``.
    n_workers : int, optional
        Worker processes of the local cluster (default: one per core). With ``client`` or
        ``address`` it is read from the cluster (total worker threads).
    dashboard_address : str, optional
        E.g. ``"127.0.0.1:8787"`` to serve the local cluster's dashboard (needs bokeh).
    retries : int
        Reruns of a chunk that raised (>= 0).
    connect_timeout : float
        Seconds to wait for ``address`` to answer.
    max_inflight : int, optional
        Chunks submitted at a time (default ``4 * n_workers``).
    """

    def __init__(
        self,
        client: Any = None,
        *,
        address: str | None = None,
        n_workers: int | None = None,
        dashboard_address: str | None = None,
        retries: int = 2,
        connect_timeout: float = 10.0,
        max_inflight: int | None = None,
    ):
        _require_distributed("scheduler", "local" if client is None and address is None else address or "client")
        if client is not None and address is not None:
            raise ParameterError("address", address, "None when a client is given")
        self.retries = check_int("retries", retries, ge=0)
        self.max_inflight = None if max_inflight is None else check_int("max_inflight", max_inflight, ge=1)
        self.dashboard_address = dashboard_address
        self.address = address
        self._cluster: Any = None
        self._saved_env: dict[str, str | None] = {}
        self._own_client = False
        self._depth = 0
        self._client: Any = client
        self._timeout = check_real("connect_timeout", connect_timeout, gt=0.0)
        if (client is not None or address is not None) and n_workers is not None:
            raise ParameterError(
                "workers", n_workers, "unset when using a running Dask cluster (its workers are the cluster's)"
            )
        if address is not None:
            if not isinstance(address, str) or not address:
                raise ParameterError("scheduler", address, "a scheduler address such as tcp://host:8786")
            self._client = _connect(address, self._timeout)
            self._own_client = True
        if self._client is not None:
            self.n_workers = max(1, sum(self._client.nthreads().values()))
        else:
            self.n_workers = check_int("workers", n_workers or os.cpu_count() or 1, ge=1)

    # -------------------------------------------------------------- lifetime
    @property
    def client(self) -> Any:
        """The :class:`distributed.Client` (a local cluster is started if needed)."""
        return self._ensure()

    def _ensure(self) -> Any:
        if self._client is None and self.address is not None:  # reopened after close()
            self._client = _connect(self.address, self._timeout)
            self._own_client = True
        if self._client is None:
            import dask
            from distributed import Client, LocalCluster

            # Dask's nannies write their pre-spawn variables into this process's os.environ
            # (OMP_NUM_THREADS=1, PYTHONHASHSEED, ...): put them back on close(). Not set here:
            # MALLOC_TRIM_THRESHOLD_, which Dask sets to 64 KiB; it disables glibc's adaptive mmap
            # threshold and made the kernels ~35-50% slower in the workers (an mmap/munmap of
            # every large temporary; benchmarks/bench_scaling.py, docs/performance.md).
            before = dict(os.environ)
            with dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None}):
                self._cluster = LocalCluster(
                    n_workers=self.n_workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=self.dashboard_address,
                    # without a dashboard the scheduler still serves health routes: 127.0.0.1, a free port
                    scheduler_kwargs=None if self.dashboard_address else {"dashboard_address": "127.0.0.1:0"},
                    preload=["isacnet.simulation._dask_worker"],  # Ctrl-C is this process's to handle
                )
            self._client = Client(self._cluster, set_as_default=False)
            self._own_client = True
            self._saved_env = {
                k: before.get(k) for k in set(before) | set(os.environ) if before.get(k) != os.environ.get(k)
            }
        return self._client

    def close(self) -> None:
        """Close the client and cluster this executor started (a given client is left open)."""
        if self._own_client and self._client is not None:
            self._client.close()
            self._client = None
            self._own_client = False
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None
            for k, v in self._saved_env.items():
                if v is None:
                    os.environ.pop(k, None)
                else:
                    os.environ[k] = v
            self._saved_env = {}

    # -------------------------------------------------------------- work
    def imap_unordered(self, fn: Callable[..., Any], args: Iterable[tuple]) -> Iterator[tuple[int, Any]]:
        import uuid

        from distributed import as_completed

        owned = self._depth == 0 and self._client is None  # started here: stopped here
        client = self._ensure()
        token = uuid.uuid4().hex[:12]
        name = getattr(fn, "__name__", "task")
        limit = self.max_inflight or 4 * self.n_workers
        it = iter(enumerate(args))
        inflight: dict[Any, int] = {}
        ac = as_completed(loop=client.loop)

        def submit() -> bool:
            nxt = next(it, None)
            if nxt is None:
                return False
            i, a = nxt
            fut = client.submit(fn, *a, key=f"isacnet-{name}-{token}-{i}", pure=False, retries=self.retries)
            inflight[fut] = i
            ac.add(fut)
            return True

        quiet = _ForgottenGatherFilter()
        sched_log = logging.getLogger("distributed.scheduler")
        sched_log.addFilter(quiet)
        try:
            for _ in range(limit):
                if not submit():
                    break
            for fut in ac:
                i = inflight.pop(fut)
                try:
                    result = fut.result()  # raises the chunk's error once its retries are spent
                finally:
                    fut.release()
                yield i, result
                submit()
        finally:
            ac.clear()
            for fut in inflight:
                fut.cancel()
            inflight.clear()
            if owned:
                self.close()
            sched_log.removeFilter(quiet)

    def __repr__(self) -> str:
        if self.address is not None:
            return f"DaskExecutor(address={self.address!r})"
        if self._cluster is None and self._client is not None:
            return f"DaskExecutor(client, n_workers={self.n_workers})"
        return f"DaskExecutor(local, n_workers={self.n_workers})"


class _ForgottenGatherFilter(logging.Filter):
    """Drops the scheduler's "Couldn't gather keys {...: 'forgotten'}" error: after an interrupt
    the chunks still in flight are cancelled on purpose, and a gather already on its way for one
    of them then finds the key forgotten. That is the cancellation working, not an error to show
    next to the one "interrupted" line (an in-process LocalCluster logs it to this terminal)."""

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        return not (msg.startswith("Couldn't gather keys") and "forgotten" in msg)


def _require_distributed(name: str, value: object) -> None:
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise ParameterError(
            name, value, f"None (the local process pool): dask.distributed is not installed ({INSTALL_HINT})"
        ) from None


def _connect(address: str, timeout: float) -> Any:
    from distributed import Client

    try:
        return Client(address, timeout=timeout, set_as_default=False)
    except (OSError, TimeoutError) as exc:
        raise ParameterError(
            "scheduler",
            address,
            f"a reachable Dask scheduler (no answer within {timeout:g} s: {exc.__class__.__name__})",
        ) from None


def check_address(address: str) -> str:
    """``address`` if it is a TCP scheduler address ``tcp://HOST:PORT`` (or ``HOST:PORT``),
    else :class:`ParameterError`: other Dask transports (``inproc://``, ``tls://`` without
    certificates, ``ucx://``) cannot be reached from here with these options."""
    import re

    m = re.fullmatch(r"(?:tcp://)?(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+):(\d{1,5})", address.strip())
    if m is None or not 1 <= int(m.group(2)) <= 65535:
        raise ParameterError("scheduler", address, "'local' or a Dask scheduler address tcp://HOST:PORT "
                             "(PORT 1-65535; other transports such as inproc:// or tls:// are not supported)")
    return address.strip()


def make_executor(workers: int | None = None, scheduler: Any = None):
    """The executor for ``workers`` and ``scheduler``.

    ``scheduler=None`` (default): 1 worker is the serial reference, N a local pool of N
    processes, None one process per core. ``scheduler="local"``: a Dask ``LocalCluster`` of
    ``workers`` processes (None: one per core). ``scheduler="tcp://host:port"`` (or any Dask
    address): the running cluster there (``workers`` must be None). A ``distributed.Client``:
    that client's cluster.
    """
    if scheduler is None:
        if workers is not None and check_int("workers", workers, ge=1) == 1:
            return SerialExecutor()
        return ProcessExecutor(workers)
    if isinstance(scheduler, str):
        if scheduler == "local":
            n = None if workers is None else min(check_int("workers", workers, ge=1), usable_cpus())
            return DaskExecutor(n_workers=n)
        return DaskExecutor(address=check_address(scheduler), n_workers=workers)
    return DaskExecutor(client=scheduler, n_workers=workers)
