"""The one front door of the Monte Carlo: ``estimate(kernel, n_layouts, seed, run=RunOptions(...))``.

Every facade function that runs a Monte Carlo (:func:`isacnet.song.monte_carlo`,
:func:`isacnet.meng.monte_carlo`, :func:`isacnet.meng.simulate_rate`, ...) builds a kernel and
calls :func:`estimate`; the experiments runner calls the same engine
(:func:`isacnet.simulation.engine.run_jobs`) for whole sweeps. The options that say *how* a run
is carried out (workers, executor, chunking, progress, the chunk cache, early stopping) are one
frozen value, :class:`RunOptions`, instead of nine repeated keyword lists. What a run computes
(the numbers) depends only on the kernel, ``n_layouts``, ``seed``, ``block_size`` and, with
early stopping, ``rel_ci`` and ``max_layouts``: never on workers, executor or chunking.

>>> from isacnet import song, SongParams
>>> from isacnet.simulation.montecarlo import RunOptions
>>> song.expected_crlb(SongParams(), 100_000, seed=1, backend="numba", run=RunOptions(workers=2))
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .engine import DEFAULT_BLOCK_SIZE, ChunkCache, Executor, Job, Kernel, estimates, run_jobs
from .statistics import Estimate, Moments

__all__ = ["RunOptions", "estimate", "run_options"]


@dataclass(frozen=True)
class RunOptions:
    """How a Monte Carlo run is carried out (not what it computes).

    Attributes
    ----------
    workers : int or None
        1: serial, the reference (default); N > 1: a local pool of N processes; None: one
        process per core. Ignored when ``executor`` is given.
    executor : Executor, optional
        Who runs the chunks (:mod:`isacnet.simulation.executors`: serial, process pool, Dask).
    block_size : int, optional
        Layouts per block, the unit of randomness (part of the result's identity: changing it
        changes the numbers). None (default): :data:`DEFAULT_BLOCK_SIZE` = 4096, or the
        default of the facade function (8 tori for the torus kernels).
    chunk_blocks : int, optional
        Blocks per chunk handed to a worker (does not change the numbers).
    progress : bool or None
        A progress bar (None: only when stderr is a terminal).
    cache : ChunkCache, optional
        Where finished chunks are kept so that a killed run resumes
        (:class:`isacnet.experiments.chunkstore.ChunkStore`).
    rel_ci : float in (0, 1), optional
        Stop once the 95% CI half-width of the judged outputs is below ``rel_ci * |estimate|``,
        checked at fixed stages (:func:`isacnet.simulation.engine.stage_ends`).
    max_layouts : int, optional
        With ``rel_ci``: the cap on layouts (default: ``n_layouts``).
    targets : tuple of str, optional
        With ``rel_ci``: the outputs the stopping rule judges (default: all).
    """

    workers: int | None = 1
    executor: Executor | None = None
    block_size: int | None = None
    chunk_blocks: int | None = None
    progress: bool | None = False
    cache: ChunkCache | None = None
    rel_ci: float | None = None
    max_layouts: int | None = None
    targets: tuple[str, ...] | None = None

    def replace(self, **changes: Any) -> RunOptions:
        """A copy with ``changes`` applied (unknown names raise TypeError)."""
        return dataclasses.replace(self, **changes)

    def make_executor(self) -> Executor:
        """``executor``, else the serial executor for ``workers == 1``, else a local pool."""
        if self.executor is not None:
            return self.executor
        if type(self.workers) is int and self.workers == 1:
            from .engine import SerialExecutor

            return SerialExecutor()
        # The pool and Dask executors still live in experiments/ (issue 13: to move here).
        from .executors import make_executor

        return make_executor(self.workers)


RUN_OPTION_NAMES = tuple(f.name for f in dataclasses.fields(RunOptions))
"""The keyword names a facade accepts in place of ``run=`` (the fields of RunOptions)."""


def run_options(run: RunOptions | None = None, **legacy: Any) -> RunOptions:
    """``run`` (default ``RunOptions()``) with the keywords ``legacy`` applied on top.

    The facades accept the run options either as ``run=RunOptions(...)`` or as the same
    keywords (``workers=2``, ``block_size=...``): both end here. An unknown keyword raises
    TypeError naming it; ``None`` values of ``legacy`` are applied as given.
    """
    unknown = sorted(set(legacy) - set(RUN_OPTION_NAMES))
    if unknown:
        raise TypeError(f"unexpected keyword argument(s) {unknown}; run options are {list(RUN_OPTION_NAMES)}")
    base = RunOptions() if run is None else run
    if not isinstance(base, RunOptions):
        raise TypeError(f"run must be a RunOptions, not {type(base).__name__}")
    if "targets" in legacy and legacy["targets"] is not None:
        legacy["targets"] = tuple(legacy["targets"])
    return base.replace(**legacy) if legacy else base


def estimate(
    kernel: Kernel,
    n_layouts: int,
    seed: int,
    run: RunOptions | None = None,
    **legacy: Any,
) -> dict[str, Estimate]:
    """One Monte Carlo estimate of every output of ``kernel``.

    Parameters
    ----------
    kernel : callable
        ``kernel(rng, n) -> {output: (n,) array}`` (e.g. :class:`isacnet.simulation.kernels.song.SongKernel`).
    n_layouts : int
        Layouts (>= 2); the cap when ``run.rel_ci`` is set.
    seed : int
        Run seed; block b draws from ``SeedSequence(seed, spawn_key=(0, b))``.
    run : RunOptions, optional
        How to run it (default: serially, no progress bar). The same fields are accepted as
        keywords (``workers=2``), applied on top of ``run``.

    Returns
    -------
    dict output -> Estimate
        Mean, standard error and counts of every output; with early stopping each estimate's
        ``n_total`` is the number of layouts used.
    """
    opts = run_options(run, **legacy)
    block_size = DEFAULT_BLOCK_SIZE if opts.block_size is None else opts.block_size
    job = Job(kernel, n_layouts, seed, point=0, block_size=block_size)
    judge = None
    if opts.targets is not None:
        names = tuple(opts.targets)

        def judge(job: Job, moments: Mapping[str, Moments]) -> dict[str, Estimate]:
            return {k: m.estimate() for k, m in moments.items() if k in names}

    (moments,) = run_jobs([job], opts.make_executor(), chunk_blocks=opts.chunk_blocks, progress=opts.progress,
                          cache=opts.cache, rel_ci=opts.rel_ci, max_layouts=opts.max_layouts, targets=judge)
    return estimates(moments)
