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
