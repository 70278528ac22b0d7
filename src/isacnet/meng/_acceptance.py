"""The spatial acceptance simulation of :mod:`isacnet.meng` (no Lemma 1 inside)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..analysis.meng_sensing import (
    kappa_c,
    kappa_s,
)
from ..load import AcceptanceCounts, default_side
from ..load import simulate_acceptance as _simulate_counts
from ..params import MengParams, ParameterError, check_int, check_real
from ..rng import block_rng, check_seed
from ..simulation.kernels.meng_crlb import (
    ratio_estimate,
)
from ..simulation.statistics import Estimate


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
        rng,
        bs_density=lam_b,
        point_density=mu * lam_b,
        n_request=n_req,
        capacity=cap,
        n_realisations=n_realisations,
        side=side,
        skip_nearest=skip,
    )
    by_rank = [ratio_estimate(counts.accepted_by_rank[:, j], counts.requests_by_rank[:, j]) for j in range(n_req)]
    return AcceptanceResult(
        acceptance=ratio_estimate(counts.accepted, counts.requests),
        by_rank=by_rank,
        mean_load=ratio_estimate(counts.requests, counts.bs),
        counts=counts,
        closed_form=closed,
    )
