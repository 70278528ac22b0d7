"""The closed-form rates quoted in errata M-18 to M-21, in both units.

    python docs/scripts/meng_rate_units.py        (about 10-20 s)

Those entries were first written in bits/s/Hz (log2, the default unit of ``isacnet.meng.rate``);
the figures, the tradeoff and the .nc files use nats/s/Hz (ln, the unit Theorem 2 is derived in,
errata M-22). nats = bits x ln 2. Paper parameters (M_t = 4, alpha = 4, psi = 15,
lambda_u = lambda_b), kappa_c derived, Gamma(1, 1) interferers unless stated.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from isacnet.analysis import meng_rate as mr
from isacnet.params import MengParams

P = MengParams(n_tx_antennas=4, alpha=4.0, resource_blocks=15, bs_density=1e-6, user_density=1e-6)
LN2 = math.log(2.0)


def both(L, pc, **kw) -> str:
    b = np.atleast_1d(mr.rate(np.asarray(L), P, p_c=pc, unit="bits", **kw))
    n = np.atleast_1d(mr.rate(np.asarray(L), P, p_c=pc, unit="nats", **kw))
    assert np.allclose(n, b * LN2, rtol=1e-12)
    return "bits/s/Hz: " + " ".join(f"{x:.4f}" for x in b) + " | nats/s/Hz: " + " ".join(f"{x:.4f}" for x in n)


def main() -> None:
    Ls = np.arange(1, 11)
    print("M-18, p^c = 0.6, L = 1..10, exact:  ", both(Ls, 0.6, variant="exact"))
    print("M-18, p^c = 0.6, L = 1..10, printed:", both(Ls, 0.6, variant="paper"))
    for pc in (0.3, 0.6, 0.9):
        print(f"M-21, R_c(L = 1), p^c = {pc}:", both(1, pc))
    for shape in ("paper", "matched", "zf-matched"):
        print(f"M-20, L = 1/4/8, p^c = 0.3, {shape}:", both(np.array([1, 4, 8]), 0.3, interference_shape=shape))
        print(f"M-20, L = 1/4/8, p^c = 0.6, {shape}:", both(np.array([1, 4, 8]), 0.6, interference_shape=shape))
    for kap in (1.0, 0.5):
        print(f"M-19, p^c = 0.6, L = 2, 3, 5, 10, 20, kappa = {kap}, exact:",
              both(np.array([2, 3, 5, 10, 20]), 0.6, kappa_c=kap, variant="exact"))
        print(f"M-19, p^c = 0.6, L = 2, 3, 5, 10, 20, kappa = {kap}, Lemma 2 ring:",
              both(np.array([2, 3, 5, 10, 20]), 0.6, kappa_c=kap, variant="pgfl"))
    q = dataclasses.replace(P, n_tx_antennas=2)
    b = float(mr.rate(1, q, p_c=1.0, unit="bits"))
    print(f"M-21, M_t = 2, p^c = 1, L = 1: {b:.6f} bits/s/Hz = {b * LN2:.6f} nats/s/Hz")
    for name, (mc, se) in {"M-18 MC L=2 p^c=0.6": (3.9817, 0.0066), "M-18 MC L=4": (5.0747, 0.0069),
                           "M-18 MC L=8": (6.1163, 0.0070), "M-18 MC L=4 p^c=0.3": (4.1915, 0.0067),
                           "M-21 MC L=1 p^c=0.6": (2.9091, 0.0043)}.items():
        print(f"{name}: {mc} +- {se} bits/s/Hz = {mc * LN2:.4f} +- {se * LN2:.4f} nats/s/Hz")


if __name__ == "__main__":
    main()
