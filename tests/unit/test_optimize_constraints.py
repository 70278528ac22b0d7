"""issue 14, item 2: `optimize` must never return a design that breaks its own constraints, must
flag an optimum on the edge of the search box, and the API and the CLI share one set of defaults.

Every expected value here is a constraint re-evaluated from the returned numbers (no tolerance),
or the inspect-able defaults; none comes from the search itself."""

from __future__ import annotations

import inspect
import json
import math

import numpy as np
import pytest

from isacnet import meng
from isacnet.analysis.meng_tradeoff import Design, Tradeoff, optimize
from isacnet.cli import run_cli
from isacnet.params import MengParams, ParameterError


def concave_rate(L: int, pc: np.ndarray) -> np.ndarray:
    a = 1.0 + 0.6 * L - 0.08 * L**2
    return a * np.log1p(20.0 * np.asarray(pc, dtype=float))


PARAMS = MengParams(backhaul_capacity=5.0, sensing_rate_demand=0.25)


def _check_exact(d: Design, *, max_crlb=None, min_rate=None) -> None:
    """The constraints, re-evaluated from the stored numbers (no tolerance)."""
    if max_crlb is not None:
        assert d.crlb <= max_crlb, (d.crlb, max_crlb)
        assert math.isfinite(d.crlb)
    assert d.backhaul_load == d.rate + PARAMS.sensing_rate_demand * d.N
    assert d.backhaul_load <= d.backhaul_capacity
    if min_rate is not None:
        assert d.rate >= min_rate
    assert d.feasible and d.violations == ()


@pytest.mark.parametrize("factor", [1e10, 1e14, 1.5e16, 1e17, 1e20, 1e100, 1e300])
def test_huge_crlb_targets_are_met_exactly(factor):
    """A CRLB target beyond CRLB_a(N, 1) / 1.1e-16 used to give p^c = 1 (CRLB inf) or
    p^c = 1 - 1.1e-16 (CRLB above the target) with feasible = True."""
    t = Tradeoff(MengParams(backhaul_capacity=100.0), L_max=6, N_max=20, rate_fn=concave_rate)
    cap = factor * float(t.crlb_full[1])  # the backhaul does not bind: p^c -> 1
    d = t.solve(max_crlb=cap)
    _check_exact(d, max_crlb=cap)
    # the best rate is (up to the p^c resolution near 1) the unconstrained rate at p^c = 1
    assert d.rate <= t.rate_ceiling().rate + 1e-12


@pytest.mark.parametrize("target", [0.5, 1.5, 2.2, 3.0])
def test_rate_targets_are_met_exactly(target):
    d = optimize(PARAMS, min_rate=target, L_max=6, N_max=20, rate_fn=concave_rate)
    _check_exact(d, min_rate=target)


@pytest.mark.parametrize("w", [0.0, 0.5, 1.0])
def test_weighted_designs_are_feasible_exactly(w):
    d = optimize(PARAMS, weight=w, L_max=6, N_max=20, rate_fn=concave_rate)
    _check_exact(d)


