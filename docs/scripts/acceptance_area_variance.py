"""Regenerate the area-variance table of isacnet.analysis.acceptance (_VAR_TABLE).

v(n, skip) = Var(lambda_b |R|), R the region whose points rank a typical BS skip+1 .. skip+n,
by the quadrature of :func:`isacnet.analysis.acceptance.region_area_variance`; with --check, the
same at a finer rule (24 x 8 per area axis, 64 x 2 in the angle) for the error column.

    PYTHONPATH=src python docs/scripts/acceptance_area_variance.py --skip 0 --n 1-20 [--check]

Minutes of CPU in all (seconds per small n, about a minute at n = 20).
"""

from __future__ import annotations

import argparse
import time

from isacnet.analysis.acceptance import VAR_SLOPE, region_area_variance


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip", type=int, default=0)
    ap.add_argument("--n", default="1-20", help="range lo-hi")
    ap.add_argument("--check", action="store_true")
    a = ap.parse_args()
    lo, hi = (int(x) for x in a.n.split("-"))
    for n in range(lo, hi + 1):
        t = time.time()
        v = region_area_variance(n, a.skip)
        line = f"{a.skip} {n} {v!r} v-slope*n={v - VAR_SLOPE * n:.6f}"
        if a.check:
            fine = region_area_variance(n, a.skip, nodes=24, panels=8, nphi=64)
            line += f" fine={fine!r} diff={fine - v:.2e}"
        print(line + f" ({time.time() - t:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
