"""Quantile shifts of the Meng CRLB of regular networks against the PPP (docs/tutorial-maps.md, section 3).

Run: PYTHONPATH=src python docs/scripts/crlb_quantile_shift.py   (about a minute on one core)
120 torus deployments of about 400 sites per process and N, 32 uniform points each, seed 5.
"""

import numpy as np

from isacnet import deployment as D
from isacnet import maps
from isacnet.params import MengParams

p = MengParams()
rng = np.random.default_rng(5)
for N in (4, 8, 16):
    vals = {}
    for proc in ("ppp", "hexagonal", "matern-ii"):
        v = []
        for _ in range(120):
            dep = D.generate(proc, p.bs_density, rng)
            pts = rng.random((32, 2)) * dep.torus
            dx, dy, dist = maps.Nearest(dep.bs, dep.torus).query(pts, N)
            v.append(maps.meng_crlb_chunk(dx, dy, dist, p))
        vals[proc] = np.concatenate(v)
    q = [0.1, 0.5, 0.9]
    base = np.quantile(vals["ppp"], q)
    for proc in ("hexagonal", "matern-ii"):
        shift = np.round(10 * np.log10(np.quantile(vals[proc], q) / base), 2)
        print(f"N = {N}, {proc}: shift at the 10/50/90 % quantiles {shift} dB (PPP median {base[1]:.0f} m^2)")
