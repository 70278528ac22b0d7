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

from ..analysis.meng_rate import H1, H2, incomplete_beta
from ..analysis.meng_sensing import (
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
from ..analysis.optimize import Design, Tradeoff
from ..params import MengParams
from ..sensing import meng_crlb as crlb_layout
from ..sensing import meng_fim as fim_layout
from ..simulation.kernels.meng_crlb import MengClusterKernel, MengCrlbKernel, ratio_estimate
from ..simulation.montecarlo import RunOptions
from ._acceptance import AcceptanceResult, simulate_acceptance
from ._comp import rate_kernel, simulate_coverage, simulate_rate, verify_design
from ._rates import RATE_UNITS, RateUnit, optimize, rate, rate_conditional, rate_from_coverage, time_sharing  # noqa: F401 - importable from isacnet.meng, as before
from ._sensing import PILOT_POINT, CrlbStatistics, Rule, crlb_statistics, expected_crlb, monte_carlo  # noqa: F401 - importable from isacnet.meng, as before

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

from ..analysis.coverage import coverage, db_to_linear, linear_to_db, noise_level  # noqa: E402
from ..analysis.meta import beta_fraction_above, meta_moment  # noqa: E402

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


for _name in __all__:  # the public home of every name defined in the submodules (docs, repr, pickling)
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith(__name__ + "."):
        _obj.__module__ = __name__
del _name, _obj


def __dir__() -> list[str]:
    """The public names (``__all__``): the submodules and the helpers imported here stay out."""
    return sorted(__all__)
