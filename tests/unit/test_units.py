"""One rate unit (issue 15): nats/s/Hz by default everywhere, bits/s/Hz on request.

* The default is the natural logarithm, checked from maths: for L = 1, M_t = 2 (a Rayleigh
  desired link), Rayleigh interference, alpha = 4 and p^c = 1, the mean rate is
  int_0^inf P(SIR > e^t - 1) dt with P(SIR > T) = 1 / (1 + sqrt(T) (pi/2 - atan(1/sqrt T)))
  (Andrews, Baccelli & Ganti 2011: 2.15 bits/s/Hz = 1.49 nats/s/Hz), integrated here by mpmath.
* bits = nats / ln 2 (1 bit = ln 2 nats) for every rate-valued function, to within one rounding;
  rate-valued inputs (``optimize(min_rate=)``, ``time_sharing(rate)``, ``--min-rate``) given in
  bits are the same request as ``x ln 2`` nats, exactly.
* Any other unit is a ParameterError naming ``unit``.
"""

from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest

from isacnet import MengParams, ParameterError, meng
from isacnet.cli import run_cli

LN2 = math.log(2.0)
P = MengParams()
SMALL = {"L_max": 4, "N_max": 6, "n_grid": 9}  # a small search box: the same one in both units


def _ulps(a, b) -> float:
    """|a - b| in units of the last place of b (elementwise max)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return float(np.max(np.abs(a - b) / np.spacing(np.abs(b))))


def _andrews_nats() -> float:
    def cover(t):
        T = mpmath.expm1(t)
        return 1 / (1 + mpmath.sqrt(T) * (mpmath.pi / 2 - mpmath.atan(1 / mpmath.sqrt(T))))

    with mpmath.workdps(25):
        return float(mpmath.quad(cover, [0, 1, 5, 20, mpmath.inf]))


def test_the_default_rate_unit_is_nats_from_maths():
    ref = _andrews_nats()
    assert ref == pytest.approx(2.15 * LN2, abs=0.005)  # the literature's 2.15 bit/s/Hz
    p = MengParams(n_tx_antennas=2, alpha=4.0, sensing_power_fraction=0.0)
    assert float(meng.rate(1, p)) == pytest.approx(ref, rel=1e-9)
    assert float(meng.rate(1, p, unit="bits")) == pytest.approx(ref / LN2, rel=1e-9)
    assert meng.rate_from_coverage(1, p, kappa_c=1.0) == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize("variant", ["exact", "pgfl", "paper"])
def test_rate_bits_is_nats_over_ln2(variant):
    L = np.array([1, 2, 5])
    nats, err_n = meng.rate(L, P, variant=variant, return_error=True)
    bits, err_b = meng.rate(L, P, variant=variant, unit="bits", return_error=True)
    assert _ulps(bits, nats / LN2) <= 2 and _ulps(err_b, err_n / LN2) <= 2
    assert _ulps(meng.rate(L, P, variant=variant, unit="nats"), nats) == 0


def test_rate_conditional_bits_is_nats_over_ln2():
    r = np.array([10.0, 200.0])
    nats = meng.rate_conditional(r, None, 3, P)
    assert _ulps(meng.rate_conditional(r, None, 3, P, unit="bits"), nats / LN2) <= 2
    assert _ulps(meng.rate_conditional(r, None, 3, P, unit="nats"), nats) == 0


def test_rate_from_coverage_bits_is_nats_over_ln2():
    nats = meng.rate_from_coverage(2, P, n_thresholds=61)
    assert _ulps(meng.rate_from_coverage(2, P, n_thresholds=61, unit="bits"), nats / LN2) <= 2


def test_monte_carlo_carries_both_units():
    est = meng.simulate_rate(2, P, 400, seed=3, block_size=200)
    assert est["rate_bits"].mean == pytest.approx(est["rate_nats"].mean / LN2, rel=1e-13)
    assert est["rate_bits"].stderr == pytest.approx(est["rate_nats"].stderr / LN2, rel=1e-12)


def test_rate_inputs_in_bits_are_the_same_request_as_x_ln2_nats():
    x = 1.5
    d_bits = meng.optimize(P, min_rate=x, unit="bits", **SMALL)
    d_nats = meng.optimize(P, min_rate=x * LN2, **SMALL)
    assert d_bits == d_nats and d_bits.rate >= x * LN2 * (1 - 1e-12)
    assert d_bits.rate_bits == pytest.approx(d_bits.rate / LN2, rel=1e-15)
    rates = np.array([0.0, 0.5, 1.0])
    np.testing.assert_array_equal(meng.time_sharing(P, rates, unit="bits", **SMALL),
                                  meng.time_sharing(P, rates * LN2, **SMALL))
    # the weight and max_crlb objectives have no rate input: the unit changes nothing there
    assert meng.optimize(P, weight=0.5, unit="bits", **SMALL) == meng.optimize(P, weight=0.5, **SMALL)


@pytest.mark.parametrize("unit", ["bit", "Nats", "nat", "", None, 1, LN2])
def test_bad_units_are_refused(unit):
    calls = [
        lambda: meng.rate(2, P, unit=unit),
        lambda: meng.rate_conditional(10.0, None, 2, P, unit=unit),
        lambda: meng.rate_from_coverage(2, P, unit=unit),
        lambda: meng.optimize(P, min_rate=1.0, unit=unit, **SMALL),
        lambda: meng.time_sharing(P, 1.0, unit=unit, **SMALL),
    ]
    for call in calls:
        with pytest.raises(ParameterError) as exc:
            call()
        assert exc.value.name == "unit" and "nats" in exc.value.valid


def test_bad_rate_in_bits_is_named():
    with pytest.raises(ParameterError) as exc:
        meng.optimize(P, min_rate=-1.0, unit="bits", **SMALL)
    assert exc.value.name == "min_rate"
    with pytest.raises(ParameterError) as exc:
        meng.time_sharing(P, [0.5, math.nan], unit="bits", **SMALL)
    assert exc.value.name == "rate"


def test_every_rate_in_the_registry_is_in_nats():
    """Every Dataset variable that holds a rate (its units per s per Hz) says nats/s/Hz."""
    from isacnet.experiments.registry import MODELS

    rates = [(m.name, o) for m in MODELS.values() for o in (*m.mc_outputs, *m.closed_outputs)
             if "/s/Hz" in o.units or o.name.startswith("rate")]
    assert len(rates) >= 10
    for model, o in rates:
        assert o.units == "nats/s/Hz", (model, o.name, o.units)


def _cli_design(capsys, *args) -> dict:
    assert run_cli(["optimize", "--L-max", "4", "--N-max", "6", "--json", *args]) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_rate_unit(capsys):
    x = 1.5
    in_bits = _cli_design(capsys, "--min-rate", str(x), "--rate-unit", "bits")
    in_nats = _cli_design(capsys, "--min-rate", repr(x * LN2))
    assert in_bits == in_nats and in_bits["rate_unit"] == "nats/s/Hz"  # the JSON is in nats (and rate_bits)
    assert run_cli(["optimize", "--L-max", "4", "--N-max", "6", "--min-rate", str(x), "--rate-unit", "bits"]) == 0
    out = capsys.readouterr().out
    assert f"R_c      = {in_bits['rate_bits']:.6g} bits/s/Hz ({in_bits['rate']:.6g} nats/s/Hz)" in out
    assert run_cli(["optimize", "--min-rate", "1", "--rate-unit", "bit"]) == 2
    assert "--rate-unit" in capsys.readouterr().err
