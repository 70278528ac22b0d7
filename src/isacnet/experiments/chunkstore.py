"""Finished chunks on disk, so that a killed run resumes without losing finished work.

Each completed chunk is written (atomically: temporary file, then rename) as a small JSON file
holding the per-block moments, under a folder named by the hash of the job's identity
(kernel and parameters, layouts, seed, sweep point, block size, isacnet version). On restart
the engine reads the blocks already done and computes only the missing ones; folding in block
order makes the final numbers identical, bit for bit, to an uninterrupted run (floats are
written with ``repr``, which round-trips exactly). A changed config has another hash and never
reuses stale chunks. JSON only: nothing here is ever unpickled.

A killed run may leave a temporary ``.chunk-*.tmp`` file: it is never read (only
``chunk-*.json`` names are) and is removed by a later :meth:`ChunkStore.load` once stale. A
failed write (disk full) raises :class:`~isacnet.experiments.store.StorageError` and keeps every
chunk stored before it, so the same command resumes once there is space.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from pathlib import Path

from ..simulation.engine import Job
from ..simulation.statistics import Moments
from .store import STALE_TEMP_S, _storage_error, fsync_dir

_FIELDS = ("n", "mean", "m2", "n_posinf", "n_neginf", "n_nan")


def job_key(job: Job) -> str:
    """A stable hash of everything that determines a job's random numbers and values."""
    from .._version import __version__

    ident = f"{job.kernel!r}|{job.n_layouts}|{job.seed}|{job.point}|{job.block_size}|{__version__}"
    return hashlib.sha256(ident.encode()).hexdigest()[:24]


class ChunkStore:
    """A folder of finished chunks (see the module docstring)."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    def _dir(self, job: Job) -> Path:
        return self.folder / job_key(job)

    def load(self, job: Job) -> dict[int, dict[str, Moments]]:
        """Block index -> moments, for every block of ``job`` already stored."""
        d = self._dir(job)
        out: dict[int, dict[str, Moments]] = {}
        if not d.is_dir():
            return out
        now = time.time()
        for f in d.glob(".chunk-*.tmp"):  # left by a run killed mid-write; never read as data
            try:
                if now - f.stat().st_mtime > STALE_TEMP_S:
                    f.unlink()
            except OSError:
                pass
        for f in sorted(d.glob("chunk-*.json")):
            try:
                doc = json.loads(f.read_text(encoding="utf-8"))
                first = int(doc["first_block"])
                for i, blk in enumerate(doc["blocks"]):
                    out[first + i] = {
                        q: Moments(int(v[0]), float(v[1]), float(v[2]), int(v[3]), int(v[4]), int(v[5]))
                        for q, v in blk.items()
                    }
            except (OSError, ValueError, KeyError, TypeError, IndexError):
                continue  # unreadable: treated as not done (atomic writes make this rare)
        return {b: m for b, m in out.items() if b < job.n_blocks}

    def save(self, job: Job, first_block: int, blocks: list[dict[str, Moments]]) -> None:
        """Store blocks ``first_block ..`` of ``job`` (atomically: temporary file, fsync, rename).

        Raises
        ------
        StorageError
            When the folder cannot take the file (disk full, read-only); stored chunks are kept.
        """
        try:
            self._save(job, first_block, blocks)
        except OSError as exc:
            raise _storage_error(
                self.folder,
                exc,
                f"storing finished chunk {first_block} of point {job.point}",
                "the chunks stored so far are kept: rerun the same command to resume",
            ) from None

    def _save(self, job: Job, first_block: int, blocks: list[dict[str, Moments]]) -> None:
        d = self._dir(job)
        d.mkdir(parents=True, exist_ok=True)
        doc = {
            "job": repr(job.kernel),
            "seed": job.seed,
            "point": job.point,
            "first_block": first_block,
            "blocks": [{q: [getattr(m, f) for f in _FIELDS] for q, m in blk.items()} for blk in blocks],
        }
        text = json.dumps(doc)
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".chunk-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, d / f"chunk-{first_block:09d}-{len(blocks)}.json")
            fsync_dir(d)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
