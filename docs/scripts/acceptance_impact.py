"""How the acceptance law moves the rate, Fig. 4's L* and the optimiser (docs/acceptance.md).

Variants of kappa_s / kappa_c: "nb" (default now), "derived" (Poisson load, the default
before), "paper" (as printed). Theorem 2 re-derived ("exact") throughout.

    PYTHONPATH=src python docs/scripts/acceptance_impact.py [rate] [fig4] [fig3] [optimize]

(a few minutes; all four parts by default)
"""

from __future__ import annotations

import contextlib
import dataclasses
import time

import numpy as np

import isacnet
from isacnet.analysis import meng_rate, meng_sensing, meng_tradeoff
from isacnet.analysis.meng_sensing import kappa_c, kappa_s

VARIANTS = ("nb", "derived", "paper")


@contextlib.contextmanager
def default_variant(v: str, crlb_kappa: bool = False):
    """Make ``v`` the default variant of kappa_s/kappa_c for the duration (for the optimiser).
    crlb_kappa: also feed kappa_s(v) to crlb_a, which otherwise computes its own (Poisson)."""
    saved = (meng_sensing.kappa_s, meng_sensing.kappa_c, meng_rate._kappa_c, meng_sensing.crlb_a)
    def ks(psi, mu, n, variant=v):
        return saved[0](psi, mu, n, variant)

    def kc(psi, mu, n, variant=v):
        return saved[1](psi, mu, n, variant)

    meng_sensing.kappa_s, meng_sensing.kappa_c, meng_rate._kappa_c = ks, kc, kc
    if crlb_kappa:
        def crlb_a(N, params, kappa=None, variant="mean-field"):
            if kappa is None and variant != "paper":
                kappa = ks(params.resource_blocks, params.mu_s, N)
            return saved[3](N, params, kappa, variant)
        meng_sensing.crlb_a = crlb_a
    try:
        yield
    finally:
        meng_sensing.kappa_s, meng_sensing.kappa_c, meng_rate._kappa_c, meng_sensing.crlb_a = saved


def rate_at_L2(p):
    print("## R_c at L = 2, defaults (psi = 15, mu_c = 1, p^c = 0.5), Theorem 2 exact")
    for v in VARIANTS:
        k = float(kappa_c(p.resource_blocks, p.mu_c, 2, v))
        r = float(meng_rate.rate(2, p, kappa_c=k, unit="bits"))
        print(f"- {v:8s}: kappa_c(L=2) = {k:.4f}, R_c = {r:.4f} bit/s/Hz")
    print("- at the knee of L = 2 (mu_c (L - 1) = psi - 1, the issue's case), mu_c = 10, 14, 15:")
    for mu in (10.0, 14.0, 15.0):
        q = dataclasses.replace(p, user_density=mu * p.bs_density)
        ks = {v: float(kappa_c(q.resource_blocks, q.mu_c, 2, v)) for v in VARIANTS}
        rs = {v: float(meng_rate.rate(2, q, kappa_c=ks[v], unit="bits")) for v in VARIANTS}
        print(f"  - mu_c = {mu:g}: " + ", ".join(f"{v} kappa_c {ks[v]:.4f} R_c {rs[v]:.4f}" for v in VARIANTS))
    for L in (5, 10, 16, 20):
        ks = {v: float(kappa_c(p.resource_blocks, p.mu_c, L, v)) for v in VARIANTS}
        rs = {v: float(meng_rate.rate(L, p, kappa_c=ks[v], unit="bits")) for v in VARIANTS}
        print(f"- L = {L}: " + ", ".join(f"{v} kappa_c {ks[v]:.4f} R_c {rs[v]:.4f}" for v in VARIANTS))


def fig4_Lstar(p):
    print("\n## Fig. 4: L* = argmax_L R_c (L = 1..40, nats), per mu_c and p^s")
    Ls = np.arange(1, 41)
    for mu in (1.0, 2.0, 4.0):
        q = dataclasses.replace(p, user_density=mu * p.bs_density)
        for ps in (0.1, 0.4, 0.7):
            row = []
            for v in VARIANTS:
                k = np.asarray(kappa_c(q.resource_blocks, q.mu_c, Ls, v), dtype=float)
                r = np.asarray(meng_rate.rate(Ls, q, kappa_c=k, p_c=1.0 - ps, unit="nats"), dtype=float)
                i = int(np.argmax(r))
                row.append(f"{v} L* = {Ls[i]} (R_c {r[i]:.4f})")
            print(f"- mu_c = {mu:g}, p^s = {ps}: " + "; ".join(row))


def optimiser(p):
    print("\n## meng.optimize(p, min_rate=2) (nats/s/Hz)")
    for v in VARIANTS:
        for crlb_kappa in ((False, True) if v != "derived" else (False,)):
            with default_variant(v, crlb_kappa):
                d = meng_tradeoff.optimize(p, min_rate=2.0)
            tag = " (crlb_a fed kappa_s too)" if crlb_kappa else ""
            print(f"- {v}{tag}: L = {d.L}, N = {d.N}, p^c = {d.p_c:.4f}, R_c = {d.rate:.4f}, "
                  f"CRLB_a = {d.crlb:.1f} m^2, kappa_s = {d.kappa_s:.4f}, kappa_c = {d.kappa_c:.4f}")


def fig3_kappa(p):
    print("\n## kappa_s of Fig. 3 (psi = 15), N = 5, 10, 15, 20, 30")
    for mu in (0.5, 1.0, 2.0):
        vals = {v: np.asarray(kappa_s(15, mu, [5, 10, 15, 20, 30], v)) for v in VARIANTS}
        print(f"- mu_s = {mu:g}: " + "; ".join(f"{v} " + " ".join(f"{x:.4f}" for x in vals[v]) for v in VARIANTS))


def main(argv=None) -> None:
    import sys

    parts = (argv if argv is not None else sys.argv[1:]) or ["rate", "fig4", "fig3", "optimize"]
    t = time.time()
    p = isacnet.MengParams()
    for name, fn in (("rate", rate_at_L2), ("fig4", fig4_Lstar), ("fig3", fig3_kappa), ("optimize", optimiser)):
        if name in parts:
            fn(p)
    print(f"\n({time.time() - t:.0f} s)")


if __name__ == "__main__":
    main()
