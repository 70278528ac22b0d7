"""The backhaul-constrained tradeoff search against exhaustive search (synthetic rate models,
so that the search logic is tested independently of Theorem 2's quadrature)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from isacnet.analysis.meng_tradeoff import Design, Tradeoff, optimize, pareto_front
from isacnet.params import MengParams, ParameterError


def concave_rate(L: int, pc: np.ndarray) -> np.ndarray:
    """A rate that rises then falls with L and increases with p^c (like Theorem 2)."""
    a = 1.0 + 0.6 * L - 0.08 * L**2
    return a * np.log1p(20.0 * np.asarray(pc, dtype=float))


def bumpy_rate(L: int, pc: np.ndarray) -> np.ndarray:
    """Not monotone in p^c: an interior maximum, so boundary-only searches would fail."""
    pc = np.asarray(pc, dtype=float)
    return (1.5 + 0.1 * L) * np.sin(2.2 * pc) ** 2 + 0.05 * L


PARAMS = MengParams(backhaul_capacity=5.0, sensing_rate_demand=0.25)


def brute(t: Tradeoff, score, crlb_cap=math.inf, rate_floor=-math.inf, n=20001):
    pc = np.linspace(0.0, 1.0, n)
    best = -math.inf
    for L in t.Ls:
        r = t.rate_fn(int(L), pc)
        for N in t.Ns[t.N_min - 1:]:
            c = np.asarray(t.crlb(int(N), pc))
            ok = (r + t.e * N <= t.C) & (c <= crlb_cap) & (r >= rate_floor)
            if ok.any():
                best = max(best, float(np.max(score(r[ok], c[ok]))))
    return best


@pytest.mark.parametrize("fn", [concave_rate, bumpy_rate])
@pytest.mark.parametrize("cap_factor", [1.05, 3.0, 30.0])
def test_max_rate_matches_exhaustive_search(fn, cap_factor):
    t = Tradeoff(PARAMS, L_max=6, N_max=20, rate_fn=fn)
    cap = cap_factor * t.sensing_corner().crlb
    d = t.max_rate(cap)
    assert d.feasible and d.crlb <= cap * (1 + 1e-9)
    assert d.rate >= brute(t, lambda r, c: r, crlb_cap=cap) - 1e-6
    assert d.rate == pytest.approx(float(fn(d.L, np.array([d.p_c]))[0]), rel=1e-12)  # exact, not spline


@pytest.mark.parametrize("fn", [concave_rate, bumpy_rate])
@pytest.mark.parametrize("target", [0.5, 1.5, 2.2])
def test_min_crlb_matches_exhaustive_search(fn, target):
    t = Tradeoff(PARAMS, L_max=6, N_max=20, rate_fn=fn)
    d = t.min_crlb(target)
    assert d.feasible and d.rate >= target * (1 - 1e-9)
    best = brute(t, lambda r, c: -np.log(c), rate_floor=target)
    assert -math.log(d.crlb) >= best - 1e-6


@pytest.mark.parametrize("fn", [concave_rate, bumpy_rate])
@pytest.mark.parametrize("w", [0.0, 0.3, 0.7, 1.0])
def test_weighted_matches_exhaustive_search(fn, w):
    t = Tradeoff(PARAMS, L_max=6, N_max=20, rate_fn=fn)
    d = t.weighted(w)
    assert d.feasible

    def score(r, c):
        if w == 1.0:
            return r
        with np.errstate(divide="ignore"):
            return w * r + (1 - w) * 0.5 * -np.log(c)

    got = w * d.rate + (1 - w) * 0.5 * -math.log(d.crlb) if d.crlb < math.inf else w * d.rate
    assert got >= brute(t, score) - 1e-6


def test_crlb_scales_as_one_over_ps_and_corners():
    t = Tradeoff(PARAMS, L_max=6, N_max=30, rate_fn=concave_rate)
    assert t.crlb(10, 0.75) == pytest.approx(4 * t.crlb(10, 0.0), rel=1e-13)
    assert t.crlb(10, 1.0) == math.inf
    s, c = t.sensing_corner(), t.comm_corner()
    assert s.rate == 0.0 and s.N <= PARAMS.backhaul_capacity / PARAMS.sensing_rate_demand
    assert c.N == 0 and c.crlb == math.inf and c.rate == pytest.approx(
        max(r for r in (float(concave_rate(L, 1.0)) for L in range(1, 7)) if r <= PARAMS.backhaul_capacity))
    # time sharing: the straight line between the corners in (R, 1/CRLB)
    r = np.array([0.0, 0.5 * c.rate, 0.9 * c.rate, c.rate])
    ts = t.time_sharing(r)
    np.testing.assert_allclose(1 / ts[:3], (1 - r[:3] / c.rate) / s.crlb, rtol=1e-13)
    assert ts[3] == math.inf


def test_boundary_is_non_dominated_and_feasible():
    t = Tradeoff(PARAMS, L_max=6, N_max=30, rate_fn=concave_rate)
    b = t.boundary(20)
    assert len(b) >= 5 and all(d.feasible for d in b)
    for d in b:
        for e in b:
            assert not (e.rate >= d.rate and e.crlb <= d.crlb and (e.rate > d.rate or e.crlb < d.crlb))
    rates = [d.rate for d in b]
    assert rates == sorted(rates)


def test_pareto_front_filters_dominated():
    mk = lambda r, c: Design(1, 1, 0.5, r, c, 1.0, 1.0, r + 0.25, 6.0)  # noqa: E731
    pts = [mk(1.0, 5.0), mk(2.0, 4.0), mk(1.5, 6.0), mk(2.0, 3.0), mk(3.0, 10.0)]
    front = pareto_front(pts)
    assert [(d.rate, d.crlb) for d in front] == [(2.0, 3.0), (3.0, 10.0)]


def test_bad_objectives_are_clear_errors():
    with pytest.raises(ParameterError, match="objective"):
        optimize(PARAMS, rate_fn=concave_rate)
    with pytest.raises(ParameterError, match="objective"):
        optimize(PARAMS, weight=0.5, min_rate=1.0, rate_fn=concave_rate)
    with pytest.raises(ParameterError, match="weight"):
        optimize(PARAMS, weight=1.5, rate_fn=concave_rate)
    with pytest.raises(ParameterError, match="min_rate"):
        optimize(PARAMS, min_rate=50.0, rate_fn=concave_rate)  # beyond any design
    with pytest.raises(ParameterError, match="max_crlb"):
        optimize(PARAMS, max_crlb=-1.0, rate_fn=concave_rate)
    with pytest.raises(ParameterError, match="L_max"):
        Tradeoff(PARAMS, L_max=0, rate_fn=concave_rate)


def test_tight_backhaul_limits_the_clusters():
    p = MengParams(backhaul_capacity=1.0, sensing_rate_demand=0.25)
    t = Tradeoff(p, L_max=6, N_max=30, rate_fn=concave_rate)
    assert t.sensing_corner().N <= 4
    d = t.weighted(0.5)
    assert d.feasible and d.rate + 0.25 * d.N <= 1.0 + 1e-9


def test_single_bs_never_chosen_for_sensing():
    t = Tradeoff(MengParams(backhaul_capacity=3.0), L_max=6, N_max=30, rate_fn=concave_rate)
    for d in (t.min_crlb(2.0), t.max_rate(100 * t.sensing_corner().crlb), t.weighted(0.9), t.sensing_corner()):
        assert d.N >= 2
