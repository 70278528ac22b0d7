"""Properties of the per-layout Song FIM (15) and CRLB (18) that hold for every layout."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from isacnet import SongParams, song

SETTINGS = settings(max_examples=80, deadline=None)

coord = st.floats(-1000.0, 1000.0, allow_nan=False, allow_infinity=False)
gammas = st.floats(1.5, 6.0, allow_nan=False)


def points(n_min: int = 1, n_max: int = 6):
    return st.integers(n_min, n_max).flatmap(
        lambda n: hnp.arrays(np.float64, (n, 2), elements=coord)
    )


targets = hnp.arrays(np.float64, (2,), elements=st.floats(-100.0, 100.0))


def _far_enough(pts: np.ndarray, target: np.ndarray, d_min: float = 1.0) -> bool:
    return bool(np.all(np.hypot(*(pts - target).T) >= d_min))


def _conditioning(S: np.ndarray) -> float:
    """det / tr^2 in [0, 1/4]: 1/4 for a multiple of I, 0 for a singular matrix."""
    tr = S[0, 0] + S[1, 1]
    if not (np.isfinite(tr) and tr > 0):
        return 0.0
    a, b, c = S[0, 0] / tr, S[0, 1] / tr, S[1, 1] / tr  # scaled first: no overflow
    return float(a * c - b * b)


def _pair_weight_scale(tx, rx, target, p: SongParams) -> float:
    """M_t M_r eta/c^2 * sum_k L_k * sum_l L_l: the size of the largest terms in S.

    tr(S) <= 4 * this. The separable evaluation of S (sum over TXs times sum over RXs) makes
    rounding errors of order eps * this in every entry; "auto" falls back to the pair sum only
    when that could be amplified by more than 1e8 in the CRLB, so an S whose smallest
    eigenvalue is many orders below this scale may still be known to only ~8 digits (see
    test_sensing.py::test_heavy_forward_scatter_pair_hand_value).
    """
    c2 = 299_792_458.0**2
    lt = np.sum(np.hypot(*(tx - target).T) ** -p.gamma)
    lr = np.sum(np.hypot(*(rx - target).T) ** -p.gamma)
    return p.n_tx_antennas * p.n_rx_antennas * p.eta / c2 * float(lt * lr)


def _information_ratio(tx, rx, target, p: SongParams) -> float:
    """lambda_min(S) / pair-weight scale: rounding in S moves the CRLB by ~ eps / this."""
    S = song.fim_layout(tx, rx, target, p)
    return float(np.linalg.eigvalsh(S)[0]) / _pair_weight_scale(tx, rx, target, p)


def _rotation(phi: float) -> np.ndarray:
    return np.array([[math.cos(phi), -math.sin(phi)], [math.sin(phi), math.cos(phi)]])


@st.composite
def layouts(draw, nt_min=1, nr_min=1):
    tx = draw(points(nt_min))
    rx = draw(points(nr_min))
    target = draw(targets)
    assume(_far_enough(tx, target) and _far_enough(rx, target))
    return tx, rx, target


@SETTINGS
@given(
    layouts(),
    gammas,
    st.floats(0.0, 2 * math.pi),
    hnp.arrays(np.float64, (2,), elements=st.floats(-1e4, 1e4)),
)
def test_crlb_invariant_under_rigid_motion(layout, gamma, phi, shift):
    tx, rx, target = layout
    p = SongParams(gamma=gamma)
    S = song.fim_layout(tx, rx, target, p)
    assume(_information_ratio(tx, rx, target, p) > 1e-5)  # CRLB known to ~1e-11 (see above)
    R = _rotation(phi)

    def move(x):
        return x @ R.T + shift

    c0 = float(song.crlb_layout(tx, rx, target, p))
    c1 = float(song.crlb_layout(move(tx), move(rx), move(target), p))
    assert math.isfinite(c0)
    assert c1 == c0 or abs(c1 / c0 - 1) < 1e-9
    # the FIM itself transforms as a (0,2)-tensor: S' = R S R^T
    S1 = song.fim_layout(move(tx), move(rx), move(target), p)
    scale = _pair_weight_scale(tx, rx, target, p)
    np.testing.assert_allclose(S1, R @ S @ R.T, rtol=0, atol=1e-11 * scale)


@SETTINGS
@given(layouts(), gammas)
def test_fim_symmetric_psd(layout, gamma):
    tx, rx, target = layout
    p = SongParams(gamma=gamma)
    S = song.fim_layout(tx, rx, target, p)
    assert S.shape == (2, 2)
    assert np.all(np.isfinite(S))
    assert S[0, 1] == S[1, 0]
    # PSD up to rounding (eps x pair-weight scale). Before 5241a7d the separable form gave
    # S_xx = -1.3e-8 < 0 for TX (-1, -1), RX (1, 1), target 0 (exact forward scatter).
    tol = 1e-14 * _pair_weight_scale(tx, rx, target, p)
    assert np.linalg.eigvalsh(S).min() >= -tol
    assert S[0, 0] >= -tol and S[1, 1] >= -tol
    assert S[0, 0] + S[1, 1] <= 4 * _pair_weight_scale(tx, rx, target, p) * (1 + 1e-12)


@SETTINGS
@given(layouts(), gammas)
def test_crlb_is_positive_or_inf_never_nan(layout, gamma):
    tx, rx, target = layout
    c = float(song.crlb_layout(tx, rx, target, SongParams(gamma=gamma)))
    assert not math.isnan(c)
    assert c > 0


@SETTINGS
@given(st.tuples(points(1, 1), points(1, 1), targets), gammas, st.booleans())
def test_single_bs_cannot_localise(layout, gamma, monostatic):
    tx, rx, target = layout
    if monostatic:
        rx = tx.copy()  # one BS that both transmits and receives
    assume(_far_enough(tx, target) and _far_enough(rx, target))
    assert song.crlb_layout(tx, rx, target, SongParams(gamma=gamma)) == np.inf


@SETTINGS
@given(layouts(), points(1, 1), gammas)
def test_adding_a_tx_never_increases_crlb(layout, extra, gamma):
    tx, rx, target = layout
    assume(_far_enough(extra, target))
    p = SongParams(gamma=gamma)
    old = float(song.crlb_layout(tx, rx, target, p))
    new = float(song.crlb_layout(np.vstack([tx, extra]), rx, target, p))
    if math.isfinite(old):
        assume(_information_ratio(tx, rx, target, p) > 1e-5)
        # crlb_layout reports inf when det(S) <= rtol tr(S)^2 (sensing.SINGULAR_RTOL, ~100
        # ulps): rank-deficient to working precision. Stay clear of that threshold here.
        assume(_conditioning(song.fim_layout(np.vstack([tx, extra]), rx, target, p)) > 1e-11)
        assert new <= old * (1 + 1e-9)
    # and the new FIM dominates the old one: S_new - S_old = (extra TX's pairs), PSD
    s_new = song.fim_layout(np.vstack([tx, extra]), rx, target, p)
    diff = s_new - song.fim_layout(tx, rx, target, p)
    tol = 1e-13 * _pair_weight_scale(np.vstack([tx, extra]), rx, target, p)
    assert np.linalg.eigvalsh(diff).min() >= -tol


@SETTINGS
@given(layouts(), gammas, st.integers(1, 64), st.integers(1, 64), st.floats(1e-3, 1e3))
def test_crlb_scales_as_inverse_antennas_and_power(layout, gamma, mt, mr, power):
    tx, rx, target = layout
    base = SongParams(gamma=gamma, n_tx_antennas=1, n_rx_antennas=1, tx_power=1.0)
    p = SongParams(gamma=gamma, n_tx_antennas=mt, n_rx_antennas=mr, tx_power=power)
    c1 = float(song.crlb_layout(tx, rx, target, base))
    c = float(song.crlb_layout(tx, rx, target, p))
    if math.isinf(c1):
        assume(_conditioning(song.fim_layout(tx, rx, target, base)) < 1e-11)
        assert math.isinf(c)
    else:
        # Exact in exact arithmetic. In floating point S carries rounding of relative size
        # eps / information ratio, and det = sxx syy - sxy^2 loses log10(tr^2 / det) digits.
        cond = _conditioning(song.fim_layout(tx, rx, target, base))
        info = _information_ratio(tx, rx, target, base)
        assume(cond > 1e-9 and info > 1e-9)
        assert c * mt * mr * power == _approx(c1, 1e-13 + 1e-14 / cond + 1e-14 / info)


@SETTINGS
@given(layouts(), gammas, st.floats(1e-2, 1e2))
def test_crlb_scales_with_layout_size_as_s_to_2gamma(layout, gamma, s):
    tx, rx, target = layout
    p = SongParams(gamma=gamma)
    assume(_information_ratio(tx, rx, target, p) > 1e-5)
    c = float(song.crlb_layout(tx, rx, target, p))
    cs = float(song.crlb_layout(s * tx, s * rx, s * target, p))
    # L = d^-gamma per link, two links per pair: S -> s^(-2 gamma) S, CRLB -> s^(2 gamma) CRLB
    assert cs == _approx(c * s ** (2 * gamma), 1e-9)


@SETTINGS
@given(layouts(), gammas)
def test_tx_rx_reciprocity_with_matched_beams(layout, gamma):
    # With matched beams every TX has gain M_t, so S is symmetric in the roles of TXs and RXs.
    tx, rx, target = layout
    p = SongParams(gamma=gamma)
    S = song.fim_layout(tx, rx, target, p)
    np.testing.assert_allclose(
        song.fim_layout(rx, tx, target, p), S, rtol=0, atol=1e-13 * _pair_weight_scale(tx, rx, target, p)
    )


class _approx:
    """Relative comparison that also accepts exact equality (e.g. both inf)."""

    def __init__(self, expected: float, rtol: float):
        self.expected, self.rtol = expected, rtol

    def __eq__(self, other: object) -> bool:
        x = float(other)  # type: ignore[arg-type]
        return x == self.expected or abs(x - self.expected) <= self.rtol * abs(self.expected)

    def __repr__(self) -> str:
        return f"{self.expected!r} ± {self.rtol:g} rel"
