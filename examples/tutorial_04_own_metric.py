"""
Adding your own metric to the registry
======================================

Every sweep that ``isacnet run`` (or ``isacnet.run``) computes is a *model* of the figure
registry (:mod:`isacnet.experiments.registry`): a parameter class, a Monte Carlo kernel, the
closed forms evaluated beside it and the metadata of every output. Add a model, and your metric
gets everything the paper's figures have: seeded, chunked Monte Carlo on any executor, 95%
confidence intervals, non-finite samples counted, resume, a labelled ``xarray.Dataset`` and
the TOML config format (:doc:`../guide/configs`).

The metric here: how far does a cooperating cluster reach? For the N nearest BSs of a PPP of
density lambda_b around a typical target, the distance r_N to the N-th one and the probability
that the whole cluster lies within a radius R. Both have closed forms, which the Monte Carlo
must match: pi lambda_b r_N^2 is Gamma(N, 1) distributed, so

* E[r_N] = Gamma(N + 1/2) / (Gamma(N) sqrt(pi lambda_b)) [m];
* P(r_N <= R) = P(N, pi lambda_b R^2), the regularised lower incomplete gamma function.
"""

from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
from scipy import special

import isacnet
from isacnet.experiments import registry
from isacnet.experiments.registry import Model, Output
from isacnet.params import check_int, check_real

# %%
# 1. The Monte Carlo kernel
# -------------------------
# A kernel is a callable ``kernel(rng, n) -> {output: array of n samples}``: it draws ``n``
# independent layouts from the generator it is given (never from a global one: the engine
# hands every block of layouts its own seeded generator, which is what makes runs reproducible
# and independent of the number of workers). The engine reduces the samples to means,
# standard errors and CIs, and counts +inf/NaN samples instead of averaging them.
#
# Make it a frozen dataclass: its ``repr`` (the parameters) is part of the identity under which
# finished chunks are stored for resume. ``describe()`` returns what the Dataset's attributes
# should say about the kernel (``mc_<key>``).


@dataclass(frozen=True)
class ClusterReachKernel:
    params: isacnet.MengParams
    n_bs: int  # N, the cluster size
    radius: float  # R [m]

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        # ordered PPP distances (the user guide's "ordered PPP sampling"): pi lam r_N^2 is the
        # N-th arrival of a unit-rate Poisson process, a sum of N Exp(1), i.e. Gamma(N, 1)
        arrival = rng.standard_gamma(self.n_bs, size=n)
        r_n = np.sqrt(arrival / (np.pi * self.params.bs_density))
        return {"r_n": r_n, "within": (r_n <= self.radius).astype(float)}

    def describe(self) -> dict[str, object]:
        return {"law": "pi lambda_b r_N^2 ~ Gamma(N, 1), drawn exactly", "radius": self.radius}


# %%
# 2. The closed forms
# -------------------
# A function of (parameters, options) returning one float per closed-form output, computed by an
# independent route (here scipy's gamma functions, not a sample mean).


def cluster_reach_closed(params: isacnet.MengParams, opts: dict) -> dict[str, float]:
    n, lam, radius = opts["n_bs"], params.bs_density, opts["radius"]
    mean = np.exp(special.gammaln(n + 0.5) - special.gammaln(n)) / np.sqrt(np.pi * lam)
    return {"r_n_cf": float(mean), "within_cf": float(special.gammainc(n, np.pi * lam * radius**2))}


# %%
# 3. The model
# ------------
# :class:`~isacnet.experiments.registry.Model` ties them together:
#
# * ``params_cls``: the parameter class whose fields ``[params]`` may set (here
#   :class:`isacnet.MengParams`: we use its ``bs_density``);
# * ``options``: the model's ``[monte_carlo]`` keys, name -> (validator, default); a validator
#   takes (name, value) and returns the checked value or raises a ParameterError naming the
#   valid range (:func:`isacnet.params.check_int` and ``check_real`` do that);
# * ``sweep_options``: the options a sweep may vary (``[sweep] parameters = ["n_bs"]``);
# * ``mc_outputs`` and ``closed_outputs``: an :class:`~isacnet.experiments.registry.Output`
#   per output (name, long name, units, equation, legend label), which become the variables'
#   ``long_name``, ``units`` and ``equation`` attributes;
# * ``plotted``: what the figure draws; ``agreement``: the (Monte Carlo, closed form) pairs the
#   run summary compares, in standard errors.

