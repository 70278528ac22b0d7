"""Finished work on disk, so that a killed run resumes and a finished one is not redone.

Layout of the store (a folder, ``OUT/.isacnet-chunks`` for the command line)::

    <key>/chunk-<first block>-<n blocks>.json   per-block moments of a chunk, while a point runs
    <key>.json                                  the point's record, once it is finished

``<key>`` is the sha256 of the job's *identity* (:func:`job_identity`): every field of the
:class:`~isacnet.simulation.engine.Job` and, recursively, of its kernel and parameters (built from
the attributes, not from a repr that could leave one out), the number of blocks, the backend,
its dtype and random stream (:func:`rng_stream`), the seeding scheme and the isacnet version.

Every file carries that identity in full, its block range and block sizes, and a sha256 of the
canonical serialisation of all of it. Files are written atomically (temporary file, fsync,
rename), so a kill leaves at worst a ``.*.tmp`` file, which is never read and is removed once
stale. On load every file is validated (:mod:`isacnet.experiments._chunkfile`): only regular files
are opened (no FIFO, device or symbolic link), size and JSON nesting are bounded, the schema, the
identity, the block range against the job's block grid, the counts against the block sizes (each
quantity's finite and non-finite counts add up to the block's layouts), finite moments and the
checksum are checked. A file that fails is treated as missing: its blocks are recomputed, the file
is removed, and the failure is counted in :attr:`ChunkStore.invalid` (the command line prints one
line; the Dataset has the count in ``attrs["chunks_failed_validation"]``).

When a point is finished the engine hands the store the point's fold totals at the early-stopping
stage ends (:func:`~isacnet.simulation.engine.stage_ends`; the last is the whole point). They are
written as the point's record, validated and checksummed like a chunk, and the chunk files are
removed unless ``keep_chunks``. A rerun starts the point's fold from the record: nothing is
recomputed, and the numbers are the same bit for bit (the record holds the fold's own totals,
floats written with ``repr``). An early-stopping run reuses a finished run's record, and a longer
run continues from a shorter one's last total. JSON only: nothing here is ever unpickled.

A failed write (disk full) raises :class:`~isacnet.experiments.store.StorageError` and keeps
every file stored before it, so the same command resumes once there is space.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from ..rng import BIT_GENERATOR
from ..simulation.engine import Job, stage_ends
from ..simulation.statistics import Moments
from . import _chunkfile as cf
from ._chunkfile import Uncacheable, canonical
from .store import STALE_TEMP_S, StorageError, _storage_error, fsync_dir

FORMAT_CHUNK = "isacnet-chunk/2"
FORMAT_POINT = "isacnet-point/2"
SEEDING = "SeedSequence(seed, spawn_key=(point, block))"
_CHUNK_KEYS = {"format", "identity", "first_block", "n_blocks", "block_layouts", "quantities", "blocks", "sha256"}
_POINT_KEYS = {"format", "identity", "quantities", "prefixes", "sha256"}
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


def rng_stream(kernel: Any) -> str:
    """The random stream a kernel's layouts come from: the backend's named stream (numpy: its
    ``Generator`` algorithms, so the numpy version) on the block bit generator."""
    backend = getattr(kernel, "backend", "numpy")
    if backend == "numpy":
        return f"numpy-{np.__version__}/{BIT_GENERATOR}"
    from .. import backends

    return f"{backends.load(backend).STREAM}/{BIT_GENERATOR}"


def job_identity(job: Job) -> dict[str, Any]:
    """Everything that determines a job's random numbers and values, as canonical JSON values.

    Built from the job's attributes (:func:`canonical` of the whole Job, its kernel and the
    kernel's parameters included), plus the number of blocks, backend, dtype, random stream,
    seeding scheme and isacnet version; a ``job.identity`` attribute, if any, is included too, and
    the kernel's output names where it declares them (``kernel.quantities``).
    """
    from .._version import __version__

    kernel = job.kernel
    ident: dict[str, Any] = {
        "isacnet_version": __version__,
        "job": canonical(job),
        "n_blocks": job.n_blocks,
        "backend": str(getattr(kernel, "backend", "numpy")),
        "dtype": str(getattr(kernel, "dtype", "float64")),
        "rng_stream": rng_stream(kernel),
        "seeding": SEEDING,
    }
    extra = getattr(job, "identity", None)
    if extra is not None:
        ident["job_identity"] = canonical(extra)
    quantities = getattr(kernel, "quantities", None)
    if quantities is not None:  # a kernel that gains an output (same fields, new code) gets a new key:
        ident["quantities"] = [str(q) for q in quantities]  # its old chunks lack it (never mixed in)
    return ident


def job_key(job: Job) -> str:
    """The folder name of a job's chunks: sha256 of its canonical identity (32 hex digits)."""
    return hashlib.sha256(cf.dumps(job_identity(job)).encode("ascii")).hexdigest()[:32]


