"""The result store: netCDF (the record), CSV (for spreadsheets) and PNG, written atomically.

Every file is written to a temporary name in the target folder (``.<name>.isacnet-<hex>.tmp``),
flushed to disk and renamed into place, so an interrupted run (SIGKILL, power loss) never leaves
a half-written file under a data name, and a failed write (disk full) never replaces the previous
version of a file. Temporary files left by a killed run are ignored, and removed by
:func:`check_writable` once they are older than :data:`STALE_TEMP_S`.

Storage faults (unwritable folder, disk full) raise :class:`StorageError`, a
:class:`~isacnet.params.ParameterError` naming the folder: the command line prints it as one line.
"""

from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import xarray as xr

from ..params import ParameterError

PROBE_BYTES = 1 << 16
"""Bytes written (and fsync'ed) by :func:`check_writable`: a full disk fails here, before any work."""

MIN_FREE_BYTES = 1 << 20
"""Free space :func:`check_writable` asks for by default (a sweep's files and chunks are ~100 kB)."""

STALE_TEMP_S = 600.0
"""Temporary files older than this are left-overs of a killed run (a write takes milliseconds)."""

TEMP_GLOBS = (".*.isacnet-*.tmp", ".isacnet-probe-*")


class StorageError(ParameterError):
    """The output folder cannot take the results: not writable, or the disk is full.

    A :class:`~isacnet.params.ParameterError` (name ``"out"``) so that the command line reports it
    as one line; what was already stored is kept.
    """


def _storage_error(folder: Path, exc: OSError, what: str, kept: str = "") -> StorageError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        reason = f"{reason}: free some space"
    return StorageError(
        "out",
        str(folder),
        f"a writable folder with free space ({what} failed: {reason})" + (f"; {kept}" if kept else ""),
    )


def fsync_dir(folder: Path) -> None:
    """Make a rename in ``folder`` durable (best effort: not every platform can open a folder)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temps(folder: Path, max_age_s: float = STALE_TEMP_S) -> int:
    """Delete temporary files of ours older than ``max_age_s`` in ``folder``; returns how many."""
    now = time.time()
    n = 0
    for pattern in TEMP_GLOBS:
        for f in folder.glob(pattern):
            try:
                if now - f.stat().st_mtime > max_age_s:
                    f.unlink()
                    n += 1
            except OSError:
                pass  # gone already, or not ours to delete
    return n


def check_writable(folder: str | Path, need_bytes: int = MIN_FREE_BYTES) -> Path:
    """Create ``folder`` if needed and check, before any work, that files can be written there.

    Writes and fsyncs :data:`PROBE_BYTES` bytes (a full disk or a read-only folder fails here)
    and asks for ``need_bytes`` of free space. Removes stale temporary files of killed runs.

    Raises
    ------
    StorageError
    """
    p = Path(folder)
    probe = p / f".isacnet-probe-{secrets.token_hex(6)}"
    try:
        p.mkdir(parents=True, exist_ok=True)
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, b"\0" * PROBE_BYTES)
            os.fsync(fd)
        finally:
            os.close(fd)
            probe.unlink(missing_ok=True)
        free = shutil.disk_usage(p).free
    except OSError as exc:
        raise _storage_error(p, exc, "a test write") from None
    if free < need_bytes:
        raise StorageError("out", str(p), f"a folder with at least {need_bytes} bytes free ({free} free)")
    remove_stale_temps(p)
    return p


def _new_temp(path: Path) -> Path:
    """An empty new file beside ``path``, created with the process umask (not mkstemp's 0600)."""
    for _ in range(100):
        tmp = path.with_name(f".{path.name}.isacnet-{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:  # pragma: no cover - 48 random bits
            continue
        return tmp
    raise FileExistsError(errno.EEXIST, "no free temporary name", str(path))  # pragma: no cover


def atomic_write(path: Path, write: Callable[[Path], object]) -> Path:
    """Call ``write(tmp_path)``, flush it to disk, then rename the temporary file to ``path``.

    On any failure the temporary file is removed and ``path`` (if it existed) is left as it was.

    Raises
    ------
    StorageError
        When the write, the flush or the rename fails with an OSError (disk full, read-only).
    """
    path = Path(path)
    tmp = None
    try:
        tmp = _new_temp(path)
        write(tmp)
        fd = os.open(tmp, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        tmp = None
        fsync_dir(path.parent)
    except OSError as exc:
        raise _storage_error(
            path.parent, exc, f"writing {path.name}", "files already in the folder are unchanged"
        ) from None
    finally:
        if tmp is not None:
            tmp.unlink(missing_ok=True)
    return path


_INT64 = (-(1 << 63), (1 << 63) - 1)


def netcdf_attrs(attrs: dict) -> dict:
    """``attrs`` as netCDF can store them: an integer beyond int64 (a seed such as 2**64, which
    numpy's SeedSequence accepts) becomes its decimal string, so it round-trips exactly
    (``int(ds.attrs["seed"])``); a bool becomes 0/1."""
    out = {}
    for k, v in attrs.items():
        if isinstance(v, bool):
            v = int(v)
        elif isinstance(v, int) and not _INT64[0] <= v <= _INT64[1]:
            v = str(v)
        out[k] = v
    return out


def save_dataset(ds: xr.Dataset, folder: str | Path, stem: str | None = None) -> dict[str, Path]:
    """Write ``ds`` as ``<stem>.nc``, a plain ``<stem>.csv`` and its metadata sidecar ``<stem>.json``
    (attributes and per-column long_name/units; stem: the figure id).

    Attributes netCDF cannot hold as they are are stored as :func:`netcdf_attrs` says."""
    folder = Path(folder)
    stem = stem or str(ds.attrs.get("figure_id", "result"))
    ds = ds.copy(deep=False)
    ds.attrs = netcdf_attrs(ds.attrs)
    nc = atomic_write(folder / f"{stem}.nc", lambda t: ds.to_netcdf(t, engine="h5netcdf"))

    def write_csv(t: Path) -> None:  # plain: pandas.read_csv reads it as it is
        with open(t, "w", encoding="utf-8") as f:
            ds.to_dataframe().to_csv(f)

    csv = atomic_write(folder / f"{stem}.csv", write_csv)
    meta = json.dumps(csv_metadata(ds, f"{stem}.csv"), indent=1, sort_keys=False)
    side = atomic_write(folder / f"{stem}.json", lambda t: t.write_text(meta + "\n", encoding="utf-8"))
    return {"nc": nc, "csv": csv, "json": side}


def _plain(v):
    """A netCDF attribute as a JSON value (numbers stay numbers)."""
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return v


def csv_metadata(ds: xr.Dataset, csv_name: str) -> dict:
    """The sidecar of a CSV: the Dataset's attributes (config, seed, versions) and each column's
    long_name, units and ancillary variables."""
    cols = {str(k): {a: _plain(v) for a, v in ds[k].attrs.items()} for k in (*ds.coords, *ds.data_vars)}
    return {"csv": csv_name, "attributes": {str(k): _plain(v) for k, v in ds.attrs.items()}, "columns": cols}


def load_dataset(path: str | Path) -> xr.Dataset:
    """Read a result written by :func:`save_dataset` (fully loaded, file closed)."""
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()
