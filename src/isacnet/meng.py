"""Meng & Masouros, cooperative ISAC: the sensing CRLB and acceptance, in one namespace.

>>> import isacnet
>>> p = isacnet.MengParams()                         # the paper's Section V values (+ ours)
>>> isacnet.meng.crlb_approx(10, p)                  # eq. (13) [m^2]
>>> isacnet.meng.expected_crlb(10, p, 100_000, seed=1)          # Monte Carlo of eq. (6)
>>> isacnet.meng.crlb_statistics(3, p, 100_000, seed=1).median  # N = 3: the mean is infinite
>>> isacnet.meng.kappa_s(15, 1.0, 20)                # Lemma 1, derived form
>>> isacnet.meng.simulate_acceptance(p, 20, 200, seed=1).acceptance   # spatial check
>>> isacnet.meng.rate(5, p, unit="nats")            # Theorem 2 (re-derived), L = 5
>>> isacnet.meng.simulate_rate(5, p, 100_000, seed=1)["rate_nats"]  # Monte Carlo of (9)
>>> isacnet.meng.optimize(p, min_rate=2.0)           # best (L, N, p^c) under the backhaul (10)

Per layout (explicit positions): :func:`fim_layout` (5), :func:`crlb_layout` tr(F^-1).
Closed forms (:mod:`isacnet.analysis.meng_sensing`): :func:`zeta2`, :func:`crlb_eq11`,
:func:`crlb_eq12`, :func:`crlb_approx` = :func:`crlb_eq13`, :func:`crlb_theorem1`,
:func:`crlb_isotropic`, :func:`kappa_s`, :func:`kappa_c`, :func:`crlb_a` (16).
Monte Carlo: :func:`monte_carlo`, :func:`expected_crlb` (only where the mean exists, N >= 4),
:func:`crlb_statistics` (median, quantiles, geometric mean, P(singular), for every N and for
the acceptance rules "thinning", "shrink", "extend"), :func:`simulate_acceptance`.

Communication (:mod:`isacnet.analysis.meng_rate`): :func:`H1`, :func:`H2` (Lemma 2),
:func:`incomplete_beta` (non-regularised), :func:`rate` (Theorem 2: variants "exact", "pgfl",
"paper"; bits or nats), :func:`rate_conditional` (18); Monte Carlo :func:`simulate_rate`
(models "paper", "zf", "full"). Tradeoff (:mod:`isacnet.analysis.meng_tradeoff`):
:func:`optimize`, :class:`Tradeoff` (corners, time sharing, Pareto boundary).

Heavy tails: P(tr F^-1 > t) ~ t^-(N-1)/2, so E[CRLB] = inf for N <= 3 and Var = inf for
N <= 5; with acceptance E[CRLB_a] = inf for every N (docs/errata.md, M-8 and M-13).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from .analysis.meng_rate import H1, H2, incomplete_beta, rate, rate_conditional
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
from .analysis.meng_tradeoff import Design, Tradeoff, optimize, time_sharing
from .load import AcceptanceCounts, default_side
from .load import simulate_acceptance as _simulate_counts
from .params import MengParams, ParameterError, check_int, check_real, real_array
from .rng import block_rng, check_seed
from .sensing import separable_fim, trace_inverse_2x2
from .simulation.engine import DEFAULT_BLOCK_SIZE, Executor
from .simulation.estimate import Z95, Estimate
from .simulation.meng import MengClusterKernel, MengCrlbKernel, ratio_estimate

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
    "simulate_rate",
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


# --------------------------------------------------------------------------- per layout
def fim_layout(bs_xy: np.ndarray, target_xy: np.ndarray, params: MengParams) -> np.ndarray:
    """F_N of eq. (5) for explicit layouts [m^-2 at beta = 2], in O(N).

    Every BS transmits and receives, so the double sum over (i, j) runs over the same set,
    monostatic i = j included: ``separable_fim`` with that set as TX and RX.

    Parameters
    ----------
    bs_xy : ndarray, shape (..., N, 2)
        BS positions [m].
    target_xy : ndarray, shape (..., 2) or (2,)
        Target position [m].
    params : MengParams

    Returns
    -------
    F : ndarray, shape (..., 2, 2)
    """
    bs_xy = real_array("bs_xy", bs_xy, "BS positions [m], an array of shape (..., N, 2)")
    target_xy = real_array("target_xy", target_xy, "a target position [m], shape (..., 2)")
    if bs_xy.ndim < 2 or bs_xy.shape[-1] != 2:
        raise ParameterError("bs_xy", f"array of shape {bs_xy.shape}", "an array of shape (..., N, 2)")
    if target_xy.shape[-1:] != (2,):
        raise ParameterError("target_xy", f"array of shape {target_xy.shape}", "shape (..., 2)")
    if not (np.all(np.isfinite(bs_xy)) and np.all(np.isfinite(target_xy))):
        raise ParameterError("bs_xy", "non-finite positions", "finite positions [m]")
    d = bs_xy - target_xy[..., None, :]
    dist = np.hypot(d[..., 0], d[..., 1])
    if np.any(dist == 0.0):
        raise ParameterError("bs_xy", "a BS at the target", "BS positions distinct from the target")
    w = dist ** (-params.beta)
    ex, ey = d[..., 0] / dist, d[..., 1] / dist
    sxx, sxy, syy = separable_fim(w, ex, ey, w, ex, ey)
    f = params.zeta2 * np.stack([np.stack([sxx, sxy], -1), np.stack([sxy, syy], -1)], -2)
    return f


def crlb_layout(bs_xy: np.ndarray, target_xy: np.ndarray, params: MengParams) -> np.ndarray:
    """tr(F_N^-1) [m^2], shape (...); inf where F is singular (one BS, or all BSs collinear
    with the target). Arguments as in :func:`fim_layout`."""
    f = fim_layout(bs_xy, target_xy, params)
    tr, _ = trace_inverse_2x2(f[..., 0, 0], f[..., 0, 1], f[..., 1, 1])
    return tr


# --------------------------------------------------------------------------- Monte Carlo


def monte_carlo(
    N: int,
    params: MengParams,
    n_layouts: int,
    seed: int,
    *,
    kappa: float = 1.0,
    thresholds: tuple[float, ...] = (),
    workers: int | None = 1,
    executor: Executor | None = None,
    block_size: int = DEFAULT_BLOCK_SIZE,
    chunk_blocks: int | None = None,
    progress: bool | None = False,
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
        Run seed (results independent of ``workers`` and ``chunk_blocks``).
    kappa : float
        Independent acceptance probability of each BS (1: all accept).
    thresholds : tuple of float
        CDF points [m^2] for the "cdf_i" indicators.
    workers, executor, block_size, chunk_blocks, progress
        As in :func:`isacnet.song.monte_carlo`.
    """
    from .experiments.runner import estimate

    kernel = MengCrlbKernel(params, N, kappa=kappa, thresholds=tuple(thresholds))
    out = estimate(kernel, n_layouts, seed, workers=workers, executor=executor,
                   block_size=block_size, chunk_blocks=chunk_blocks, progress=progress)
    if "crlb" in out and not kernel.variance_exists:
        out["crlb"] = replace(out["crlb"], stderr=math.nan)
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
class Quantile:
    """A quantile of the CRLB [m^2] with a 95% confidence interval (CDF inversion)."""

    q: float
    value: float
    lo: float
    hi: float

    def __str__(self) -> str:
        return f"q{self.q:g} = {self.value:.6g} (95% CI [{self.lo:.6g}, {self.hi:.6g}])"


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


