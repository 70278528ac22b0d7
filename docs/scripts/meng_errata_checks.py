"""Numerical checks behind docs/errata.md (Meng & Masouros, Sections II-B, III, IV).

Run everything (about 2 minutes on 2 cores) or selected entries:

    python docs/scripts/meng_errata_checks.py            # all
    python docs/scripts/meng_errata_checks.py M-7 M-9    # some

All Monte Carlo is seeded; rerunning prints the same numbers.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from isacnet import meng
from isacnet.analysis import meng_sensing as ms
from isacnet.params import MengParams
from isacnet.simulation.meng import MengCrlbKernel

P = MengParams()
U = P.zeta2 * (math.pi * P.bs_density) ** 2  # |zeta|^2 pi^2 lambda_b^2 [m^-2]


def m1() -> None:
    print(f"M-1 |zeta|^2 (corrected) = {P.zeta2:.6g} m^2; printed form = {ms.zeta2(P, 'paper'):.6g} "
          "(noise-free, independent of sigma_s^2)")
    s = meng.crlb_statistics(10, P, 100_000, seed=1)
    print(f"M-2 N = 10: median CRLB {s.median.value:.4g} m^2 (RMSE {math.sqrt(s.median.value):.1f} m) "
          f"with sigma_s^2 = -80 dBm; x1000 with -80 dBW: RMSE {math.sqrt(1000 * s.median.value):.0f} m")


def m4() -> None:
    print("M-4 eq. (11) as printed / tr(F^-1) on PPP layouts (10 000 each):")
    rng = np.random.default_rng(4)
    for N in (2, 3, 4, 6, 8):
        g = np.cumsum(rng.standard_exponential((10_000, N)), axis=1)
        th = rng.uniform(0, 2 * math.pi, (10_000, N))
        d = np.sqrt(g / (math.pi * P.bs_density))
        corr = ms.crlb_eq11(d, th, 2.0, P.zeta2, "corrected")
        pap = ms.crlb_eq11(d, th, 2.0, P.zeta2, "paper")
        bs = np.stack([d * np.cos(th), d * np.sin(th)], -1)
        tr = meng.crlb_layout(bs, np.zeros(2), P)
        ok = np.isfinite(tr)
        dev = np.max(np.abs(corr[ok] / tr[ok] - 1))
        r = pap[ok] / tr[ok]
        print(f"   N={N}: corrected (11) vs tr: max rel dev {dev:.1e}; printed/tr: min {r.min():.3f} "
              f"median {np.median(r):.3f} max {r.max():.3f}")


def m6() -> None:
    print("M-6/M-8 expected CRLB in units of 1/(|zeta|^2 pi^2 lambda_b^2) (multiply by "
          f"{1 / U:.6g} m^2); MC 400 000 layouts per N")
    print(f"{'N':>4} {'MC mean':>16} {'median':>8} {'geo mean':>8} {'iso exact':>9} {'(12)':>7} "
          f"{'(22)':>7} {'(13)':>7} {'(14)pr':>7} {'(14)co':>7}")
    for N in (2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100):
        s = meng.crlb_statistics(N, P, 400_000, seed=60 + N)
        if s.mean is None:
            mean = "infinite"
        elif not math.isfinite(s.mean.stderr):
            mean = f"{s.mean.mean * U:.4f} (Var=inf)"
        else:
            mean = f"{s.mean.mean * U:.4f}±{s.mean.stderr * U:.4f}"
        print(f"{N:>4} {mean:>16} {s.median.value * U:8.4f} {s.geometric_mean.value * U:8.4f} "
              f"{float(ms.crlb_isotropic(N, P)) * U:9.4f} {float(ms.crlb_eq12(N, P)) * U:7.4f} "
              f"{float(ms.crlb_eq12(N, P, 'offdiag')) * U:7.4f} {float(ms.crlb_eq13(N, P)) * U:7.4f} "
              f"{float(ms.crlb_theorem1(N, P, 'paper')) * U:7.4f} {float(ms.crlb_theorem1(N, P)) * U:7.4f}")


def m7() -> None:
    print("M-7 E[CRLB] ln^2 N |zeta|^2 pi^2 lambda_b^2 (printed Theorem 1: -> 1; corrected: -> 2)")
    ys, xs = [], []
    for N, n in ((100, 400_000), (1000, 80_000), (10_000, 16_000), (100_000, 4000)):
        e = meng.expected_crlb(N, P, n, seed=70, block_size=max(1, min(4096, 2**21 // N)))
        iso = float(ms.crlb_isotropic(N, P))
        L2 = math.log(N) ** 2
        print(f"   N={N:>7}: MC {e.mean * U * L2:.4f} ± {e.stderr * U * L2:.4f}   "
              f"E[2/(zeta^2 W^2)] exact {iso * U * L2:.4f}   MC/exact {e.mean / iso:.4f} ± {e.stderr / iso:.4f}")
        xs.append(math.log(N))
        ys.append(1 / math.sqrt(U * e.mean))
    print(f"   fitted slope of 1/sqrt(U E[CRLB]) on ln N over 1e2..1e5: {np.polyfit(xs, ys, 1)[0]:.4f} "
          f"(printed Theorem 1: 1; corrected limit 1/sqrt 2 = {1 / math.sqrt(2):.4f})")
    for N in (1e10, 1e20, 1e50, 1e100, 1e300):
        print(f"   N=1e{round(math.log10(N))}: exact E[2/(zeta^2 W^2)] ln^2 N U = "
              f"{float(ms.crlb_isotropic(N, P)) * U * math.log(N) ** 2:.4f}")


def m8() -> None:
    print("M-8 tail of tr(F^-1): Hill estimate (top 2000 of 1e6 layouts) vs (N-1)/2")
    for N in (2, 3, 4, 5, 6, 8):
        tr = MengCrlbKernel(P, N).samples(np.random.default_rng(80 + N), 1_000_000)
        tr = np.sort(tr[np.isfinite(tr)])[::-1]
        hill = 1 / np.mean(np.log(tr[:2000] / tr[2000]))
        print(f"   N={N}: Hill {hill:.3f}, predicted {0.5 * (N - 1):.1f}; "
              f"mean {'finite' if N >= 4 else 'INFINITE'}, variance {'finite' if N >= 6 else 'INFINITE'}")
    print("   N=3, running 'mean' of tr(F^-1) grows without bound (log-divergent), in 1/U units:")
    tr = MengCrlbKernel(P, 3).samples(np.random.default_rng(83), 4_000_000) * U
    for n in (10**4, 10**5, 10**6, 4 * 10**6):
        print(f"      n={n:>8}: {tr[:n].mean():.3f}   (median {np.median(tr[:n]):.4f})")


def m9() -> None:
    print("M-9..M-11 acceptance of a typical sensing request: torus simulation vs Lemma 1 forms")
    print(f"{'psi':>4}{'mu':>5}{'N':>4} {'simulation':>18} {'derived':>8} {'(15)':>7} {'(24)last':>8} "
          f"{'(24)first':>9} {'mean load (mu N)':>18}")
    for psi, mu in ((15, 1.0), (5, 1.0), (1, 1.0), (15, 2.0)):
        p = MengParams(resource_blocks=psi, target_density=mu * P.bs_density)
        for N in (1, 2, 5, 10, 15, 20, 30):
            r = meng.simulate_acceptance(p, N, 100, seed=90 + N)
            a = r.acceptance
            print(f"{psi:>4}{mu:>5}{N:>4} {a.mean:9.4f} ± {a.stderr:.4f} {r.closed_form:8.4f} "
                  f"{float(ms.kappa_s(psi, mu, N, 'paper')):7.4f} {float(ms.kappa_s(psi, mu, N, 'appendix')):8.4f} "
                  f"{float(ms.kappa_s(psi, mu, N, 'typical-bs')):9.4f} {r.mean_load.mean:9.3f} "
                  f"± {r.mean_load.stderr:.3f} ({mu * N:g})")
    r = meng.simulate_acceptance(P, 15, 200, seed=99)
    h = r.counts.load_hist
    k = np.arange(h.size)
    print(f"   N=15: sum min(load, psi) / sum load over BSs = {np.sum(np.minimum(k, 15) * h) / np.sum(k * h):.6f}"
          f" = accepted/requests = {r.counts.accepted.sum() / r.counts.requests.sum():.6f}; load variance/mean "
          f"= {np.sum(k * k * h) / h.sum() / (np.sum(k * h) / h.sum()) - np.sum(k * h) / h.sum():.3f} (Poisson: 1)")
    print("   by rank of the BS in the target's list (1 = nearest): "
          + ", ".join(f"{e.mean:.3f}" for e in r.by_rank[::2]))
    print(f"   N-bar(15) = {float(ms.nbar(15)):.4f} vs exact mean load / mu = 15")


def m12() -> None:
    print("M-12 communication twin kappa_c (L - 1 cooperation requests, psi - 1 blocks)")
    for L in (2, 5, 10, 16, 20, 30):
        r = meng.simulate_acceptance(P, L, 100, seed=120 + L, service="communication")
        print(f"   L={L:>2}: simulation {r.acceptance.mean:.4f} ± {r.acceptance.stderr:.4f}, derived "
              f"{r.closed_form:.4f}, printed {float(ms.kappa_c(15, 1.0, L, 'paper')):.4f}")


def m13() -> None:
    print("M-13/M-14 Fig. 3: CRLB with acceptance (psi = 15, mu_s = 1)")
    Nf = np.arange(2, 61)
    for v in ("paper", "corrected", "mean-field"):
        c = ms.crlb_a(Nf, P, variant=v)
        i = int(np.argmin(c))
        print(f"   closed form {v:>10}: argmin N = {Nf[i]}, CRLB(15)/min = {c[13] / c[i]:.3f}, "
              f"CRLB(30)/min = {c[28] / c[i]:.3f}")
    Ns = (6, 8, 10, 11, 12, 13, 14, 15, 16, 18, 20, 25, 30)
    print(f"   median CRLB [m^2] with 95% CI; tori of ~400 targets ({'shrink/extend'}) / layouts (thinning)")
    res = {}
    for rule, n in (("none", 100_000), ("thinning", 100_000), ("shrink", 400), ("extend", 400)):
        res[rule] = {N: meng.crlb_statistics(N, P, n, seed=130 + N, rule=rule) for N in Ns}
    for N in Ns:
        row = "  ".join(f"{rule} {res[rule][N].median.value:7.0f} [{res[rule][N].median.lo:6.0f},"
                        f"{res[rule][N].median.hi:6.0f}]" for rule in res)
        print(f"   N={N:>2}: {row}")
    for rule in ("thinning", "shrink", "extend"):
        med = {N: res[rule][N].median for N in Ns}
        best = min(Ns, key=lambda N: med[N].value)
        tied = [N for N in Ns if med[N].lo <= med[best].hi]
        print(f"   {rule}: argmin N = {best}; N with CIs overlapping the minimum: {tied}; "
              f"median(30)/min = {med[30].value / med[best].value:.2f}; "
              f"max P(singular) over N: {max(res[rule][N].p_singular.mean for N in Ns):.2e}; "
              f"mean cluster size at 30: {res[rule][30].extra['cluster_size'].mean:.2f}")


SECTIONS = {"M-1": m1, "M-4": m4, "M-6": m6, "M-7": m7, "M-8": m8, "M-9": m9, "M-12": m12, "M-13": m13}


def main(argv: list[str]) -> None:
    for key in argv or list(SECTIONS):
        SECTIONS[key]()
        print()


if __name__ == "__main__":
    main(sys.argv[1:])
