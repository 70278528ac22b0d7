"""Numbers for the errata on the Meng-Masouros CoMP rate (Lemma 2, Theorem 2): docs/errata.md (M-17 to M-22).

    python docs/scripts/meng_rate_errata_checks.py [M-17 M-18 ...]    (about 1-2 minutes on 2 cores)

Closed forms from isacnet.analysis.meng_rate; the Monte Carlo is a direct simulation of (8)-(9)
written here (ordered PPP arrivals, the nearest K BSs exactly and the interference beyond the
K-th by its conditional mean), seeded, with standard errors.
"""

from __future__ import annotations

import math
import sys

import mpmath
import numpy as np

from isacnet.analysis import meng_rate as mr
from isacnet.analysis.meng_sensing import kappa_c
from isacnet.params import MengParams

LN2 = math.log(2.0)
PAPER = MengParams(n_tx_antennas=4, alpha=4.0, resource_blocks=15, bs_density=1e-6, user_density=1e-6)


def mc_rate(L, kap, pc, M=4, alpha=4.0, n=200_000, k_max=150, seed=1, interference="paper", block=20_000):
    """E[log2(1 + SIR)] of (8) on PPP layouts (bits), with its standard error.

    interference: "paper" Gamma(1, 1); "sum" p^c E_1 + p^s E_2 with independent E_i ~ Exp(1)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(0, n, block):
        m = min(block, n - i)
        T = np.cumsum(rng.standard_exponential((m, k_max)), axis=1)
        ratio = (T[:, :1] / T) ** (alpha / 2)
        acc = rng.random((m, k_max)) < kap
        acc[:, 0] = True
        acc[:, L:] = False
        gd = rng.gamma(M - 1, pc, (m, k_max))
        if interference == "paper":
            gi = rng.standard_exponential((m, k_max))
        else:
            gi = pc * rng.standard_exponential((m, k_max)) + (1 - pc) * rng.standard_exponential((m, k_max))
        s = np.sum(np.where(acc, gd, 0.0) * ratio, axis=1)
        y = np.sum(np.where(acc, 0.0, gi) * ratio, axis=1)
        y += T[:, 0] ** (alpha / 2) * T[:, -1] ** (1 - alpha / 2) / (alpha / 2 - 1)  # mean gain 1 beyond
        out.append(np.log1p(s / y) / LN2)
    x = np.concatenate(out)
    return x.mean(), x.std() / math.sqrt(x.size)


def product_form_rate(L, kap, pc, M=4, alpha=4.0, n_eta=41, n_z=257):
    """Exact model, but E[log(1 + X/Y)] by (17) as printed, i.e. with X and Y taken independent
    given (r, r_L): int (E e^-zY - E e^-zX E e^-zY) dz/z, then the true law of (r, r_L). Bits."""
    _, log1ms, ws = mr._tanh_sinh(n_eta)
    u = -np.expm1(log1ms / (L - 1))
    eta, q = np.sqrt(u)[:, None], (np.exp(log1ms / (L - 1)) / u)[:, None]
    d, K = 2 / alpha, M - 1.0
    v_lo = np.full(eta.shape, math.log(1e-13 / (K * L)))
    v_hi = alpha * np.log(1 / eta) + math.log(1 / (1e-13 * d * L)) / (d * L) - math.log(math.pi / 2) / d

    def F(z):
        h1I, h2 = mr._h_parts(z, 1.0, alpha, eta[..., None])
        h1D = mr._h_parts(pc * z, K, alpha, eta[..., None])[0]
        mI = mr._annulus_mean(z, 1.0, alpha, eta[..., None], q[..., None], h1I)
        mD = mr._annulus_mean(pc * z, K, alpha, eta[..., None], q[..., None], h1D)
        ea = eta[..., None] ** alpha
        eI, eD = 1 / (1 + z * ea), (1 + pc * z * ea) ** -K
        D = (1 + pc * z) ** -K
        EX = D * (1 - kap * mD) ** (L - 2) * (kap * eD + 1 - kap)
        EY = (1 - (1 - kap) * mI) ** (L - 2) * (kap + (1 - kap) * eI)
        return (1 - EX) * EY * (1 + eta[..., None] ** 2 * h2) ** -L

    fine, _ = mr._inner_z(F, v_lo, v_hi, n_z)
    return float(fine[:, 0] @ ws) / LN2


def m17() -> None:
    print("M-17  B(x; a, b) in Lemma 2: exponent a - 1 (read t^(b-1) in the printed notation)")
    x, K, al, eta = 0.8, 3, 4.0, 0.4
    d = 2 / al
    with mpmath.workdps(30):
        r = mpmath.mpf(1)
        quad = 2 * mpmath.quad(lambda s: (1 - (1 + x * r**al * s**-al) ** -K) * s, [r, r / eta]) / r**2

        def h1(binc):
            y = x * eta**al
            return (
                eta**-2 * (1 - (1 + y) ** -K) + (1 + x) ** -K - 1 + K * x**d * (binc(x / (1 + x)) - binc(y / (1 + y)))
            )

        right = h1(lambda u: mpmath.quad(lambda t: t ** (-d) * (1 - t) ** (K + d - 1), [0, u]))
        literal = h1(lambda u: mpmath.quad(lambda t: t ** (1 - d) * (1 - t) ** (K + d - 1), [0, u]))
    print(
        f"  x={x}, K={K}, alpha={al}, eta={eta}: PGFL quad {float(quad):.12f}, closed form with t^(a-1) "
        f"{float(right):.12f}, with t^a {float(literal):.12f}, code {float(mr.H1(x, K, al, eta)):.12f}"
    )
    print(
        f"  scipy betainc (regularised) at a = 1 - 2/alpha = 0.5, b = 3.5, x = 0.6: "
        f"{float(mpmath.betainc(0.5, 3.5, 0, 0.6, regularized=True)):.6f} vs B(x; a, b) = "
        f"{float(mr.incomplete_beta(0.6, 0.5, 3.5)):.6f}"
    )


def m18() -> None:
    print("M-18  Theorem 2 as printed vs exact, paper parameters (M_t=4, alpha=4, psi=15, mu_c=1), bits/s/Hz")
    Ls = np.arange(1, 11)
    k = kappa_c(PAPER.resource_blocks, PAPER.mu_c, Ls)
    print("  L      " + " ".join(f"{L:>7d}" for L in Ls))
    print("  kappa_c" + " ".join(f"{v:>7.4f}" for v in k))
    for pc in (0.3, 0.6, 0.9):
        ex = mr.rate(Ls, PAPER, p_c=pc, variant="exact")
        pg = mr.rate(Ls, PAPER, p_c=pc, variant="pgfl")
        pa = mr.rate(Ls, PAPER, p_c=pc, variant="paper")
        print(f"  p^c={pc} exact " + " ".join(f"{v:>7.4f}" for v in ex) + f"   argmax L = {Ls[np.argmax(ex)]}")
        print("          paper " + " ".join(f"{v:>7.4f}" for v in pa) + f"   argmax L = {Ls[np.argmax(pa)]}")
        print("          pgfl  " + " ".join(f"{v:>7.4f}" for v in pg) + f"   argmax L = {Ls[np.argmax(pg)]}")
        print("     paper/exact-1 " + " ".join(f"{v:>+7.2%}" for v in pa / ex - 1))
    Lw = np.arange(1, 41)
    for pc in (0.3, 0.6, 0.9):
        ex = mr.rate(Lw, PAPER, p_c=pc, variant="exact")
        pa = mr.rate(Lw, PAPER, p_c=pc, variant="paper")
        print(
            f"  L = 1..40, p^c={pc}: best L exact {Lw[np.argmax(ex)]} ({ex.max():.4f}), "
            f"paper {Lw[np.argmax(pa)]} ({pa.max():.4f}); at L=40 paper/exact-1 = {pa[-1] / ex[-1] - 1:+.2%}"
        )
    print("  Monte Carlo of (8)-(9) (200,000 layouts, K = 150 nearest BSs + mean of the rest):")
    for L, pc in ((2, 0.6), (4, 0.6), (8, 0.6), (4, 0.3)):
        kk = float(kappa_c(15, 1.0, L))
        m, se = mc_rate(L, kk, pc, seed=L * 10 + int(pc * 10))
        ex, pa, pg = (mr.rate(L, PAPER, p_c=pc, variant=v) for v in ("exact", "paper", "pgfl"))
        print(
            f"  L={L}, p^c={pc}, kappa={kk:.4f}: MC {m:.4f} +- {se:.4f}; exact {ex:.4f} ({(ex - m) / se:+.1f} se), "
            f"paper {pa:.4f} ({(pa - m) / se:+.1f} se), pgfl {pg:.4f} ({(pg - m) / se:+.1f} se)"
        )


def m19() -> None:
    print("M-19  Lemma 2's PPP ring vs the binomial ring (kappa_c = 1 and 0.5, p^c = 0.6, bits)")
    for kap in (1.0, 0.5):
        Ls = np.array([2, 3, 5, 10, 20])
        ex = mr.rate(Ls, PAPER, p_c=0.6, kappa_c=kap, variant="exact")
        pg = mr.rate(Ls, PAPER, p_c=0.6, kappa_c=kap, variant="pgfl")
        print(f"  kappa={kap}: L " + " ".join(f"{L:>7d}" for L in Ls))
        print("     exact     " + " ".join(f"{v:>7.4f}" for v in ex))
        print("     pgfl      " + " ".join(f"{v:>7.4f}" for v in pg))
    # (17) with independent X and Y: the product of the exact conditional marginals
    print("  (17)'s product form (1 - E e^-zX) E e^-zY with the exact marginals given (r, r_L), same quadrature:")
    for kap in (1.0, 0.5):
        vals = [product_form_rate(L, kap, 0.6) for L in (2, 3, 5, 10)]
        ex = mr.rate(np.array([2, 3, 5, 10]), PAPER, p_c=0.6, kappa_c=kap)
        print(
            f"  kappa={kap}: L=2,3,5,10 product form "
            + " ".join(f"{v:.4f}" for v in vals)
            + " | exact "
            + " ".join(f"{v:.4f}" for v in ex)
        )
    # the ring's number of BSs: Poisson(T_L - T_1) in Lemma 2, exactly L - 1 in the model
    print("  Lemma 2 ring: Poisson(T_L - T_1) BSs (mean L - 1, variance (L - 1) + (L - 1) = 2(L - 1) over")
    print("  the law of T_L - T_1 ~ Gamma(L - 1)); the model: exactly L - 1 (L - 2 inside, one on the circle).")


def m20() -> None:
    print("M-20  interference gain Gamma(1,1) (paper) vs two-moment Gamma(1/v, v) (exact rate, bits)")
    print("      matched: v = pc^2 + ps^2 (independent terms); zf-matched: v = 1 - 2 pc ps (1 - 1/M_t)")
    Ls = np.array([1, 4, 8])
    for pc in (0.3, 0.6, 0.9):
        a, b, c = (mr.rate(Ls, PAPER, p_c=pc, interference_shape=s) for s in ("paper", "matched", "zf-matched"))
        print(
            f"  p^c={pc}: L={Ls.tolist()} Gamma(1,1) "
            + " ".join(f"{x:.4f}" for x in a)
            + " | matched "
            + " ".join(f"{x:.4f}" for x in b)
            + " | zf-matched "
            + " ".join(f"{x:.4f}" for x in c)
        )
    for L, pc, n in ((1, 0.5, 200_000), (1, 0.3, 400_000), (4, 0.3, 400_000)):
        kk = float(kappa_c(15, 1.0, L))
        m, se = mc_rate(L, kk, pc, n=n, seed=77 + L, interference="sum")
        a = mr.rate(L, PAPER, p_c=pc)
        b = mr.rate(L, PAPER, p_c=pc, interference_shape="matched")
        print(
            f"  MC with g_j = p^c E1 + p^s E2, L={L}, p^c={pc}: {m:.4f} +- {se:.4f}; Gamma(1,1) {a:.4f} "
            f"({(a - m) / se:+.1f} se), matched {b:.4f} ({(b - m) / se:+.1f} se)"
        )


def m21() -> None:
    print("M-21  L = 1: (29) is identically 0, the printed Theorem 2 gives R_c = 0")
    for pc in (0.3, 0.6, 0.9):
        print(f"  p^c={pc}: R_c(L=1) = {mr.rate(1, PAPER, p_c=pc):.6f} bits/s/Hz")
    m, se = mc_rate(1, 1.0, 0.6, n=400_000, seed=1)
    print(f"  MC L=1, p^c=0.6: {m:.4f} +- {se:.4f}")
    q = MengParams(n_tx_antennas=2, sensing_power_fraction=0.0)
    print(f"  M_t=2, p^c=1, alpha=4: {mr.rate(1, q):.6f} bits (Andrews et al. 2011: 2.15)")


SECTIONS = {"M-17": m17, "M-18": m18, "M-19": m19, "M-20": m20, "M-21": m21}

if __name__ == "__main__":
    for key in sys.argv[1:] or list(SECTIONS):
        SECTIONS[key]()
        print()
