"""Quadrature rules shared by the closed forms (Theorem 2, coverage, the meta distribution)."""

from __future__ import annotations

import math

import numpy as np

from ..params import ParameterError

_TS_T = 3.1  # tanh-sinh half-range: s in [8e-16, 1 - 8e-16]


def _tanh_sinh(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes s, log(1 - s) and weights of the tanh-sinh rule on (0, 1) with n (odd) nodes on
    t in [-3.1, 3.1] (s within 8e-16 of the ends)."""
    t = np.linspace(-_TS_T, _TS_T, n)
    h = t[1] - t[0]
    ps = math.pi * np.sinh(t)
    s = 1.0 / (1.0 + np.exp(-ps))
    log1ms = -np.logaddexp(0.0, ps)
    w = h * 0.25 * math.pi * np.cosh(t) / np.cosh(0.5 * ps) ** 2
    return s, log1ms, w


def _trap_weights(n: int) -> np.ndarray:
    w = np.ones(n)
    w[0] = w[-1] = 0.5
    return w


def _check_order(n, name: str, mult: int) -> int:
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 2 * mult + 1 or (n - 1) % mult:
        raise ParameterError(name, n, f"an integer >= {2 * mult + 1} with ({name} - 1) divisible by {mult}")
    return int(n)
