"""Song et al. closed forms against high-precision quadrature (mpmath, 30 digits).

Lemma 3 (eq. 24/25) is E[(sum_{x in PPP} ||x||^-gamma)^-1] = int_0^inf exp(-pi lam
Gamma(1-2/gamma) s^(2/gamma)) ds (Appendix A, eqs. 31-35). The reference values in
``LEMMA3_REFERENCE`` were generated, as in scipy.special's tests, by the snippet below
(``_lemma3_integral``), which integrates the Laplace-transform form numerically; nothing in
it uses the closed form under test. ``test_reference_table_is_reproducible`` reruns it.

    >>> for gamma in (2.2, 2.5, 3.0, 4.0, 6.0):
    ...     for lam in (1 / 900, 0.5):
    ...         print(gamma, lam, mpmath.nstr(_lemma3_integral(lam, gamma), 30))
"""

from __future__ import annotations

import math
import warnings

import mpmath
import numpy as np
import pytest
from numpy.testing import assert_allclose

from isacnet import ParameterError, SongParams, song
from isacnet.analysis.song import tail_laplace_exponent

C = 299_792_458.0
DPS = 30


def _lemma3_integral(density: float, gamma: float, dps: int = DPS) -> mpmath.mpf:
    """int_0^inf exp(-pi lam Gamma(1 - 2/gamma) s^(2/gamma)) ds by tanh-sinh quadrature."""
    with mpmath.workdps(dps):
        lam, g = mpmath.mpf(density), mpmath.mpf(gamma)
        a = mpmath.pi * lam * mpmath.gamma(1 - 2 / g)
        scale = a ** (-g / 2)  # where the integrand has fallen to 1/e

        def f(s):
            return mpmath.exp(-a * s ** (2 / g))

        return mpmath.quad(f, [0, scale, 10 * scale, 100 * scale, 1000 * scale, mpmath.inf])


# (gamma, density [m^-2], E[1 / sum L] [m^gamma]) from _lemma3_integral at 30 digits.
LEMMA3_REFERENCE = [
    (2.2, 1 / 900, "39.7154798317095454466276610606"),
    (2.2, 0.5, "0.0479099865341547341239528895241"),
    (2.5, 1 / 900, "198.715277465864766171036313768"),
    (2.5, 0.5, "0.0958772602353589528807019612724"),
    (3.0, 1 / 900, "1470.04635941665659454413080622"),
    (3.0, 0.5, "0.153996999911424383718780180894"),
    (4.0, 1 / 900, "52247.4857817831725693986655019"),
    (4.0, 0.5, "0.258012275465595913475376421509"),
    (6.0, 1 / 900, "56814564.9621637791775679025846"),
    (6.0, 0.5, "0.623479450887942705401718114225"),
]
GAMMAS = (2.2, 2.5, 3.0, 4.0, 6.0)


def test_reference_table_is_reproducible():
    for gamma, lam, value in LEMMA3_REFERENCE:
        with mpmath.workdps(DPS):
            assert abs(_lemma3_integral(lam, gamma) / mpmath.mpf(value) - 1) < mpmath.mpf(10) ** -25


@pytest.mark.parametrize(("gamma", "lam", "value"), LEMMA3_REFERENCE)
def test_lemma3_against_mpmath(gamma, lam, value):
    assert float(song.lemma3(lam, gamma)) == pytest.approx(float(value), rel=1e-12)


@pytest.mark.parametrize("gamma", GAMMAS)
def test_lemma3_normalised_against_mpmath(gamma):
    # Unit-rate process in arrival-time units: pi lam = 1, i.e. lam = 1/pi.
    ref = float(_lemma3_integral(1 / math.pi, gamma))
    assert float(song.lemma3_normalised(gamma)) == pytest.approx(ref, rel=1e-12)


def test_lemma3_broadcasts():
    lam = np.array([[1 / 900], [0.5]])
    gam = np.array([2.5, 4.0])
    out = song.lemma3(lam, gam)
    assert out.shape == (2, 2)
    table = {(g, d): float(v) for g, d, v in LEMMA3_REFERENCE}
    expected = [[table[(g, d)] for g in gam] for d in (1 / 900, 0.5)]
    assert_allclose(out, expected, rtol=1e-12)


@pytest.mark.parametrize(
    ("lam", "gamma", "name"),
    [(1e-3, 2.0, "gamma"), (1e-3, 1.5, "gamma"), (1e-3, math.nan, "gamma"), (0.0, 3.0, "density"),
     (-1.0, 3.0, "density"), (math.inf, 3.0, "density"), (np.array([1e-3, -1e-3]), 3.0, "density")],
)
def test_lemma3_rejects_bad_arguments(lam, gamma, name):
    with pytest.raises(ParameterError) as info:
        song.lemma3(lam, gamma)
    assert info.value.name == name


