"""Acceptance closed forms against the torus simulation (docs/acceptance.md, errata M-34).

For kappa_s (requests to the N nearest BSs, psi blocks) and kappa_c (cooperation requests to
BSs 2..L, psi - 1 blocks), over psi in {1, 5, 15}, mu in {0.5, 1, 2, 5, 10, 15} (mu <= psi) and
N, L in {1, 2, 3, 5, 10, 15, 20}: the simulated acceptance (isacnet.load.simulate_acceptance,
no closed form inside; ratio estimate with its delta-method standard error) against the NB law
(default), the Poisson-load form ("derived") and the printed forms ("paper").

kappa_c is exactly 1 at L = 1 and exactly 0 at psi = 1 < L (no block left for cooperation):
those cells are not simulated.

    PYTHONPATH=src python docs/scripts/acceptance_table.py [--requests 1.5e6] [--seed 2026] \
        [--out table.md]

About 10 minutes of CPU at the default --requests (requests per cell, at least: each cell uses
between 200 and 4000 tori of about 400 BSs, so the cells with mu N > 7.5 hold more; 29 minutes
of wall time on 2 shared cores); --family s / c splits the work in two processes.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

import numpy as np

from isacnet.analysis.meng_sensing import kappa_c, kappa_s
from isacnet.load import simulate_acceptance
from isacnet.simulation.estimate import Estimate
from isacnet.simulation.meng import ratio_estimate

PSI = (1, 5, 15)
MU = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0)
SIZES = (1, 2, 3, 5, 10, 15, 20)


def cells(families=("s", "c")):
    for fam in families:
        for psi in PSI:
            for mu in (m for m in MU if m <= psi):
                for n in SIZES:
                    if fam == "c" and (n == 1 or psi == 1):
                        continue
                    yield fam, psi, mu, n


def run_cell(rng, fam, psi, mu, n, total_requests):
    req = n if fam == "s" else n - 1
    per_torus = 400.0 * mu * req
    R = int(min(4000, max(200, math.ceil(total_requests / per_torus))))
    c = simulate_acceptance(
        rng, bs_density=1.0, point_density=mu, n_request=req,
        capacity=psi if fam == "s" else psi - 1, n_realisations=R,
        skip_nearest=0 if fam == "s" else 1,
    )
    return ratio_estimate(c.accepted, c.requests), R


def forms(fam, psi, mu, n):
    f = kappa_s if fam == "s" else kappa_c
    return {v: float(f(psi, mu, n, v)) for v in ("nb", "derived", "paper")}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=float, default=6e5)
    ap.add_argument("--family", default="sc", help="s, c or sc (kappa_s and/or kappa_c cells)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--out", default=None)
    ap.add_argument("--save", default=None, help="save the simulated cells (json)")
    ap.add_argument("--load", default=None, help="reuse saved cells: closed forms only")
    a = ap.parse_args(argv)
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    out = open(a.out, "w") if a.out else sys.stdout
    print("| kappa | psi | mu | N or L | tori | simulation ± s.e. | NB (default) | NB − sim | "
          "(NB − sim)/s.e. | Poisson − sim | printed − sim |", file=out)
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|", file=out)
    worst = {}
    if a.load:
        with open(a.load) as fh:
            sims = [(tuple(c), Estimate(*e), R) for c, e, R in json.load(fh)]
    else:
        sims = []
        for cell in cells(tuple(a.family)):
            sims.append((cell, *run_cell(rng, *cell, a.requests)))
            print(cell, sims[-1][1].mean, sims[-1][1].stderr, f"{time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    if a.save:
        with open(a.save, "w") as fh:
            json.dump([(c, [e.mean, e.stderr, e.n], R) for c, e, R in sims], fh)
    for (fam, psi, mu, n), est, R in sims:
        f = forms(fam, psi, mu, n)
        d = {k: v - est.mean for k, v in f.items()}
        z = d["nb"] / est.stderr if est.stderr > 0 else 0.0
        print(f"| {fam} | {psi} | {mu:g} | {n} | {R} | {est.mean:.4f} ± {est.stderr:.4f} | "
              f"{f['nb']:.4f} | {d['nb']:+.4f} | {z:+.1f} | {d['derived']:+.4f} | "
              f"{d['paper']:+.4f} |", file=out, flush=True)
        for k, v in d.items():
            key = (fam, k)
            if key not in worst or abs(v) > abs(worst[key][0]):
                worst[key] = (v, psi, mu, n, est.stderr)
    print(f"\nworst |form - sim| ({time.time() - t0:.0f} s):", file=out)
    for (fam, k), (v, psi, mu, n, se) in sorted(worst.items()):
        print(f"- kappa_{fam} {k}: {v:+.4f} (s.e. {se:.4f}) at psi={psi}, mu={mu:g}, n={n}", file=out)


if __name__ == "__main__":
    main()
