"""Ordered PPP sampling, windowed PPPs, torus displacement, nth-neighbour laws, PPP tails.

The distributional checks use a fixed seed, so they are deterministic; each compares against
an exact law (scipy.stats) and would fail for a wrong law at these sample sizes.
"""

from __future__ import annotations

import itertools
import math

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy import integrate, stats

from isacnet import geometry as geo

N = 20_000
P_MIN = 1e-3


def rng(seed: int = 12345) -> np.random.Generator:
    return np.random.default_rng(seed)


# --------------------------------------------------------------------------- ordered sampling
def test_ordered_arrivals_shape_and_strictly_increasing():
    g = geo.ordered_arrivals(rng(1), 500, 40)
    assert g.shape == (500, 40)
    assert np.all(g > 0)
    assert np.all(np.diff(g, axis=1) > 0)


@pytest.mark.parametrize("k", [1, 2, 5, 20])
def test_ordered_arrivals_kth_column_is_gamma_k(k):
    g = geo.ordered_arrivals(rng(100 + k), N, 20)
    p = stats.kstest(g[:, k - 1], stats.gamma(k).cdf).pvalue
    assert p > P_MIN
    # The KS test has power here: the neighbouring law is clearly rejected.
    assert stats.kstest(g[:, k - 1], stats.gamma(k + 1).cdf).pvalue < 1e-10


def test_ordered_arrivals_increments_are_unit_exponential():
    g = geo.ordered_arrivals(rng(7), N, 3)
    inc = np.diff(g, axis=1, prepend=0.0).ravel()
    assert stats.kstest(inc, stats.expon().cdf).pvalue > P_MIN


def test_uniform_directions_on_unit_circle_and_uniform_angle():
    c, s = geo.uniform_directions(rng(3), (N // 4, 4))
    assert c.shape == s.shape == (N // 4, 4)
    assert_allclose(c**2 + s**2, 1.0, rtol=0, atol=1e-14)
    phi = np.mod(np.arctan2(s, c), 2 * math.pi).ravel()
    assert stats.kstest(phi, stats.uniform(0, 2 * math.pi).cdf).pvalue > P_MIN


def test_ordered_ppp_distances_and_positions_agree():
    lam = 1.0 / 900.0
    r, xy = geo.ordered_ppp(rng(9), 1000, 10, lam)
    assert r.shape == (1000, 10) and xy.shape == (1000, 10, 2)
    assert_allclose(np.hypot(xy[..., 0], xy[..., 1]), r, rtol=1e-13)
    assert np.all(np.diff(r, axis=1) > 0)
    # pi lam r_1^2 ~ Exp(1)
    assert stats.kstest(math.pi * lam * r[:, 0] ** 2, stats.expon().cdf).pvalue > P_MIN


# --------------------------------------------------------------------------- windowed PPPs
def test_disk_ppp_count_is_poisson():
    density, radius, center = 0.01, 20.0, (3.0, -4.0)
    mean = density * math.pi * radius**2  # 12.566
    g = rng(11)
    counts = np.array([geo.disk_ppp(g, density, radius, center).shape[0] for _ in range(4000)])
    # chi-square goodness of fit against Poisson(mean), tails pooled into the end bins
    lo, hi = 4, 22
    obs = np.array(
        [np.sum(counts <= lo)]
        + [np.sum(counts == m) for m in range(lo + 1, hi)]
        + [np.sum(counts >= hi)]
    )
    pois = stats.poisson(mean)
    probs = np.array(
        [pois.cdf(lo)] + [pois.pmf(m) for m in range(lo + 1, hi)] + [pois.sf(hi - 1)]
    )
    assert probs.sum() == pytest.approx(1.0, abs=1e-14)
    assert stats.chisquare(obs, probs * counts.size).pvalue > P_MIN
    assert np.var(counts) == pytest.approx(mean, rel=0.1)  # Poisson: var = mean


def test_disk_ppp_points_in_disk_with_area_uniform_radius():
    density, radius, center = 0.05, 30.0, (100.0, 50.0)
    g = rng(12)
    xy = np.concatenate([geo.disk_ppp(g, density, radius, center) for _ in range(200)])
    assert xy.ndim == 2 and xy.shape[1] == 2 and xy.shape[0] > N
    d = xy - np.asarray(center)
    r = np.hypot(d[:, 0], d[:, 1])
    assert np.all(r <= radius)
    # area-uniform: r^2/R^2 ~ U(0, 1), angle ~ U(0, 2 pi)
    assert stats.kstest((r / radius) ** 2, "uniform").pvalue > P_MIN
    phi = np.mod(np.arctan2(d[:, 1], d[:, 0]), 2 * math.pi)
    assert stats.kstest(phi, stats.uniform(0, 2 * math.pi).cdf).pvalue > P_MIN


def test_disk_ppp_empty_window_has_shape_0_2():
    xy = geo.disk_ppp(rng(1), 1e-12, 1.0)
    assert xy.shape == (0, 2)


def test_torus_ppp_inside_square_and_uniform():
    side = 50.0
    g = rng(13)
    pts = [geo.torus_ppp(g, 0.02, side) for _ in range(400)]
    counts = np.array([p.shape[0] for p in pts])
    assert counts.mean() == pytest.approx(0.02 * side**2, rel=0.02)  # 50 +- 0.35 (1 s.e.)
    xy = np.concatenate(pts)
    assert np.all(xy >= 0.0) and np.all(xy < side)
    for axis in (0, 1):
        assert stats.kstest(xy[:, axis] / side, "uniform").pvalue > P_MIN


def test_torus_delta_is_shortest_image_displacement():
    side = 10.0
    g = rng(14)
    a = g.random((2000, 2)) * side
    b = g.random((2000, 2)) * side
    d = geo.torus_delta(a, b, side)
    # brute force over the 9 image shifts of b
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=2)), dtype=float) * side
    cand = (b - a)[:, None, :] + shifts[None, :, :]
    best = cand[np.arange(len(a)), np.argmin(np.hypot(cand[..., 0], cand[..., 1]), axis=1)]
    assert_allclose(d, best, rtol=0, atol=1e-12)
    assert np.all(np.abs(d) <= side / 2 + 1e-12)