def test_violated_design_is_repaired_or_reported():
    """_repair moves an infeasible p^c to the nearest feasible one; a design that cannot be
    repaired makes solve() raise with the violated constraint named."""
    t = Tradeoff(MengParams(backhaul_capacity=20.0), L_max=6, N_max=20, rate_fn=concave_rate)
    cap = 10.0 * float(t.crlb_full[4])
    bad = t.design(3, 5, 0.999, max_crlb=cap)  # CRLB = 1000 x CRLB_a(5, 1) > cap
    assert not bad.feasible and "max_crlb" in bad.violations[0]
    fixed = t._repair(bad)
    assert fixed.feasible and fixed.crlb <= cap
    assert fixed.p_c == pytest.approx(0.9, abs=1e-9)  # the boundary p^s = 1/10
    hopeless = t.design(3, 30 // 2, 1.0, min_rate=1e9)  # no p^c reaches this rate
    assert t._repair(hopeless) is hopeless and not hopeless.feasible


def test_feasible_is_strict():
    d = Design(1, 2, 0.5, 1.0, 10.0, 1.0, 1.0, 6.0 + 1e-12, 6.0)
    assert not d.feasible  # 1e-12 over the budget is over the budget
    assert not Design(1, 2, 0.5, 1.0, 10.0, 1.0, 1.0, 5.0, 6.0, max_crlb=9.999).feasible
    assert not Design(1, 2, 0.5, 1.0, 10.0, 1.0, 1.0, 5.0, 6.0, min_rate=1.0000001).feasible


def test_optimum_on_the_edge_is_flagged():
    # concave_rate peaks at L = 3.75: with L_max = 2 the best rate design is at L = L_max
    big = MengParams(backhaul_capacity=100.0)
    d = optimize(big, weight=1.0, L_max=2, N_max=20, rate_fn=concave_rate)
    assert d.L == 2 and "L = L_max = 2" in d.on_edge
    assert optimize(big, weight=1.0, L_max=8, N_max=20, rate_fn=concave_rate).on_edge == ()
    d = optimize(big, weight=0.0, L_max=6, N_max=3, rate_fn=concave_rate)  # CRLB falls with N
    assert d.N == 3 and "N = N_max = 3" in d.on_edge
    assert "on_edge" in d.as_dict()


def test_api_and_cli_share_defaults():
    from isacnet import cli, params

    api = inspect.signature(optimize).parameters
    tr = inspect.signature(Tradeoff.__init__).parameters
    assert api["L_max"].default == tr["L_max"].default == params.TRADEOFF_L_MAX
    assert api["N_max"].default == tr["N_max"].default == params.TRADEOFF_N_MAX
    opts = {o.name: o.default for o in cli.optimize_cmd.params}
    assert opts["L_max"] == params.TRADEOFF_L_MAX and opts["N_max"] == params.TRADEOFF_N_MAX
    facade = inspect.signature(meng.optimize).parameters  # the facade adds unit= (nats or bits)
    assert facade["L_max"].default == params.TRADEOFF_L_MAX and facade["N_max"].default == params.TRADEOFF_N_MAX


def test_units_are_stated():
    assert "nats/s/Hz" in optimize.__doc__ and "nats/s/Hz" in Tradeoff.min_crlb.__doc__
    from isacnet import cli

    helps = {o.name: o.help for o in cli.optimize_cmd.params}
    assert "nats/s/Hz" in helps["min_rate"]


def test_cli_max_crlb_1e20_is_feasible(capsys):
    """The issue's case, end to end with Theorem 2 (about 5 s)."""
    assert run_cli(["optimize", "--max-crlb", "1e20", "--json", "--N-max", "4", "--L-max", "14"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["feasible"] is True and out["crlb"] <= 1e20 and out["backhaul_load"] <= out["backhaul_capacity"]
    assert out["violations"] == [] and out["on_edge"] == []


def test_infeasible_target_names_the_reason():
    with pytest.raises(ParameterError, match="min_rate.*C_backhaul"):
        optimize(PARAMS, min_rate=50.0, L_max=6, N_max=20, rate_fn=concave_rate)


@pytest.mark.parametrize("kw", [{"min_rate": 2.0}, {"max_crlb": 4e4}, {"weight": 0.5}])
def test_design_reports_theorem2_at_its_default_rule(kw):
    """The search grid uses a cheaper quadrature (6e-5 relative at small p^c); the returned design
    is evaluated with Theorem 2's default rule, so its rate is meng.rate's at the same point."""
    from isacnet.analysis.meng_rate import rate

    p = MengParams()
    d = optimize(p, **kw)
    want = float(rate(d.L, p, p_c=d.p_c, variant="exact", unit="nats"))
    assert d.rate == pytest.approx(want, rel=1e-12, abs=0.0)


def test_a_reused_design_space_gives_the_designs_of_a_fresh_one():
    """meng-fig5 shares one Tradeoff (and its spline crossings) between the rate targets of a
    network; each target's design must be the one a fresh Tradeoff finds."""
    import dataclasses

    p = dataclasses.replace(MengParams(), backhaul_capacity=4.5)
    shared = Tradeoff(p, L_max=8, N_max=12)
    top = shared.rate_ceiling().rate
    for f in (0.2, 0.6, 0.9):
        got = shared.min_crlb(f * top)
        fresh = Tradeoff(p, L_max=8, N_max=12).min_crlb(f * top)
        assert (got.L, got.N, got.p_c, got.rate, got.crlb) == (fresh.L, fresh.N, fresh.p_c, fresh.rate, fresh.crlb)
