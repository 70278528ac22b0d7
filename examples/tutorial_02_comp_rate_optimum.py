"""
The CoMP rate and its optimum for your own antennas and path loss
==================================================================

A user is served jointly by its L nearest base stations (coordinated multipoint, Meng &
Masouros Section IV). More cooperating BSs bring more signal and less interference, but each
BS accepts the request only if it has a free resource block, so a large cluster is rarely
complete: the average rate R_c has an optimum cluster size L*. Here for BSs with
``M_t = 8`` antennas, a path-loss exponent ``alpha = 3.5`` and two users per BS.

Three routes:

* the closed form ``meng.rate(L, params, unit="nats")``: Theorem 2 re-derived (the exact joint
  law of the serving and the L-th distance, ``docs/errata.md`` M-18), vectorised over L;
* the Monte Carlo ``meng.simulate_rate``: random PPP layouts, the rate of the typical user with
  its 95% confidence interval;
* ``meng.optimize``: the joint design (L, N, p^c) of sensing and communication under the
  backhaul limit of eq. (10).

Units: rates in nats/s/Hz (natural logarithm: the unit of Theorem 2, of the backhaul capacity
and of the result files; bits/s/Hz = nats / ln 2), densities in BS/m^2.
"""

import dataclasses

import matplotlib.pyplot as plt
import numpy as np

import isacnet
from isacnet import meng

# %%
# Your network
# ------------
# Every field of :class:`isacnet.MengParams` has the paper's Section V value as default; set
# the ones that differ. ``sensing_power_fraction`` is p^s, the share of the transmit power
# spent on sensing (the communication share is p^c = 1 - p^s).

params = isacnet.MengParams(
    n_tx_antennas=8,  # M_t antennas per BS
    alpha=3.5,  # path-loss exponent of the communication links (> 2)
    sensing_power_fraction=0.3,  # p^s
    user_density=2e-6,  # lambda_u [m^-2]: with lambda_b = 1e-6, two users per BS
)
print(params.bs_density, params.resource_blocks)  # lambda_b [m^-2] and psi, the paper's values

# %%
# The rate against the cluster size, closed form
# ----------------------------------------------
# ``meng.rate`` broadcasts over L (and over ``p_c=``), so the whole curve is one call. The
# acceptance probability kappa_c (a BS of the cluster has a free block) is computed from psi
# and lambda_u / lambda_b unless you pass ``kappa_c=``.

L = np.arange(1, 21)
rate = meng.rate(L, params, unit="nats")
L_star = int(L[np.argmax(rate)])
print(f"L* = {L_star}, R_c(L*) = {rate.max():.3f} nats/s/Hz = {rate.max() / np.log(2):.3f} bits/s/Hz")
print("kappa_c(L) =", np.round(meng.kappa_c(params.resource_blocks, params.mu_c, L[:10]), 3))

# %%
# The same with the Monte Carlo, and for fewer antennas
# -----------------------------------------------------
# ``simulate_rate`` returns :class:`isacnet.Estimate` values by output name; ``rate_nats`` is
# the mean rate with its standard error and 95% CI. 20 000 layouts per point take well under a
# second here; raise them for publication numbers.

fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
for m_t, color in ((8, "C0"), (2, "C1")):
    p = dataclasses.replace(params, n_tx_antennas=m_t)
    cf = meng.rate(L, p, unit="nats")
    ax.plot(L, cf, "-", color=color, label=rf"Theorem 2 (re-derived), $M_t$ = {m_t}")
    L_mc = L[::3]
    est = [meng.simulate_rate(int(n), p, 20_000, seed=11)["rate_nats"] for n in L_mc]
    lo = [e.mean - e.ci95[0] for e in est]
    hi = [e.ci95[1] - e.mean for e in est]
    ax.errorbar(L_mc, [e.mean for e in est], yerr=[lo, hi], fmt="o", ms=4, capsize=2,
                color=color, label=rf"Monte Carlo, 95% CI, $M_t$ = {m_t}")
    ax.axvline(L[np.argmax(cf)], color=color, ls=":", lw=1)

ax.set_xlabel("cooperating BSs $L$")
ax.set_ylabel(r"$R_c$ [nats/s/Hz]")
ax.xaxis.get_major_locator().set_params(integer=True)
ax.set_title(rf"CoMP rate, $\alpha$ = {params.alpha:g}, $\lambda_u/\lambda_b$ = {params.mu_c:g} (dotted: $L^*$)")
ax.legend(fontsize=8, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.16))
plt.show()

# %%
# Reading the figure: the closed form goes through the Monte Carlo points within their CIs
# (the tests check this at many parameter sets). More antennas raise the rate but leave L* where
# it is: the optimum is set by acceptance, i.e. by the users per BS lambda_u/lambda_b and the
# resource blocks psi, and only weakly by alpha. ``dataclasses.replace(params, ...)`` gives a
# modified copy (parameter objects are immutable and validated on creation):

L_wide = np.arange(1, 31)
for users_per_bs in (1, 2, 4):
    for alpha in (2.5, 3.5, 5.0):
        p = dataclasses.replace(params, user_density=users_per_bs * params.bs_density, alpha=alpha)
        r = meng.rate(L_wide, p, unit="nats")
        print(f"lambda_u/lambda_b = {users_per_bs}, alpha = {alpha}: L* = {L_wide[np.argmax(r)]:2d}, "
              f"R_c(L*) = {r.max():.3f} nats/s/Hz")

# %%
# The joint sensing-communication design
# --------------------------------------
# ``meng.optimize`` searches the cluster sizes L (communication) and N (sensing) and the power
# split p^c for exactly one objective: ``min_rate=`` (the best CRLB with R_c >= min_rate, in
# nats/s/Hz), ``max_crlb=`` (the best rate with the CRLB below it, in m^2) or ``weight=``. Each
# design must fit the backhaul: R_c + e N <= C (eq. (10), in nats/s/Hz). Give the search box
# explicitly; ``design.on_edge`` says when the answer sits on its edge (a larger box may hold a
# better design).

design = meng.optimize(params, min_rate=2.0, L_max=20, N_max=30)
print(f"L = {design.L}, N = {design.N}, p^c = {design.p_c:.3f}: R_c = {design.rate:.3f} nats/s/Hz "
      f"({design.rate_bits:.3f} bits/s/Hz), CRLB_a = {design.crlb:.4g} m^2, "
      f"backhaul {design.backhaul_load:.2f} of C = {design.backhaul_capacity:g} nats/s/Hz, "
      f"feasible: {design.feasible}, on the search edge: {design.on_edge or 'no'}")

# %%
# ``meng.verify_design(params, design, n_layouts, seed)`` simulates the chosen design (its rate
# and its CRLB with acceptance) to check the closed forms behind it. The command line gives the
# same design for the same network::
#
#     isacnet optimize --min-rate 2 --set n_tx_antennas=8 --set alpha=3.5 \
#         --set sensing_power_fraction=0.3 --set user_density=2e-6
