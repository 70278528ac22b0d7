"""Compare the Monte Carlo outputs of two result folders within their standard errors.

Usage::

    python benchmarks/compare_within_ci.py A B [--z 1.0]

For each ``<id>.nc`` in both folders and each data variable ``v`` with a ``v_stderr`` companion,
prints max |v_A - v_B| / sqrt(se_A^2 + se_B^2) over the sweep (the difference in units of the
standard error of a difference of two *independent* estimates; with the same seed and the same
noise draws the two estimates are strongly correlated, so this is a generous yardstick and the
number to look at is how far below 1 it is) and max |v_A - v_B| / |v_A|. Exits 1 when a
difference exceeds ``--z`` (default 1) of those units. For a new algorithm of the same estimand
(issue 18: the batched ML solver), where :mod:`compare_datasets` (bit for bit) cannot apply.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import xarray as xr


def compare(a: Path, b: Path, z: float) -> list[str]:
    """Lines ``file var max_z max_rel`` and the failures (max_z > z)."""
    bad = []
    with xr.open_dataset(a) as da, xr.open_dataset(b) as db:
        for v in sorted(da.data_vars):
            if v.endswith("_stderr") or f"{v}_stderr" not in da or v not in db:
                continue
            x, y = da[v].values.astype(float), db[v].values.astype(float)
            se = np.hypot(da[f"{v}_stderr"].values, db[f"{v}_stderr"].values)
            with np.errstate(invalid="ignore", divide="ignore"):
                zz = np.abs(x - y) / se
                rel = np.abs(x - y) / np.abs(x)
            zmax = float(np.nanmax(np.where(np.abs(x - y) == 0, 0.0, zz)))
            print(f"{a.name:<28}{v:<20}max |A-B|/se {zmax:10.2e}   max |A-B|/|A| {np.nanmax(rel):10.2e}")
            if zmax > z:
                bad.append(f"{a.name} {v}: {zmax:.3g} standard errors")
    return bad


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--z", type=float, default=1.0)
    args = ap.parse_args(argv)
    bad = []
    for fa in sorted(args.a.glob("*.nc")):
        fb = args.b / fa.name
        if fb.exists():
            bad += compare(fa, fb, args.z)
    for line in bad:
        print("DIFFERS:", line)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