def test_torus_delta_broadcasts():
    side = 4.0
    a = np.array([0.5, 0.5])
    b = np.array([[3.5, 0.5], [0.5, 3.9], [2.0, 2.0]])
    assert_allclose(
        geo.torus_delta(a, b, side), [[-1.0, 0.0], [0.0, -0.6], [1.5, 1.5]], atol=1e-14
    )


def test_disk_window_count_bound_covers_tail():
    for mean in (0.5, 12.0, 400.0):
        k = geo.disk_window_count_bound(mean, 1e-15)
        assert stats.poisson(mean).sf(k) < 1e-15
    assert geo.disk_window_count_bound(0.0) == 1


# --------------------------------------------------------------------------- nth neighbour
LAM = 1.0 / 900.0


@pytest.mark.parametrize("n", [1, 2, 5, 50])
def test_nth_neighbour_pdf_integrates_to_one_and_mean_matches(n):
    m = float(geo.nth_neighbour_mean(n, LAM))

    def pdf(r):
        return float(geo.nth_neighbour_pdf(r, n, LAM))

    def rpdf(r):
        return r * pdf(r)

    total = integrate.quad(pdf, 0, m, epsabs=0)[0] + integrate.quad(pdf, m, np.inf, epsabs=0)[0]
    mean = integrate.quad(rpdf, 0, m, epsabs=0)[0] + integrate.quad(rpdf, m, np.inf, epsabs=0)[0]
    assert total == pytest.approx(1.0, rel=1e-9)
    assert mean == pytest.approx(m, rel=1e-9)


