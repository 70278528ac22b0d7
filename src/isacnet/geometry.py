"""Where things are: ordered nearest-k sampling of a PPP, windowed PPPs, nth-neighbour laws.

Ordered sampling
----------------
For a homogeneous PPP of density ``lam`` in the plane, the values ``pi * lam * r_k**2`` of the
ordered distances ``r_1 < r_2 < ...`` from any fixed point are the arrival times of a unit-rate
Poisson process on the half line, and the angles are i.i.d. uniform and independent of them.
So the k nearest points cost O(k), with no window and no edge effect. Most functions here work
with these *arrival times* ``g_k = pi * lam * r_k**2`` (dimensionless); the physical distance is
``r_k = sqrt(g_k / (pi lam))``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

FloatArray = np.ndarray


# --------------------------------------------------------------------------- ordered sampling
def ordered_arrivals(rng: np.random.Generator, n: int, k: int) -> FloatArray:
    """Arrival times of the k nearest points of a unit-rate process, for ``n`` layouts.

    Returns
    -------
    g : ndarray, shape (n, k)
        ``g[:, j] = pi * lam * r_{j+1}**2``, strictly increasing along axis 1.
    """
    g = rng.standard_exponential((n, k))
    np.cumsum(g, axis=1, out=g)
    return g


def uniform_directions(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[FloatArray, FloatArray]:
    """Cosines and sines of i.i.d. angles uniform on [0, 2 pi), each of ``shape``."""
    phi = rng.random(shape)
    phi *= 2.0 * math.pi
    return np.cos(phi), np.sin(phi)


def ordered_ppp(
    rng: np.random.Generator, n: int, k: int, density: float
) -> tuple[FloatArray, FloatArray]:
    """The k nearest points of a PPP of ``density`` [m^-2] around the origin, for n layouts.

    Returns
    -------
    r : ndarray, shape (n, k)
        Distances [m], increasing along axis 1.
    xy : ndarray, shape (n, k, 2)
        Positions [m].
    """
    g = ordered_arrivals(rng, n, k)
    c, s = uniform_directions(rng, (n, k))
    r = np.sqrt(g / (math.pi * density))
    return r, np.stack([r * c, r * s], axis=-1)


# --------------------------------------------------------------------------- windowed PPPs
def disk_ppp(
    rng: np.random.Generator, density: float, radius: float, center: tuple[float, float] = (0.0, 0.0)
) -> FloatArray:
    """One realisation of a PPP of ``density`` on the disk of ``radius`` around ``center``.

    Returns
    -------
    xy : ndarray, shape (m, 2), m ~ Poisson(density * pi * radius**2), unordered.
    """
    m = rng.poisson(density * math.pi * radius**2)
    r = radius * np.sqrt(rng.random(m))  # area-uniform: P(r < x) = x^2 / R^2
    c, s = uniform_directions(rng, (m,))
    return np.stack([center[0] + r * c, center[1] + r * s], axis=-1)


def torus_ppp(rng: np.random.Generator, density: float, side: float) -> FloatArray:
    """One realisation of a PPP of ``density`` on the square torus [0, side)^2.

    Returns
    -------
    xy : ndarray, shape (m, 2), m ~ Poisson(density * side**2).
    """
    m = rng.poisson(density * side**2)
    return rng.random((m, 2)) * side


def torus_delta(a: FloatArray, b: FloatArray, side: float) -> FloatArray:
    """Shortest displacement ``b - a`` on the square torus of ``side`` (broadcasting, (..., 2))."""
    d = np.asarray(b, dtype=float) - np.asarray(a, dtype=float)
    return d - side * np.round(d / side)


def disk_window_count_bound(mean: float, tail: float = 1e-15) -> int:
    """Smallest k with P(Poisson(mean) > k) < tail: enough ordered points to fill a window."""
    return int(special.pdtrik(1.0 - tail, mean)) + 2 if mean > 0 else 1


# --------------------------------------------------------------------------- nth-neighbour laws
def nth_neighbour_pdf(r: FloatArray, n: int, density: float) -> FloatArray:
    """pdf of the distance to the n-th nearest point of a PPP: 2 (pi lam)^n r^(2n-1) e^{-pi lam r^2}/Gamma(n)."""
    r = np.asarray(r, dtype=float)
    a = math.pi * density
    with np.errstate(divide="ignore"):
        logp = math.log(2.0) + n * math.log(a) + special.xlogy(2 * n - 1, r) - a * r**2 - special.gammaln(n)
    return np.where(r > 0, np.exp(logp), 0.0)


def nth_neighbour_cdf(r: FloatArray, n: int, density: float) -> FloatArray:
    """cdf of the n-th nearest distance: P(Gamma(n, 1) <= pi lam r^2)."""
    r = np.asarray(r, dtype=float)
    return special.gammainc(n, math.pi * density * np.maximum(r, 0.0) ** 2)


def nth_neighbour_mean(n: FloatArray, density: float) -> FloatArray:
    """E[r_n] = Gamma(n + 1/2) / (sqrt(pi lam) Gamma(n)), computed in the log domain."""
    n = np.asarray(n, dtype=float)
    return np.exp(special.gammaln(n + 0.5) - special.gammaln(n)) / math.sqrt(math.pi * density)


# --------------------------------------------------------------------------- PPP tails
def tail_power_mean(g_last: FloatArray, gamma: float) -> FloatArray:
    """E[sum over points beyond the K-th of g^{-gamma/2} | g_K] for a unit-rate process.

    In arrival-time units, a point at arrival time g has path gain ``(g/(pi lam))^{-gamma/2}``;
    factoring out ``(pi lam)^{gamma/2}``, the tail beyond g_K has conditional mean
    ``int_{g_K}^inf g^{-gamma/2} dg = 2 g_K^{1-gamma/2} / (gamma - 2)`` (needs gamma > 2).
    """
    return 2.0 * np.asarray(g_last, dtype=float) ** (1.0 - 0.5 * gamma) / (gamma - 2.0)


def tail_power_var(g_last: FloatArray, gamma: float) -> FloatArray:
    """Var[sum beyond the K-th of g^{-gamma/2} | g_K] = g_K^{1-gamma} / (gamma - 1) (Campbell)."""
    return np.asarray(g_last, dtype=float) ** (1.0 - gamma) / (gamma - 1.0)
