"""
The localisation CRLB against BS density and cluster size
=========================================================

How precisely can N cooperating base stations (distributed non-coherent MIMO radar, Meng &
Masouros Section III) locate a target, and how does that change with the BS density? Here at a
radar path-loss exponent beta = 3 instead of the paper's 2, with the paper's other parameters.

Two routes, side by side:

* the closed form ``meng.crlb_approx(N, params)`` (eq. (13) with the corrected constant,
  ``docs/errata.md`` M-6/M-7), an approximation of E[CRLB];
* the Monte Carlo ``meng.crlb_statistics``: over random PPP layouts, the median and the geometric
  mean of the per-layout CRLB (eqs. (5)-(6)), each with a 95% CI. The mean itself exists only for
  N >= 4 (the CRLB has a heavy tail, errata M-10), so robust statistics are what we plot.

Units: CRLB in m^2 (its square root is an RMS position error in m), densities in BS/m^2.
"""

import matplotlib.pyplot as plt
import numpy as np

import isacnet
from isacnet import meng

beta = 3.0  # your path-loss exponent for the radar links (two-way: r^-beta per hop)
cluster_sizes = np.arange(2, 13)
densities = [1e-6, 4e-6, 16e-6]  # BS per m^2: 1, 4 and 16 per km^2

fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
for lam, color in zip(densities, ["C0", "C1", "C2"], strict=True):
    params = isacnet.MengParams(beta=beta, bs_density=lam)
    # closed form, vectorised over N
    ax.plot(cluster_sizes, meng.crlb_approx(cluster_sizes, params), "-", color=color,
            label=rf"eq. (13), $\lambda_b$ = {lam * 1e6:g} km$^{{-2}}$")
    # Monte Carlo: median over layouts, with its 95% CI
    med, lo, hi = [], [], []
    for N in cluster_sizes[::2]:
        stats = meng.crlb_statistics(int(N), params, 4000, seed=7)
        q = stats.quantiles[0.5]
        med.append(q.value)
        lo.append(q.value - q.lo)
        hi.append(q.hi - q.value)
    ax.errorbar(cluster_sizes[::2], med, yerr=[lo, hi], fmt="o", color=color, ms=4, capsize=2,
                label=rf"MC median, $\lambda_b$ = {lam * 1e6:g} km$^{{-2}}$")

ax.set_yscale("log")
ax.set_xlabel("cluster size $N$ (cooperating sensing BSs)")
ax.set_ylabel(r"CRLB [m$^2$]")
ax.xaxis.get_major_locator().set_params(integer=True)
ax.legend(fontsize=8, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.18))
ax.set_title(rf"Meng & Masouros sensing, $\beta$ = {beta:g}")
plt.show()

# %%
# Reading the figure
# ------------------
# The closed form (13) approximates the *mean* CRLB, which lies above the median because of the
# heavy tail; both fall with N roughly as 1/ln^2 N at large N (Theorem 1's law) and scale with
# the density as lambda_b^(-beta) (distances shrink as lambda_b^(-1/2), and each two-way path
# loss is r^(-2 beta)). The exact numbers for one point:

params = isacnet.MengParams(beta=beta, bs_density=4e-6)
stats = meng.crlb_statistics(6, params, 4000, seed=7)
print(f"N = 6, lambda_b = 4 per km^2: median CRLB {stats.quantiles[0.5].value:.4g} m^2 "
      f"(95% CI {stats.quantiles[0.5].lo:.4g} .. {stats.quantiles[0.5].hi:.4g}), "
      f"RMS error about {np.sqrt(stats.quantiles[0.5].value):.3g} m")
