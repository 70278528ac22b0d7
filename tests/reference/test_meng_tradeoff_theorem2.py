"""The tradeoff search driven by Theorem 2 itself (not a synthetic rate)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from isacnet.analysis.meng_rate import rate
from isacnet.analysis.meng_tradeoff import Tradeoff
from isacnet.params import MengParams


@pytest.fixture(scope="module")
def paper_tradeoff():
    return Tradeoff(MengParams(backhaul_capacity=4.5), L_max=14, N_max=30, n_grid=41)


def test_spline_in_u_interpolates_theorem2(paper_tradeoff):
    """The search interpolates R_c in u = (p^c)^(2/alpha); between the grid points it stays
    within 2e-4 nats of Theorem 2 (alpha = 4)."""
    t = paper_tradeoff
    mid = t._pc((t.u_grid[1:] + t.u_grid[:-1]) / 2)
    for L in (1, 6, 14):
        exact = rate(L, t.params, p_c=mid, unit="nats", n_eta=21, n_z=129)
        assert np.max(np.abs(t.rate_interp(L, mid) - exact)) < 2e-4


def test_chosen_designs_are_feasible_and_exact(paper_tradeoff):
    t = paper_tradeoff
    for d in (t.weighted(0.5), t.min_crlb(2.0), t.max_rate(3 * t.sensing_corner().crlb)):
        assert d.feasible and d.N >= 2
        again = float(rate(d.L, t.params, p_c=d.p_c, unit="nats"))  # Theorem 2 at its default rule
        assert d.rate == pytest.approx(again, rel=1e-12)
        assert d.backhaul_load == pytest.approx(d.rate + t.e * d.N, rel=1e-12)


@pytest.mark.slow
def test_min_crlb_against_exhaustive_search_with_theorem2():
    """Exhaustive search on a 201-point p^c grid per L with Theorem 2 evaluated at every point:
    the optimiser is never worse than the grid's best (up to the spline's 2e-4 nats)."""
    t = Tradeoff(MengParams(backhaul_capacity=4.5), L_max=8, N_max=24, n_grid=41)
    pc = np.linspace(0.0, 1.0, 201)
    R = np.stack([rate(L, t.params, p_c=pc, unit="nats", n_eta=21, n_z=129) for L in range(1, 9)])
    for target in (1.0, 2.5, 3.5):
        best = math.inf
        for L in range(1, 9):
            for N in range(2, 25):
                ok = (R[L - 1] >= target) & (R[L - 1] + t.e * N <= t.C)
                if ok.any():
                    best = min(best, float(np.min(t.crlb(N, pc[ok]))))
        d = t.min_crlb(target)
        assert d.crlb <= best * (1 + 1e-9)
        assert d.rate >= target * (1 - 1e-9) and d.feasible


@pytest.mark.slow
@pytest.mark.parametrize("C", [3.0, 4.5, 6.0])
def test_cooperative_design_wins_where_both_schemes_exist(C):
    """Errata M-32, at the paper's parameters: at rates 10-90% of the best cooperative rate (where
    both schemes exist) the cooperative design's CRLB_a is at most the time-sharing CRLB (both
    meeting the backhaul constraint). Above the best cooperative rate only time sharing may exist:
    test_time_sharing_reaches_rates_no_cooperative_design_reaches."""
    t = Tradeoff(MengParams(backhaul_capacity=C), L_max=20, N_max=30, n_grid=41)
    top = t.rate_ceiling().rate
    for f in (0.1, 0.3, 0.5, 0.7, 0.9):
        d = t.min_crlb(f * top)
        assert d.crlb <= float(t.time_sharing(d.rate)) * (1 + 1e-9)
    if C == 3.0:
        # ... except next to the sensing corner under a tight backhaul (errata M-32): a small
        # rate costs the cooperative scheme a whole sensing BS (N = C/e = 12 -> 11, since each
        # BS needs e of the same link), while time sharing gives up only a fraction t of
        # the sensing time and keeps N = 12 in its sensing slots.
        d = t.min_crlb(0.05)
        assert d.N == 11 and t.sensing_corner().N == 12
        assert d.crlb > float(t.time_sharing(d.rate))


def test_time_sharing_reaches_rates_no_cooperative_design_reaches(paper_tradeoff):
    """Errata M-32: a cooperative design always pays e N >= 2e of the backhaul for sensing, the
    communication slot of time sharing pays nothing. So the cooperative rates end at C - 2e
    (4.0 nats/s/Hz at C = 4.5), while time sharing reaches the largest corner rate R_c(L, 1) <= C,
    here R_c(6, 1) (Theorem 2 evaluated directly, not the package's search)."""
    t = paper_tradeoff  # C = 4.5, e = 0.25, L <= 14
    corners = np.array([float(rate(L, t.params, p_c=1.0, unit="nats", n_eta=21, n_z=129))
                        for L in range(1, 15)])
    r_ts = float(corners[corners <= t.C].max())
    assert 4.0 < r_ts <= t.C and t.comm_corner().rate == pytest.approx(r_ts, rel=1e-5)
    assert t.rate_ceiling().rate == pytest.approx(t.C - 2 * t.e, rel=1e-6)
    mid = 0.5 * (t.C - 2 * t.e + r_ts)
    assert t.min_crlb(mid) is None
    assert math.isfinite(float(t.time_sharing(mid)))
