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

    Raises
    ------
    ParameterError
        For invalid arguments, and when no torus held a single request (a low density ratio on
        a small torus: e.g. mu = 1e-3 with 64 BSs a torus expects 0.06 requests), so that the
        acceptance of a typical request is not observed: the message gives the expected number
        of requests per torus; raise ``n_realisations`` or ``side``.
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
    if not float(counts.requests.sum()) > 0:
        per_torus = mu * lam_b * side**2  # requesting points a torus expects
        raise ParameterError(
            "n_realisations", n_realisations,
            f"enough tori to observe a request: {n_realisations} tori of side {side:.4g} m held none (a torus "
            f"expects {per_torus:.3g} requesting {'targets' if service == 'sensing' else 'users'} at mu = {mu:.3g}); "
            "raise n_realisations or side")
    by_rank = [ratio_estimate(counts.accepted_by_rank[:, j], counts.requests_by_rank[:, j]) for j in range(n_req)]
    return AcceptanceResult(
        acceptance=ratio_estimate(counts.accepted, counts.requests),
        by_rank=by_rank,
        mean_load=ratio_estimate(counts.requests, counts.bs),
        counts=counts,
        closed_form=closed,
    )
