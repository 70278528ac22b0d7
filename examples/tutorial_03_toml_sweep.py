"""
A two-parameter sweep from a TOML config, loaded with xarray
=============================================================

A config file declares a sweep: the model, its parameters, the swept axis (``[sweep]``), an
optional second axis (``[series]``, one curve per value) and the Monte Carlo size. Here: the
CoMP rate of Meng & Masouros (Theorem 2 and its Monte Carlo) against the cluster size L, for
three path-loss exponents alpha, with 6 transmit antennas instead of the paper's 4.

``isacnet.run(path)`` runs it with the same engine as ``isacnet run path`` on the command line
and returns the :class:`xarray.Dataset` that the command writes to ``<id>.nc``. Rates are in
nats/s/Hz (the paper's unit; divide by ln 2 for bits/s/Hz).
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import isacnet

config = """
[figure]
id = "rate-vs-L-alpha"
model = "meng-rate"
title = "CoMP rate against cluster size"

[params]                      # the network (SI units); what is not given is the paper's
n_tx_antennas = 6

[sweep]                       # the x axis: a model option here (n_comm = L)
dim = "L"
parameters = ["n_comm"]
values = [1, 2, 3, 4, 6, 8]
label = "cluster size L"

[series]                      # one curve per path-loss exponent
dim = "alpha"
parameters = ["alpha"]
values = [3.0, 3.5, 4.0]
label = "path-loss exponent"

[monte_carlo]
n_layouts = 3000              # small, so this page builds fast: raise it for a paper
seed = 2026
block_size = 1000
"""

folder = Path(tempfile.mkdtemp())
path = folder / "rate-vs-L-alpha.toml"
path.write_text(config)

ds = isacnet.run(path)  # the same numbers as `isacnet run rate-vs-L-alpha.toml`
print(ds[["rate_nats", "rate_nats_ci_low", "rate_nats_ci_high", "rate_exact"]])

# %%
# The Dataset is labelled: dimensions ``alpha`` (the series) and ``L`` (the sweep), the Monte
# Carlo mean ``rate_nats`` with its 95% CI (``rate_nats_ci_low``, ``rate_nats_ci_high``) and
# standard error, and the closed forms (``rate_exact``: Theorem 2 re-derived; ``rate_paper``:
# as printed). Every variable says its unit, and the attributes hold the config and seed that
# made it. Select by label, not by index:

print(ds["rate_nats"].attrs["units"])
print(float(ds["rate_exact"].sel(alpha=4.0, L=4)), "nats/s/Hz at alpha = 4, L = 4")

# %%
# Saving and loading: ``isacnet.run(path, out=folder)`` writes ``<id>.nc`` (and a CSV); any
# xarray user can open it again without isacnet.

import xarray as xr  # noqa: E402

ds_saved = isacnet.run(path, out=folder)  # resumes from the chunks kept there: no new layouts
with xr.open_dataset(folder / "rate-vs-L-alpha.nc") as f:
    loaded = f.load()
print(loaded.attrs["seed"], loaded.attrs["model"])

# %%
# Plot: the Monte Carlo with its CI as points, Theorem 2 as lines.

fig, ax = plt.subplots(figsize=(6.4, 4.2), layout="constrained")
for alpha, color in zip(loaded["alpha"].values, ["C0", "C1", "C2"], strict=True):
    one = loaded.sel(alpha=alpha)
    L = one["L"].values
    ax.plot(L, one["rate_exact"], "-", color=color, label=rf"Theorem 2, $\alpha$ = {alpha:g}")
    err = np.vstack([one["rate_nats"] - one["rate_nats_ci_low"], one["rate_nats_ci_high"] - one["rate_nats"]])
    ax.errorbar(L, one["rate_nats"], yerr=err, fmt="o", color=color, ms=4, capsize=2,
                label=rf"Monte Carlo (95% CI), $\alpha$ = {alpha:g}")
ax.set_xlabel(r"cluster size $L$")
ax.set_ylabel(r"average rate $R_c$ [nats/s/Hz]")
ax.xaxis.get_major_locator().set_params(integer=True)
ax.legend(fontsize=8, ncols=2, loc="upper center", bbox_to_anchor=(0.5, -0.18))
plt.show()

# %%
# The same sweep without a file
# -----------------------------
# ``isacnet.sweep`` builds the spec in memory: a model, the swept dimensions in the order of
# the Dataset's dimensions, the base parameters and the Monte Carlo size. Its
# ``config_toml`` attribute is the TOML above, ready to be saved and rerun from the command line.

ds2 = isacnet.sweep("meng-rate", {"n_comm": [1, 2, 4], "alpha": [3.0, 4.0]},
                    params={"n_tx_antennas": 6}, n_layouts=1000, seed=1)
print(ds2["rate_nats"])
print(ds2.attrs["config_toml"])
