"""The chunked, seeded, mergeable Monte Carlo estimator.

A *job* is one Monte Carlo estimate (one sweep point): a kernel, a number of layouts, a seed
and the point's index. Its layouts are cut into *blocks* of ``block_size`` layouts; block ``b``
draws from :func:`isacnet.rng.block_rng` ``(seed, point, b)`` and is reduced at once to
:class:`~isacnet.simulation.estimate.Moments`. Blocks are handed to an executor in *chunks*
of whole blocks. Results are folded in block order as they arrive, so

* the numbers depend on (seed, point, block_size, n_layouts) only, not on the chunk size, the
  number of workers, the executor or the order in which chunks finish;
* memory is set by the block size and the number of chunks in flight, not by ``n_layouts``.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from ..rng import block_rng, check_seed
from .estimate import Estimate, Moments

DEFAULT_BLOCK_SIZE = 4096
"""Layouts per block: the unit of randomness. Part of a result's identity (stored in attrs)."""

Kernel = Callable[[np.random.Generator, int], Mapping[str, np.ndarray]]
"""``kernel(rng, n) -> {quantity: array of shape (n,)}``: n independent layouts."""


class ChunkCache(Protocol):
    """Where finished chunks are kept so that an interrupted run resumes (see experiments.chunkstore)."""

    def load(self, job: Job) -> dict[int, dict[str, Moments]]: ...

    def save(self, job: Job, first_block: int, blocks: list[dict[str, Moments]]) -> None: ...


class Executor(Protocol):
    """Runs ``fn(*args)`` for each args tuple and yields ``(i, result)`` as they complete."""

    n_workers: int

    def imap_unordered(self, fn: Callable[..., Any], args: Sequence[tuple]) -> Iterator[tuple[int, Any]]: ...


class SerialExecutor:
    """The reference executor: runs everything in this process, in order."""

    n_workers = 1

    def imap_unordered(self, fn, args):
        for i, a in enumerate(args):
            yield i, fn(*a)

    def __repr__(self) -> str:
        return "SerialExecutor()"


@dataclass(frozen=True)
class Job:
    """One Monte Carlo estimate: ``n_layouts`` layouts of ``kernel`` seeded by (seed, point)."""

    kernel: Kernel
    n_layouts: int
    seed: int
    point: int = 0
    block_size: int = DEFAULT_BLOCK_SIZE

    def __post_init__(self) -> None:
        from ..params import check_int

        object.__setattr__(self, "n_layouts", check_int("n_layouts", self.n_layouts, ge=2))
        object.__setattr__(self, "seed", check_seed(self.seed))
        object.__setattr__(self, "block_size", check_int("block_size", self.block_size, ge=1))

    @property
    def n_blocks(self) -> int:
        return -(-self.n_layouts // self.block_size)

    def block_layouts(self, b: int) -> int:
        return min(self.block_size, self.n_layouts - b * self.block_size)


def run_chunk(job: Job, first_block: int, n_blocks: int) -> list[dict[str, Moments]]:
    """Run blocks ``first_block .. first_block + n_blocks - 1`` of ``job`` (the worker function).

    Every executor calls this same function; the serial executor is the reference.
    """
    out = []
    for b in range(first_block, first_block + n_blocks):
        rng = block_rng(job.seed, job.point, b)
        values = job.kernel(rng, job.block_layouts(b))
        out.append({name: Moments.of(v) for name, v in values.items()})
    return out


def _merge_into(total: dict[str, Moments], part: Mapping[str, Moments]) -> None:
    for name, m in part.items():
        total[name] = total[name].merge(m) if name in total else m


@dataclass
class _Fold:
    """Folds a job's block results strictly in block order, buffering early arrivals."""

    next_block: int = 0
    pending: dict[int, list[dict[str, Moments]]] = field(default_factory=dict)
    total: dict[str, Moments] = field(default_factory=dict)

    def add(self, first_block: int, blocks: list[dict[str, Moments]]) -> None:
        self.pending[first_block] = blocks
        while self.next_block in self.pending:
            chunk = self.pending.pop(self.next_block)
            for part in chunk:
                _merge_into(self.total, part)
            self.next_block += len(chunk)


def default_chunk_blocks(n_blocks: int, n_workers: int) -> int:
    """Blocks per chunk: about 8 chunks per worker for load balance, at most 64 blocks."""
    return max(1, min(64, math.ceil(n_blocks / (8 * max(1, n_workers)))))


def run_jobs(
    jobs: Sequence[Job],
    executor: Executor | None = None,
    *,
    chunk_blocks: int | None = None,
    progress: bool | None = False,
    desc: str = "Monte Carlo",
    cache: ChunkCache | None = None,
) -> list[dict[str, Moments]]:
    """Run every job's blocks on ``executor`` and return each job's merged moments.

    Parameters
    ----------
    jobs : sequence of Job
    executor : Executor, optional
        Default :class:`SerialExecutor`.
    chunk_blocks : int, optional
        Blocks per chunk handed to a worker; does not change the result.
    progress : bool or None
        Show a tqdm progress bar in layouts (``None``: only on a terminal).
    cache : ChunkCache, optional
        Finished blocks are read from it (and not recomputed) and every new chunk is saved to
        it as soon as it completes: a killed run restarted with the same cache ends with the
        same numbers, bit for bit.
    """
    from ..params import check_int

    executor = executor or SerialExecutor()
    tasks: list[tuple[int, int, int]] = []  # (job index, first block, n blocks)
    folds = [_Fold() for _ in jobs]
    done_layouts = 0
    for j, job in enumerate(jobs):
        cb = (
            check_int("chunk_blocks", chunk_blocks, ge=1)
            if chunk_blocks is not None
            else default_chunk_blocks(job.n_blocks, executor.n_workers)
        )
        done = cache.load(job) if cache is not None else {}
        for b, m in done.items():
            folds[j].add(b, [m])
            done_layouts += job.block_layouts(b)
        b = 0
        while b < job.n_blocks:  # chunks over the runs of missing blocks
            if b in done:
                b += 1
                continue
            end = b
            while end < job.n_blocks and end not in done and end - b < cb:
                end += 1
            tasks.append((j, b, end - b))
            b = end
    args = [(jobs[j], b, nb) for j, b, nb in tasks]
    bar = _progress_bar(sum(j.n_layouts for j in jobs), progress, desc)
    if bar is not None and done_layouts:
        bar.update(done_layouts)
    try:
        for i, blocks in executor.imap_unordered(run_chunk, args):
            j, b, nb = tasks[i]
            if cache is not None:
                cache.save(jobs[j], b, blocks)
            folds[j].add(b, blocks)
            if bar is not None:
                bar.update(sum(jobs[j].block_layouts(x) for x in range(b, b + nb)))
    finally:
        if bar is not None:
            bar.close()
    for f, job in zip(folds, jobs, strict=True):
        if f.next_block != job.n_blocks:  # pragma: no cover - executor contract violated
            raise RuntimeError(f"job {job.point}: folded {f.next_block} of {job.n_blocks} blocks")
    return [f.total for f in folds]


def estimates(moments: Mapping[str, Moments]) -> dict[str, Estimate]:
    return {k: m.estimate() for k, m in moments.items()}


def _progress_bar(total: int, progress: bool | None, desc: str):
    import sys

    if progress is None:
        progress = sys.stderr.isatty()
    if not progress:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="layout", unit_scale=True, dynamic_ncols=True)