model = Model(
    name="cluster-reach",
    params_cls=isacnet.MengParams,
    options={
        "n_bs": (lambda name, v: check_int(name, v, ge=1, le=10_000), 4),
        "radius": (lambda name, v: check_real(name, v, gt=0.0), 1000.0),
    },
    make_kernel=lambda params, opts: ClusterReachKernel(params, opts["n_bs"], opts["radius"]),
    closed_forms=cluster_reach_closed,
    mc_outputs=(
        Output("r_n", "distance to the N-th nearest BS (Monte Carlo)", "m", "E[r_N]", "Monte Carlo"),
        Output("within", "probability that the N nearest BSs lie within R (Monte Carlo)", "1",
               "P(r_N <= R)", "Monte Carlo"),
    ),
    closed_outputs=(
        Output("r_n_cf", "Gamma(N + 1/2) / (Gamma(N) sqrt(pi lambda_b))", "m", "E[r_N]", "closed form"),
        Output("within_cf", "regularised lower incomplete gamma P(N, pi lambda_b R^2)", "1",
               "P(r_N <= R)", "closed form"),
    ),
    plotted=("r_n", "r_n_cf"),
    agreement=(("r_n", "r_n_cf"), ("within", "within_cf")),
    sweep_options=("n_bs",),
)

# %%
# 4. Register it and run a sweep
# ------------------------------
# ``registry.MODELS`` is the dict that ``figure.model`` is looked up in. Adding an entry at run
# time makes the model available to every sweep run from this Python process. To make it
# permanent (and available to the ``isacnet`` command line), add it to the ``MODELS`` of a
# module of ``src/isacnet/experiments/registry/`` instead (the package docstring says how), with
# a test that checks its closed forms against the Monte Carlo.

registry.MODELS[model.name] = model

config = """
[figure]
id = "cluster-reach"
title = "Reach of a cluster of $N$ BSs"
model = "cluster-reach"

[params]
bs_density = 4e-6            # lambda_b [m^-2]: 4 BSs per km^2

[sweep]
dim = "N"
parameters = ["n_bs"]
values = [1, 2, 3, 4, 6, 8, 12, 16]
label = "cluster size $N$"

[monte_carlo]
n_layouts = 20000
seed = 5
radius = 600.0               # R [m], a model option
"""

# %%
# The config is validated like a file (every key, every sweep point's kernel built) before any
# Monte Carlo, and the run is the engine of ``isacnet run``. Serial here
# (:class:`~isacnet.simulation.engine.SerialExecutor`, the reference); a kernel defined in a
# script can also run on a process pool on Linux (``ProcessExecutor``), and on a Dask cluster
# or on macOS/Windows once it is defined in an importable module (the workers must be able to
# import the kernel's class).

from isacnet.experiments.runner import run_spec  # noqa: E402
from isacnet.experiments.spec import parse_spec  # noqa: E402

spec = parse_spec(config, source="cluster-reach.toml")
ds = run_spec(spec)
print(ds[["r_n", "r_n_stderr", "r_n_cf", "within", "within_cf"]].to_dataframe().round(4))

# %%
# The Dataset holds, per Monte Carlo output, the mean, standard error, 95% CI and sample counts,
# and the closed forms beside them, with units:

print(ds.r_n.attrs["units"], "|", ds.r_n.attrs["long_name"], "|", ds.r_n.attrs["ancillary_variables"])
z = (ds.within - ds.within_cf) / ds.within_stderr
print("largest |MC - closed form| / stderr of P(r_N <= R):", float(np.nanmax(np.abs(z))))

# %%
# A plot from the Dataset (the CI from its ``_ci_low``/``_ci_high`` variables):

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(8, 3.6), layout="constrained")
ax1.plot(ds.N, ds.r_n_cf, "-", label="closed form")
ax1.errorbar(ds.N, ds.r_n, yerr=[ds.r_n - ds.r_n_ci_low, ds.r_n_ci_high - ds.r_n], fmt="o", ms=4,
             capsize=2, label="Monte Carlo, 95% CI")
ax1.set_xlabel("cluster size $N$")
ax1.set_ylabel(r"$E[r_N]$ [m]")
ax2.plot(ds.N, ds.within_cf, "-", label="closed form")
ax2.errorbar(ds.N, ds.within, yerr=[ds.within - ds.within_ci_low, ds.within_ci_high - ds.within], fmt="o",
             ms=4, capsize=2, label="Monte Carlo, 95% CI")
ax2.set_xlabel("cluster size $N$")
ax2.set_ylabel(rf"$P(r_N \leq R)$, $R$ = {spec.options['radius']:g} m")
for ax in (ax1, ax2):
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(fontsize=8)
plt.show()

# %%
# The same spec through the command line's figure code: :func:`isacnet.plotting.plot_dataset`
# draws any registry Dataset (the ``plotted`` outputs, with the ``Output`` labels) and
# ``ds.to_netcdf("cluster-reach.nc")`` stores it like ``isacnet run`` does.