def _threshold_grid(pilot: np.ndarray, qs) -> tuple[float, ...]:
    fin = np.sort(pilot[np.isfinite(pilot)])
    n = pilot.size
    if fin.size < 10:
        return ()
    levels = []
    for q in qs:
        w = max(0.04, 8.0 * math.sqrt(q * (1 - q) / n))
        levels.extend(np.linspace(q - w, q + w, 25))
    levels = np.clip(levels, 0.5 / n, 1.0 - 0.5 / n)
    # levels of the whole sample, inf counted above every threshold
    idx = np.floor(np.asarray(levels) * n).astype(int)
    t = np.unique(fin[idx[idx < fin.size]])
    t = t[t > 0]
    return tuple(float(x) for x in t)


def _invert_cdf(t: np.ndarray, F: np.ndarray, q: float) -> float:
    """Smallest threshold where the (monotonised) CDF reaches q, log-linear interpolation."""
    F = np.maximum.accumulate(F)
    if F.size == 0 or F[-1] < q:
        return math.inf
    if F[0] >= q:
        return math.nan  # below the grid
    j = int(np.argmax(F >= q))
    f0, f1 = F[j - 1], F[j]
    x0, x1 = math.log(t[j - 1]), math.log(t[j])
    frac = 0.0 if f1 == f0 else (q - f0) / (f1 - f0)
    return math.exp(x0 + frac * (x1 - x0))


