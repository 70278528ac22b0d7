"""Speed of the Meng CoMP rate closed form (Theorem 2), as ratios against scipy in this process.

    python benchmarks/bench_meng_rate_closed.py [--L 4] [--kappa 0.7] [--variant exact]

Both methods integrate the same integrand, f_eta(eta) F(z, eta) / z over z in (0, inf) and eta in
(0, 1) (``isacnet.analysis.meng_rate._F_avg``, the corrected Theorem 2; "paper" for the printed
one), at M_t = 4, alpha = 4, p^c = 0.5:

(a) ``scipy.integrate.dblquad`` (QUADPACK, adaptive; outer z on (0, inf), inner eta on (0, 1) as
    printed), the integrand called on scalars;
(b) ``isacnet.analysis.meng_rate.rate``: vectorised fixed-order rules (tanh-sinh in the CDF of eta,
    trapezoid in ln z).

Accuracy is matched against a reference value (``rate`` at 2x the default orders in both
directions, which agrees with mpmath to ~1e-12 in tests/reference/test_meng_rate_reference.py):
for each target (1e-6 and 1e-9 relative) dblquad's epsabs = epsrel is lowered by decades until its
actual error meets the target, and the fixed-order rule uses the smallest of a few preset orders
that meets it. Each row prints the actual error reached, so the comparison is at equal accuracy.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
from _common import timeit
from scipy import integrate

from isacnet.analysis import meng_rate as mr
from isacnet.params import MengParams

ORDERS = [(13, 33), (21, 65), (25, 97), (33, 129), (41, 257)]


def scalar_integrand(L: int, kap: float, p: MengParams, variant: str, calls: list):
    pc, M, alpha = p.comm_power_fraction, float(p.n_tx_antennas), float(p.alpha)

    def f(eta: float, z: float) -> float:  # dblquad calls f(inner, outer)
        calls[0] += 1
        if eta <= 0.0 or eta >= 1.0 or z <= 0.0:
            return 0.0
        q = (1.0 - eta * eta) / (eta * eta)
        val = mr._F_avg(np.array(z), eta, q, float(L), pc, kap, 1.0, 1.0, M, alpha, variant)
        return float(2.0 * (L - 1) * eta * (1.0 - eta * eta) ** (L - 2) * val / z)

    return f


def dblquad_rate(L, kap, p, variant, tol):
    """(value, integrand calls)."""
    calls = [0]
    f = scalar_integrand(L, kap, p, variant, calls)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return integrate.dblquad(f, 0.0, np.inf, 0.0, 1.0, epsabs=tol, epsrel=tol)[0], calls[0]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--L", type=int, default=4)
    ap.add_argument("--kappa", type=float, default=0.7)
    ap.add_argument("--variant", default="exact", choices=["exact", "pgfl", "paper"])
    a = ap.parse_args()
    if a.L < 2:
        raise SystemExit("--L must be >= 2 (L = 1 has no eta integral)")
    p = MengParams()
    ref = mr.rate(a.L, p, kappa_c=a.kappa, variant=a.variant, unit="nats", n_eta=81, n_z=513)
    print(
        f"Theorem 2 ({a.variant}), L = {a.L}, kappa_c = {a.kappa}, M_t = 4, alpha = 4, p^c = 0.5: "
        f"R = {ref:.12f} nats (reference)"
    )
    print(f"{'target':>8} {'method':<36}{'evals/s':>10}{'rel. error':>12}{'time/ours':>11}{'integrand calls':>17}")
    for target in (1e-6, 1e-9):
        # fixed-order rule: smallest preset order meeting the target
        for ne, nz in ORDERS:
            val = mr.rate(a.L, p, kappa_c=a.kappa, variant=a.variant, unit="nats", n_eta=ne, n_z=nz)
            if abs(val - ref) <= target * ref:
                break
        t_ours = timeit(
            lambda ne=ne, nz=nz: mr.rate(a.L, p, kappa_c=a.kappa, variant=a.variant, n_eta=ne, n_z=nz), repeat=5
        )
        err_ours = abs(val - ref) / ref
        # dblquad: tighten until the target is met (or give up at 1e-12)
        tol = 1e-4
        while True:
            t0 = time.perf_counter()
            dv, calls = dblquad_rate(a.L, a.kappa, p, a.variant, tol)
            t_dbl = time.perf_counter() - t0
            err_dbl = abs(dv - ref) / ref
            if err_dbl <= target or tol <= 1e-12:
                break
            tol /= 10
        print(
            f"{target:>8.0e} {'(a) scipy dblquad, tol ' + format(tol, '.0e'):<36}{1 / t_dbl:>10.2f}"
            f"{err_dbl:>12.1e}{t_dbl / t_ours:>11.0f}{calls:>17,}"
        )
        print(
            f"{'':>8} {'(b) meng_rate.rate, orders ' + str((ne, nz)):<36}{1 / t_ours:>10.1f}"
            f"{err_ours:>12.1e}{1:>11}{ne * nz:>17,}"
        )
        print(
            f"{'':>8} speed-up at equal accuracy: {t_dbl / t_ours:,.0f}x"
            + ("" if err_dbl <= target else f" (dblquad missed the target: {err_dbl:.1e})")
        )
    # vectorised sweep: the tradeoff grid (L = 1..10 x 20 p^c values) in one call
    Ls = np.arange(1, 11)[:, None]
    pcs = np.linspace(0.05, 1.0, 20)
    t_grid = timeit(lambda: mr.rate(Ls, p, p_c=pcs), repeat=1)
    print(
        f"\nsweep L = 1..10 x 20 p^c values in one call: {t_grid:.2f} s "
        f"({200 / t_grid:.0f} evaluations/s, default orders)"
    )


if __name__ == "__main__":
    main()
