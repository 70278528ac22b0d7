"""Monte Carlo: estimates with uncertainty, the chunked seeded estimator, model kernels."""

from .estimate import Estimate, Moments

__all__ = ["Estimate", "Moments"]