def test_nth_neighbour_pdf_hand_value_and_support():
    # n = 1: 2 pi lam r exp(-pi lam r^2)
    r = np.array([-1.0, 0.0, 10.0, 30.0])
    a = math.pi * LAM
    expected = np.array([0.0, 0.0, 2 * a * 10 * math.exp(-a * 100), 2 * a * 30 * math.exp(-a * 900)])
    assert_allclose(geo.nth_neighbour_pdf(r, 1, LAM), expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("n", [1, 3, 20])
def test_nth_neighbour_cdf_is_integral_of_pdf(n):
    m = float(geo.nth_neighbour_mean(n, LAM))
    for r in (0.3 * m, m, 2.0 * m):
        q = integrate.quad(lambda x: float(geo.nth_neighbour_pdf(x, n, LAM)), 0, r, epsabs=0)[0]
        assert float(geo.nth_neighbour_cdf(r, n, LAM)) == pytest.approx(q, rel=1e-9)


@pytest.mark.parametrize("n", [1, 5, 50, 1000])
def test_nth_neighbour_mean_against_mpmath(n):
    with mpmath.workdps(30):
        lam = mpmath.mpf(LAM)
        ref = mpmath.gamma(n + mpmath.mpf(1) / 2) / (mpmath.sqrt(mpmath.pi * lam) * mpmath.gamma(n))
    # gammaln(n+1/2) - gammaln(n) cancels two numbers of size ~n log n: ~1e-12 at n = 1000.
    rtol = 1e-13 if n <= 50 else 1e-11
    assert float(geo.nth_neighbour_mean(n, LAM)) == pytest.approx(float(ref), rel=rtol)


def test_nth_neighbour_mean_broadcasts():
    n = np.array([1, 2, 3])
    # E r_1 = 1/(2 sqrt(lam)); E r_{n+1} = E r_n (n + 1/2)/n
    e1 = 1.0 / (2.0 * math.sqrt(LAM))
    assert_allclose(geo.nth_neighbour_mean(n, LAM), [e1, e1 * 1.5, e1 * 1.5 * 2.5 / 2], rtol=1e-14)


def test_empirical_nth_neighbour_mean_within_4_standard_errors():
    k = 30
    g = geo.ordered_arrivals(rng(21), N, k)
    r = np.sqrt(g / (math.pi * LAM))
    for n in (1, 2, 10, 30):
        col = r[:, n - 1]
        se = col.std(ddof=1) / math.sqrt(col.size)
        assert abs(col.mean() - float(geo.nth_neighbour_mean(n, LAM))) < 4 * se


# --------------------------------------------------------------------------- PPP tails
@pytest.mark.parametrize("gamma", [2.2, 2.5, 3.0, 4.0, 6.0])
@pytest.mark.parametrize("g_last", [0.3, 1.0, 17.0, 500.0])
def test_tail_power_mean_and_var_against_quad(gamma, g_last):
    # Campbell: mean = int_{g_K}^inf g^{-gamma/2} dg, var = int_{g_K}^inf g^{-gamma} dg.
    # Substitute g = g_K e^t (dg = g dt) so that quad sees an exponentially decaying integrand
    # g_K^{1-q} e^{(1-q) t}, q = gamma/2 or gamma.
    def integral(q):
        return integrate.quad(
            lambda t: g_last ** (1 - q) * math.exp((1 - q) * t), 0, np.inf,
            epsabs=0, epsrel=1e-12, limit=200,
        )[0]

    m, v = integral(gamma / 2), integral(gamma)
    assert float(geo.tail_power_mean(g_last, gamma)) == pytest.approx(m, rel=1e-9)
    assert float(geo.tail_power_var(g_last, gamma)) == pytest.approx(v, rel=1e-9)


def test_tail_power_mean_matches_simulated_tail():
    # Points of a unit-rate process beyond g_K = 5 over [5, 5 + 2000]; tail past that by hand.
    gamma, g_k, span = 3.0, 5.0, 2000.0
    g = rng(31)
    sums = np.empty(4000)
    for i in range(sums.size):
        pts = g_k + g.random(g.poisson(span)) * span
        sums[i] = np.sum(pts ** (-gamma / 2))
    rest = 2.0 * (g_k + span) ** (1 - gamma / 2) / (gamma - 2)  # int_{g_k+span}^inf
    mean = float(geo.tail_power_mean(g_k, gamma)) - rest
    se = sums.std(ddof=1) / math.sqrt(sums.size)
    assert abs(sums.mean() - mean) < 4 * se
    assert np.var(sums, ddof=1) == pytest.approx(float(geo.tail_power_var(g_k, gamma)), rel=0.1)


def test_tail_power_broadcasts_over_g_last():
    g = np.array([1.0, 4.0])
    assert_array_equal(geo.tail_power_mean(g, 4.0), 2.0 * g ** (-1.0) / 2.0)
    assert_allclose(geo.tail_power_var(g, 4.0), g ** (-3.0) / 3.0, rtol=1e-15)