# --------------------------------------------------------------------------- the folder itself
def _link_target(p: Path) -> str:
    try:
        return os.readlink(p)
    except OSError:
        return "?"


def check_folder(folder: Path) -> None:
    """Refuse a chunk folder that is a symbolic link or not a folder (never follow it)."""
    try:
        st = os.lstat(folder)
    except FileNotFoundError:
        return
    if stat.S_ISLNK(st.st_mode):
        raise StorageError("out", str(folder), f"a real folder for finished chunks, not a symbolic link "
                                               f"(to {_link_target(folder)}): remove the link or rerun with --fresh")
    if not stat.S_ISDIR(st.st_mode):
        raise StorageError("out", str(folder), "a folder for finished chunks (it is a file): "
                                               "remove it or rerun with --fresh")


def discard(folder: str | Path) -> str:
    """Remove a chunk folder (``--fresh``): a symbolic link is removed, never followed.

    Returns a note for the user when what was there was not a plain folder ("" otherwise).

    Raises
    ------
    StorageError
        When it cannot be removed (then the run must not silently reuse it).
    """
    p = Path(folder)
    try:
        st = os.lstat(p)
    except FileNotFoundError:
        return ""
    try:
        if stat.S_ISDIR(st.st_mode):
            shutil.rmtree(p)  # does not follow symbolic links inside
            return ""
        note = (f"{p} was a symbolic link (to {_link_target(p)}): removed the link only, not what it points to"
                if stat.S_ISLNK(st.st_mode) else f"{p} was not a folder: removed it")
        p.unlink()
        return note
    except OSError as exc:
        raise _storage_error(p, exc, "removing the finished chunks (--fresh)") from None


