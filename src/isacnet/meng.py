"""Meng & Masouros, cooperative ISAC: the sensing CRLB and acceptance, in one namespace.

>>> import isacnet
>>> p = isacnet.MengParams()                         # the paper's Section V values (+ ours)
>>> isacnet.meng.crlb_approx(10, p)                  # eq. (13) [m^2]
>>> isacnet.meng.expected_crlb(10, p, 100_000, seed=1)          # Monte Carlo of eq. (6)
>>> isacnet.meng.crlb_statistics(3, p, 100_000, seed=1).median  # N = 3: the mean is infinite
>>> isacnet.meng.kappa_s(15, 1.0, 20)                # Lemma 1, negative-binomial law (M-34)
>>> isacnet.meng.simulate_acceptance(p, 20, 200, seed=1).acceptance   # spatial check
>>> isacnet.meng.rate(5, p)                         # Theorem 2 (re-derived), L = 5 [nats/s/Hz]
>>> isacnet.meng.simulate_rate(5, p, 100_000, seed=1)["rate_nats"]  # Monte Carlo of (9)
>>> isacnet.meng.optimize(p, min_rate=2.0)           # best (L, N, p^c) under the backhaul (10)
>>> isacnet.meng.rate(5, p, unit="bits")             # the same rate in bits/s/Hz (= nats / ln 2)

Per layout (explicit positions): :func:`fim_layout` (5), :func:`crlb_layout` tr(F^-1).
Closed forms (:mod:`isacnet.analysis.meng_sensing`): :func:`zeta2`, :func:`crlb_eq11`,
:func:`crlb_eq12`, :func:`crlb_approx` = :func:`crlb_eq13`, :func:`crlb_theorem1`,
:func:`crlb_isotropic`, :func:`kappa_s`, :func:`kappa_c`, :func:`crlb_a` (16).
Monte Carlo: :func:`monte_carlo`, :func:`expected_crlb` (only where the mean exists, N >= 4),
:func:`crlb_statistics` (median, quantiles, geometric mean, P(singular), for every N and for
the acceptance rules "thinning", "shrink", "extend"), :func:`simulate_acceptance`.

Communication (:mod:`isacnet.analysis.meng_rate`): :func:`H1`, :func:`H2` (Lemma 2),
:func:`incomplete_beta` (non-regularised), :func:`rate` (Theorem 2: variants "exact", "pgfl",
"paper"), :func:`rate_conditional` (18); Monte Carlo :func:`simulate_rate`
(models "paper", "zf", "full"). Tradeoff (:mod:`isacnet.analysis.optimize`):
:func:`optimize`, :class:`Tradeoff` (corners, time sharing, Pareto boundary).

Heavy tails: P(tr F^-1 > t) ~ t^-(N-1)/2, so E[CRLB] = inf for N <= 3 and Var = inf for
N <= 5; with acceptance E[CRLB_a] = inf for every N (docs/errata.md, M-8 and M-13).

Units: every rate, given or returned, is in nats/s/Hz unless ``unit="bits"`` is passed (the
unit of Theorem 2, of the backhaul capacity C and of the Datasets; docs/guide/units.md).
Monte Carlo results carry both: ``rate_nats`` and ``rate_bits``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from .analysis.coverage import rate_from_coverage as _rate_from_coverage
from .analysis.meng_rate import H1, H2, incomplete_beta
from .analysis.meng_rate import rate as _rate
from .analysis.meng_rate import rate_conditional as _rate_conditional
from .analysis.meng_sensing import (
    crlb_a,
    crlb_eq11,
    crlb_eq12,
    crlb_eq13,
    crlb_isotropic,
    crlb_moment_finite,
    crlb_tail_index,
    crlb_theorem1,
    harmonic,
    kappa_c,
    kappa_s,
    mean_distance,
    nbar,
    poisson_request_acceptance,
    theorem1_constant,
    zeta2,
)
from .analysis.meng_sensing import kappa_c as _kappa_c_closed
from .analysis.optimize import Design, Tradeoff
from .analysis.optimize import optimize as _optimize
from .analysis.optimize import time_sharing as _time_sharing
from .load import AcceptanceCounts, default_side
from .load import simulate_acceptance as _simulate_counts
from .params import TRADEOFF_L_MAX, TRADEOFF_N_MAX, MengParams, ParameterError, check_int, check_real, real_array
from .rng import block_rng, check_seed
from .sensing import meng_crlb as crlb_layout
from .sensing import meng_fim as fim_layout
from .simulation.kernels.meng_crlb import (
    MengClusterKernel,
    MengCrlbKernel,
    crlb_derived,
    no_ci_without_variance,
    ratio_estimate,
)
from .simulation.kernels.meng_design import MengDesignKernel
from .simulation.kernels.meng_rate import MengRateKernel
from .simulation.montecarlo import RunOptions, estimate, run_options
from .simulation.quantiles import Quantile, quantiles_from_cdf, threshold_grid
from .simulation.statistics import Z95, Estimate

crlb_approx = crlb_eq13

__all__ = [
    "H1",
    "H2",
    "Design",
    "Tradeoff",
    "incomplete_beta",
    "optimize",
    "rate",
    "rate_conditional",
    "rate_kernel",
    "simulate_rate",
    "verify_design",
    "RunOptions",
    "time_sharing",
    "AcceptanceResult",
    "CrlbStatistics",
    "MengClusterKernel",
    "MengCrlbKernel",
    "MengParams",
    "crlb_a",
    "crlb_approx",
    "crlb_eq11",
    "crlb_eq12",
    "crlb_eq13",
    "crlb_isotropic",
    "crlb_layout",
    "crlb_moment_finite",
    "crlb_statistics",
    "crlb_tail_index",
    "crlb_theorem1",
    "expected_crlb",
    "fim_layout",
    "harmonic",
    "kappa_c",
    "kappa_s",
    "mean_distance",
    "monte_carlo",
    "nbar",
    "poisson_request_acceptance",
    "ratio_estimate",
    "simulate_acceptance",
    "theorem1_constant",
    "zeta2",
]

PILOT_POINT = 1
"""Sweep-point index of the pilot stream (the main run uses point 0 of the same seed)."""

RateUnit = Literal["nats", "bits"]
RATE_UNITS = ("nats", "bits")
"""The rate units every rate-valued function takes as ``unit=`` ("nats", the default, or "bits")."""


def _nats_per(unit: Any) -> float:
    """Nats per ``unit``: 1 for "nats", ln 2 for "bits" (1 bit = ln 2 nats)."""
    if isinstance(unit, str) and unit == "nats":
        return 1.0
    if isinstance(unit, str) and unit == "bits":
        return math.log(2.0)
    raise ParameterError("unit", unit, "'nats' (nats/s/Hz, the default) or 'bits' (bits/s/Hz)")


# --------------------------------------------------------------------------- rates, in nats by default
def rate(L, params: MengParams, *, unit: RateUnit = "nats", **kwargs: Any):
    """Average CoMP rate R_c = E[log(1 + SIR_c)] of a typical user, (9), Theorem 2.

    Parameters
    ----------
    L : array_like of int
        Cluster size (>= 1).
    params : MengParams
    unit : {"nats", "bits"}
        nats/s/Hz (default; ln) or bits/s/Hz (log2 = ln / ln 2).
    **kwargs
        ``kappa_c``, ``p_c``, ``variant`` ("exact", "pgfl", "paper"), ``interference_shape``,
        ``return_error``, ``n_eta``, ``n_z``: as in :func:`isacnet.analysis.meng_rate.rate`.

    Returns
    -------
    ndarray or float
        The rate in ``unit`` (and its error estimate, in ``unit``, with ``return_error``).
    """
    _nats_per(unit)
    return _rate(L, params, unit=unit, **kwargs)


def rate_conditional(r, r_L, L, params: MengParams, *, unit: RateUnit = "nats", **kwargs: Any):
    """E[log(1 + SIR_c) | d_1 = r, d_L = r_L], (18), in ``unit`` (default nats/s/Hz).

    Parameters
    ----------
    r, r_L : array_like
        Distances [m] to the nearest and to the L-th nearest BS (``r_L=None``: averaged given r).
    L : array_like of int
    params : MengParams
    unit : {"nats", "bits"}
        nats/s/Hz (default) or bits/s/Hz.
    **kwargs
        As in :func:`isacnet.analysis.meng_rate.rate_conditional`.

    Returns
    -------
    ndarray or float
        The conditional rate in ``unit``.
    """
    _nats_per(unit)
    return _rate_conditional(r, r_L, L, params, unit=unit, **kwargs)


def optimize(
    params: MengParams,
    *,
    weight: float | None = None,
    min_rate: float | None = None,
    max_crlb: float | None = None,
    unit: RateUnit = "nats",
    L_max: int = TRADEOFF_L_MAX,
    N_max: int = TRADEOFF_N_MAX,
    **kwargs: Any,
) -> Design:
    """The best feasible cooperative design (L, N, p^c) for exactly one objective.

    Parameters
    ----------
    params : MengParams
        The network (C and e of (10) in nats/s/Hz).
    weight : float, optional
        w in [0, 1]: maximise w R_c + (1 - w) (1/2) ln(1 m^2 / CRLB_a) (R_c in nats/s/Hz).
    min_rate : float, optional
        Rate target in ``unit`` (default nats/s/Hz): the smallest CRLB_a with R_c >= min_rate.
    max_crlb : float, optional
        CRLB target [m^2]: the largest R_c with CRLB_a <= max_crlb.
    unit : {"nats", "bits"}
        The unit of ``min_rate``. The returned :class:`Design` always holds ``rate`` in
        nats/s/Hz and ``rate_bits`` in bits/s/Hz (its ``min_rate`` in nats/s/Hz).
    L_max, N_max : int
        The search box (the defaults of ``isacnet optimize``).
    **kwargs
        :class:`Tradeoff` options (``N_min``, ``n_grid``, ``rate_variant``, ``rate_fn``, ...):
        as in :func:`isacnet.analysis.optimize.optimize`.

    Returns
    -------
    Design
        :attr:`Design.on_edge` is non-empty when the optimum is on the edge of the search box.

    Raises
    ------
    ParameterError
        No objective or more than one, a bad ``unit``, or no design meets the target.
    """
    scale = _nats_per(unit)
    if min_rate is not None and scale != 1.0:
        min_rate = check_real("min_rate", min_rate, ge=0.0) * scale
    return _optimize(params, weight=weight, min_rate=min_rate, max_crlb=max_crlb, L_max=L_max, N_max=N_max,
                     **kwargs)


def time_sharing(params: MengParams, rate, *, unit: RateUnit = "nats", **kwargs: Any):
    """CRLB_a [m^2] of the time-sharing baseline at R_c = ``rate``, given in ``unit``.

    Parameters
    ----------
    params : MengParams
    rate : array_like
        Rates >= 0 in ``unit`` (default nats/s/Hz).
    unit : {"nats", "bits"}
    **kwargs
        :class:`Tradeoff` options (``L_max``, ``N_max``, ``n_grid``, ...).

    Returns
    -------
    ndarray
        The CRLB of time sharing [m^2] (inf where the rate is out of reach).
    """
    scale = _nats_per(unit)
    if scale != 1.0:
        rate = real_array("rate", rate, "finite reals >= 0 [bits/s/Hz]") * scale
    return _time_sharing(params, rate, **kwargs)


def rate_from_coverage(L, params: MengParams, *, unit: RateUnit = "nats", **kwargs: Any) -> float:
    """Mean rate E[log(1 + SINR)] from the coverage probability, in ``unit`` (default nats/s/Hz).

    Parameters
    ----------
    L : int
    params : MengParams
    unit : {"nats", "bits"}
    **kwargs
        As in :func:`isacnet.analysis.coverage.rate_from_coverage` (``n_thresholds``,
        ``kappa_c``, ``jt``, ``noise``, ...).

    Returns
    -------
    float
    """
    _nats_per(unit)
    return _rate_from_coverage(L, params, unit=unit, **kwargs)


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
        raise ParameterError(
            "N", N, ">= 4 for a finite E[CRLB] (P(CRLB > t) ~ t^-(N-1)/2); use crlb_statistics"
        )
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
        kernel = MengCrlbKernel(params, N, kappa=k, thresholds=threshold_grid(pilot, qs), backend=backend,
                                dtype=dtype)
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


# --------------------------------------------------------------------------- acceptance
@dataclass(frozen=True)
class AcceptanceResult:
    """Spatial acceptance simulation: the typical request's acceptance and diagnostics.

    Attributes
    ----------
    acceptance : Estimate
        P(a typical request is accepted), ratio estimator over tori, 95% CI via ``ci95``.
    by_rank : list of Estimate
        The same for the request to the k-th nearest asked BS (k = 1..n_request).
    mean_load : Estimate
        Mean requests per BS (mu N exactly; mu (L - 1) for communication).
    counts : AcceptanceCounts
        The raw per-torus counts.
    closed_form : float
        The derived Lemma 1 value for the same setting (Poisson load, size-biased).
    """

    acceptance: Estimate
    by_rank: list
    mean_load: Estimate
    counts: AcceptanceCounts
    closed_form: float


def simulate_acceptance(
    params: MengParams,
    N: int,
    n_realisations: int,
    seed: int,
    *,
    service: Literal["sensing", "communication"] = "sensing",
    side: float | None = None,
    density_ratio: float | None = None,
) -> AcceptanceResult:
    """Acceptance of a typical request from a spatial simulation on a torus (no Lemma 1 inside).

    Sensing: targets (lambda_s) ask their N nearest BSs, psi blocks per BS. Communication
    (``N`` is then L): users (lambda_u) ask BSs 2..L, psi - 1 blocks per BS for cooperation (the
    nearest BS is the anchor). ``density_ratio`` overrides mu (= lambda_s/lambda_b or
    lambda_u/lambda_b).
    """
    N = check_int("N", N, ge=1)
    seed = check_seed(seed)
    psi = params.resource_blocks
    if service == "sensing":
        mu = params.mu_s if density_ratio is None else check_real("density_ratio", density_ratio, gt=0)
        n_req, cap, skip = N, psi, 0
        closed = float(kappa_s(psi, mu, N))
    elif service == "communication":
        if N < 2:
            raise ParameterError("N", N, ">= 2 for communication (L - 1 cooperation requests)")
        mu = params.mu_c if density_ratio is None else check_real("density_ratio", density_ratio, gt=0)
        n_req, cap, skip = N - 1, psi - 1, 1
        closed = float(kappa_c(psi, mu, N))
    else:
        raise ParameterError("service", service, "'sensing' or 'communication'")
    lam_b = params.bs_density
    side = default_side(lam_b, n_req + skip) if side is None else side
    rng = block_rng(seed, 0, 0)
    counts = _simulate_counts(
        rng, bs_density=lam_b, point_density=mu * lam_b, n_request=n_req, capacity=cap,
        n_realisations=n_realisations, side=side, skip_nearest=skip,
    )
    by_rank = [
        ratio_estimate(counts.accepted_by_rank[:, j], counts.requests_by_rank[:, j])
        for j in range(n_req)
    ]
    return AcceptanceResult(
        acceptance=ratio_estimate(counts.accepted, counts.requests),
        by_rank=by_rank,
        mean_load=ratio_estimate(counts.requests, counts.bs),
        counts=counts,
        closed_form=closed,
    )


# --------------------------------------------------------------------------- CoMP rate, MC
def rate_kernel(params: MengParams, L: int, *, model: str = "paper", kappa_c: float | None = None,
                **kwargs: Any) -> MengRateKernel:
    """The Monte Carlo kernel of the CoMP rate, with the acceptance ``kappa_c`` of the cooperating
    BSs defaulting (models "paper" and "zf") to :func:`kappa_c` (the negative-binomial law, errata M-34).

    Parameters
    ----------
    params : MengParams
    L : int
        Cooperative cluster size (>= 1).
    model : "paper", "zf" or "full"
    kappa_c : float in [0, 1], optional
        None: ``kappa_c(psi, mu_c, L)`` for "paper"/"zf" (must stay None for "full").
    **kwargs
        The other fields of :class:`isacnet.simulation.kernels.meng_rate.MengRateKernel`
        (``k_nearest``, ``interference_shape``, ``side``, ``centers``, ``backend``, ``dtype``).

    Returns
    -------
    MengRateKernel
    """
    if kappa_c is None and model in ("paper", "zf") and isinstance(params, MengParams):
        try:
            n = check_int("L", L, ge=1)
        except ParameterError:
            n = None  # the kernel names the bad L
        if n is not None:
            kappa_c = float(_kappa_c_closed(params.resource_blocks, params.mu_c, n))
    return MengRateKernel(params, L, model=model, kappa_c=kappa_c, **kwargs)


def simulate_rate(
    L: int,
    params: MengParams,
    n_layouts: int,
    seed: int = 0,
    *,
    model: Literal["paper", "zf", "full"] = "paper",
    kappa_c: float | None = None,
    interference_shape: str | None = None,
    k_nearest: int | None = None,
    backend: str = "numpy",
    dtype: str = "float64",
    run: RunOptions | None = None,
    **run_kw: Any,
) -> dict[str, Estimate]:
    """Monte Carlo of the CoMP rate (8)-(9) of a typical user: ``{output: Estimate}``.

    Outputs ``rate_nats`` and ``rate_bits`` (E[ln / log2 (1 + SIR)]) [nats or bits/s/Hz],
    ``sir_db`` [dB] and ``n_accepted`` (see :class:`isacnet.simulation.kernels.meng_rate.MengRateKernel`
    for the models). ``model="paper"``: the paper's gain laws with independent acceptance
    ``kappa_c`` (default :func:`kappa_c`, the negative-binomial law); ``"zf"``: channels and the zero-forcing
    precoder (2) drawn; ``"full"``: acceptance from the spatial load of users on a torus
    (``n_layouts`` then counts tori, each contributing all its users, in blocks of 8 tori by
    default). ``backend="numba"``: model "paper" only.

    ``run`` (or the same keywords, e.g. ``workers=2``, ``rel_ci=0.01``): how to run it
    (:class:`isacnet.simulation.montecarlo.RunOptions`); with ``rel_ci`` and no ``targets``, the
    run stops once the 95% CI half-width of ``rate_nats`` is below ``rel_ci`` times its estimate
    (``n_layouts`` is the cap).
    """
    kernel = rate_kernel(params, L, model=model, kappa_c=kappa_c, interference_shape=interference_shape,
                         k_nearest=k_nearest, backend=backend, dtype=dtype)
    opts = run_options(run, **run_kw)
    if opts.block_size is None and model == "full":
        opts = opts.replace(block_size=8)
    if opts.rel_ci is not None and opts.targets is None:
        opts = opts.replace(targets=("rate_nats",))
    return estimate(kernel, n_layouts, seed, opts)


def verify_design(params: MengParams, design: Design, n_layouts: int, seed: int, *,
                  run: RunOptions | None = None, **run_kw: Any) -> dict[str, Estimate]:
    """Monte Carlo of a cooperative design (L, N, p^c) found by :func:`optimize`.

    Parameters
    ----------
    params : MengParams
        The network the design was optimised for.
    design : Design
        Its L, N, p^c and kappa_s are simulated (the user's rate (9) with the default (negative-binomial)
        acceptance kappa_c of the cooperating BSs, and the target's CRLB with acceptance).
    n_layouts : int
        Layouts (>= 2).
    seed : int
    run : RunOptions, optional
        How to run it (and the same names as keywords).

    Returns
    -------
    dict output -> Estimate
        "rate_nats" [nats/s/Hz], "log_crlb", "singular", "cluster_size" and "geo_mean" [m^2]
        (the geometric-mean CRLB).
    """
    kc = float(_kappa_c_closed(params.resource_blocks, params.mu_c, design.L)) if design.p_c > 0 else None
    kernel = MengDesignKernel(params, design.L, design.N, design.p_c, kappa_s=design.kappa_s, kappa_c=kc)
    return crlb_derived(estimate(kernel, n_layouts, seed, run_options(run, **run_kw)), kernel.variance_exists)


# --------------------------------------------------------------------------- coverage (issue 16)

from .analysis.coverage import coverage, db_to_linear, linear_to_db, noise_level  # noqa: E402
from .analysis.meta import beta_fraction_above, meta_moment  # noqa: E402

__all__ += [
    "beta_fraction_above",
    "coverage",
    "db_to_linear",
    "linear_to_db",
    "meta_moment",
    "noise_level",
    "rate_from_coverage",
    "simulate_coverage",
]


def simulate_coverage(
    params: MengParams,
    L: int,
    thresholds,
    *,
    jt: str = "power-sum",
    kappa_c: float | None = None,
    m: float = 1.0,
    noise=None,
    meta_x=(),
    n_layouts: int = 100_000,
    seed: int = 0,
    run: RunOptions | None = None,
    **run_kw: Any,
) -> dict[str, Estimate]:
    """Monte Carlo of coverage P(SINR > T_j) (outputs ``cov_<j>``), the rate (``rate_nats``,
    ``rate_bits``: nats/s/Hz and bits/s/Hz) and, where available, per-layout success
    probabilities (``ps_<j>``, ``ps2_<j>``, ``meta_<j>_<i>``) from the same layouts:
    ``{output: Estimate}``. Thresholds are linear (:func:`db_to_linear`). See
    :class:`isacnet.simulation.kernels.coverage.CoverageKernel` and docs/coverage.md. numpy only;
    ``run`` (or the same keywords, e.g. ``workers=2``): :class:`RunOptions`.
    """
    import numpy as np

    from .simulation.kernels.coverage import CoverageKernel

    if kappa_c is None:
        kappa_c = float(_kappa_c_closed(params.resource_blocks, params.mu_c, check_int("L", L, ge=1)))
    kernel = CoverageKernel(params, L, tuple(np.atleast_1d(thresholds).tolist()), jt=jt, kappa_c=kappa_c, m=m,
                            noise=noise, meta_x=tuple(meta_x))
    return estimate(kernel, n_layouts, seed, run_options(run, **run_kw))