# --------------------------------------------------------------------------- Appendix A steps
def _pgfl_exponent(s: float, gamma: float) -> mpmath.mpf:
    """int_0^inf r (1 - exp(-s r^-gamma)) dr (eq. 35's left side) by quadrature.

    On [r0, inf) the integrand decays like s r^(1-gamma), too slowly for quad near gamma = 2,
    so that part is taken in r = e^t, where it decays exponentially.
    """
    s_, g = mpmath.mpf(s), mpmath.mpf(gamma)
    r0 = s_ ** (1 / g)
    head = mpmath.quad(lambda r: r * -mpmath.expm1(-s_ * r ** (-g)), [0, r0])
    tail = mpmath.quad(
        lambda t: mpmath.exp(2 * t) * -mpmath.expm1(-s_ * mpmath.exp(-g * t)),
        [mpmath.log(r0), mpmath.inf],
    )
    return head + tail


@pytest.mark.parametrize("gamma", [2.2, 2.5, 4.0, 6.0])
@pytest.mark.parametrize("s", [1e-2, 1.0, 1e4])
def test_pgfl_exponent_eq35(gamma, s):
    with mpmath.workdps(DPS):
        lhs = _pgfl_exponent(s, gamma)
        g = mpmath.mpf(gamma)
        rhs = mpmath.mpf(s) ** (2 / g) * mpmath.gamma(1 - 2 / g) / 2  # eq. (35)
        assert abs(lhs / rhs - 1) < mpmath.mpf(10) ** -20
    # In arrival-time units (t = r^2) the same exponent is tail_laplace_exponent from g = 0;
    # g_last = 1e-60 instead of 0 changes it by < 1e-60 (g = 0 itself: test below).
    assert float(tail_laplace_exponent(s, 1e-60, gamma)) == pytest.approx(float(2 * lhs), rel=1e-13)


def _tail_exponent_mp(s: float, g_last: float, gamma: float) -> mpmath.mpf:
    """int_{g_last}^inf (1 - exp(-s t^(-gamma/2))) dt, substituted t = g_last e^u."""
    s_, g0, half = mpmath.mpf(s), mpmath.mpf(g_last), mpmath.mpf(gamma) / 2
    return mpmath.quad(
        lambda u: g0 * mpmath.exp(u) * -mpmath.expm1(-s_ * (g0 * mpmath.exp(u)) ** (-half)),
        [0, mpmath.inf],
    )


@pytest.mark.parametrize("gamma", [2.2, 2.5, 4.0, 6.0])
@pytest.mark.parametrize("s", [1e-2, 1.0, 1e4])
@pytest.mark.parametrize("g_last", [0.5, 3.0, 50.0])
def test_tail_laplace_exponent_against_mpmath(gamma, s, g_last):
    with mpmath.workdps(DPS):
        ref = float(_tail_exponent_mp(s, g_last, gamma))
    assert float(tail_laplace_exponent(s, g_last, gamma)) == pytest.approx(ref, rel=1e-12)


def test_tail_laplace_exponent_broadcasts():
    s = np.array([[0.1], [10.0]])
    gl = np.array([1.0, 2.0, 5.0])
    out = tail_laplace_exponent(s, gl, 3.0)
    assert out.shape == (2, 3)
    with mpmath.workdps(20):
        ref = [[float(_tail_exponent_mp(si, gj, 3.0)) for gj in gl] for si in s[:, 0]]
    assert_allclose(out, ref, rtol=1e-12)


