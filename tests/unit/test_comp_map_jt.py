"""CoMP maps under the three joint-transmission models (issue 17): the map equals the per-layout
functions point by point; the non-coherent closed form against its Monte Carlo over fading; the
models' ordering and their agreement at L = 1; units of the rate."""

import math

import numpy as np
import pytest

from isacnet import deployment as D
from isacnet import maps
from isacnet.comp_given import (
    JT_MODELS,
    coherent_coverage,
    mc_rate_coverage,
    noncoherent_coverage,
    noncoherent_rate,
    power_sum_coverage,
    power_sum_rate,
)
from isacnet.params import MengParams, ParameterError

P2 = MengParams(n_tx_antennas=2)


def _w(seed: int, n: int = 5, K: int = 10, alpha: float = 4.0):
    d = np.sort(np.random.default_rng(seed).uniform(100.0, 2000.0, (n, K)), axis=1)
    return d ** (-alpha), np.full(n, 0.3 * (2000.0**-alpha))


def test_jt_models_registered():
    assert set(JT_MODELS) == {"power-sum", "noncoherent", "coherent"}


@pytest.mark.parametrize("L, kap", [(2, 0.6), (3, 1.0), (4, 0.3)])
def test_noncoherent_closed_form_vs_fading_monte_carlo(L, kap):
    w, T = _w(L)
    th = 1.5
    c = noncoherent_coverage(w, L, 1, 0.5, kap, th, T)
    r = noncoherent_rate(w, L, 1, 0.5, kap, T)
    n = 20_000
    rate, cov, se, rse = mc_rate_coverage(w, L, 1, 0.5, kap, (th,), T, jt="noncoherent", rng=L, n_fading=n)
    assert np.all(np.abs(cov[0] - c) <= 4 * np.maximum(se[0], np.sqrt(c * (1 - c) / n)) + 1e-12)
    assert np.all(np.abs(rate - r) <= 4 * rse)


def test_noncoherent_equals_power_sum_at_L1():
    w, T = _w(7)
    np.testing.assert_allclose(
        noncoherent_coverage(w, 1, 1, 0.5, 1.0, 2.0, T), power_sum_coverage(w, 1, 1, 0.5, 1.0, 2.0, T), atol=1e-6
    )
    np.testing.assert_allclose(noncoherent_rate(w, 1, 1, 0.5, 1.0, T), power_sum_rate(w, 1, 1, 0.5, 1.0, T), rtol=1e-6)


def test_coverage_ordering_coherent_power_sum_noncoherent():
    """Same means for power-sum and NC given the layout, NC without diversity: at a threshold
    below the median NC covers less; coherent adds the cross terms and covers more."""
    w, T = _w(3)
    ps = power_sum_coverage(w, 3, 1, 0.5, 1.0, 0.5, T)
    nc = noncoherent_coverage(w, 3, 1, 0.5, 1.0, 0.5, T)
    coh, se = coherent_coverage(w, 3, 1, 0.5, 1.0, 0.5, T, return_error=True, rng=1, n_fading=20_000)
    assert np.all(nc < ps)
    assert np.all(coh > ps - 4 * se)


def test_power_sum_mc_route_matches_closed_form():
    """The Monte Carlo route (used for coherent JT) against the power-sum closed form: the same
    code path with jt = power-sum, within 4 se."""
    w, T = _w(11)
    c = power_sum_coverage(w, 3, 2, 0.5, 0.7, 1.0, T)
    n = 20_000
    _, cov, se, _ = mc_rate_coverage(w, 3, 2, 0.5, 0.7, (1.0,), T, jt="power-sum", rng=2, n_fading=n)
    assert np.all(np.abs(cov[0] - c) <= 4 * np.maximum(se[0], np.sqrt(c * (1 - c) / n)) + 1e-6)


def _grid_points(ds):
    X, Y = np.meshgrid(ds.x.values, ds.y.values)
    return np.stack([X, Y], axis=-1)


@pytest.mark.parametrize("jt", ["noncoherent", "coherent"])
def test_comp_map_pointwise(jt):
    dep = D.from_array(np.random.default_rng(9).uniform(0, 5000, (30, 2)))
    kw = {"k_nearest": 8, "kappa_c": 0.7, "thresholds_db": (3.0,), "jt": jt, "n_fading": 256, "seed": 4}
    ds = maps.comp_map(dep, P2, 2, 3, **kw)
    assert ds.rate_bits.attrs["units"] == "bits/s/Hz" and ds.rate_nats.attrs["units"] == "nats/s/Hz"
    pts = _grid_points(ds)
    pt = pts[1, 2]
    d = np.sort(np.hypot(*(dep.bs - pt).T))
    w = d**-P2.alpha
    T = w[8:].sum()
    if jt == "noncoherent":  # closed form: the per-layout function at that point
        assert "closed form" in ds.attrs["fading_average"]
        assert ds.rate_nats.values[1, 2] == pytest.approx(noncoherent_rate(w[None, :8], 2, 1, 0.5, 0.7, T)[0], rel=1e-9)
        cov = noncoherent_coverage(w[None, :8], 2, 1, 0.5, 0.7, 10**0.3, T)[0]
        assert ds.coverage.values[0, 1, 2] == pytest.approx(cov, rel=1e-9)
    else:  # Monte Carlo: within 4 se of the power-sum-free reference of its own law
        assert "Monte Carlo" in ds.attrs["fading_average"]
        c, se = coherent_coverage(w[None, :8], 2, 1, 0.5, 0.7, 10**0.3, T, return_error=True, rng=99, n_fading=20_000)
        tol = 4 * math.hypot(math.sqrt(max(c[0] * (1 - c[0]), 1e-4) / 256), se[0])
        assert abs(ds.coverage.values[0, 1, 2] - c[0]) <= tol
    # the same seed gives the same map
    again = maps.comp_map(dep, P2, 2, 3, **kw)
    np.testing.assert_array_equal(again.coverage.values, ds.coverage.values)


def test_comp_map_jt_bad_input():
    dep = D.from_array(np.random.default_rng(9).uniform(0, 5000, (30, 2)))
    with pytest.raises(ParameterError, match="jt"):
        maps.comp_map(dep, P2, 2, 3, jt="zf")
    with pytest.raises(ParameterError, match="n_fading"):
        maps.comp_map(dep, P2, 2, 3, jt="coherent", n_fading=1)
    with pytest.raises(ParameterError, match="L"):
        noncoherent_coverage(np.ones((1, 20)), 13, 1, 0.5, 0.5, 1.0)
