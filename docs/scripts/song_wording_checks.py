"""Measurements behind the wording of errata S-1 and S-12 (Song paper).

    python docs/scripts/song_wording_checks.py        (about 30-50 s on one core)

S-12: the receive arrays' angle information at the paper's Section III parameters (M_t = M_r = 4,
gamma = 2.5, lambda_t = lambda_r = 1/30^2 m^-2), per layout of the infinite plane (64 nearest TXs
and RXs exact, the rest by their conditional mean: ``simulation.estimation.AoaGainKernel``, the
kernel of ``isacnet reproduce aoa-gain``). "0.16% on average" is 1 - mean of the per-layout ratios
CRLB(delay + AoA)/CRLB(delay); the effect on the plotted E[CRLB] is 1 - E[CRLB(delay + AoA)] /
E[CRLB(delay)], a ratio of means. Both, and the quantiles of the per-layout reduction.

S-1: the printed gradient (16) against the exact one, ratio of mean CRLBs (18) over PPP layouts of
the K nearest TXs and RXs (no tail), on the same layouts, for K = 16, 64, 256, 1024: the value for the
whole plane is the limit in K.
"""

from __future__ import annotations

import math
import time

import numpy as np

from isacnet import SongParams, song
from isacnet.geometry import ordered_ppp
from isacnet.simulation.estimation import AoaGainKernel


def ratio_of_means(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """mean(a)/mean(b) and its delta-method standard error (paired samples)."""
    n = a.size
    r = a.mean() / b.mean()
    d = (a - r * b) / b.mean()
    return r, d.std(ddof=1) / math.sqrt(n)


def s12(n: int = 200_000, seed: int = 1212, orientation: str = "aligned") -> None:
    k = AoaGainKernel(SongParams(), k_nearest=64, rx_orientation=orientation)
    rng = np.random.default_rng(seed)
    parts = [k(rng, 20_000) for _ in range(n // 20_000)]
    cd = np.concatenate([p["crlb_delay"] for p in parts])
    ca = np.concatenate([p["crlb_aoa"] for p in parts])
    ok = np.isfinite(cd) & np.isfinite(ca)
    cd, ca = cd[ok], ca[ok]
    red = 1.0 - ca / cd  # per-layout relative reduction of the CRLB by the AoA information
    r, se = ratio_of_means(ca, cd)
    print(f"S-12 ({cd.size} layouts, seed {seed}; M_r = 4, RX arrays {orientation}):")
    print(f"  mean per-layout reduction 1 - E[ratio]        = {red.mean():.3e} ({100 * red.mean():.3f}%)"
          f" +- {red.std(ddof=1) / math.sqrt(red.size):.1e}")
    print(f"  effect on E[CRLB]: 1 - E[CRLB_aoa]/E[CRLB]    = {1 - r:.3e} ({100 * (1 - r):.4f}%) +- {se:.1e}")
    q = np.quantile(red, [0.5, 0.9, 0.99, 0.999])
    print(f"  per-layout reduction: median {q[0]:.2e}, 90th percentile {q[1]:.2e}, "
          f"99th {q[2]:.3e} ({100 * q[2]:.2f}%), 99.9th {q[3]:.3e}, max {red.max():.3f}")


def s1(seed: int = 11) -> None:
    p = SongParams()
    print(f"S-1 printed gradient (16) vs exact, mean CRLB (18), nearest K TXs and RXs (seed {seed}):")
    for K, n in ((16, 40_000), (64, 20_000), (256, 6_000), (1024, 4_000)):
        rng = np.random.default_rng(seed)
        ex, pa = [], []
        for _ in range(n // 2000):
            _, txs = ordered_ppp(rng, 2000, K, p.tx_density)
            _, rxs = ordered_ppp(rng, 2000, K, p.rx_density)
            ex.append(song.crlb_layout(txs, rxs, np.zeros(2), p))
            pa.append(song.crlb_layout(txs, rxs, np.zeros(2), p, gradient="paper"))
        e, a = np.concatenate(ex), np.concatenate(pa)
        r, se = ratio_of_means(a, e)
        print(f"  K = {K:4d} ({e.size} layouts): E[paper]/E[exact] = {r:.4f} +- {se:.4f}; "
              f"median per-layout ratio {np.median(a / e):.4f}")


if __name__ == "__main__":
    t0 = time.perf_counter()
    s12()
    s12(orientation="random")
    s1()
    print(f"{time.perf_counter() - t0:.0f} s")
