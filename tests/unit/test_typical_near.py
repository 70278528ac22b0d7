"""Importance sampling near the sites (isacnet.typical_near): the stratified unit square and disc
offsets, the PPP's first arrival by stratified importance sampling against the exponential law,
the radii's validation, and the Matern II site-count control of TypicalKernel."""

from __future__ import annotations

import math

import numpy as np
import pytest

from isacnet.params import MengParams, ParameterError
from isacnet.typical import TypicalKernel
from isacnet.typical_near import check_radii, jittered_unit_square, near_counts, near_offsets, ppp_first_arrival


@pytest.mark.parametrize("m", [1, 7, 96, 2048])
def test_jittered_unit_square_puts_one_point_in_each_cell(m):
    x, y = jittered_unit_square(np.random.default_rng(m), m)
    rows = max(d for d in range(1, math.isqrt(m) + 1) if m % d == 0)
    cell = np.floor(x * rows).astype(int) * (m // rows) + np.floor(y * (m // rows)).astype(int)
    assert sorted(cell.tolist()) == list(range(m))


def test_near_offsets_stratify_each_disc_by_area_and_angle():
    counts, radii = near_counts(100, 2), [10.0, 30.0]
    o = near_offsets(np.random.default_rng(3), counts, radii)
    assert counts == [50, 50] and o.shape == (100, 2)
    for part, r in zip((o[:50], o[50:]), radii, strict=True):
        rho2 = (part[:, 0] ** 2 + part[:, 1] ** 2) / r**2  # rows of 5 cells in rho^2 / R^2
        ang = np.mod(np.arctan2(part[:, 1], part[:, 0]) / (2 * math.pi), 1.0)  # 10 columns in angle
        assert np.all(rho2 <= 1.0)
        cell = np.floor(rho2 * 5).astype(int) * 10 + np.floor(ang * 10).astype(int)
        assert sorted(cell.tolist()) == list(range(50))


@pytest.mark.parametrize(("q", "a"), [(0.0, [0.1]), (0.5, [0.07]), (2 / 3, [0.07, 0.28]), (0.9, [0.01, 0.5, 3.0])])
def test_ppp_first_arrival_reproduces_the_exponential_law(q, a):
    """sum_i w_i [t_i <= x] / n equals 1 - e^-x up to the few cells that straddle x or a knot
    (each off by at most max w / n): stratified inverse transform with the density ratio as weight."""
    n = 4000
    t, w = ppp_first_arrival(np.random.default_rng(9), n, q, a)
    assert np.all(np.diff(t) > 0) and np.all(w > 0)
    for x in (0.003, 0.05, 0.2, 1.0, 4.0):
        assert abs(np.sum(w * (t <= x)) / n + math.expm1(-x)) <= (len(a) + 2) * w.max() / n
    # the proposal puts about q + (1 - q) p of the points below the smallest knot p
    p0 = -math.expm1(-min(a))
    assert np.mean(t < min(a)) == pytest.approx((1 - q) * p0 + q * sum(min(1.0, p0 / -math.expm1(-ak)) for ak in a)
                                                / len(a), abs=2 / n)
    # a smooth function: E[t^2] = 2, E[exp(-t)] = 1/2 (unbiased; stratified, so close)
    assert np.sum(w * t * t) / n == pytest.approx(2.0, rel=0.02)
    assert np.sum(w * np.exp(-t)) / n == pytest.approx(0.5, rel=1e-3)


@pytest.mark.parametrize("bad", [0.0, 1.5, [0.3, 0.1], [0.2, 0.2], [], [0.1, 0.2, 0.3, 0.4, 0.5], "x"])
def test_near_radius_is_checked(bad):
    with pytest.raises((ParameterError, TypeError, ValueError), match="near_radius"):
        check_radii(bad)
    with pytest.raises((ParameterError, TypeError, ValueError), match="near_radius"):
        TypicalKernel(MengParams(), "crlb", near_points=8, near_radius=bad)


def test_near_radius_accepts_a_number_or_a_list():
    assert check_radii(0.2) == (0.2,)
    assert check_radii([0.15, 0.3]) == (0.15, 0.3)
    assert TypicalKernel(MengParams(), "crlb", near_points=8, near_radius=[0.1, 0.3]).near_radius == (0.1, 0.3)


def test_site_count_control_is_n_over_its_exact_mean():
    """sitesx_matern_ii is n / (lambda_b |A|) - 1 of the sample's deployment (recomputed from the same
    stream), its mean over deployments is 0 within 4 se (the Matern II intensity on a torus is exact),
    and covx is the coverage times it; the other processes have no control."""
    from isacnet.deployment import generate

    p = MengParams(bs_density=1e-6)
    k = TypicalKernel(p, "crlb", 4, thresholds=(80.0, 200.0), points=16, n_sites=100, ppp_points=4)
    assert [q for q in k.quantities if "sitesx" in q or "covx" in q] == [
        "sitesx_matern_ii", "covx_matern_ii@0", "covx_matern_ii@1"]
    out = k(np.random.default_rng(5), 400)
    np.testing.assert_allclose(out["covx_matern_ii@1"], out["cov_matern_ii@1"] * out["sitesx_matern_ii"], rtol=1e-12)
    x = out["sitesx_matern_ii"]
    assert abs(x.mean()) <= 4 * x.std(ddof=1) / math.sqrt(x.size) and x.std() > 0.01
    # one deployment by hand: the PPP's and the two lattices' draws first, then Matern II's
    rng = np.random.default_rng(5)
    k1 = TypicalKernel(p, "crlb", 4, thresholds=(80.0, 200.0), points=16, n_sites=100, ppp_points=4)
    first = k1(np.random.default_rng(5), 1)
    k1._ppp_ordered(rng)
    for proc in ("hexagonal", "perturbed"):
        dep = generate(proc, p.bs_density, rng, n_sites=100)
        k1._values(dep, k1._points(rng, dep.torus), rng)
    dep = generate("matern-ii", p.bs_density, rng, n_sites=100)
    want = len(dep.bs) / (dep.density * dep.torus[0] * dep.torus[1]) - 1.0
    assert first["sitesx_matern_ii"][0] == pytest.approx(want, rel=1e-12)
    assert dep.density == pytest.approx(1e-6, rel=1e-12)


# --------------------------------------------------------------------------- shot-noise control
def _bump_slow(d, r):
    return np.where(d < r, (1 - (d / r) ** 2) ** 2, 0.0)


def test_shot_control_torus_averages_to_zero_over_the_torus():
    """For one deployment the torus average of sum_i phi(|x - s_i|) is n pi r^2 / (3 |A|): X averaged
    over a fine midpoint grid of the torus is 0 to the rule's error; K = 2 nearest with r larger
    than many d_2 exercises the all-sites fallback, which equals the brute-force sum."""
    from isacnet.deployment import generate
    from isacnet.maps import Nearest
    from isacnet.typical_near import shot_control_torus

    dep = generate("matern-ii", 1e-6, np.random.default_rng(1), n_sites=64)
    r = 0.6e3
    g = 300
    xs = (np.arange(g) + 0.5) / g
    pts = np.stack(np.meshgrid(xs * dep.torus[0], xs * dep.torus[1], indexing="ij"), -1).reshape(-1, 2)
    _, _, dist = Nearest(dep.bs, dep.torus).query(pts, 2)
    x = shot_control_torus(dist, pts, dep.bs, dep.torus, r)
    assert np.any(dist[:, -1] <= r) and np.any(dist[:, -1] > r)
    assert abs(x.mean()) < 1e-4 * len(dep.bs) * math.pi * r * r / (3 * dep.torus[0] * dep.torus[1])
    for j in np.flatnonzero(dist[:, -1] <= r)[:20]:
        d = dep.bs - pts[j]
        d -= np.asarray(dep.torus) * np.round(d / np.asarray(dep.torus))
        want = _bump_slow(np.hypot(d[:, 0], d[:, 1]), r).sum() - len(dep.bs) * math.pi * r * r / (
            3 * dep.torus[0] * dep.torus[1])
        assert x[j] == pytest.approx(want, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("k", [1, 3, 32])
def test_shot_control_ppp_has_mean_zero(k):
    """Campbell: E sum_i phi(r_i) = lambda pi r^2 / 3 over the whole PPP; the K nearest plus the
    conditional mean beyond r_K, at 200,000 typical points by ordered sampling, 4 se (with K = 1 the
    tail term carries most of the mean: leaving it out fails by hundreds of se)."""
    from isacnet.geometry import ordered_arrivals
    from isacnet.typical_near import shot_control_ppp

    lam, r = 1e-6, 1.5e3
    d = np.sqrt(ordered_arrivals(np.random.default_rng(k), 200_000, k) / (math.pi * lam))
    x = shot_control_ppp(d, lam, r)
    assert abs(x.mean()) <= 4 * x.std() / math.sqrt(x.size)
    if k == 1:
        partial = _bump_slow(d, r).sum(axis=1) - lam * math.pi * r * r / 3
        assert abs(partial.mean()) > 50 * partial.std() / math.sqrt(x.size)


def test_comp_control_leaves_the_rates_and_adds_the_products():
    """control_radius draws nothing: the rates are bit for bit those without it; ratex is rate x shotx
    (sample means); the hexagonal shotx recomputed by brute force from the same stream."""
    from isacnet.deployment import generate
    from isacnet.geometry import ordered_arrivals

    p = MengParams(bs_density=1e-6)
    kw = dict(points=16, n_sites=100, ppp_points=8, exact_sites=16, panels=4)
    a = TypicalKernel(p, "comp", 2, with_coverage=False, control_radius=0.4, **kw)(np.random.default_rng(3), 3)
    b = TypicalKernel(p, "comp", 2, with_coverage=False, **kw)(np.random.default_rng(3), 3)
    for proc in ("ppp", "hexagonal", "perturbed", "matern_ii"):
        np.testing.assert_array_equal(a[f"rate_{proc}"], b[f"rate_{proc}"])
        np.testing.assert_array_equal(a[f"ratex_{proc}"], a[f"rate_{proc}"] * a[f"shotx_{proc}"])
    assert set(a) - set(b) == {f"{q}_{proc}" for q in ("shotx", "ratex")
                               for proc in ("ppp", "hexagonal", "perturbed", "matern_ii")}
    rng = np.random.default_rng(3)
    ordered_arrivals(rng, 8, 16)
    dep = generate("hexagonal", p.bs_density, rng, n_sites=100)
    from isacnet.typical import stratified_points
    pts = stratified_points(rng, 16, dep.torus)
    r = 0.4e3
    area = dep.torus[0] * dep.torus[1]
    want = []
    for x in pts:
        d = dep.bs - x
        d -= np.asarray(dep.torus) * np.round(d / np.asarray(dep.torus))
        want.append(_bump_slow(np.hypot(d[:, 0], d[:, 1]), r).sum() - len(dep.bs) * math.pi * r * r / (3 * area))
    assert a["shotx_hexagonal"][0] == pytest.approx(np.mean(want), rel=1e-10, abs=1e-14)


@pytest.mark.parametrize(("kw", "name"), [({"control_radius": -0.1}, "control_radius"),
                                          ({"control_radius": 1.5}, "control_radius"),
                                          ({"control_radius": 0.4, "quantity": "crlb"}, "control_radius")])
def test_control_radius_is_checked(kw, name):
    with pytest.raises(ParameterError, match=name):
        TypicalKernel(MengParams(), **{"quantity": "comp", **kw})


def test_weight_control_makes_a_full_coverage_exactly_one():
    """Where every point is covered, a pool's weighted mean is mean(w) = 1 + wx, not 1: the plain
    estimate misses 1 by the weights' noise (the 0.3-0.6 wart of values like 1.001), and the
    regression on wx (mean 0) gives 1 with a standard error of rounding size. The Matern II
    coverage there uses both of its controls (site count and weights)."""
    from isacnet.experiments.registry.deploy import _crlb_derived
    from isacnet.simulation.statistics import Moments

    p = MengParams(bs_density=1e-6)
    k = TypicalKernel(p, "crlb", 8, epsilon=1e4, points=64, near_points=128, near_radius=(0.1, 0.3), n_sites=100,
                      ppp_points=16)
    out = k(np.random.default_rng(2), 12)
    est = _crlb_derived({q: Moments.of(v).estimate() for q, v in out.items()}, k)
    for proc in ("hexagonal", "perturbed", "matern_ii"):
        plain, cv = est[f"cov_{proc}"], est[f"covcv_{proc}"]
        assert plain.mean != 1.0 and plain.stderr > 1e-6
        assert cv.mean == pytest.approx(1.0, abs=1e-12) and cv.stderr < 1e-9
    assert est["cov_ppp"].mean == pytest.approx(1.0, abs=1e-12)  # ordered PPP: sum of stratified weights


@pytest.mark.parametrize(("n", "q", "a"), [(16, 2 / 3, [0.07, 0.28]), (8192, 2 / 3, [0.07, 0.28]),
                                           (5, 0.9, [0.01, 0.5, 3.0]), (1000, 0.3, [1e-4])])
def test_ppp_first_arrival_weights_sum_to_n(n, q, a):
    """Each piece of the proposal holds whole cells, so the weights of a draw sum to n exactly: a sure
    event is estimated as 1 (no 1.0003), and every piece has at least one point."""
    t, w = ppp_first_arrival(np.random.default_rng(n), n, q, a)
    assert np.sum(w) / n == pytest.approx(1.0, abs=1e-12)
    edges = np.concatenate([[0.0], np.sort(a), [np.inf]])
    assert np.all(np.histogram(t, bins=edges)[0] >= 1)
