"""The rate-maximising cluster size L* of Fig. 4 under each acceptance law (errata M-33).

    python docs/scripts/meng_fig4_optimal_L.py        (about 20-40 s on one core)

Closed forms only: R_c(L) of Theorem 2 (re-derived "exact" and as printed, nats/s/Hz) for every
integer L = 1..40, with kappa_c(psi = 15, mu_c, L) either as printed in Section IV ("paper") or
as derived in errata M-12 ("derived", the default before 0.3.0) or the negative-binomial law of M-34 ("nb", the default since 0.3.0), at the three power shares of Fig. 4
(p^s = 0.1, 0.4, 0.7) and lambda_u/lambda_b = mu_c in {0.5, 1, 2, 4} (Fig. 4 has 1, 2, 4). Prints L* per case and the
rate at L* and at its neighbours, so a flat top is visible.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from isacnet.analysis.meng_rate import rate
from isacnet.analysis.meng_sensing import kappa_c
from isacnet.params import MengParams

LS = np.arange(1, 41)


def main() -> None:
    t0 = time.perf_counter()
    print("mu_c | kappa_c law | Theorem 2 | L* for p^s = 0.1, 0.4, 0.7 | R_c(L*) [nats/s/Hz] | R_c(L*-1), R_c(L*+1)")
    for mu in (0.5, 1.0, 2.0, 4.0):
        for law in ("paper", "derived", "nb"):
            for variant in ("exact", "paper"):
                stars, vals = [], []
                for ps in (0.1, 0.4, 0.7):
                    p = dataclasses.replace(MengParams(), user_density=mu * MengParams().bs_density,
                                            sensing_power_fraction=ps)
                    kap = np.asarray(kappa_c(p.resource_blocks, p.mu_c, LS, variant=law), dtype=float)
                    r = np.asarray(rate(LS, p, kappa_c=kap, variant=variant, unit="nats", n_eta=21, n_z=129))
                    k = int(np.argmax(r))
                    stars.append(int(LS[k]))
                    nb = ", ".join(f"{r[j]:.4f}" for j in (k - 1, k + 1) if 0 <= j < len(r))
                    vals.append(f"{r[k]:.4f} ({nb})")
                print(f"{mu:g} | {law} | {variant} | {stars} | " + "; ".join(vals))
    print(f"{time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