def _quantiles(thresholds, est: dict[str, Estimate], qs) -> dict:
    t = np.asarray(thresholds, dtype=float)
    out = {}
    for q in qs:
        if t.size == 0:
            out[q] = Quantile(q, math.inf, math.inf, math.inf)
            continue
        F = np.array([est[f"cdf_{i}"].mean for i in range(t.size)])
        se = np.array([est[f"cdf_{i}"].stderr for i in range(t.size)])
        out[q] = Quantile(
            q,
            _invert_cdf(t, F, q),
            _invert_cdf(t, F + Z95 * se, q),
            _invert_cdf(t, F - Z95 * se, q),
        )
    return out


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
    workers: int | None = 1,
    executor: Executor | None = None,
    block_size: int | None = None,
    progress: bool | None = False,
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
        ``kappa`` (default kappa_s(psi, mu_s, N), derived form): the model of (16).
        "shrink" / "extend": spatial cluster formation on a torus (:mod:`isacnet.load`).
    kappa : float, optional
        For "thinning".
    quantiles : tuple of float in (0, 1)
    n_pilot : int, optional
        Pilot size (default n_samples / 10, at least 2000 layouts or 4 tori).
    side, max_candidates
        Torus rules only (see :class:`MengClusterKernel`).
    """
    N = check_int("N", N, ge=1)
    n_samples = check_int("n_samples", n_samples, ge=2)
    seed = check_seed(seed)
    qs = tuple(check_real("quantiles", q, gt=0.0, lt=1.0) for q in quantiles)
    if rule not in ("none", "thinning", "shrink", "extend"):
        raise ParameterError("rule", rule, "'none', 'thinning', 'shrink' or 'extend'")
    pilot_rng = block_rng(seed, PILOT_POINT, 0)
    extra_names: tuple[str, ...]
    if rule in ("none", "thinning"):
        if rule == "thinning":
            k = float(kappa_s(params.resource_blocks, params.mu_s, N)) if kappa is None else kappa
        else:
            if kappa is not None:
                raise ParameterError("kappa", kappa, "None unless rule='thinning'")
            k = 1.0
        npil = max(2000, n_samples // 10) if n_pilot is None else check_int("n_pilot", n_pilot, ge=10)
        base = MengCrlbKernel(params, N, kappa=k)
        pilot = base.samples(pilot_rng, npil)
        kernel = MengCrlbKernel(params, N, kappa=k, thresholds=_threshold_grid(pilot, qs))
        bs = DEFAULT_BLOCK_SIZE if block_size is None else block_size
        extra_names = ("cluster_size", "isotropic", "jensen")
    else:
        npil = max(4, n_samples // 10) if n_pilot is None else check_int("n_pilot", n_pilot, ge=1)
        base = MengClusterKernel(params, N, rule=rule, side=side, max_candidates=max_candidates)
        pt = base.per_target(pilot_rng, npil)
        tr = pt["crlb"]
        thresholds = _threshold_grid(tr, qs)
        fin = np.isfinite(tr)
        centers = [("acceptance", float(pt["acceptance"].mean())),
                   ("cluster_size", float(pt["cluster_size"].mean())),
                   ("singular", float(1.0 - fin.mean()))]
        centers += [(f"cdf_{i}", float(np.mean(tr <= t))) for i, t in enumerate(thresholds)]
        log_c = float(np.mean(np.log(tr[fin]))) if fin.any() else 0.0
        kernel = MengClusterKernel(
            params, N, rule=rule, side=base.side, max_candidates=max_candidates,
            thresholds=thresholds, centers=tuple(centers), log_center=log_c,
        )
        bs = 8 if block_size is None else block_size
        extra_names = ("cluster_size", "acceptance", "targets", "rounds")
    from .experiments.runner import estimate

    est = estimate(kernel, n_samples, seed, workers=workers, executor=executor, block_size=bs,
                   progress=progress)
    quant = _quantiles(kernel.thresholds, est, qs)
    if isinstance(kernel, MengCrlbKernel):
        lg = est["log_crlb"]
        p_sing = est["singular"]
        g, gse = lg.mean, lg.stderr
    else:
        p_sing = est["singular"]
        pf = 1.0 - p_sing.mean
        z = est["log_crlb"]
        g = kernel.log_center + z.mean / pf if pf > 0 else math.nan
        gse = math.sqrt(z.stderr**2 + (z.mean / pf) ** 2 * p_sing.stderr**2) / pf if pf > 0 else math.nan
    geo = Quantile(math.nan, math.exp(g), math.exp(g - Z95 * gse), math.exp(g + Z95 * gse))
    mean = est.get("crlb")
    if mean is not None and isinstance(kernel, MengCrlbKernel) and not kernel.variance_exists:
        mean = replace(mean, stderr=math.nan)
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
    workers: int | None = 1,
    progress: bool | None = False,
    rel_ci: float | None = None,
) -> dict:
    """Monte Carlo of the CoMP rate (8)-(9) of a typical user: ``{output: Estimate}``.

    Outputs ``rate_nats`` and ``rate_bits`` (E[ln / log2 (1 + SIR)]), ``sir_db`` and
    ``n_accepted`` (see :class:`isacnet.simulation.meng_rate.MengRateKernel` for the models).
    ``model="paper"``: the paper's gain laws with independent acceptance ``kappa_c`` (default
    :func:`kappa_c` derived); ``"zf"``: channels and the zero-forcing precoder (2) drawn;
    ``"full"``: acceptance from the spatial load of users on a torus (``n_layouts`` then counts
    tori, each contributing all its users). ``rel_ci`` stops early once every output's 95% CI
    half-width is below ``rel_ci`` times its estimate (``n_layouts`` is the cap).
    """
    from .experiments.runner import estimate
    from .simulation.meng_rate import MengRateKernel

    kernel = MengRateKernel(params, L, model=model, kappa_c=kappa_c, interference_shape=interference_shape,
                            k_nearest=k_nearest)
    block = 8 if model == "full" else 4096
    return estimate(kernel, n_layouts, seed, workers=workers, progress=progress, block_size=block,
                    rel_ci=rel_ci, targets=("rate_nats",) if rel_ci is not None else None)


# --------------------------------------------------------------------------- coverage (issue 16)

from .analysis.coverage import coverage, db_to_linear, linear_to_db, noise_level, rate_from_coverage  # noqa: E402
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
    workers: int | None = 1,
) -> dict:
    """Monte Carlo of coverage P(SINR > T_j) (outputs ``cov_<j>``), the rate (``rate_nats``,
    ``rate_bits``: nats/s/Hz and bits/s/Hz) and, where available, per-layout success
    probabilities (``ps_<j>``, ``ps2_<j>``, ``meta_<j>_<i>``) from the same layouts:
    ``{output: Estimate}``. Thresholds are linear (:func:`db_to_linear`). See
    :class:`isacnet.simulation.coverage.CoverageKernel` and docs/coverage.md.
    """
    from .experiments.runner import estimate
    from .simulation.coverage import CoverageKernel

    kernel = CoverageKernel(params, L, tuple(np.atleast_1d(thresholds).tolist()), jt=jt, kappa_c=kappa_c, m=m,
                            noise=noise, meta_x=tuple(meta_x))
    return estimate(kernel, n_layouts, seed, workers=workers, block_size=4096)
