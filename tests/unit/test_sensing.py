"""Per-layout Fisher information (Song eq. 15) and CRLB (18) against a plain pair-sum oracle."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from isacnet import ParameterError, SongParams, song
from isacnet.sensing import steering_vector, trace_inverse_2x2, tx_beam_gain

C = 299_792_458.0  # m/s


# --------------------------------------------------------------------------- the oracle
def oracle_fim(tx, rx, target, p: SongParams, gains=None) -> np.ndarray:
    """S_ds of eq. (15) by the O(Nt Nr) double loop, straight from eqs. (2), (13), (15).

    |alpha_kl|^2 = rho_s sigma L_k L_l c^2 / ((4 pi)^3 f_c^2) * |a^H w_k|^2   (sigma linear)
    v_kl         = d tau_kl / d d_s = -(e_k + f_l) / c
    S            = sum_k sum_l 8 pi^2 M_r |alpha_kl|^2 beta^2 v_kl v_kl^T
    """
    tx = np.asarray(tx, float)
    rx = np.asarray(rx, float)
    target = np.asarray(target, float)
    rho = p.tx_power * (p.obs_time or 1.0 / p.bandwidth) / p.noise_psd
    S = np.zeros((2, 2))
    for k in range(tx.shape[0]):
        dt = tx[k] - target
        e = dt / math.hypot(*dt)
        lk = math.hypot(*dt) ** (-p.gamma)
        gain = p.n_tx_antennas if gains is None else gains[k]
        for m in range(rx.shape[0]):
            dr = rx[m] - target
            f = dr / math.hypot(*dr)
            lm = math.hypot(*dr) ** (-p.gamma)
            alpha2 = rho * p.rcs * lk * lm * C**2 / ((4 * math.pi) ** 3 * p.carrier_freq**2) * gain
            v = -(e + f) / C
            S += 8 * math.pi**2 * p.n_rx_antennas * alpha2 * p.eff_bandwidth**2 * np.outer(v, v)
    return S


def oracle_crlb(S: np.ndarray) -> float:
    return float(np.trace(np.linalg.inv(S)))


def random_layout(g: np.random.Generator, nt: int, nr: int, scale: float = 200.0):
    tx = g.uniform(-scale, scale, (nt, 2))
    rx = g.uniform(-scale, scale, (nr, 2))
    target = g.uniform(-scale / 4, scale / 4, 2)
    return tx, rx, target


def assert_fim_close(S, ref, rtol=1e-10):
    assert_allclose(S, ref, rtol=rtol, atol=rtol * np.abs(ref).max())


PARAMS = [
    SongParams(),
    SongParams(gamma=3.7, n_tx_antennas=2, n_rx_antennas=8, rcs=0.3, tx_power=5.0),
    SongParams(gamma=1.5, obs_time=1e-6, carrier_freq=3.5e9, eff_bandwidth=1e8),
]


# --------------------------------------------------------------------------- FIM / CRLB
@pytest.mark.parametrize("p", PARAMS, ids=["default", "gamma3.7", "gamma1.5"])
@pytest.mark.parametrize(("nt", "nr"), [(1, 3), (3, 1), (2, 2), (4, 7), (13, 5)])
def test_fim_and_crlb_match_pair_sum_oracle(p, nt, nr):
    g = np.random.default_rng(1000 * nt + nr)
    for _ in range(5):
        tx, rx, target = random_layout(g, nt, nr)
        ref = oracle_fim(tx, rx, target, p)
        S = song.fim_layout(tx, rx, target, p)
        assert S.shape == (2, 2)
        assert_fim_close(S, ref)
        crlb = song.crlb_layout(tx, rx, target, p)
        assert np.ndim(crlb) == 0
        assert float(crlb) == pytest.approx(oracle_crlb(ref), rel=1e-10)


def test_fim_and_crlb_batched_leading_axes():
    p = SongParams(gamma=3.0)
    g = np.random.default_rng(5)
    batch = (3, 4)
    nt, nr = 3, 5
    tx = g.uniform(-300, 300, batch + (nt, 2))
    rx = g.uniform(-300, 300, batch + (nr, 2))
    target = g.uniform(-50, 50, batch + (2,))
    S = song.fim_layout(tx, rx, target, p)
    crlb = song.crlb_layout(tx, rx, target, p)
    assert S.shape == batch + (2, 2)
    assert crlb.shape == batch
    for idx in np.ndindex(*batch):
        ref = oracle_fim(tx[idx], rx[idx], target[idx], p)
        assert_fim_close(S[idx], ref)
        assert crlb[idx] == pytest.approx(oracle_crlb(ref), rel=1e-10)


def test_batched_layouts_with_shared_target():
    p = SongParams()
    g = np.random.default_rng(6)
    tx = g.uniform(-300, 300, (6, 2, 2))
    rx = g.uniform(-300, 300, (6, 3, 2))
    target = np.array([10.0, -20.0])
    crlb = song.crlb_layout(tx, rx, target, p)
    assert crlb.shape == (6,)
    for i in range(6):
        assert crlb[i] == pytest.approx(oracle_crlb(oracle_fim(tx[i], rx[i], target, p)), rel=1e-10)


def _tau(tx, rx, ds):
    return (np.linalg.norm(tx - ds) + np.linalg.norm(rx - ds)) / C


def test_delay_gradient_matches_central_finite_differences():
    """A single TX/RX pair has S = 8 pi^2 M_r |alpha|^2 beta^2 grad(tau) grad(tau)^T (eq. 15)."""
    p = SongParams()
    rho = 1.0 / (p.noise_psd * p.bandwidth)
    g = np.random.default_rng(7)
    h = 1e-3  # m, at distances ~100 m
    for _ in range(10):
        tx, rx, ds = random_layout(g, 1, 1)
        tx, rx = tx[0], rx[0]
        grad = np.array(
            [
                (_tau(tx, rx, ds + h * u) - _tau(tx, rx, ds - h * u)) / (2 * h)
                for u in (np.array([1.0, 0.0]), np.array([0.0, 1.0]))
            ]
        )
        lk = np.linalg.norm(tx - ds) ** -p.gamma
        lm = np.linalg.norm(rx - ds) ** -p.gamma
        alpha2 = rho * p.rcs * lk * lm * C**2 / ((4 * math.pi) ** 3 * p.carrier_freq**2) * 4
        ref = 8 * math.pi**2 * 4 * alpha2 * p.eff_bandwidth**2 * np.outer(grad, grad)
        assert_fim_close(song.fim_layout(tx[None], rx[None], ds, p), ref, rtol=1e-6)


def test_hand_computed_fim():
    """TX (100, 0); RXs (0, 100), (-100, 0); target at the origin; paper defaults.

    e = (1, 0); f_1 = (0, 1), f_2 = (-1, 0): e + f_1 = (1, 1), e + f_2 = 0 (forward scatter).
    All distances are 100 m, so L = 100^-2.5 = 1e-5 and L_k L_l = 1e-10.
    8 pi^2 M_r |alpha|^2 beta^2 / c^2 = M_t M_r rho sigma beta^2 L L / (8 pi f_c^2)   [(4pi)^3 = 64 pi^3]
      = 16 * 1e12 * 1 * 0.577e9^2 * 1e-10 / (8 pi * 9e20) = 0.0235499 m^-2 =: K
    S = K [[1, 1], [1, 1]] (rank one: CRLB = inf). Adding an RX at (0, -100) adds
    e + f_3 = (1, -1): S = K [[2, 0], [0, 2]], CRLB = tr(S^-1) = 1/K = 42.463 m^2.
    """
    p = SongParams()
    K = 16 * 1e12 * 0.577e9**2 * 1e-10 / (8 * math.pi * 9e20)
    assert K == pytest.approx(0.0235499, rel=1e-5)
    tx = np.array([[100.0, 0.0]])
    rx = np.array([[0.0, 100.0], [-100.0, 0.0]])
    S = song.fim_layout(tx, rx, np.zeros(2), p)
    assert_allclose(S, K * np.array([[1.0, 1.0], [1.0, 1.0]]), rtol=1e-12)
    assert song.crlb_layout(tx, rx, np.zeros(2), p) == np.inf

    rx3 = np.vstack([rx, [[0.0, -100.0]]])
    S3 = song.fim_layout(tx, rx3, np.zeros(2), p)
    assert_allclose(S3, K * np.array([[2.0, 0.0], [0.0, 2.0]]), rtol=1e-12, atol=1e-12 * K)
    assert float(song.crlb_layout(tx, rx3, np.zeros(2), p)) == pytest.approx(42.463008, rel=1e-6)


def test_hand_computed_fim_scales_with_gamma():
    # Same geometry at gamma = 4: L_k L_l = 100^-8 = 1e-16 instead of 1e-10.
    p = SongParams(gamma=4.0)
    K = 16 * 1e12 * 0.577e9**2 * 1e-16 / (8 * math.pi * 9e20)
    tx = np.array([[100.0, 0.0]])
    rx = np.array([[0.0, 100.0], [-100.0, 0.0], [0.0, -100.0]])
    S = song.fim_layout(tx, rx, np.zeros(2), p)
    assert_allclose(S, K * np.array([[2.0, 0.0], [0.0, 2.0]]), rtol=1e-12, atol=1e-12 * K)


@pytest.mark.parametrize(
    ("tx", "rx"),
    [
        ([30.0, 40.0], [-70.0, 10.0]),  # generic bistatic pair
        ([0.0, 1.0], [0.0, -1.0]),  # forward scatter: S = 0 exactly
        ([50.0, 50.0], [50.0, 50.0]),  # monostatic (co-located TX and RX)
        ([1e-3, 0.0], [1e4, 1e4]),  # wildly different ranges
    ],
)
def test_one_tx_one_rx_gives_inf_never_nan(tx, rx):
    for p in (SongParams(), SongParams(gamma=6.0)):
        c = song.crlb_layout(np.array([tx]), np.array([rx]), np.zeros(2), p)
        assert c == np.inf  # inf, not NaN and not a huge finite number


def test_point_at_target_raises():
    p = SongParams()
    with pytest.raises(ParameterError):
        song.fim_layout(np.array([[0.0, 0.0]]), np.array([[1.0, 2.0]]), np.zeros(2), p)
    with pytest.raises(ParameterError):
        song.fim_layout(np.array([[1.0, 0.0]]), np.array([[5.0, 5.0]]), np.array([5.0, 5.0]), p)


def test_unknown_gradient_raises():
    with pytest.raises(ParameterError):
        song.fim_layout(
            np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), np.zeros(2), SongParams(), gradient="x"
        )


# --------------------------------------------------------------------------- 2x2 inverse
def test_trace_inverse_2x2_against_numpy_on_random_spd():
    g = np.random.default_rng(8)
    a = g.normal(size=(500, 2, 2))
    spd = a @ a.transpose(0, 2, 1) + 1e-3 * np.eye(2)
    spd *= 10.0 ** g.uniform(-20, 20, (500, 1, 1))  # scale-free
    tr, sing = trace_inverse_2x2(spd[:, 0, 0], spd[:, 0, 1], spd[:, 1, 1])
    expected = np.trace(np.linalg.inv(spd), axis1=1, axis2=2)
    cond = np.linalg.cond(spd)
    ok = cond < 1e8  # trace_inverse_2x2 calls cond >~ 4e10 singular
    assert ok.sum() > 400
    assert not sing[ok].any()
    assert_allclose(tr[ok], expected[ok], rtol=1e-12 * 1e4)


def test_trace_inverse_2x2_hand_value():
    # [[2, 1], [1, 3]]^-1 = [[3, -1], [-1, 2]] / 5, trace 1
    tr, sing = trace_inverse_2x2(2.0, 1.0, 3.0)
    assert float(tr) == pytest.approx(1.0, rel=1e-15)
    assert not bool(sing)


def test_trace_inverse_2x2_flags_singular():
    g = np.random.default_rng(9)
    v = g.normal(size=(100, 2))
    rank1 = np.einsum("ni,nj->nij", v, v)  # v v^T
    sxx = np.concatenate([rank1[:, 0, 0], [0.0, 1.0, 1.0]])
    sxy = np.concatenate([rank1[:, 0, 1], [0.0, 2.0, 1.0]])
    syy = np.concatenate([rank1[:, 1, 1], [0.0, 1.0, 1.0 + 1e-14]])
    tr, sing = trace_inverse_2x2(sxx, sxy, syy)  # + zero, indefinite, near-singular
    assert sing.all()
    assert np.all(tr == np.inf)
    # float32 uses its own (looser) threshold
    tr32, sing32 = trace_inverse_2x2(
        np.float32([1.0, 2.0]), np.float32([1.0 - 1e-6, 1.0]), np.float32([1.0, 3.0])
    )
    assert sing32.tolist() == [True, False]
    assert tr32[1] == pytest.approx(1.0, rel=1e-6)


# --------------------------------------------------------------------------- TX beams
def _direction_cosine(tx, target, axis):
    """cos of the angle between the ULA axis and the TX -> target direction (= sin theta)."""
    d = np.asarray(target, float) - np.asarray(tx, float)
    return (d[..., 0] * math.cos(axis) + d[..., 1] * math.sin(axis)) / np.linalg.norm(d, axis=-1)


def _ula(u, m):
    # a(theta) = [1, e^{-j pi sin theta}, ..., e^{-j pi (M-1) sin theta}]^T, eqs. (5)-(6)
    return np.array([np.exp(-1j * math.pi * i * u) for i in range(m)])


def test_steering_vector_is_eq5():
    u = 0.3
    assert_allclose(steering_vector(np.array(u), 5), _ula(u, 5), rtol=1e-15)


@pytest.mark.parametrize("spec", ["matched", "full-gain"])
def test_matched_and_full_gain_are_mt(spec):
    tx = np.random.default_rng(1).uniform(-100, 100, (2, 5, 2))
    g = tx_beam_gain(tx, np.zeros(2), 6, spec)
    assert g.shape == (2, 5)
    assert np.all(g == 6.0)


@pytest.mark.parametrize("axis", [0.0, 0.7, -2.0])
@pytest.mark.parametrize("m", [1, 4, 9])
def test_explicit_matched_beamformer_reaches_mt(axis, m):
    g = np.random.default_rng(2)
    tx = g.uniform(-100, 100, (7, 2))
    target = np.array([3.0, -4.0])
    u = _direction_cosine(tx, target, axis)
    w = np.stack([_ula(uk, m) / math.sqrt(m) for uk in u])
    gain = tx_beam_gain(tx, target, m, w, array_axis=axis)
    assert_allclose(gain, m, rtol=1e-12)


def test_random_beamformer_gain_is_cauchy_schwarz_bounded_and_exact():
    g = np.random.default_rng(3)
    m = 6
    tx = g.uniform(-100, 100, (50, 2))
    target = np.array([1.0, 2.0])
    w = g.normal(size=(50, m)) + 1j * g.normal(size=(50, m))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    gain = tx_beam_gain(tx, target, m, w)
    assert np.all(gain <= m * (1 + 1e-12))
    assert np.all(gain < 0.999 * m)  # a random beam is never matched
    u = _direction_cosine(tx, target, 0.0)
    expected = [abs(np.vdot(_ula(u[k], m), w[k])) ** 2 for k in range(50)]  # |a^H w|^2
    assert_allclose(gain, expected, rtol=1e-12)


def test_explicit_beams_enter_fim_through_gain():
    p = SongParams(n_tx_antennas=4)
    g = np.random.default_rng(4)
    tx, rx, target = random_layout(g, 3, 4)
    w = g.normal(size=(3, 4)) + 1j * g.normal(size=(3, 4))
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    u = _direction_cosine(tx, target, 0.0)
    gains = [abs(np.vdot(_ula(u[k], 4), w[k])) ** 2 for k in range(3)]
    assert_fim_close(song.fim_layout(tx, rx, target, p, beamformer=w), oracle_fim(tx, rx, target, p, gains))
    # a matched explicit beam reproduces the "matched" FIM
    wm = np.stack([_ula(uk, 4) / 2.0 for uk in u])
    assert_fim_close(song.fim_layout(tx, rx, target, p, beamformer=wm), oracle_fim(tx, rx, target, p))


def test_beamformer_shape_and_norm_errors():
    tx = np.array([[10.0, 0.0], [0.0, 10.0]])
    target = np.zeros(2)
    with pytest.raises(ParameterError) as info:
        tx_beam_gain(tx, target, 4, np.ones((2, 3)) / math.sqrt(3))
    assert info.value.name == "beamformer" and "M_t = 4" in str(info.value)
    with pytest.raises(ParameterError):
        tx_beam_gain(tx, target, 4, np.ones((2, 4)))  # norm 2, not 1
    with pytest.raises(ParameterError):
        tx_beam_gain(tx, target, 4, "mached")
    with pytest.raises(ParameterError):
        song.fim_layout(tx, np.array([[5.0, 5.0]]), target, SongParams(), beamformer=np.ones((2, 2)))


# --------------------------------------------------------------------------- erratum S-1
def test_paper_gradient_forward_scatter_erratum():
    """TX (0, 1), RX (0, -1), target at the origin: the target lies on the TX-RX baseline.

    Exact: e = (0, 1), f = (0, -1), e + f = 0, so d tau / d d_s = 0 and the pair carries no
    position information: S = 0. Paper (3)-(4): theta = arctan(0/1) = 0 and arctan(0/-1) = 0,
    so v = (cos 0 + cos 0, sin 0 + sin 0)/c = (2, 0)/c and S = 4 K L L e_x e_x^T != 0,
    with K = M_t M_r rho sigma beta^2 / (8 pi f_c^2) and L = 1.
    """
    p = SongParams()
    tx, rx = np.array([[0.0, 1.0]]), np.array([[0.0, -1.0]])
    exact = song.fim_layout(tx, rx, np.zeros(2), p)
    paper = song.fim_layout(tx, rx, np.zeros(2), p, gradient="paper")
    assert np.all(exact == 0.0)
    K = 16 * 1e12 * 0.577e9**2 / (8 * math.pi * 9e20)
    assert_allclose(paper, [[4 * K, 0.0], [0.0, 0.0]], rtol=1e-12, atol=0)
    # finite differences of tau confirm the exact (zero) gradient, to first order
    h = 1e-6
    for u in (np.array([1.0, 0.0]), np.array([0.0, 1.0])):
        fd = (_tau(tx[0], rx[0], h * u) - _tau(tx[0], rx[0], -h * u)) / (2 * h)
        assert abs(fd) < 1e-6 / C


def test_paper_gradient_is_exact_with_x_y_swapped_when_all_points_above():
    """With y_k > y for every point, theta = arctan(dx/dy) has cos = dy/r, sin = dx/r.

    So the paper's v is the exact -(e + f)/c with its components swapped (and sign flipped,
    which v v^T does not see): S_paper = P S_exact P with P the x <-> y swap, and the CRLB
    (a trace, invariant under P) is the same.
    """
    p = SongParams(gamma=3.0)
    P = np.array([[0.0, 1.0], [1.0, 0.0]])
    g = np.random.default_rng(11)
    for nt, nr in [(1, 2), (3, 3), (5, 2)]:
        target = g.uniform(-20, 20, 2)
        tx = np.column_stack([g.uniform(-200, 200, nt), target[1] + g.uniform(1, 200, nt)])
        rx = np.column_stack([g.uniform(-200, 200, nr), target[1] + g.uniform(1, 200, nr)])
        exact = song.fim_layout(tx, rx, target, p)
        paper = song.fim_layout(tx, rx, target, p, gradient="paper")
        assert_fim_close(paper, P @ exact @ P, rtol=1e-12)
        assert float(song.crlb_layout(tx, rx, target, p, gradient="paper")) == pytest.approx(
            float(song.crlb_layout(tx, rx, target, p)), rel=1e-10
        )
        # ... but the matrices themselves differ (the paper's axes are swapped)
        assert not np.allclose(paper, exact, rtol=1e-3, atol=0)


def test_paper_gradient_disagrees_when_points_straddle_the_target():
    # TX above, RXs below: the principal-value arctan flips the RX direction.
    p = SongParams()
    tx = np.array([[30.0, 80.0]])
    rx = np.array([[-50.0, -60.0], [70.0, -20.0]])
    exact = song.crlb_layout(tx, rx, np.zeros(2), p)
    paper = song.crlb_layout(tx, rx, np.zeros(2), p, gradient="paper")
    assert float(exact) == pytest.approx(oracle_crlb(oracle_fim(tx, rx, np.zeros(2), p)), rel=1e-10)
    assert abs(float(paper) / float(exact) - 1) > 0.05


# --------------------------------------------------------------------------- accuracy regressions
# These layouts broke the pure separable O(Nt + Nr) evaluation (catastrophic cancellation when
# a heavy TX-RX pair is near forward scatter, e + f ~ 0) and the old singular threshold
# det <= 1e-10 tr^2; fixed in 5241a7d ("auto" falls back to the pair sum, threshold 1e-13).
def _rotated_forward_scatter_layout(phi=0.3):
    R = np.array([[math.cos(phi), -math.sin(phi)], [math.sin(phi), math.cos(phi)]])
    tx = np.array([[0.0, 1.0], [1000.0, 0.0]]) @ R.T
    rx = np.array([[0.0, -1.0], [0.0, 1000.0]]) @ R.T
    return tx, rx


@pytest.mark.parametrize("gamma", [2.5, 4.0, 6.0])
def test_heavy_forward_scatter_pair_hand_value(gamma):
    """Rotate by phi = 0.3 the layout TX1 (0, 1), RX1 (0, -1), TX2 (1000, 0), RX2 (0, 1000).

    TX1-RX1 is exact forward scatter (e + f = 0): no information although its weight
    L L = 1 is by far the largest. In the unrotated frame (tr S^-1 is rotation invariant),
    with w = 1000^-gamma:
      (TX1, RX2): e + f = (0, 2), weight w;   (TX2, RX1): (1, -1), weight w;
      (TX2, RX2): (1, 1), weight w^2.
    S = K w [[1 + w, -1 + w], [-1 + w, 5 + w]], K = M_t M_r rho sigma beta^2 / (8 pi f_c^2),
    tr(S^-1) = (6 + 2w) / (K w (4 + 8w)).
    Before the fix: off by 9e-5 relative at gamma = 4, inf at gamma = 6.
    """
    tx, rx = _rotated_forward_scatter_layout()
    p = SongParams(gamma=gamma)
    w = 1000.0**-gamma
    K = 16 * 1e12 * 0.577e9**2 / (8 * math.pi * 9e20)
    expected = (6 + 2 * w) / (K * w * (4 + 8 * w))
    assert oracle_crlb(oracle_fim(tx, rx, np.zeros(2), p)) == pytest.approx(expected, rel=1e-12)
    assert float(song.crlb_layout(tx, rx, np.zeros(2), p)) == pytest.approx(expected, rel=1e-10)
    pairs = song.crlb_layout(tx, rx, np.zeros(2), p, method="pairs")
    assert float(pairs) == pytest.approx(expected, rel=1e-12)


def test_separable_method_shows_the_cancellation():
    # The forced O(Nt + Nr) form keeps the documented weakness: it is why "auto" exists.
    tx, rx = _rotated_forward_scatter_layout()
    p = SongParams(gamma=6.0)
    w = 1e-18
    K = 16 * 1e12 * 0.577e9**2 / (8 * math.pi * 9e20)
    expected = 1.5 / (K * w)
    sep = float(song.crlb_layout(tx, rx, np.zeros(2), p, method="separable"))
    assert not sep == pytest.approx(expected, rel=1e-3)


def test_adding_tx_near_singular_threshold_keeps_monotonicity():
    """TXs (-12, 0), (0, 224), RX (0, 0), target (1, 0), gamma = 4 (found by hypothesis).

    Adding a TX at (0, 0) (co-located with the RX, 1 m from the target) adds a heavy
    monostatic x-only term: S_new has condition number ~1e10 and det/tr^2 = 9.9e-11, still
    well resolved in float64. The pair sum with numpy.linalg.inv gives 10.69126 m^2 < 10.69132
    m^2 before; the old threshold 1e-10 reported inf.
    """
    p = SongParams(gamma=4.0)
    tx = np.array([[-12.0, 0.0], [0.0, 224.0]])
    rx = np.array([[0.0, 0.0]])
    target = np.array([1.0, 0.0])
    tx_new = np.vstack([tx, [[0.0, 0.0]]])
    before = oracle_crlb(oracle_fim(tx, rx, target, p))
    after = oracle_crlb(oracle_fim(tx_new, rx, target, p))
    assert after < before  # the mathematics
    assert float(song.crlb_layout(tx, rx, target, p)) == pytest.approx(before, rel=1e-10)
    assert float(song.crlb_layout(tx_new, rx, target, p)) == pytest.approx(after, rel=1e-5)


@pytest.mark.parametrize(
    ("tx", "rx", "target", "gamma"),
    [
        ([0.0, 0.0], [0.5, 351.0], [0.0, 2.0], 2.0),  # e + f = (1.4e-3, -4.1e-6)
        ([-1.0, -1.0], [1.0, 1.0], [0.0, 0.0], 2.5),  # exact forward scatter off the axes
        ([3.0, 4.0], [-3.0 + 1e-9, -4.0], [0.0, 0.0], 6.0),
    ],
)
def test_single_pair_near_forward_scatter_is_inf(tx, rx, target, gamma):
    """One pair gives S = w u v v^T, rank one: the target is only known to lie on an ellipse.

    The first case (found by hypothesis) had a separable S with det/tr^2 = 1.7e-10 instead of
    ~1e-22 and a finite CRLB of 5.85e12 m^2 before the fix.
    """
    p = SongParams(gamma=gamma)
    tx, rx, target = np.array([tx]), np.array([rx]), np.array(target)
    S = oracle_fim(tx, rx, target, p)
    tr_inv, singular = trace_inverse_2x2(S[0, 0], S[0, 1], S[1, 1])
    assert bool(singular) and tr_inv == np.inf  # the pair sum is rank one to rounding
    assert song.crlb_layout(tx, rx, target, p) == np.inf


def test_exact_forward_scatter_pair_fim_has_nonnegative_diagonal():
    # TX (-1, -1), RX (1, 1), target 0: e = -f exactly, every pair term w u v v^T is 0.
    # A sum of terms w u v_x^2 >= 0 cannot be negative, not even by rounding. The separable
    # form gives S = -6.5e-9 [[1, 1], [1, 1]] (tr < 0, det = 0), which "auto" used to keep
    # (fixed in 3bfe9b8: also redo where the separable trace is not positive).
    p = SongParams(gamma=2.5)
    tx, rx = np.array([[-1.0, -1.0]]), np.array([[1.0, 1.0]])
    assert np.all(oracle_fim(tx, rx, np.zeros(2), p) == 0.0)
    assert np.all(song.fim_layout(tx, rx, np.zeros(2), p, method="pairs") == 0.0)
    S = song.fim_layout(tx, rx, np.zeros(2), p)
    assert S[0, 0] >= 0 and S[1, 1] >= 0


# --------------------------------------------------------------------------- evaluation methods
@pytest.mark.parametrize("method", ["auto", "separable", "pairs"])
@pytest.mark.parametrize(("nt", "nr"), [(1, 4), (5, 3)])
def test_methods_agree_with_oracle_on_generic_layouts(method, nt, nr):
    p = SongParams(gamma=3.0)
    g = np.random.default_rng(77 + nt)
    tx = g.uniform(-300, 300, (4, nt, 2))
    rx = g.uniform(-300, 300, (4, nr, 2))
    target = g.uniform(-30, 30, (4, 2))
    S = song.fim_layout(tx, rx, target, p, method=method)
    for i in range(4):
        assert_fim_close(S[i], oracle_fim(tx[i], rx[i], target[i], p))


def test_unknown_method_raises():
    with pytest.raises(ParameterError) as info:
        song.fim_layout(
            np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), np.zeros(2), SongParams(), method="fast"
        )
    assert info.value.name == "method"


@pytest.mark.parametrize("method", ["auto", "separable", "pairs"])
def test_fisher_sums_isotropic_tails_equal_four_point_quadrature(method):
    """A tail of total weight W_t with isotropic directions (E e = 0, E e e^T = I/2) enters S by
    its conditional mean, which is exactly reproduced by four points of weight W_t/4 at the
    directions 0, 90, 180 and 270 degrees (same first and second moments). So the sums with
    tails must equal the oracle pair sum over the augmented point sets, including the
    tail x tail term."""
    from isacnet.sensing import fisher_sums

    g = np.random.default_rng(12)
    nt, nr, batch = 3, 4, 5
    w = g.random((batch, nt))
    u = g.random((batch, nr))
    a = g.uniform(0, 2 * math.pi, (batch, nt))
    b = g.uniform(0, 2 * math.pi, (batch, nr))
    w_tail = g.random(batch)
    u_tail = g.random(batch)
    sxx, sxy, syy = fisher_sums(
        w, np.cos(a), np.sin(a), u, np.cos(b), np.sin(b), w_tail, u_tail, method=method
    )
    quad = np.array([0.0, 0.5, 1.0, 1.5]) * math.pi
    for i in range(batch):
        wa = np.concatenate([w[i], np.full(4, w_tail[i] / 4)])
        aa = np.concatenate([a[i], quad])
        ua = np.concatenate([u[i], np.full(4, u_tail[i] / 4)])
        ba = np.concatenate([b[i], quad])
        ref = np.zeros((2, 2))
        for k in range(wa.size):
            for m in range(ua.size):
                v = np.array([math.cos(aa[k]) + math.cos(ba[m]), math.sin(aa[k]) + math.sin(ba[m])])
                ref += wa[k] * ua[m] * np.outer(v, v)
        got = np.array([[sxx[i], sxy[i]], [sxy[i], syy[i]]])
        assert_fim_close(got, ref, rtol=1e-12)
