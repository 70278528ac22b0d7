"""issue 14, item 3: closed forms of both papers at extreme but valid inputs.

Expected values: mpmath at 50 digits from the printed formulas (the generating expressions are
beside each test), or exact scaling identities (CRLB ∝ N0, ∝ 1/P_t), never the code under test.
Where the true value is not a normal float64 the answer must be a ParameterError naming the
parameters, never 0, inf or NaN, never a warning (pytest turns RuntimeWarnings into errors)."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from isacnet import meng, song
from isacnet.cli import run_cli
from isacnet.params import SPEED_OF_LIGHT, MengParams, ParameterError, SongParams

mpmath.mp.dps = 50


@pytest.fixture(autouse=True)
def _mp_precision():
    """50 digits for every reference here, whatever precision another test of the same worker left
    (the module-level setting alone is not enough under pytest-xdist: at 15 digits 1 - 2/gamma
    loses six of them next to gamma = 2, and the reference itself was off by 4.5e-11)."""
    with mpmath.workdps(50):
        yield


def mp_lemma3(lam, gamma):
    """Gamma(1 + gamma/2) (pi lam Gamma(1 - 2/gamma))^(-gamma/2), Song (24)."""
    g = mpmath.mpf(gamma)
    return mpmath.gamma(1 + g / 2) * (mpmath.pi * mpmath.mpf(lam) * mpmath.gamma(1 - 2 / g)) ** (-g / 2)


def mp_scaling_bound(p: SongParams):
    """2 c^2 / (M_t M_r eta) Lemma3(lam_t) Lemma3(lam_r), eta from the raw parameters (26)."""
    c = mpmath.mpf(SPEED_OF_LIGHT)
    t = mpmath.mpf(p.obs_time) if p.obs_time is not None else 1 / mpmath.mpf(p.bandwidth)
    rho = mpmath.mpf(p.tx_power) * t / mpmath.mpf(p.noise_psd)
    eta = (8 * mpmath.pi**2 * rho * mpmath.mpf(p.rcs) * mpmath.mpf(p.eff_bandwidth) ** 2 * c**2
           / ((4 * mpmath.pi) ** 3 * mpmath.mpf(p.carrier_freq) ** 2))
    return (2 * c**2 / (p.n_tx_antennas * p.n_rx_antennas * eta)
            * mp_lemma3(p.tx_density, p.gamma) * mp_lemma3(p.rx_density, p.gamma))


CASES = [dict(noise_psd=1e-320), dict(noise_psd=5e-324, tx_power=1e-10), dict(tx_power=1e300),
         dict(rcs=1e-300), dict(bandwidth=1e-300), dict(tx_density=1e200, rx_density=1e-250),
         dict(gamma=40.0, tx_density=1.0), dict(carrier_freq=1e150), dict(eff_bandwidth=1e-150),
         dict(obs_time=1e-300), dict()]


@pytest.mark.parametrize("kw", CASES)
def test_scaling_bound_matches_mpmath_or_refuses(kw):
    p = SongParams(**kw)
    ref = mp_scaling_bound(p)
    if mpmath.mpf("2.2250738585072014e-308") <= ref <= mpmath.mpf("1.7976931348623157e308"):
        got = song.scaling_bound(p)
        assert got == pytest.approx(float(ref), rel=1e-11)
        assert song.fair_comparison(p)["mimo"] == pytest.approx(float(ref), rel=1e-11)
    else:
        with pytest.raises(ParameterError, match="representable"):
            song.scaling_bound(p)
        assert song.fair_comparison(p)["mimo"] is None
    assert song.fair_comparison(p)["log10_mimo"] == pytest.approx(float(mpmath.log10(ref)), rel=1e-12, abs=1e-9)


def test_the_issue_case_noise_1e_320():
    """0.2.0 returned 0.0; the true value is about 6.7e-303."""
    got = song.scaling_bound(SongParams(noise_psd=1e-320))
    assert got == pytest.approx(float(mp_scaling_bound(SongParams(noise_psd=1e-320))), rel=1e-11)
    assert 1e-303 < got < 1e-302


@pytest.mark.parametrize("kw", [dict(gamma=300.0), dict(tx_density=1e-300, rx_density=1e-300), dict(gamma=3.0),
                                dict(gamma=1000.0, n_tx_antennas=1, n_rx_antennas=2)])
def test_fair_comparison_ratio_is_exact(kw):
    """(M_t M_r)^(1 - gamma/2), finite even where the two bounds overflow (0.2.0: nan)."""
    p = SongParams(**kw)
    fc = song.fair_comparison(p)
    ref = (mpmath.mpf(p.n_tx_antennas * p.n_rx_antennas)) ** (1 - mpmath.mpf(p.gamma) / 2)
    assert fc["ratio"] == pytest.approx(float(ref), rel=1e-12)
    # and it is the ratio of the two bounds (in logs)
    assert (fc["log10_single"] - fc["log10_mimo"]) == pytest.approx(float(mpmath.log10(ref)), abs=1e-9)


@pytest.mark.parametrize("lam,gamma", [(1e-300, 2.5), (1e300, 2.5), (1.0, 1e300), (1e-10, 2.000001), (1e-5, 30.0)])
def test_lemma3_matches_mpmath_or_refuses(lam, gamma):
    ref = mp_lemma3(lam, gamma) if gamma < 1e6 else None
    if ref is not None and mpmath.mpf("2.3e-308") < ref < mpmath.mpf("1.7e308"):
        assert float(song.lemma3(lam, gamma)) == pytest.approx(float(ref), rel=1e-11)
    else:
        with pytest.raises(ParameterError, match="density, gamma"):
            song.lemma3(lam, gamma)


def test_songparams_snr_beyond_float64_is_refused_not_inf():
    p = SongParams(noise_psd=1e-320)
    with pytest.raises(ParameterError, match="noise_psd"):
        _ = p.rho_s
    assert p.log_rho_s == pytest.approx(math.log(1.0) - math.log(2e9) - math.log(1e-320), rel=1e-15)
    assert SongParams().rho_s == 1.0 * (1.0 / 2e9) / 5e-22  # the plain product where it is normal


def test_cli_eval_gamma_300_prints_no_nan(capsys):
    assert run_cli(["eval", "song", "--set", "gamma=300"]) == 0
    out = capsys.readouterr().out
    assert "nan" not in out.lower() and "inf" not in out.replace("beyond float64", "")
    assert "ratio 3.856e-180" in out


def test_tx_density_1e300_is_one_line_not_overflowerror():
    with pytest.raises(ParameterError):
        song.scaling_bound(SongParams(tx_density=1e300))
    assert run_cli(["eval", "song", "--set", "tx_density=1e300", "--mc", "10"]) == 2


# ----------------------------------------------------------------------------- Meng


def mp_zeta2(p: MengParams):
    """P_t p^s (M_t - 1) M_r B^2 sigma / (8 pi f_c^2 sigma_s^2), (5) corrected."""
    m = mpmath.mpf
    return (m(p.tx_power) * m(p.sensing_power_fraction) * (p.n_tx_antennas - 1) * p.n_rx_antennas
            * m(p.eff_bandwidth) ** 2 * m(p.rcs) / (8 * mpmath.pi * m(p.carrier_freq) ** 2 * m(p.noise_power)))


def mp_eq12(N: int, p: MengParams):
    """2 / (|zeta|^2 (sum_k E[d_k]^-beta)^2), E[d_k] = Gamma(k + 1/2)/(Gamma(k) sqrt(pi lam)) (12)."""
    m = mpmath.mpf
    s1 = sum((mpmath.gamma(k + m(1) / 2) / (mpmath.gamma(k) * mpmath.sqrt(mpmath.pi * m(p.bs_density))))
             ** (-m(p.beta)) for k in range(1, N + 1))
    return 2 / (mp_zeta2(p) * s1**2)


MENG_CASES = [dict(tx_power=1e300), dict(noise_power=1e-320), dict(bs_density=1e-300), dict(bs_density=1e120),
              dict(rcs=1e-200, tx_power=1e-100), dict(beta=60.0, bs_density=1.0 / math.pi), dict(carrier_freq=1e-300),
              dict()]


@pytest.mark.parametrize("kw", MENG_CASES)
def test_meng_eq12_and_theorem1_match_mpmath_or_refuse(kw):
    p = MengParams(**kw)
    for N in (1, 4, 30):
        ref = mp_eq12(N, p)
        if mpmath.mpf("2.3e-308") < ref < mpmath.mpf("1.7e308"):
            assert float(meng.crlb_eq12(N, p)) == pytest.approx(float(ref), rel=1e-10)
        else:
            with pytest.raises(ParameterError, match="representable"):
                meng.crlb_eq12(N, p)
    if p.beta == 2.0:
        ref = 2 / (mp_zeta2(p) * (mpmath.pi * mpmath.mpf(p.bs_density)) ** 2)
        if mpmath.mpf("2.3e-308") < ref < mpmath.mpf("1.7e308"):
            assert meng.theorem1_constant(p) == pytest.approx(float(ref), rel=1e-12)
        else:
            with pytest.raises(ParameterError):
                meng.theorem1_constant(p)


@pytest.mark.parametrize("name", ["crlb_eq12", "crlb_eq13", "crlb_a", "crlb_isotropic", "crlb_theorem1"])
def test_meng_crlb_forms_scale_exactly_with_the_noise(name):
    """CRLB ∝ sigma_s^2 exactly, through 600 decades of noise power."""
    base = MengParams()
    f = getattr(meng, name)
    ref = np.asarray(f(np.array([2, 7, 40]), base), dtype=float)
    for c in (1e-290, 1e-150, 1e150, 1e290):
        p = MengParams(noise_power=base.noise_power * c)
        got = np.asarray(f(np.array([2, 7, 40]), p), dtype=float)
        if np.all(ref * c < 1e308) and np.all(ref * c > 2.3e-308):
            np.testing.assert_allclose(got, ref * c, rtol=1e-12)


def test_meng_ps_zero_is_documented_inf():
    p = MengParams(sensing_power_fraction=0.0)
    assert np.all(np.isinf(meng.crlb_a(np.array([2, 5]), p)))
    assert math.isinf(meng.theorem1_constant(p))


def test_meng_large_beta_no_overflow():
    """beta = 1e10 overflowed exp() in the distance sums (RuntimeWarning); now the sums are
    relative to their first term, and the CRLB is refused only because it is beyond float64."""
    p = MengParams(beta=1e10)
    with pytest.raises(ParameterError):
        meng.crlb_a(5, p)


def test_kappa_huge_psi_names_psi():
    with pytest.raises(ParameterError, match="^psi"):
        meng.kappa_s(10**30, 1, 10)
    with pytest.raises(ParameterError, match="mu_s"):
        meng.kappa_s(15, 1e308, 10)


def test_theorem2_refuses_where_its_integral_leaves_float64():
    with pytest.raises(ParameterError, match="alpha"):
        meng.rate(3, MengParams(alpha=60.0))


def test_song_bound_refuses_gamma_whose_log_overflows_without_a_warning():
    """Found by the extreme-float sweep: at gamma = 3.2e305 each Lemma 3 log is finite but their
    sum overflows; numpy warned 'overflow encountered in scalar add' before the refusal."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ParameterError, match="gamma"):
            song.scaling_bound(SongParams(gamma=3.1622776601683794e305))
