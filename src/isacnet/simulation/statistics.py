"""Estimates that carry their uncertainty, and running moments that merge exactly.

:class:`Moments` holds, for one quantity, the count, mean and sum of squared deviations of its
finite values (Chan-Golub-LeVeque merge), and separately counts +inf, -inf and NaN values, so
that a singular Fisher matrix or a numerical fault is never averaged in silently. Merging is
deterministic: the engine folds blocks in block order, so the result does not depend on how the
work was split or in which order workers finished.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
"""Two-sided 95% standard-normal quantile."""


@dataclass(frozen=True)
class Moments:
    """Mergeable first and second moments of the finite values of one quantity."""

    n: int = 0
    mean: float = 0.0
    m2: float = 0.0
    n_posinf: int = 0
    n_neginf: int = 0
    n_nan: int = 0

    @classmethod
    def of(cls, values: np.ndarray) -> Moments:
        """Moments of a 1-D array of samples."""
        v = np.asarray(values, dtype=np.float64).ravel()
        finite = np.isfinite(v)
        n_nan = int(np.count_nonzero(np.isnan(v)))
        n_posinf = int(np.count_nonzero(v == np.inf))
        n_neginf = int(np.count_nonzero(v == -np.inf))
        fv = v if n_nan + n_posinf + n_neginf == 0 else v[finite]
        n = int(fv.size)
        if n == 0:
            return cls(0, 0.0, 0.0, n_posinf, n_neginf, n_nan)
        s = float(np.max(np.abs(fv)))
        if 1e-150 <= s <= 1e150 or s == 0.0:  # the squares fit float64: the plain (reference) sums
            mean = float(fv.mean())
            d = fv - mean
            return cls(n, mean, float(np.dot(d, d)), n_posinf, n_neginf, n_nan)
        # samples whose squares would over- or underflow (extreme SNR or path-loss exponent): the
        # same moments of v / s, scaled back in Python floats (m2 is inf only if it exceeds 1e308)
        z = fv / s
        mz = float(z.mean())
        d = z - mz
        dz = float(np.dot(d, d))
        r = s * math.sqrt(dz)  # s * s * dz without 0 * inf = NaN when dz = 0 and s * s overflows
        return cls(n, s * mz, r * r, n_posinf, n_neginf, n_nan)

    def merge(self, other: Moments) -> Moments:
        """Moments of the union of both sample sets (exact up to rounding)."""
        n = self.n + other.n
        if n == 0:
            mean, m2 = 0.0, 0.0
        elif other.n == 0:
            mean, m2 = self.mean, self.m2
        elif self.n == 0:
            mean, m2 = other.mean, other.m2
        else:
            delta = other.mean - self.mean
            mean = self.mean + delta * (other.n / n)
            m2 = self.m2 + other.m2 + delta * delta * (self.n * other.n / n)
        return Moments(
            n,
            mean,
            m2,
            self.n_posinf + other.n_posinf,
            self.n_neginf + other.n_neginf,
            self.n_nan + other.n_nan,
        )

    def estimate(self) -> Estimate:
        var = self.m2 / (self.n - 1) if self.n > 1 else math.nan
        stderr = math.sqrt(var / self.n) if self.n > 1 else math.nan
        return Estimate(
            mean=self.mean if self.n else math.nan,
            stderr=stderr,
            n=self.n,
            n_posinf=self.n_posinf,
            n_neginf=self.n_neginf,
            n_nan=self.n_nan,
        )


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate of a mean with its standard error and sample counts.

    ``mean`` and ``stderr`` are over the ``n`` finite samples. Non-finite samples are counted,
    not averaged: when ``n_posinf > 0`` the plain mean is infinite and ``mean`` is the mean
    *conditional on a finite value* (e.g. on the layout being able to localise the target);
    ``usable`` tells whether the number can be plotted as an estimate of the unconditional mean.
    """

    mean: float
    stderr: float
    n: int
    n_posinf: int = 0
    n_neginf: int = 0
    n_nan: int = 0

    @property
    def n_total(self) -> int:
        return self.n + self.n_posinf + self.n_neginf + self.n_nan

    @property
    def n_nonfinite(self) -> int:
        return self.n_posinf + self.n_neginf + self.n_nan

    @property
    def half_width(self) -> float:
        """Half-width of the 95% confidence interval (normal approximation)."""
        return Z95 * self.stderr

    @property
    def ci95(self) -> tuple[float, float]:
        return (self.mean - self.half_width, self.mean + self.half_width)

    @property
    def rel_half_width(self) -> float:
        return self.half_width / abs(self.mean) if self.mean else math.inf

    @property
    def usable(self) -> bool:
        """True when every sample was finite and there are at least two of them."""
        return self.n_nonfinite == 0 and self.n > 1 and math.isfinite(self.stderr)

    def __str__(self) -> str:
        lo, hi = self.ci95
        s = f"{self.mean:.6g} ± {self.half_width:.2g} (95% CI [{lo:.6g}, {hi:.6g}], n={self.n}"
        if self.n_nonfinite:
            s += f", non-finite={self.n_nonfinite}"
        return s + ")"


