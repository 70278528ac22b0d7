"""The result store: netCDF (the record), CSV (for spreadsheets) and PNG, written atomically.

Every file is written to a temporary name in the target folder and renamed into place, so an
interrupted run never leaves a half-written file that is later read as data.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import xarray as xr

from ..params import ParameterError


def check_writable(folder: str | Path) -> Path:
    """Create ``folder`` if needed and check that files can be written there (before any work)."""
    p = Path(folder)
    try:
        p.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=p, prefix=".isacnet-probe-"):
            pass
    except OSError as exc:
        raise ParameterError("out", str(p), f"a writable folder ({exc.strerror})") from None
    return p


def atomic_write(path: Path, write) -> Path:
    """Call ``write(tmp_path)`` then rename the temporary file to ``path``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def save_dataset(ds: xr.Dataset, folder: str | Path, stem: str | None = None) -> dict[str, Path]:
    """Write ``ds`` as ``<stem>.nc`` and ``<stem>.csv`` (stem: the figure id)."""
    folder = Path(folder)
    stem = stem or str(ds.attrs.get("figure_id", "result"))
    nc = atomic_write(folder / f"{stem}.nc", lambda t: ds.to_netcdf(t, engine="h5netcdf"))

    def write_csv(t: Path) -> None:
        with open(t, "w", encoding="utf-8") as f:
            f.write(f"# {ds.attrs.get('title', stem)}; isacnet {ds.attrs.get('isacnet_version')}; "
                    f"seed {ds.attrs.get('seed')}; n_layouts {ds.attrs.get('n_layouts')}\n")
            ds.to_dataframe().to_csv(f)

    csv = atomic_write(folder / f"{stem}.csv", write_csv)
    return {"nc": nc, "csv": csv}


def load_dataset(path: str | Path) -> xr.Dataset:
    """Read a result written by :func:`save_dataset` (fully loaded, file closed)."""
    with xr.open_dataset(path, engine="h5netcdf") as ds:
        return ds.load()