# --------------------------------------------------------------------------- the store
class ChunkStore:
    """A folder of finished chunks and point records (see the module docstring).

    Parameters
    ----------
    folder : path
        Created on the first save. Must not be a symbolic link or a file.
    keep_chunks : bool
        Keep every chunk file after its point is finished (default: only the point's record).

    Attributes
    ----------
    invalid : list of (str, str)
        Stored files that failed validation (path, reason); each was treated as missing.
    """

    def __init__(self, folder: str | Path, *, keep_chunks: bool = False):
        self.folder = Path(folder)
        self.keep_chunks = bool(keep_chunks)
        self.invalid: list[tuple[str, str]] = []
        self._ids: dict[int, tuple[Job, str, str] | None] = {}
        check_folder(self.folder)

    @property
    def n_invalid(self) -> int:
        """How many stored files failed validation (and were recomputed) so far."""
        return len(self.invalid)

    def _ident(self, job: Job) -> tuple[str, str] | None:
        """(canonical identity JSON, key), or None for a job that cannot be cached."""
        hit = self._ids.get(id(job))
        if hit is None or hit[0] is not job:
            try:
                text = cf.dumps(job_identity(job))
                hit = (job, text, hashlib.sha256(text.encode("ascii")).hexdigest()[:32])
            except Uncacheable:
                hit = (job, "", "")
            self._ids[id(job)] = hit
        return (hit[1], hit[2]) if hit[2] else None

    def _reject(self, dir_fd: int, path: Path, name: str, reason: str) -> None:
        self.invalid.append((str(path / name), reason))
        try:  # ours to remove (it can only mislead a later run, or block the name)
            if stat.S_ISDIR(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
                shutil.rmtree(path / name)  # a folder under a data name; links inside not followed
            else:
                os.unlink(name, dir_fd=dir_fd)
        except OSError:
            pass

    def _open(self, rel: str, parent: int | None = None) -> int | None:
        """A folder descriptor (never through a symbolic link); None when absent."""
        try:
            return os.open(rel, _DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            return None

    # ------------------------------------------------------------------ chunks
    def load(self, job: Job) -> dict[int, dict[str, Moments]]:
        """Block index -> moments, for every valid stored block of ``job``."""
        ident = self._ident(job)
        if ident is None:
            return {}
        check_folder(self.folder)
        root = self._open(str(self.folder))
        if root is None:
            return {}
        try:
            try:
                dfd = self._open(ident[1], root)
            except OSError as exc:  # a link or a file where the job's folder should be
                self._reject(root, self.folder, ident[1], f"not a folder ({exc.strerror})")
                return {}
            if dfd is None:
                return {}
            try:
                return self._load_chunks(job, dfd, self.folder / ident[1], ident[0])
            finally:
                os.close(dfd)
        finally:
            os.close(root)

    def _load_chunks(self, job: Job, dfd: int, path: Path, ident: str) -> dict[int, dict[str, Moments]]:
        names = sorted(os.listdir(dfd))
        _remove_stale(dfd, [n for n in names if n.startswith(".chunk-") and n.endswith(".tmp")])
        found: dict[str, tuple[tuple[str, ...], dict[int, dict[str, Moments]]]] = {}
        for name in names:
            m = cf.CHUNK_NAME.fullmatch(name)
            if m is None:
                continue
            try:
                found[name] = self._read_chunk(job, dfd, name, int(m[1]), int(m[2]), ident)
            except FileNotFoundError:
                continue
            except cf.Invalid as exc:
                self._reject(dfd, path, name, str(exc))
        # One set of quantities per job: a file that disagrees with the most common set is out.
        votes: dict[tuple[str, ...], int] = {}
        for qs, _ in found.values():
            votes[qs] = votes.get(qs, 0) + 1
        best = max(votes.values(), default=0)
        winners = [qs for qs, v in votes.items() if v == best]
        out: dict[int, dict[str, Moments]] = {}
        owner: dict[int, str] = {}
        bad: set[str] = set()
        for name, (qs, blocks) in found.items():
            if len(winners) != 1 or qs != winners[0]:
                bad.add(name)
                continue
            for b, mom in blocks.items():
                if b in out and out[b] != mom:  # the same block, two values: trust neither
                    bad.update((name, owner[b]))
                out[b], owner[b] = mom, name
        for name in sorted(bad):
            self._reject(dfd, path, name, "its quantities or values disagree with the job's other chunks")
        return {b: m for b, m in out.items() if owner[b] not in bad}

    def _read_chunk(self, job: Job, dfd: int, name: str, first: int, n: int, ident: str):
        doc = cf.parse(cf.read_regular(dfd, name))
        if set(doc) != _CHUNK_KEYS:
            raise cf.Invalid(f"fields {sorted(set(doc) ^ _CHUNK_KEYS)} missing or unexpected")
        cf.check_envelope(doc, FORMAT_CHUNK, ident)
        fb = cf.count(cf.field(doc, "first_block", int), "first_block")
        nb = cf.count(cf.field(doc, "n_blocks", int), "n_blocks")
        if (fb, nb) != (first, n):
            raise cf.Invalid(f"holds blocks {fb}+{nb}, its name says {first}+{n}")
        if nb < 1 or fb + nb > job.n_blocks:
            raise cf.Invalid(f"blocks {fb}..{fb + nb - 1} are outside the job's {job.n_blocks} blocks")
        layouts = [job.block_layouts(b) for b in range(fb, fb + nb)]
        if cf.field(doc, "block_layouts", list) != layouts:
            raise cf.Invalid("its block sizes are not the job's block grid")
        qs = cf.quantities(doc)
        rows = cf.field(doc, "blocks", list)
        if len(rows) != nb:
            raise cf.Invalid(f"{len(rows)} blocks, not {nb}")
        return qs, {fb + i: cf.decode(r, qs, layouts[i], f"block {fb + i}") for i, r in enumerate(rows)}

    def save(self, job: Job, first_block: int, blocks: list[dict[str, Moments]]) -> None:
        """Store blocks ``first_block ..`` of ``job`` (atomically: temporary file, fsync, rename).

        Blocks that would not pass validation on load (e.g. a non-finite mean from an overflow)
        are not stored: a rerun recomputes them.

        Raises
        ------
        StorageError
            When the folder cannot take the file (disk full, read-only); stored chunks are kept.
        """
        ident = self._ident(job)
        if ident is None or not blocks:
            return
        names = sorted(blocks[0])
        doc: dict[str, Any] = {
            "format": FORMAT_CHUNK,
            "identity": None,
            "first_block": first_block,
            "n_blocks": len(blocks),
            "block_layouts": [job.block_layouts(first_block + i) for i in range(len(blocks))],
            "quantities": names,
        }
        try:
            if any(sorted(blk) != names for blk in blocks):
                return
            doc["blocks"] = [cf.encode(blk, names) for blk in blocks]
            for i, row in enumerate(doc["blocks"]):
                cf.decode(row, names, doc["block_layouts"][i], "new block")
        except (cf.Invalid, KeyError):
            return
        name = f"chunk-{first_block:09d}-{len(blocks)}.json"
        what = f"storing finished chunk {first_block} of point {job.point}"
        self._write(self.folder / ident[1], name, ".chunk-", _seal(doc, ident[0]), what)

    # ------------------------------------------------------------------ point records
    def load_prefixes(self, job: Job) -> dict[int, dict[str, Moments]]:
        """The finished point's record: {block count: fold total of blocks 0 .. count-1}."""
        ident = self._ident(job)
        if ident is None:
            return {}
        check_folder(self.folder)
        root = self._open(str(self.folder))
        if root is None:
            return {}
        name = f"{ident[1]}.json"
        try:
            _remove_stale(root, [n for n in os.listdir(root) if n.startswith(".point-") and n.endswith(".tmp")])
            try:
                data = cf.read_regular(root, name)
            except FileNotFoundError:
                return {}
            except cf.Invalid as exc:
                self._reject(root, self.folder, name, str(exc))
                return {}
            try:
                return self._check_record(job, cf.parse(data), ident[0])
            except cf.Invalid as exc:
                self._reject(root, self.folder, name, str(exc))
                return {}
        finally:
            os.close(root)

    def _check_record(self, job: Job, doc: dict, ident: str) -> dict[int, dict[str, Moments]]:
        if set(doc) != _POINT_KEYS:
            raise cf.Invalid(f"fields {sorted(set(doc) ^ _POINT_KEYS)} missing or unexpected")
        cf.check_envelope(doc, FORMAT_POINT, ident)
        qs = cf.quantities(doc)
        allowed = set(stage_ends(job.n_blocks))
        out: dict[int, dict[str, Moments]] = {}
        for entry in cf.field(doc, "prefixes", list):
            if not isinstance(entry, list) or len(entry) != 2:
                raise cf.Invalid("a prefix is not [blocks, moments]")
            end = cf.count(entry[0], "prefix blocks")
            if end not in allowed or (out and end <= max(out)):
                raise cf.Invalid(f"prefix of {end} blocks is not a stage end of the job, in order")
            layouts = min(end * job.block_size, job.n_layouts)
            out[end] = cf.decode(entry[1], qs, layouts, f"prefix {end}")
        if not out:
            raise cf.Invalid("no prefix")
        return out

    def finish(self, job: Job, prefixes: Mapping[int, Mapping[str, Moments]]) -> None:
        """Record a finished point (its fold totals at stage ends) and, unless ``keep_chunks``,
        remove its chunk files. Totals that would not pass validation are not recorded (the
        chunks are then kept).

        Raises
        ------
        StorageError
            When the record cannot be written; the chunks are kept.
        """
        ident = self._ident(job)
        if ident is None or not prefixes:
            return
        ends = sorted(prefixes)
        names = sorted(prefixes[ends[-1]])
        try:
            rows = [[end, cf.encode(prefixes[end], names)] for end in ends]
            doc = {"format": FORMAT_POINT, "identity": None, "quantities": names, "prefixes": rows}
            self._check_record(job, _as_doc(_seal(doc, ident[0])), ident[0])
        except (cf.Invalid, KeyError):
            return
        text = _seal(doc, ident[0])
        target = self.folder / f"{ident[1]}.json"
        try:
            same = target.is_file() and not target.is_symlink() and target.read_text(encoding="ascii") == text
        except (OSError, UnicodeDecodeError):
            same = False
        if not same:
            self._write(self.folder, target.name, ".point-", text, f"recording finished point {job.point}")
        if not self.keep_chunks:
            self._drop_chunks(self.folder / ident[1])

    def _drop_chunks(self, d: Path) -> None:
        try:
            if not stat.S_ISDIR(os.lstat(d).st_mode):
                return
            for f in d.iterdir():
                if cf.CHUNK_NAME.fullmatch(f.name):
                    f.unlink(missing_ok=True)
            d.rmdir()  # fails (kept) while a temporary file of a running writer is there
        except OSError:
            pass

    # ------------------------------------------------------------------ writing
    def _write(self, d: Path, name: str, prefix: str, text: str, what: str) -> None:
        try:
            check_folder(self.folder)
            d.mkdir(parents=True, exist_ok=True)
            if not stat.S_ISDIR(os.lstat(d).st_mode):  # a link where our folder should be
                os.unlink(d)
                d.mkdir()
            fd, tmp = tempfile.mkstemp(dir=d, prefix=prefix, suffix=".tmp")
            try:
                with os.fdopen(fd, "w", encoding="ascii") as f:
                    f.write(text)
                    f.flush()
                    os.fsync(f.fileno())
                os.replace(tmp, d / name)
                fsync_dir(d)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise _storage_error(self.folder, exc, what,
                                 "the chunks stored so far are kept: rerun the same command to resume") from None


def _seal(doc: dict[str, Any], ident: str) -> str:
    """The file's text: ``doc`` with its identity and checksum, canonical JSON."""
    import json

    full = {**doc, "identity": json.loads(ident)}
    full["sha256"] = cf.checksum(full)
    return cf.dumps(full)


def _as_doc(text: str) -> dict:
    return cf.parse(text.encode("ascii"))


def _remove_stale(dir_fd: int, names: list[str]) -> None:
    """Remove temporary files left by killed runs, once older than STALE_TEMP_S (never read)."""
    now = time.time()
    for n in names:
        try:
            if now - os.stat(n, dir_fd=dir_fd, follow_symlinks=False).st_mtime > STALE_TEMP_S:
                os.unlink(n, dir_fd=dir_fd)
        except OSError:
            pass
