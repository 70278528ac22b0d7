"""The sensing Monte Carlo of :mod:`isacnet.meng`: expected CRLB and its robust statistics."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from ..analysis.meng_sensing import (
    kappa_s,
)
from ..params import MengParams, ParameterError, check_int, check_real
from ..rng import block_rng, check_seed
from ..simulation.kernels.meng_crlb import (
    MengClusterKernel,
    MengCrlbKernel,
    no_ci_without_variance,
)
from ..simulation.montecarlo import RunOptions, estimate, run_options
from ..simulation.quantiles import Quantile, quantiles_from_cdf, threshold_grid
from ..simulation.statistics import Z95, Estimate

PILOT_POINT = 1
"""Sweep-point index of the pilot stream (the main run uses point 0 of the same seed)."""


# --------------------------------------------------------------------------- per layout
# --------------------------------------------------------------------------- Monte Carlo


def monte_carlo(
    N: int,
    params: MengParams,
    n_layouts: int,
    seed: int,
    *,
    kappa: float = 1.0,
    thresholds: tuple[float, ...] = (),
    backend: str = "numpy",
    dtype: str = "float64",
    run: RunOptions | None = None,
    **run_kw: Any,
) -> dict[str, Estimate]:
    """Monte Carlo over PPP layouts of the per-layout quantities of :class:`MengCrlbKernel`.

    "crlb" is present only where its mean exists (N >= 4, kappa = 1); for N = 4, 5 its variance
    is infinite and its ``stderr`` is set to NaN (``usable`` is False): the mean converges but no
    normal confidence interval holds.

    Parameters
    ----------
    N : int
        Cluster size, the N nearest BSs of the typical target.
    params : MengParams
    n_layouts : int
        Independent layouts (>= 2).
    seed : int
        Run seed (results independent of the workers and the chunking).
    kappa : float
        Independent acceptance probability of each BS (1: all accept).
    thresholds : tuple of float
        CDF points [m^2] for the "cdf_i" indicators.
    backend, dtype
        Who computes the layouts and in which precision (:mod:`isacnet.backends`).
    run : RunOptions, optional
        How to run it; the same names as keywords (``workers=2``) are applied on top
        (:class:`isacnet.simulation.montecarlo.RunOptions`).

    Returns
    -------
    dict quantity -> Estimate
    """
    kernel = MengCrlbKernel(params, N, kappa=kappa, thresholds=tuple(thresholds), backend=backend, dtype=dtype)
    out = estimate(kernel, n_layouts, seed, run_options(run, **run_kw))
    if "crlb" in out:
        out["crlb"] = no_ci_without_variance(out["crlb"], kernel.variance_exists)
    return out


def expected_crlb(N: int, params: MengParams, n_layouts: int, seed: int, **kwargs) -> Estimate:
    """E over PPP layouts of tr(F_N^-1), eq. (6) [m^2], with its CI.

    Raises
    ------
    ParameterError
        For N <= 3, where the expectation is infinite (tail index (N-1)/2 <= 1); use
        :func:`crlb_statistics` (median, geometric mean) there.

    For N = 4, 5 the mean is finite but the variance is not: the returned stderr is NaN.
    Keyword arguments as in :func:`monte_carlo` (except ``kappa``).
    """
    N = check_int("N", N, ge=1)
    if N <= 3:
        raise ParameterError("N", N, ">= 4 for a finite E[CRLB] (P(CRLB > t) ~ t^-(N-1)/2); use crlb_statistics")
    if "kappa" in kwargs:
        raise ParameterError("kappa", kwargs["kappa"], "absent: with acceptance E[CRLB] = inf")
    return monte_carlo(N, params, n_layouts, seed, **kwargs)["crlb"]


# --------------------------------------------------------------------------- robust statistics
@dataclass(frozen=True)
class CrlbStatistics:
    """Robust statistics of the CRLB of a typical target (each with its uncertainty).

    Attributes
    ----------
    quantiles : dict q -> Quantile
        From the CDF at pilot-chosen thresholds; inf when P(singular) >= 1 - q.
    geometric_mean : Quantile-like (q = nan)
        exp(E[log CRLB | localisable]) [m^2] with a 95% CI.
    p_singular : Estimate
        P(CRLB = inf): the target cannot be localised (fewer than 2 BSs, or all collinear).
    mean : Estimate or None
        E[CRLB] where it exists (N >= 4, all BSs accept); stderr NaN for N = 4, 5.
    extra : dict name -> Estimate
        Other kernel outputs (cluster_size, acceptance, isotropic, jensen, ...).
    """

    N: int
    rule: str
    quantiles: dict
    geometric_mean: Quantile
    p_singular: Estimate
    mean: Estimate | None
    extra: dict
    describe: dict

    @property
    def median(self) -> Quantile:
        return self.quantiles[0.5]


Rule = Literal["none", "thinning", "shrink", "extend"]


def crlb_statistics(
    N: int,
    params: MengParams,
    n_samples: int,
    seed: int,
    *,
    rule: Rule = "none",
    kappa: float | None = None,
    quantiles: tuple[float, ...] = (0.5,),
    n_pilot: int | None = None,
    side: float | None = None,
    max_candidates: int | None = None,
    backend: str = "numpy",
    dtype: str = "float64",
    run: RunOptions | None = None,
    **run_kw: Any,
) -> CrlbStatistics:
    """Median/quantiles, geometric mean and P(singular) of the CRLB of a typical target.

    Two passes with the same seed: a pilot (sweep point 1) picks the CDF thresholds around the
    asked quantiles (and the control-variate constants of the torus kernel); the main run
    (point 0) estimates the CDF there with the chunked engine, and the quantiles come from
    inverting it (95% CI from inverting the CDF's pointwise CI).

    Parameters
    ----------
    N : int
        Cluster size (requests per target).
    params : MengParams
    n_samples : int
        Layouts (rule "none"/"thinning") or tori ("shrink"/"extend"; each holds about
        lambda_s side^2 targets).
    seed : int
    rule : "none", "thinning", "shrink" or "extend"
        "none": all N nearest BSs serve. "thinning": each independently with probability
        ``kappa`` (default kappa_s(psi, mu_s, N), negative-binomial law, M-34): the model of (16).
        "shrink" / "extend": spatial cluster formation on a torus (:mod:`isacnet.load`).
    kappa : float, optional
        For "thinning".
    quantiles : tuple of float in (0, 1)
    n_pilot : int, optional
        Pilot size (default n_samples / 10, at least 2000 layouts or 4 tori).
    side, max_candidates
        Torus rules only (see :class:`MengClusterKernel`).
    backend, dtype
        Who computes the layouts of rules "none"/"thinning" (:mod:`isacnet.backends`); the torus
        rules run on numpy only.
    run : RunOptions, optional
        How to run it (and the same names as keywords). Its ``block_size`` defaults to 4096
        layouts ("none"/"thinning") or 8 tori ("shrink"/"extend") when not given.

    Returns
    -------
    CrlbStatistics
    """
    opts = run_options(run, **run_kw)
    N = check_int("N", N, ge=1)
    n_samples = check_int("n_samples", n_samples, ge=2)
    seed = check_seed(seed)
    qs = tuple(check_real("quantiles", q, gt=0.0, lt=1.0) for q in quantiles)
    if rule not in ("none", "thinning", "shrink", "extend"):
        raise ParameterError("rule", rule, "'none', 'thinning', 'shrink' or 'extend'")
    pilot_rng = block_rng(seed, PILOT_POINT, 0)
    extra_names: tuple[str, ...]
    kernel: MengCrlbKernel | MengClusterKernel
    if rule in ("none", "thinning"):
        if rule == "thinning":
            k = float(kappa_s(params.resource_blocks, params.mu_s, N)) if kappa is None else kappa
        else:
            if kappa is not None:
                raise ParameterError("kappa", kappa, "None unless rule='thinning'")
            k = 1.0
        npil = max(2000, n_samples // 10) if n_pilot is None else check_int("n_pilot", n_pilot, ge=10)
        base = MengCrlbKernel(params, N, kappa=k, backend=backend, dtype=dtype)
        pilot = base.samples(pilot_rng, npil)
        kernel = MengCrlbKernel(params, N, kappa=k, thresholds=threshold_grid(pilot, qs), backend=backend, dtype=dtype)
        bs = opts.block_size  # None: the default 4096
        extra_names = ("cluster_size", "isotropic", "jensen")
    else:
        if backend != "numpy":
            raise ParameterError("backend", backend, f"'numpy' for rule {rule!r} (the torus kernel is numpy only)")
        npil = max(4, n_samples // 10) if n_pilot is None else check_int("n_pilot", n_pilot, ge=1)
        torus = MengClusterKernel(params, N, rule=rule, side=side, max_candidates=max_candidates)
        kernel = torus.piloted(pilot_rng, npil, qs)
        bs = 8 if opts.block_size is None else opts.block_size
        extra_names = ("cluster_size", "acceptance", "targets", "rounds")
    est = estimate(kernel, n_samples, seed, opts.replace(block_size=bs))
    quant = quantiles_from_cdf(kernel.thresholds, est, qs)
    p_sing = est["singular"]
    if isinstance(kernel, MengCrlbKernel):
        g, gse = est["log_crlb"].mean, est["log_crlb"].stderr
    else:
        g, gse = kernel.mean_log(est)
    geo = Quantile(math.nan, math.exp(g), math.exp(g - Z95 * gse), math.exp(g + Z95 * gse))
    mean = est.get("crlb")
    if mean is not None and isinstance(kernel, MengCrlbKernel):
        mean = no_ci_without_variance(mean, kernel.variance_exists)
    extra = {k: est[k] for k in extra_names if k in est}
    desc = dict(kernel.describe())
    desc.update({"rule": rule, "n_pilot": npil, "seed": seed})
    return CrlbStatistics(N, rule, quant, geo, p_sing, mean, extra, desc)
