"""Monte Carlo: estimates with uncertainty, the chunked seeded estimator, model kernels."""

from .statistics import Estimate, Moments

__all__ = ["Estimate", "Moments"]
