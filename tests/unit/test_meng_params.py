"""MengParams: defaults, validation naming the parameter and its range, |zeta|^2 of eq. (5)."""

from __future__ import annotations

import dataclasses
import math

import pytest

from isacnet.analysis import meng_sensing as ms
from isacnet.params import MengParams, ParameterError, from_mapping


def test_defaults_are_the_papers_section_v_values():
    p = MengParams()
    assert (p.n_tx_antennas, p.n_rx_antennas) == (4, 5)
    assert p.tx_power == 1.0 and p.rcs == 1.0 and p.beta == 2.0 and p.alpha == 4.0
    assert p.bs_density == p.target_density == p.user_density == 1e-6  # 1 per km^2
    assert p.resource_blocks == 15 and p.backhaul_capacity == 6.0
    assert p.noise_power == pytest.approx(10 ** (-80 / 10) * 1e-3)  # -80 dBm
    assert (p.tx_gain, p.rx_gain) == (3, 5)  # G_t = M_t - 1, G_r = M_r
    assert p.mu_s == p.mu_c == 1.0
    assert p.comm_power_fraction == pytest.approx(0.5)


def test_zeta2_by_hand():
    """|zeta|^2 = P_t p^s G_t G_r B^2 sigma / (8 pi f_c^2 sigma_s^2), computed independently."""
    p = MengParams(tx_power=2.0, sensing_power_fraction=0.25, n_tx_antennas=8, n_rx_antennas=3,
                   eff_bandwidth=1e7, rcs=0.5, carrier_freq=2e9, noise_power=4e-12)
    expected = 2.0 * 0.25 * 7 * 3 * 1e14 * 0.5 / (8 * math.pi * 4e18 * 4e-12)
    assert p.zeta2 == pytest.approx(expected, rel=1e-14)
    assert ms.zeta2(p) == p.zeta2
    # The printed form cancels the noise: independent of sigma_s^2 and of the RCS.
    a = ms.zeta2(p, "paper")
    assert a == pytest.approx(2.0 * 0.25 * 7 * 3 * 1e14 / (8 * math.pi * 4e18), rel=1e-14)
    assert ms.zeta2(dataclasses.replace(p, noise_power=1.0), "paper") == pytest.approx(a)


def test_zeta2_matches_song_constant_structure():
    """8 pi^2 (delay FIM) x lambda^2/(4 pi)^3 (radar equation) / c^2 (gradient) = 1/(8 pi f_c^2)."""
    fc, c = 3.5e9, 299_792_458.0
    lhs = 8 * math.pi**2 * (c / fc) ** 2 / ((4 * math.pi) ** 3 * c**2)
    assert lhs == pytest.approx(1.0 / (8 * math.pi * fc**2), rel=1e-14)


@pytest.mark.parametrize(
    ("name", "value", "valid"),
    [
        ("n_tx_antennas", 1, ">= 2"),
        ("n_rx_antennas", 0, ">= 1"),
        ("resource_blocks", 0, ">= 1"),
        ("resource_blocks", 2.5, "integer"),
        ("tx_power", 0.0, "> 0"),
        ("noise_power", -1.0, "> 0"),
        ("sensing_power_fraction", 1.5, "<= 1"),
        ("sensing_power_fraction", -0.1, ">= 0"),
        ("beta", 1.5, ">= 2"),
        ("alpha", 2.0, "> 2"),
        ("bs_density", math.inf, "finite"),
        ("carrier_freq", True, "finite real"),
    ],
)
def test_bad_values_name_the_parameter_and_range(name, value, valid):
    with pytest.raises(ParameterError) as e:
        MengParams(**{name: value})
    assert e.value.name == name
    assert valid in str(e.value)


def test_replace_revalidates_and_unknown_keys_are_refused():
    with pytest.raises(ParameterError):
        dataclasses.replace(MengParams(), beta=0.5)
    with pytest.raises(ParameterError) as e:
        from_mapping(MengParams, {"resource_block": 3})
    assert "resource_blocks" in str(e.value)
    assert from_mapping(MengParams, {"resource_blocks": 3}).resource_blocks == 3
