"""SongParams: the paper's Section III defaults, derived quantities, and validation."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from isacnet import ParameterError, SongParams
from isacnet.params import SPEED_OF_LIGHT, from_mapping, to_mapping

# Section III of song-distributed-mimo-radar.md, in SI units.
PAPER_SECTION_III = {
    "n_tx_antennas": 4,  # M_t = 4
    "n_rx_antennas": 4,  # M_r = 4
    "bandwidth": 2e9,  # 2 GHz
    "carrier_freq": 30e9,  # 30 GHz
    "noise_psd": 5e-22,  # N0 = 5e-22 W/Hz
    "eff_bandwidth": 0.577e9,  # beta = 0.577 GHz
    "rcs": 1.0,  # sigma = 1 m^2
    "gamma": 2.5,
    "tx_density": 1.0 / 900.0,  # 1/30^2 m^-2
    "rx_density": 1.0 / 900.0,
}


def test_defaults_are_the_papers_section_iii_values():
    p = SongParams()
    for name, value in PAPER_SECTION_III.items():
        assert getattr(p, name) == value, name
    assert isinstance(p.n_tx_antennas, int) and isinstance(p.n_rx_antennas, int)
    assert p.obs_time is None


def test_effective_bandwidth_is_rms_bandwidth_of_flat_spectrum():
    # beta^2 = int f^2 |S(f)|^2 df with |S|^2 = 1/B on [-B/2, B/2] gives beta = B/(2 sqrt 3).
    b = PAPER_SECTION_III["bandwidth"]
    assert SongParams().eff_bandwidth == pytest.approx(b / (2.0 * math.sqrt(3.0)), rel=1e-3)


def test_rho_s_default_is_pt_over_n0_b():
    p = SongParams()
    # P_t = 1 W, N0 B = 5e-22 * 2e9 = 1e-12 W  ->  rho_s = 1e12.
    assert p.rho_s == pytest.approx(1e12, rel=1e-14)
    q = SongParams(tx_power=3.0, bandwidth=1e9, noise_psd=2e-21)
    assert q.rho_s == pytest.approx(3.0 / (2e-21 * 1e9), rel=1e-14)


def test_rho_s_with_observation_time():
    p = SongParams(tx_power=2.0, obs_time=1e-6, noise_psd=4e-21)
    assert p.rho_s == pytest.approx(2.0 * 1e-6 / 4e-21, rel=1e-14)
    # obs_time overrides 1/B: changing B no longer changes rho_s.
    assert dataclasses.replace(p, bandwidth=7e9).rho_s == p.rho_s


def _eta_from_definition(rho_s, rcs, beta, fc):
    # eta = 8 pi^2 rho_s sigma beta^2 c^2 / ((4 pi)^3 f_c^2), text above eq. (21), with sigma
    # the RCS in m^2 entering the received power linearly (radar equation).
    c = 299_792_458.0
    return 8.0 * math.pi**2 * rho_s * rcs * beta**2 * c**2 / ((4.0 * math.pi) ** 3 * fc**2)


def test_speed_of_light_is_exact_si_value():
    assert SPEED_OF_LIGHT == 299_792_458.0


@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"rcs": 3.0},
        {"eff_bandwidth": 1e8, "carrier_freq": 5e9},
        {"tx_power": 0.1, "obs_time": 1e-3},
    ],
)
def test_eta_matches_definition(kw):
    p = SongParams(**kw)
    t = kw.get("obs_time", 1.0 / p.bandwidth)
    rho = kw.get("tx_power", 1.0) * t / p.noise_psd
    expected = _eta_from_definition(rho, p.rcs, p.eff_bandwidth, p.carrier_freq)
    assert p.eta == pytest.approx(expected, rel=1e-13)


def test_eta_default_value_by_hand():
    # 8 pi^2 c^2 / ((4 pi)^3 f_c^2) = c^2 / (8 pi f_c^2); with rho = 1e12, sigma = 1,
    # beta = 5.77e8, f_c = 3e10:  eta = 1e12 * 3.32929e17 * 8.98755e16 / (8 pi * 9e20)
    #                                  = 2.99222e46 / 2.26195e22 = 1.32285e24.
    c = 299_792_458.0
    expected = 1e12 * 0.577e9**2 * c**2 / (8.0 * math.pi * 9e20)
    assert SongParams().eta == pytest.approx(expected, rel=1e-13)
    assert SongParams().eta == pytest.approx(1.32285e24, rel=1e-5)


def test_eta_is_linear_in_rcs():
    assert SongParams(rcs=5.0).eta == pytest.approx(5.0 * SongParams(rcs=1.0).eta, rel=1e-14)


# --------------------------------------------------------------------------- validation
POSITIVE_REALS = [
    "bandwidth",
    "carrier_freq",
    "noise_psd",
    "eff_bandwidth",
    "rcs",
    "gamma",
    "tx_density",
    "rx_density",
    "tx_power",
    "obs_time",
]
BAD_REALS = [0.0, -1.0, math.nan, math.inf, -math.inf, True, False, "1.0", None, 1j, [1.0]]


def _assert_names(exc: ParameterError, name: str, range_text: str) -> None:
    msg = str(exc)
    assert exc.name == name
    assert name in msg
    assert range_text in msg, msg


@pytest.mark.parametrize(
    ("name", "bad"),
    # obs_time=None is the valid "use 1/B" value, so it is not in the bad list for obs_time.
    [(n, b) for n in POSITIVE_REALS for b in BAD_REALS if not (n == "obs_time" and b is None)],
    ids=repr,
)
def test_bad_real_raises_parameter_error(name, bad):
    with pytest.raises(ParameterError) as info:
        SongParams(**{name: bad})
    _assert_names(info.value, name, "> 0")
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("name", ["n_tx_antennas", "n_rx_antennas"])
@pytest.mark.parametrize(
    "bad", [0, -3, 2.5, 0.999, math.nan, math.inf, True, "4", None, 4 + 0j], ids=repr
)
def test_bad_antenna_count_raises(name, bad):
    with pytest.raises(ParameterError) as info:
        SongParams(**{name: bad})
    _assert_names(info.value, name, "integer >= 1")


@pytest.mark.parametrize("good", [1, 4.0, np.int64(7), np.float64(2.0)], ids=repr)
def test_integral_antenna_counts_are_accepted_as_int(good):
    p = SongParams(n_tx_antennas=good, n_rx_antennas=good)
    assert p.n_tx_antennas == int(good) and type(p.n_tx_antennas) is int
    assert type(p.n_rx_antennas) is int


def test_numpy_scalars_are_accepted_and_stored_as_float():
    p = SongParams(gamma=np.float32(3.0), tx_density=np.float64(1e-3))
    assert type(p.gamma) is float and p.gamma == 3.0
    assert type(p.tx_density) is float


@pytest.mark.parametrize("bad", [np.nan, np.inf, np.bool_(True)], ids=repr)
def test_numpy_bad_scalars_raise(bad):
    with pytest.raises(ParameterError):
        SongParams(rcs=bad)


@pytest.mark.parametrize("gamma", [0.5, 1.0, 2.0])
def test_gamma_at_most_2_allowed_for_a_layout_but_not_for_ppp_results(gamma):
    p = SongParams(gamma=gamma)  # a single layout only needs gamma > 0
    with pytest.raises(ParameterError) as info:
        p.require_gamma_above_2("Theorem 2")
    _assert_names(info.value, "gamma", "> 2")
    assert "Theorem 2" in str(info.value)


def test_gamma_above_2_passes_requirement():
    SongParams(gamma=2.0000001).require_gamma_above_2("anything")


def test_frozen():
    p = SongParams()
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.gamma = 3.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("name", "bad"), [("gamma", -1.0), ("n_tx_antennas", 2.5), ("rx_density", 0.0), ("rcs", "1")]
)
def test_dataclasses_replace_revalidates(name, bad):
    with pytest.raises(ParameterError) as info:
        dataclasses.replace(SongParams(), **{name: bad})
    assert info.value.name == name


def test_replace_with_good_value():
    p = dataclasses.replace(SongParams(), gamma=3.5, n_tx_antennas=8.0)
    assert p.gamma == 3.5 and p.n_tx_antennas == 8 and type(p.n_tx_antennas) is int


# --------------------------------------------------------------------------- mappings
def test_from_mapping_builds_params():
    p = from_mapping(SongParams, {"gamma": 3.0, "n_rx_antennas": 8})
    assert p == SongParams(gamma=3.0, n_rx_antennas=8)


@pytest.mark.parametrize(
    ("typo", "close"),
    [("tx_densty", "tx_density"), ("gama", "gamma"), ("n_tx_antenas", "n_tx_antennas")],
)
def test_from_mapping_refuses_unknown_key_and_suggests(typo, close):
    with pytest.raises(ParameterError) as info:
        from_mapping(SongParams, {typo: 1.0}, where="config.toml")
    msg = str(info.value)
    assert info.value.name == typo
    assert f"did you mean {close!r}" in msg
    assert "config.toml" in msg


def test_from_mapping_unknown_key_without_close_match_lists_names():
    with pytest.raises(ParameterError) as info:
        from_mapping(SongParams, {"zzzzzz": 1})
    assert "did you mean" not in str(info.value)
    assert "tx_density" in str(info.value)


def test_from_mapping_bad_value_carries_location():
    with pytest.raises(ParameterError) as info:
        from_mapping(SongParams, {"gamma": -2.0}, where="--set gamma=-2")
    assert info.value.name == "gamma"
    assert info.value.where == "--set gamma=-2"
    assert "--set gamma=-2" in str(info.value)


def test_to_mapping_round_trip_drops_none():
    p = SongParams(gamma=3.0)
    m = to_mapping(p)
    assert "obs_time" not in m
    assert from_mapping(SongParams, m) == p
    q = SongParams(obs_time=1e-6)
    assert from_mapping(SongParams, to_mapping(q)) == q