@pytest.mark.parametrize("gamma", [2.5, 4.0])
def test_tail_laplace_exponent_at_zero_is_eq36_exponent_without_warning(gamma):
    # g_last = 0 is documented (the full-plane exponent). It used to evaluate 0.0**(-gamma/2)
    # with a 'divide by zero' RuntimeWarning (fixed in 5241a7d).
    s = np.array([0.01, 1.0, 100.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = tail_laplace_exponent(s, 0.0, gamma)
    with mpmath.workdps(DPS):
        ref = [float(2 * _pgfl_exponent(si, gamma)) for si in s]
    assert_allclose(out, ref, rtol=1e-13)


# --------------------------------------------------------------------------- printed typos
def _printed_36(lam, gamma):
    g = mpmath.mpf(gamma)
    a = mpmath.pi * mpmath.mpf(lam) * mpmath.gamma(1 - 2 / g)
    return mpmath.gamma(mpmath.mpf(1) / 2) / ((2 / g) * a ** (g / 2))


def _printed_37(lam, gamma):
    g = mpmath.mpf(gamma)
    a = mpmath.pi * mpmath.mpf(lam) * mpmath.gamma(1 - 2 / g)
    return mpmath.gamma(1 + g / 2) * a ** (-mpmath.mpf(1) / 2)


def _printed_24(lam, gamma):
    g = mpmath.mpf(gamma)
    a = mpmath.pi * mpmath.mpf(lam) * mpmath.gamma(1 - 2 / g)
    return mpmath.gamma(1 + g / 2) * a ** (-g / 2)


@pytest.mark.parametrize(("gamma", "lam", "value"), LEMMA3_REFERENCE)
def test_printed_36_37_disagree_with_integral_but_24_agrees(gamma, lam, value):
    with mpmath.workdps(DPS):
        ref = mpmath.mpf(value)
        assert abs(_printed_24(lam, gamma) / ref - 1) < mpmath.mpf(10) ** -25
        assert abs(_printed_36(lam, gamma) / ref - 1) > 0.01  # Gamma(1/2) should be Gamma(gamma/2)
        assert abs(_printed_37(lam, gamma) / ref - 1) > 0.01  # exponent -1/2 should be -gamma/2


# --------------------------------------------------------------------------- Theorem 2, (28)-(30)
def _eta(p: SongParams) -> float:
    rho = p.tx_power * (p.obs_time or 1.0 / p.bandwidth) / p.noise_psd
    return 8 * math.pi**2 * rho * p.rcs * p.eff_bandwidth**2 * C**2 / ((4 * math.pi) ** 3 * p.carrier_freq**2)


def _printed_26(mt, mr, eta, lt, lr, gamma):
    with mpmath.workdps(DPS):
        g = mpmath.mpf(gamma)
        return float(
            2 * mpmath.mpf(C) ** 2 / (mt * mr * mpmath.mpf(eta))
            * mpmath.gamma(1 + g / 2) ** 2
            * (mpmath.pi * mpmath.sqrt(mpmath.mpf(lr) * lt) * mpmath.gamma(1 - 2 / g)) ** (-g)
        )


SCALING_CASES = [
    SongParams(),
    SongParams(gamma=3.0, n_tx_antennas=2, n_rx_antennas=8, tx_density=1e-3, rx_density=5e-4),
    SongParams(gamma=4.0, tx_power=10.0, rcs=0.5),
    SongParams(gamma=2.2, n_tx_antennas=1, n_rx_antennas=1, tx_density=0.5, rx_density=0.5),
]


@pytest.mark.parametrize("p", SCALING_CASES)
def test_scaling_bound_eq26(p):
    b = song.scaling_bound(p)
    assert isinstance(b, float)
    with mpmath.workdps(DPS):
        e_t = _lemma3_integral(p.tx_density, p.gamma)
        e_r = _lemma3_integral(p.rx_density, p.gamma)
        via_23 = float(2 * mpmath.mpf(C) ** 2 / (p.n_tx_antennas * p.n_rx_antennas * _eta(p)) * e_t * e_r)
    assert b == pytest.approx(via_23, rel=1e-12)  # (23) with Lemma 3
    printed = _printed_26(p.n_tx_antennas, p.n_rx_antennas, _eta(p), p.tx_density, p.rx_density, p.gamma)
    assert b == pytest.approx(printed, rel=1e-12)  # the printed (26)


def test_scaling_bound_hand_scaling_laws():
    p = SongParams()
    b = song.scaling_bound(p)
    # 1/(M_t M_r), 1/rho_s (through P_t), (lam_t lam_r)^(-gamma/2)
    assert song.scaling_bound(SongParams(n_tx_antennas=8, n_rx_antennas=2)) == pytest.approx(b, rel=1e-13)
    assert song.scaling_bound(SongParams(n_tx_antennas=16)) == pytest.approx(b / 4, rel=1e-13)
    assert song.scaling_bound(SongParams(tx_power=7.0)) == pytest.approx(b / 7, rel=1e-13)
    assert song.scaling_bound(SongParams(tx_density=4 / 900)) == pytest.approx(b * 4 ** -1.25, rel=1e-13)


@pytest.mark.parametrize("p", SCALING_CASES)
def test_single_antenna_bound_eq28_with_fair_densities(p):
    lt, lr = p.n_tx_antennas * p.tx_density, p.n_rx_antennas * p.rx_density  # eq. (29)
    assert song.single_antenna_bound(p) == pytest.approx(
        _printed_26(1, 1, _eta(p), lt, lr, p.gamma), rel=1e-12
    )
    assert song.single_antenna_bound(p, tx_density=1e-2, rx_density=2e-3) == pytest.approx(
        _printed_26(1, 1, _eta(p), 1e-2, 2e-3, p.gamma), rel=1e-12
    )


@pytest.mark.parametrize("p", SCALING_CASES)
def test_fair_comparison_eq30(p):
    out = song.fair_comparison(p)
    mtmr = p.n_tx_antennas * p.n_rx_antennas
    assert out["ratio"] == pytest.approx(mtmr ** (1 - p.gamma / 2), rel=1e-12)
    assert out["ratio"] == pytest.approx(out["single"] / out["mimo"], rel=1e-15)
    if mtmr > 1:
        assert out["ratio"] < 1.0  # (30): the single-antenna network has the lower bound
    else:
        assert out["ratio"] == pytest.approx(1.0, rel=1e-13)


def test_ppp_bounds_require_gamma_above_2():
    p = SongParams(gamma=2.0)
    for fn in (song.scaling_bound, song.single_antenna_bound, song.fair_comparison):
        with pytest.raises(ParameterError) as info:
            fn(p)
        assert info.value.name == "gamma"
    with pytest.raises(ParameterError) as info:
        song.single_antenna_bound(SongParams(), tx_density=0.0)
    assert info.value.name == "tx_density"
