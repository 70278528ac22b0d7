"""Numerical checks behind docs/errata.md (Song paper). Run: python docs/scripts/song_errata_checks.py"""

import math

import numpy as np
from scipy import integrate, special

from isacnet import SongParams, song
from isacnet.geometry import ordered_ppp


def main() -> None:
    p = SongParams()
    g = p.gamma
    lam = p.tx_density
    a = math.pi * lam * special.gamma(1 - 2 / g)

    print("S-1 forward scatter: TX (0,10), RX (0,-10), + one TX (10,0):")
    tx = np.array([[0.0, 10.0], [10.0, 0.0]])
    rx = np.array([[0.0, -10.0]])
    print("   exact FIM\n", song.fim_layout(tx[:1], rx, np.zeros(2), p))
    print("   paper FIM (principal-value angles)\n", song.fim_layout(tx[:1], rx, np.zeros(2), p, gradient="paper"))
    rng = np.random.default_rng(1)
    n, k = 20000, 16
    _, txs = ordered_ppp(rng, n, k, p.tx_density)
    _, rxs = ordered_ppp(rng, n, k, p.rx_density)
    ex = song.crlb_layout(txs, rxs, np.zeros(2), p)
    pa = song.crlb_layout(txs, rxs, np.zeros(2), p, gradient="paper")
    print(f"S-1 PPP layouts (nearest {k} TX + {k} RX, {n} layouts): mean exact {ex.mean():.4e}, "
          f"paper {pa.mean():.4e}, ratio {pa.mean() / ex.mean():.3f}; median per-layout ratio "
          f"{np.median(pa / ex):.3f}")

    th = rng.uniform(0, 2 * math.pi, 10**6)
    pv = np.arctan(np.cos(th) / np.sin(th))  # theta = arctan(dx/dy) with dx = cos, dy = sin
    print(f"S-2 principal-value angle: mean cos = {np.cos(pv).mean():.4f} (2/pi = {2 / math.pi:.4f}), "
          f"mean sin = {np.sin(pv).mean():.4f}; true direction mean cos = {np.cos(th).mean():.4f}")

    f24 = float(song.lemma3(lam, g))
    f36 = math.gamma(0.5) / ((2 / g) * a ** (g / 2))
    f37 = math.gamma(1 + g / 2) * a ** (-0.5)
    quad = integrate.quad(lambda s: math.exp(-a * s ** (2 / g)), 0, np.inf)[0]
    print(f"S-3 gamma={g}, lam=1/900: integral {quad:.6g}; (24) {f24:.6g}; printed (36) {f36:.6g}; "
          f"printed (37) {f37:.6g}")

    r = song.monte_carlo(p, 400_000, seed=7, workers=2)
    b = song.scaling_bound(p)
    print(f"S-4 defaults: (26) = {b:.6e}; MC (23) = {r['jensen']}; MC (18) = {r['crlb']}; "
          f"(18)/(26) = {r['crlb'].mean / b:.4f}")

    single = SongParams(n_tx_antennas=1, n_rx_antennas=1, tx_density=4 * lam, rx_density=4 * lam)
    rs = song.monte_carlo(single, 400_000, seed=8, workers=2)
    fc = song.fair_comparison(p)
    print(f"S-5 fair comparison (M=4 vs single antenna at 4 lam): bounds MIMO {fc['mimo']:.4e}, "
          f"single {fc['single']:.4e}, ratio {fc['ratio']:.4f} = (MtMr)^(1-g/2) = {16 ** (1 - g / 2):.4f}; "
          f"MC (18): MIMO {r['crlb'].mean:.4e} +- {r['crlb'].half_width:.1e}, single "
          f"{rs['crlb'].mean:.4e} +- {rs['crlb'].half_width:.1e}, ratio {rs['crlb'].mean / r['crlb'].mean:.4f}")

    for R in (60.0, 100.0, 200.0, 400.0):
        w = song.monte_carlo(p, 100_000, seed=9, window_radius=R, workers=2)
        print(f"S-9 window R={R:>5} m: MC (23) / (26) = {w['jensen'].mean / b:.4f} "
              f"(+- {w['jensen'].half_width / b:.4f}); MC (18)/(26) = {w['crlb'].mean / b:.4f}; "
              f"non-finite {w['crlb'].n_nonfinite}")


if __name__ == "__main__":
    main()
