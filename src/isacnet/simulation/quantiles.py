"""Quantiles of a heavy-tailed Monte Carlo output by CDF inversion, with confidence intervals.

A quantile has no mergeable moments, so it is estimated through its CDF: a pilot run picks
thresholds around the asked quantiles (:func:`threshold_grid`), the chunked engine estimates the
CDF there as the means of indicators ``cdf_i`` (mergeable, with standard errors), and the
quantile is the interpolated inverse of that CDF; its 95% CI is the inverse of the CDF's
pointwise 95% band (:func:`quantiles_from_cdf`). Used by :func:`isacnet.meng.crlb_statistics`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .statistics import Z95, Estimate

__all__ = ["Quantile", "invert_cdf", "quantiles_from_cdf", "threshold_grid"]


@dataclass(frozen=True)
class Quantile:
    """A quantile of the CRLB [m^2] with a 95% confidence interval (CDF inversion)."""

    q: float
    value: float
    lo: float
    hi: float

    def __str__(self) -> str:
        return f"q{self.q:g} = {self.value:.6g} (95% CI [{self.lo:.6g}, {self.hi:.6g}])"


def threshold_grid(pilot: np.ndarray, qs) -> tuple[float, ...]:
    """CDF thresholds around the quantiles ``qs`` of a pilot sample (inf counted above all):
    25 levels within +-max(0.04, 8 sd) of each q, read off the sorted finite pilot values.
    Returns () when fewer than 10 pilot values are finite."""
    fin = np.sort(pilot[np.isfinite(pilot)])
    n = pilot.size
    if fin.size < 10:
        return ()
    levels: list[float] = []
    for q in qs:
        w = max(0.04, 8.0 * math.sqrt(q * (1 - q) / n))
        levels.extend(np.linspace(q - w, q + w, 25))
    clipped = np.clip(levels, 0.5 / n, 1.0 - 0.5 / n)
    # levels of the whole sample, inf counted above every threshold
    idx = np.floor(np.asarray(clipped) * n).astype(int)
    t = np.unique(fin[idx[idx < fin.size]])
    t = t[t > 0]
    return tuple(float(x) for x in t)


def invert_cdf(t: np.ndarray, F: np.ndarray, q: float) -> float:
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


def quantiles_from_cdf(thresholds, est: dict[str, Estimate], qs) -> dict:
    """Quantiles ``qs`` from the CDF estimates ``est["cdf_i"]`` at ``thresholds``, each with a
    95% CI from inverting the CDF's pointwise 95% CI (inf where the CDF never reaches q)."""
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
            invert_cdf(t, F, q),
            invert_cdf(t, F + Z95 * se, q),
            invert_cdf(t, F - Z95 * se, q),
        )
    return out
