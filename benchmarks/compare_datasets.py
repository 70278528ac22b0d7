"""Compare every ``*.nc`` Dataset of two result folders bit for bit.

Usage::

    python benchmarks/compare_datasets.py A B

For each ``<id>.nc`` in A (and B) it checks that both folders hold it, that the two Datasets
have the same data variables, coordinates and dimensions, that every data variable and
coordinate is equal bit for bit (NaN equal to NaN at the same place, same dtype, same shape),
and that the attributes agree except those that record when, how fast or by which version a
run was made (``IGNORED_ATTRS``). Exits 0 when everything agrees, 1 otherwise, printing every
difference. This is how a restructure shows that it changed no number (issue 13).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import xarray as xr

IGNORED_ATTRS = {
    "created_utc", "mc_wall_time_s", "wall_time_s", "isacnet_version", "numpy_version",
    "python_version", "executor", "job_identity", "job_keys",
}
"""Attributes that legitimately differ between two runs of the same numbers."""


def _same_array(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return a.tobytes() == b.tobytes()
    return bool(np.array_equal(a, b))


def compare(a: Path, b: Path) -> list[str]:
    """Differences between the Datasets in files a and b (empty: identical numbers)."""
    out = []
    with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
        da.load()
        db.load()
        for kind, va, vb in (("variable", da.data_vars, db.data_vars), ("coordinate", da.coords, db.coords)):
            if set(va) != set(vb):
                out.append(f"{a.name}: {kind}s differ: only in A {sorted(set(va) - set(vb))}, "
                           f"only in B {sorted(set(vb) - set(va))}")
            for name in sorted(set(va) & set(vb)):
                x, y = np.asarray(va[name].values), np.asarray(vb[name].values)
                if not _same_array(x, y):
                    out.append(f"{a.name}: {kind} {name!r} differs:\n  A={x!r}\n  B={y!r}")
                if va[name].dims != vb[name].dims:
                    out.append(f"{a.name}: {kind} {name!r} dims {va[name].dims} != {vb[name].dims}")
        ka = {k: v for k, v in da.attrs.items() if k not in IGNORED_ATTRS}
        kb = {k: v for k, v in db.attrs.items() if k not in IGNORED_ATTRS}
        for k in sorted(set(ka) | set(kb)):
            if k not in ka or k not in kb:
                out.append(f"{a.name}: attribute {k!r} only in {'A' if k in ka else 'B'}")
            elif not _same_array(np.asarray(ka[k]), np.asarray(kb[k])):
                out.append(f"{a.name}: attribute {k!r}: {ka[k]!r} != {kb[k]!r}")
    return out


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__)
        return 2
    fa, fb = Path(argv[0]), Path(argv[1])
    na = {p.name for p in fa.glob("*.nc")}
    nb = {p.name for p in fb.glob("*.nc")}
    problems = [f"only in {fa}: {n}" for n in sorted(na - nb)] + [f"only in {fb}: {n}" for n in sorted(nb - na)]
    if not na:
        problems.append(f"no .nc files in {fa}")
    for name in sorted(na & nb):
        problems += compare(fa / name, fb / name)
    for p in problems:
        print(p)
    print(f"{len(na & nb)} datasets compared, {len(problems)} differences")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
