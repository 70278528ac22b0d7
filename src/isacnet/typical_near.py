"""Variance reduction for the deployment figures (:class:`isacnet.typical.TypicalKernel`).

A small coverage P(CRLB <= epsilon^2) is decided next to the sites. Two samplers put most of a
sample's points there and weight them back, both unbiased, and a control variate narrows the
CoMP rate:

* Torus deployments (:func:`near_offsets`, :func:`near_weights`): M points near uniformly chosen
  sites, split into groups of disc radii R_1, ..., R_m (shares M_k), pooled with the P points of
  the jittered grid by the balance heuristic. The pool is a draw of the mixture
  g = (P u + sum_k M_k h_k) / (P + M), u = 1/|A| and h_k(x) = c_k(x) / (n pi R_k^2), c_k(x) the
  sites within R_k of x; each point's value is weighted by
  w(x) = u / g(x) = (P + M) / (P + |A| sum_k M_k c_k(x) / (n pi R_k^2)) <= (P + M) / P.
  The offsets of a group are a jittered grid in (rho^2 / R_k^2, angle / 2 pi), one uniform point in
  each of M_k equal-area cells of the disc (stratified sampling: the sum over the group is
  unbiased and, for sites whose surroundings look alike, as on the hexagonal lattice, almost
  without variance). A small inner radius catches the coverage next to a site, a larger outer
  one what lies between close sites.
* The PPP by ordered sampling (:func:`ppp_first_arrival`): the typical point's first arrival
  t_1 = pi lambda r_1^2 (Exp(1)) drawn from the mixture of Exp(1) (share 1 - q) and Exp(1)
  truncated to [0, pi R_k^2 lambda] (share q / m each), by stratified inverse transform, with the
  weight f / g. The later arrivals are t_1 plus a unit-rate process (the radial process is Markov).
* A shot-noise control variate for the CoMP rate (:func:`shot_control_torus`,
  :func:`shot_control_ppp`): the sum over the sites of a bump phi(|x - s|) of radius r has a
  known mean at a uniform location, and a rate is high where that sum is.

Measurements: docs/performance.md ("Points near the sites"; "Stratified discs, the PPP's first
arrival and the site count"). Tests: tests/unit/test_typical_near.py.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from .geometry import directions_from_uniforms
from .params import ParameterError, check_real

__all__ = ["check_radii", "control_products", "jittered_unit_square", "near_counts", "near_density", "near_offsets",
           "near_weights", "ppp_first_arrival", "product_name", "shot_control_ppp", "shot_control_torus",
           "site_control",
           "song_near_pairs", "stratified_points"]


def check_radii(value, name: str = "near_radius") -> tuple[float, ...]:
    """The near points' disc radii in units of 1 / sqrt(lambda_b): a number or a list of 1 to 4,
    each in (0, 1], strictly increasing. Returned as a tuple."""
    vals = list(value) if isinstance(value, (list, tuple)) else [value]
    if not 1 <= len(vals) <= 4:
        raise ParameterError(name, value, "a number in (0, 1] or a list of 1 to 4 increasing numbers in (0, 1]")
    out = tuple(check_real(name, v, gt=0.0, le=1.0) for v in vals)
    if any(b <= a for a, b in zip(out[:-1], out[1:], strict=True)):
        raise ParameterError(name, value, "strictly increasing radii (each in (0, 1])")
    return out


def near_counts(m: int, groups: int) -> list[int]:
    """Split ``m`` near points into ``groups`` shares as equal as can be (the first ones larger)."""
    return [m // groups + (k < m % groups) for k in range(groups)]


def jittered_unit_square(rng: np.random.Generator, m: int) -> tuple[np.ndarray, np.ndarray]:
    """``m`` points of [0, 1)^2, one uniform point in each cell of a g x (m / g) grid (g the largest
    divisor of m at most sqrt(m)): :func:`stratified_points` on the unit square, as two arrays."""
    if m == 0:
        return np.empty(0), np.empty(0)
    u = stratified_points(rng, m, (1.0, 1.0))
    return u[:, 0], u[:, 1]


def near_offsets(rng: np.random.Generator, counts: list[int], radii: list[float]) -> np.ndarray:
    """Offsets (sum(counts), 2) [m]: per group k, ``counts[k]`` stratified points of the disc of
    radius ``radii[k]`` (area-uniform: rho = R sqrt(u_1), angle 2 pi u_2 on a jittered grid)."""
    parts = []
    for m, r0 in zip(counts, radii, strict=True):
        u_r, u_t = jittered_unit_square(rng, m)
        rho = r0 * np.sqrt(u_r)
        cos, sin = directions_from_uniforms(u_t)
        parts.append(np.stack([rho * cos, rho * sin], -1))
    return np.concatenate(parts) if parts else np.empty((0, 2))


def near_density(d: np.ndarray, pts: np.ndarray, tree, torus: tuple[float, float], n_sites: int,
                 counts: list[int], radii: list[float]) -> np.ndarray:
    """|A| sum_k M_k h_k(x) = |A| sum_k M_k c_k(x) / (n pi R_k^2): the near points' share of the
    pool's density at each point, relative to one uniform point.

    ``d``: the N nearest distances of each point (G, N), sorted; ``pts`` the points (G, 2);
    c_k(x) is counted from ``d`` where the N-th lies beyond R_k, else by a ball query on ``tree``
    (a periodic cKDTree of the sites).
    """
    area = torus[0] * torus[1]
    dens = np.zeros(len(d))
    for m, r0 in zip(counts, radii, strict=True):
        c = np.count_nonzero(d <= r0, axis=1).astype(float)
        full = np.flatnonzero(d[:, -1] <= r0)
        if full.size:
            c[full] = tree.query_ball_point(np.mod(pts[full], torus), r0, return_length=True)
        dens += c * (m * area / (n_sites * math.pi * r0 * r0))
    return dens


def near_weights(d: np.ndarray, pts: np.ndarray, tree, torus: tuple[float, float], n_sites: int, n_grid: int,
                 counts: list[int], radii: list[float]) -> np.ndarray:
    """The balance-heuristic weights w(x) = (P + M) / (P + |A| sum_k M_k c_k(x) / (n pi R_k^2))
    (:func:`near_density`; P = ``n_grid``, M = sum(counts))."""
    return (n_grid + sum(counts)) / (n_grid + near_density(d, pts, tree, torus, n_sites, counts, radii))


def ppp_first_arrival(rng: np.random.Generator, n: int, q: float, a: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """(t_1, w), each (n,): first arrivals of a unit-rate PPP by stratified importance sampling.

    The nominal proposal is (1 - q) Exp(1) + sum_k (q / m) Exp(1) | [0, a_k]. In v = 1 - e^{-t}
    (uniform under Exp(1)) its CDF G(v) = (1 - q) v + sum_k (q / m) min(v / p_k, 1), p_k = 1 - e^{-a_k},
    is piecewise linear with knots 0 < p_1 < ... < 1. Each knot's G is rounded to a whole number of
    the n cells of [0, 1) (at least one cell a piece), so every cell lies in one piece; v = G^-1(u)
    for u on a jittered grid of those cells (one ``rng.random(n)`` draw), t_1 = -ln(1 - v), and the
    weight is the density ratio 1 / G'(v), constant on a piece. Then E[sum_i f(t_i) w_i] = n E f(t_1),
    and sum_i w_i / n = 1 exactly (a sure event has estimate 1).
    """
    p = np.sort(-np.expm1(-np.asarray(a, dtype=float)))
    share = q / len(p)
    knots = np.concatenate([[0.0], p, [1.0]])
    g_knots = (1.0 - q) * knots + share * np.minimum(knots[:, None] / p[None, :], 1.0).sum(axis=1)
    pieces = len(knots) - 1
    if n >= pieces:  # whole cells a piece, at least one each
        m = np.round(g_knots * n)
        for k in range(1, pieces + 1):
            m[k] = max(m[k], m[k - 1] + 1)
        m[-1] = n
        for k in range(pieces - 1, 0, -1):
            m[k] = min(m[k], m[k + 1] - 1)
        g_knots = m / n
    u = (np.arange(n) + rng.random(n)) / n
    v = np.interp(u, g_knots, knots)
    piece = np.clip(np.searchsorted(g_knots, u, side="right") - 1, 0, pieces - 1)
    slope = np.diff(g_knots) / np.diff(knots)
    return -np.log1p(-v), 1.0 / slope[piece]


@functools.lru_cache(maxsize=64)  # called per deployment with the same few (points, torus)
def _grid(n: int, box: tuple[float, float]) -> tuple[int, int]:
    """(g_x, g_y), g_x g_y = n, with cells box[0]/g_x by box[1]/g_y as square as the divisors allow."""
    want = 0.5 * math.log(n * box[0] / box[1])  # ln g_x of square cells
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    gx = min(divisors, key=lambda d: (round(abs(math.log(d) - want), 9), d))  # a tie: the fewer columns
    return gx, n // gx


def stratified_points(rng: np.random.Generator, n: int, box: tuple[float, float]) -> np.ndarray:
    """``n`` points of [0, box[0]) x [0, box[1]), one uniform point in each cell of a g_x x g_y grid.

    Every point is uniform on the box (a uniform cell index would make it so; here each cell is
    used once), and the mean of f over the points is an unbiased estimate of the box's mean of f
    with at most the variance of ``n`` i.i.d. uniform points. Shape (n, 2), cells in row-major
    order (x index slow).
    """
    gx, gy = _grid(n, box)
    i, j = np.divmod(np.arange(n), gy)
    u = rng.random((n, 2))
    return np.stack([(i + u[:, 0]) * (box[0] / gx), (j + u[:, 1]) * (box[1] / gy)], axis=-1)


# --------------------------------------------------------------------------- shot-noise control
def _bump(d: np.ndarray, r: float) -> np.ndarray:
    """phi(d) = (1 - d^2 / r^2)^2 for d < r, else 0 (a smooth bump; its plane integral is pi r^2 / 3)."""
    return np.square(np.maximum(1.0 - np.square(d / r), 0.0))


def shot_control_torus(dist: np.ndarray, pts: np.ndarray, sites: np.ndarray, torus: tuple[float, float],
                       r: float) -> np.ndarray:
    """Per point x, X(x) = sum_i phi(|x - s_i|) - n pi r^2 / (3 |A|) over the sites of a torus deployment.

    Its average over a uniform x on the torus is exactly 0 for the given deployment (each site's
    bump integrates to pi r^2 / 3 on a torus wider than 2r), so the mean of X over a sample's
    points is a control variate with known mean 0 (:mod:`isacnet.typical`, ``control_radius``).
    ``dist``: the K nearest distances of each point (sorted); where the K-th lies within r, the sum
    runs over every site (minimum image) instead.
    """
    x = _bump(dist, r).sum(axis=1)
    full = np.flatnonzero(dist[:, -1] <= r)
    for j in full:
        d = sites - pts[j]
        d -= np.asarray(torus) * np.round(d / np.asarray(torus))
        x[j] = _bump(np.hypot(d[:, 0], d[:, 1]), r).sum()
    return x - len(sites) * math.pi * r * r / (3.0 * torus[0] * torus[1])


def shot_control_ppp(dist: np.ndarray, density: float, r: float) -> np.ndarray:
    """The PPP's X = sum_{k <= K} phi(r_k) + E[sum_{k > K} phi(r_k) | r_K] - lambda pi r^2 / 3 at typical points.

    Given r_K the points beyond are a PPP outside the disc of radius r_K, so the conditional mean of
    their bumps is lambda int_{r_K}^{r} phi(s) 2 pi s ds = lambda pi r^2 / 3 (1 - r_K^2 / r^2)_+^3,
    and E[X] = 0 exactly (Campbell's theorem).
    """
    mean = density * math.pi * r * r / 3.0
    rest = mean * np.maximum(1.0 - np.square(dist[:, -1] / r), 0.0) ** 3
    return _bump(dist, r).sum(axis=1) + rest - mean


# --------------------------------------------------------------------------- controls of a sample
_SUFFIX = {"shotx": "x", "sitesx": "x", "wx": "w"}
"""Product names: a control's product with an output y is y's base plus this suffix, keeping a
threshold index last ("cov@3" x "wx" -> "covw@3"; "rate" x "shotx" -> "ratex")."""


def product_name(y: str, control: str) -> str:
    """The name of the sample's product of output ``y`` with ``control`` (:data:`_SUFFIX`)."""
    base, at, k = y.partition("@")
    return f"{base}{_SUFFIX[control]}{at}{k}"


def control_products(means: dict[str, float], controls: tuple[str, ...], ys: tuple[str, ...]) -> dict[str, float]:
    """The products of a sample's means that the regression control variates need
    (:func:`isacnet.simulation.statistics.control_variates`): each output y times each control,
    and the two controls' product where there are two ("sitesxwx")."""
    out = {product_name(y, c): means[y] * means[c] for c in controls for y in ys}
    if len(controls) == 2:
        out["".join(controls)] = means[controls[0]] * means[controls[1]]
    return out


def site_control(deps) -> np.ndarray:
    """X = sum n / sum E[n] - 1 of a sample's deployments (E[n] = intensity x torus area, exact for
    Matern II on a torus: the control ``sitesx``), as a one-element array."""
    n = sum(len(d.bs) for d in deps)
    mean = sum(d.density * d.torus[0] * d.torus[1] for d in deps)
    return np.array([n / mean - 1.0])


def song_near_pairs(rng: np.random.Generator, tx_dep, rx_dep, pts: np.ndarray, at: np.ndarray, m: int,
                    radii: list[float]):
    """Song's near points: a pair (target in the TX torus, its point in the RX torus) is uniform x
    uniform on the grid (``pts``, ``at``); M_t = ceil(m / 2) pairs have the target near a uniformly
    chosen TX site (discs of ``radii`` [m], stratified offsets) and a jittered-grid RX point, M_r
    pairs a jittered-grid target and the RX point near an RX site. Returns the targets and RX points
    of all pairs (grid first) and the shares (c_t, c_r) per radius. The balance heuristic over the
    product then gives w = (P + M) / (P + |A| (sum_k M_tk h_tk(x_t) + sum_k M_rk h_rk(x_r)))."""
    m_t, m_r = near_counts(m, 2)
    c_t, c_r = near_counts(m_t, len(radii)), near_counts(m_r, len(radii))
    site = rng.integers(0, len(tx_dep.bs), m_t)
    t_near = np.mod(tx_dep.bs[site] + near_offsets(rng, c_t, radii), tx_dep.torus)
    r_grid = stratified_points(rng, m_t, rx_dep.torus)
    t_grid = stratified_points(rng, m_r, tx_dep.torus)
    site = rng.integers(0, len(rx_dep.bs), m_r)
    r_near = np.mod(rx_dep.bs[site] + near_offsets(rng, c_r, radii), rx_dep.torus)
    return np.concatenate([pts, t_near, t_grid]), np.concatenate([at, r_grid, r_near]), (c_t, c_r)
