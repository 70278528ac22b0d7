"""Map speed: a 512 x 512 Meng CRLB map (N = 8) for 100 BSs, and the cost per grid point at 10^4 sites.

Run: PYTHONPATH=src python benchmarks/bench_maps.py   (one core: OMP/OPENBLAS threads are not used
by these numpy kernels; scipy's cKDTree query runs with workers=1).
Target (issue 17): < 2 s for the 512 x 512 map; 10^4 sites not slower per grid point than 100.
"""

from __future__ import annotations

import math

from _common import timeit

from isacnet import deployment as D
from isacnet import maps
from isacnet.params import MengParams


def main() -> None:
    p = MengParams()
    lam = 1e-6
    small = D.ppp(lam, math.sqrt(100 / lam), 1)
    big = D.ppp(lam, math.sqrt(10_000 / lam), 2)
    t512 = timeit(lambda: maps.meng_crlb_map(small, p, 8, 512), repeat=3)
    print(f"512 x 512 Meng CRLB map, {small.n_sites} BSs, N = 8: {t512:.3f} s "
          f"({t512 / 512**2 * 1e9:.0f} ns a grid point)")
    # the same grid (256 x 256 over a 10 km x 10 km square) in a network of 100 and of 10^4 sites
    # at the same density: the per-point cost must not grow with the number of sites
    region = (0.0, small.torus[0], 0.0, small.torus[1])
    # interleaved, best of 7 each, so that a change of machine load hits both alike
    t_small = t_big = math.inf
    for _ in range(7):
        t_small = min(t_small, timeit(lambda: maps.meng_crlb_map(small, p, 8, 256, region), repeat=1))
        t_big = min(t_big, timeit(lambda: maps.meng_crlb_map(big, p, 8, 256, region), repeat=1))
    print(f"256 x 256 map: {small.n_sites} sites {t_small / 256**2 * 1e9:.0f} ns/point, "
          f"{big.n_sites} sites {t_big / 256**2 * 1e9:.0f} ns/point (ratio {t_big / t_small:.2f})")
    t_comp = timeit(lambda: maps.comp_map(small, p, 3, 64), repeat=1)
    print(f"64 x 64 CoMP map (L = 3, K = 64, rate + coverage at 0 dB): {t_comp:.2f} s "
          f"({t_comp / 64**2 * 1e6:.0f} us a grid point)")


if __name__ == "__main__":
    main()
