"""The spatial acceptance simulation (isacnet.load): invariants checked against brute force."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from isacnet import load
from isacnet.geometry import torus_ppp
from isacnet.params import ParameterError
from isacnet.simulation.meng import ratio_estimate

LAM = 1e-6


def test_nearest_bs_matches_brute_force_torus_distances():
    rng = np.random.default_rng(1)
    side = 12_000.0
    bs = torus_ppp(rng, LAM, side)
    pts = torus_ppp(rng, LAM, side)
    idx, delta, dist = load.nearest_bs(bs, pts, side, 7)
    d = pts[:, None, :] - bs[None, :, :]
    d -= side * np.round(d / side)
    full = np.hypot(d[..., 0], d[..., 1])
    expect = np.sort(full, axis=1)[:, :7]
    np.testing.assert_allclose(dist, expect, rtol=1e-12)
    np.testing.assert_allclose(full[np.arange(len(pts))[:, None], idx], dist, rtol=1e-12)
    # displacement points from the point to the BS, modulo the torus
    np.testing.assert_allclose((pts[:, None, :] + delta) % side, bs[idx] % side, atol=1e-6)


def test_accept_uniform_accepts_min_of_load_and_capacity():
    rng = np.random.default_rng(2)
    b = rng.integers(0, 50, 3000)
    cap = rng.integers(0, 80, 50)
    acc = load.accept_uniform(rng, b, cap, 50)
    load_ = np.bincount(b, minlength=50)
    np.testing.assert_array_equal(np.bincount(b[acc], minlength=50), np.minimum(load_, cap))


def test_accept_uniform_is_uniform():
    """One BS, 10 requests, 3 blocks: each request accepted w.p. 3/10, chi-square over slots."""
    rng = np.random.default_rng(3)
    reps = 4000
    counts = np.zeros(10)
    for _ in range(reps):
        counts += load.accept_uniform(rng, np.zeros(10, dtype=int), 3, 1)
    assert counts.sum() == 3 * reps
    chi2 = stats.chisquare(counts).pvalue
    assert chi2 > 1e-4


@pytest.mark.parametrize("rule", ["shrink", "extend"])
def test_form_clusters_invariants(rule):
    rng = np.random.default_rng(4)
    side = math.sqrt(600 / LAM)
    bs = torus_ppp(rng, LAM, side)
    pts = torus_ppp(rng, 2 * LAM, side)
    N, psi = 12, 8
    c = load.form_clusters(rng, bs, pts, side, N, psi, rule=rule)
    per_bs = np.bincount(c.idx[c.accepted], minlength=len(bs))
    assert per_bs.max() <= psi  # capacity respected
    assert np.all(c.accepted.sum(1) <= N)
    np.testing.assert_array_equal(c.load, np.bincount(c.idx[:, :N].ravel(), minlength=len(bs)))
    # first round: every BS accepted min(load, psi) of its first-round requests
    acc1 = np.bincount(c.idx[:, :N][c.first_round], minlength=len(bs))
    np.testing.assert_array_equal(acc1, np.minimum(c.load, psi))
    if rule == "shrink":
        assert c.rounds == 1 and c.idx.shape[1] == N
        np.testing.assert_array_equal(c.accepted, c.first_round)
    else:
        assert c.idx.shape[1] == 2 * N
        assert np.all(c.accepted[:, :N] >= c.first_round)  # first-round grants are kept
        assert np.all(c.accepted[:, :N] == c.first_round)
        # a point short of N has asked all its candidates, or every candidate BS is full
        short = c.accepted.sum(1) < N
        full = per_bs[c.idx[short]] == psi
        assert np.all(full | c.accepted[short])


def test_skip_nearest_never_asks_the_anchor():
    rng = np.random.default_rng(5)
    side = math.sqrt(500 / LAM)
    bs = torus_ppp(rng, LAM, side)
    pts = torus_ppp(rng, LAM, side)
    c = load.form_clusters(rng, bs, pts, side, 4, 3, skip_nearest=1)
    idx0, _, _ = load.nearest_bs(bs, pts, side, 1)
    assert not np.any(c.idx == idx0)


def test_simulate_acceptance_counts_are_consistent():
    rng = np.random.default_rng(6)
    c = load.simulate_acceptance(rng, bs_density=LAM, point_density=LAM, n_request=10,
                                 capacity=8, n_realisations=5)
    np.testing.assert_array_equal(c.requests, 10 * c.points)
    np.testing.assert_array_equal(c.accepted_by_rank.sum(1), c.accepted)
    h = c.load_hist
    k = np.arange(h.size)
    assert np.sum(k * h) == c.requests.sum()  # every request lands at one BS
    assert np.sum(np.minimum(k, 8) * h) == c.accepted.sum()  # mass balance of acceptance
    assert h.sum() == c.bs.sum()


def test_torus_validation():
    with pytest.raises(ParameterError) as e:
        load.check_torus(LAM, 2000.0, 10)
    assert e.value.name == "side"
    with pytest.raises(ParameterError):
        load.form_clusters(np.random.default_rng(0), np.zeros((5, 2)), np.zeros((1, 2)), 10.0, 2, 1,
                           rule="grow")
    with pytest.raises(RuntimeError):
        load.nearest_bs(np.zeros((3, 2)), np.ones((2, 2)), 10.0, 4)


def test_ratio_estimate():
    num = np.array([3.0, 5.0, 4.0, 6.0])
    den = np.array([4.0, 6.0, 5.0, 8.0])
    e = ratio_estimate(num, den)
    r = 18 / 23
    assert e.mean == pytest.approx(r)
    resid = num - r * den
    assert e.stderr == pytest.approx(math.sqrt(np.sum(resid**2) / 12) / den.mean())
    with pytest.raises(ParameterError):
        ratio_estimate([1.0], [1.0])