def control_variate(y: Estimate, x: Estimate, yx: Estimate) -> Estimate:
    """E[Y] by the regression control-variate estimator (issue 18).

    From the same samples: Y, a control X whose mean is exactly 0, and their product YX (so the
    three estimates are first moments that merge like any other). With cov = (mean(YX) -
    mean(Y) mean(X)) n / (n - 1) and beta = cov / var(X), the estimate is mean(Y) - beta mean(X),
    the ordinary-least-squares fit of Y on X evaluated at X = 0, with its standard error
    s sqrt(1/n + mean(X)^2 / ((n - 1) var(X))), s^2 = (n - 1)(var(Y) - cov^2 / var(X)) / (n - 2).
    It is consistent for any control (an uncorrelated one removes nothing) and its variance falls
    by the factor 1 - corr(Y, X)^2. ``y`` is returned unchanged when the three do not cover the
    same n >= 3 finite samples or X has no variance.
    """
    n = y.n
    if not (n >= 3 and x.n == n and yx.n == n and x.n_nonfinite == y.n_nonfinite == yx.n_nonfinite):
        return y
    var_x, var_y = x.stderr**2 * n, y.stderr**2 * n
    if not (math.isfinite(var_x) and var_x > 0.0 and math.isfinite(var_y) and math.isfinite(yx.mean)):
        return y
    cov = (yx.mean - y.mean * x.mean) * n / (n - 1)
    beta = cov / var_x
    s2 = max(var_y - cov * beta, 0.0) * (n - 1) / (n - 2)
    stderr = math.sqrt(s2 * (1.0 / n + x.mean**2 / ((n - 1) * var_x)))
    return Estimate(y.mean - beta * x.mean, stderr, n, y.n_posinf, y.n_neginf, y.n_nan)


def control_variates(y: Estimate, xs: list[Estimate], yxs: list[Estimate],
                     xx: dict[tuple[int, int], Estimate]) -> Estimate:
    """E[Y] by the regression estimator on k controls with means exactly 0 (:func:`control_variate`
    for k = 1, the same formula).

    From the same n samples: Y, the controls X_i, the products Y X_i (``yxs``) and, for i < j, the
    products X_i X_j (``xx[i, j]``), all first moments. With the sample covariances C (k x k) of the
    X and c of X with Y, beta = C^-1 c and the estimate is mean(Y) - beta . mean(X), the OLS fit at
    X = 0; its standard error s sqrt(1/n + mean(X)' C^-1 mean(X) / (n - 1)), s^2 the residual
    variance (var(Y) - beta . c)(n - 1) / (n - 1 - k). ``y`` is returned unchanged when the inputs
    do not all cover the same n >= k + 2 finite samples or C is singular.
    """
    k, n = len(xs), y.n
    ests = [*xs, *yxs, *xx.values()]
    if k == 0 or n < k + 2 or any(e.n != n or e.n_nonfinite != y.n_nonfinite for e in ests):
        return y
    if not all(math.isfinite(e.mean) and math.isfinite(e.stderr) for e in [y, *ests]):
        return y
    mx = np.array([x.mean for x in xs])
    c = np.array([(yx.mean - y.mean * x.mean) * n / (n - 1) for x, yx in zip(xs, yxs, strict=True)])
    cov = np.diag([x.stderr**2 * n for x in xs])
    for (i, j), e in xx.items():
        cov[i, j] = cov[j, i] = (e.mean - mx[i] * mx[j]) * n / (n - 1)
    try:
        beta = np.linalg.solve(cov, c)
        cinv_m = np.linalg.solve(cov, mx)
    except np.linalg.LinAlgError:
        return y
    if not (np.all(np.isfinite(beta)) and np.all(np.diag(cov) > 0) and np.linalg.cond(cov) < 1e12):
        return y
    s2 = max(y.stderr**2 * n - float(beta @ c), 0.0) * (n - 1) / (n - 1 - k)
    stderr = math.sqrt(s2 * (1.0 / n + float(mx @ cinv_m) / (n - 1)))
    return Estimate(y.mean - float(beta @ mx), stderr, n, y.n_posinf, y.n_neginf, y.n_nan)
