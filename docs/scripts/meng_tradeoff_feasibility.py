"""Where the cooperative design and time sharing are feasible, and which wins (errata M-32).

    python docs/scripts/meng_tradeoff_feasibility.py        (about 30-60 s on one core)

Everything here is a closed form of the package (no Monte Carlo): R_c(L, p^c) of Theorem 2
(re-derived, nats/s/Hz) tabulated by ``analysis.meng_tradeoff.Tradeoff`` (L <= 20, N in 2..30,
p^c continuous, the settings of ``isacnet reproduce meng-fig5``), CRLB_a of (16) mean-field (m^2),
the backhaul constraint (10) R_c + e N <= C with e = 0.25 nats/s/Hz per sensing BS.

* cooperative (one design (L, N >= 2, p^c) all the time): its rates fill [0, R_coop(C)),
  R_coop(C) = min(C - 2 e, max_L R_c(L, 1)), because R_c(L, .) rises continuously from 0 at
  p^c = 0 to R_c(L, 1) and the cheapest sensing cluster that localises has N = 2;
* time sharing (the sensing corner a fraction 1 - t of the time, the communication corner
  p^c = 1, N = 0 the rest): exists iff R_c(1, 1) <= C; its rates fill [0, R_TS(C)),
  R_TS(C) = max{R_c(L, 1) : R_c(L, 1) <= C}.

Printed: the corner rates R_c(L, 1); R_coop and R_TS over a grid of C (the package's
Tradeoff.rate_ceiling / comm_corner, checked against the two formulas above); for
C = 2.5, 3, 4.5, 6, 8 the CRLB of both schemes over rates spanning both ranges and the rate
intervals where each scheme wins (crossings bisected to 1e-3 nats/s/Hz).
"""

from __future__ import annotations

import dataclasses
import math
import time

import numpy as np

from isacnet.analysis.meng_tradeoff import Tradeoff
from isacnet.params import MengParams

L_MAX, N_MAX, N_GRID = 20, 30, 41  # as in src/isacnet/experiments/figures/meng-fig5.toml (defaults)
BASE = MengParams()


def tradeoff(C: float, grid: np.ndarray | None = None) -> Tradeoff:
    t = Tradeoff(dataclasses.replace(BASE, backhaul_capacity=C), L_max=L_MAX, N_max=N_MAX, n_grid=N_GRID)
    if grid is not None:
        t.__dict__["rate_grid"] = grid  # R_c depends on neither C nor e: tabulated once
    return t


def ceilings(t: Tradeoff) -> tuple[float, float]:
    c = t.rate_ceiling()
    corner = t.comm_corner()
    return (c.rate if c is not None else math.nan), (corner.rate if corner is not None else math.nan)


def crlbs(t: Tradeoff, r: float) -> tuple[float, float]:
    d = t.min_crlb(r)
    return (d.crlb if d is not None else math.inf), float(t.time_sharing(r))


def winner(t: Tradeoff, r: float) -> str:
    co, ts = crlbs(t, r)
    if math.isinf(co) and math.isinf(ts):
        return "none"
    return "coop" if co < ts else "ts"


def bisect(t: Tradeoff, lo: float, hi: float, w_lo: str) -> float:
    while hi - lo > 1e-3:
        mid = 0.5 * (lo + hi)
        lo, hi = (mid, hi) if winner(t, mid) == w_lo else (lo, mid)
    return 0.5 * (lo + hi)


def main() -> None:
    t0 = time.perf_counter()
    grid = tradeoff(6.0).rate_grid
    corner = grid[:, -1]
    e, n_min = BASE.sensing_rate_demand, 2
    print("corner rates R_c(L, p^c = 1) [nats/s/Hz], L = 1..20:")
    print("  " + " ".join(f"{x:.4f}" for x in corner))
    r_max = float(corner.max())
    print(f"  max {r_max:.4f} at L = {int(np.argmax(corner)) + 1}; e = {e} nats/s/Hz, N >= {n_min}\n")

    print("C [nats/s/Hz] | R_coop (package) | formula | R_TS (package) | formula | TS-only rates")
    for C in np.arange(2.0, 8.01, 0.25):
        t = tradeoff(float(C), grid)
        rc, rts = ceilings(t)
        f_coop = min(C - e * n_min, r_max)
        ok = corner[corner <= C]
        f_ts = float(ok.max()) if ok.size else math.nan
        extra = f"[{rc:.3f}, {rts:.3f})" if rts > rc else "-"
        print(f"{C:5.2f} | {rc:.4f} | {f_coop:.4f} | {rts:.4f} | {f_ts:.4f} | {extra}")

    for C in (2.5, 3.0, 4.5, 6.0, 8.0):
        t = tradeoff(C, grid)
        rc, rts = ceilings(t)
        top = np.nanmax([rc, rts])
        rates = np.r_[0.02, 0.05, np.linspace(0.0, top, 25)[1:-1]]
        print(f"\nC = {C} nats/s/Hz: R_coop = {rc:.4f}, R_TS = {rts:.4f}")
        print("  R_c [nats/s/Hz] | CRLB coop [m^2] | CRLB TS [m^2] | TS/coop")
        ws = []
        for r in rates:
            co, ts = crlbs(t, float(r))
            ws.append("none" if math.isinf(co) and math.isinf(ts) else ("coop" if co < ts else "ts"))
            print(f"  {r:.4f} | {co:.4g} | {ts:.4g} | {ts / co:.4f}" if math.isfinite(co) else
                  f"  {r:.4f} | infeasible | {ts:.4g} | -")
        edges = []
        for k in range(1, len(rates)):
            if ws[k] != ws[k - 1]:
                edges.append((bisect(t, float(rates[k - 1]), float(rates[k]), ws[k - 1]), ws[k - 1], ws[k]))
        print("  winner changes:", ", ".join(f"{a}->{b} at R_c = {x:.3f}" for x, a, b in edges) or "none",
              f"(first grid point: {ws[0]}, last: {ws[-1]})")
    print(f"\n{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
