"""Per-layout FIM (5) and CRLB tr(F^-1) of Meng against independent oracles.

Oracles written here: the O(N^2) pair sum of (5) literally, the closed form
tr(F^-1) = (W^2 + |a|^2) / (2 W (W det A + a^T adj(A) a)) (F/|zeta|^2 = 2 (W A + a a^T)), and
the two-BS formula tr = ((w1+w2)^2 + w1^2 + w2^2 + 2 w1 w2 cos phi) / (4 w1 w2 (w1+w2)^2 sin^2 phi).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from isacnet import meng
from isacnet.analysis import meng_sensing as ms
from isacnet.params import MengParams, ParameterError

P = MengParams()


def pair_sum_fim(bs, target, beta, z2):
    """F of eq. (5): sum over all ordered (i, j), i = j included, written as printed."""
    F = np.zeros((2, 2))
    d = [np.asarray(b, float) - target for b in bs]
    for i in range(len(bs)):
        for j in range(len(bs)):
            di, dj = np.hypot(*d[i]), np.hypot(*d[j])
            th_i, th_j = math.atan2(d[i][1], d[i][0]), math.atan2(d[j][1], d[j][0])
            a = math.cos(th_i) + math.cos(th_j)
            b = math.sin(th_i) + math.sin(th_j)
            F += di**-beta * dj**-beta * np.array([[a * a, a * b], [a * b, b * b]])
    return z2 * F


LAYOUTS = [
    np.array([[300.0, 0.0], [0.0, 500.0]]),
    np.array([[300.0, 100.0], [-200.0, 400.0], [-700.0, -650.0]]),
    np.array([[1000.0, 0.0], [0.0, 1000.0], [-1000.0, 0.0], [0.0, -1000.0]]),
    np.array([[120.0, -40.0], [-800.0, 90.0], [330.0, 770.0], [-60.0, -900.0], [1500.0, 1500.0]]),
]


@pytest.mark.parametrize("bs", LAYOUTS)
@pytest.mark.parametrize("beta", [2.0, 3.0])
def test_fim_matches_pair_sum_oracle(bs, beta):
    p = MengParams(beta=beta)
    target = np.array([25.0, -10.0])
    F = meng.fim_layout(bs, target, p)
    Fo = pair_sum_fim(bs, target, beta, p.zeta2)
    np.testing.assert_allclose(F, Fo, rtol=1e-12, atol=1e-14 * np.abs(Fo).max())
    tr = meng.crlb_layout(bs, target, p)
    assert tr == pytest.approx(np.trace(np.linalg.inv(Fo)), rel=1e-10)


def test_separable_form_exact_near_forward_scatter():
    """Same BS set as TX and RX: F/|zeta|^2 = 2 (W A + a a^T) is a sum of PSD terms, so the
    O(N) form does not cancel even with BSs on opposite sides (e_i + e_j = 0, a zero bistatic
    gradient), unlike a TX/RX split (Song); compared with the literal pair sum."""
    for eps in (0.0, 1e-9, 1e-5):
        bs = np.array([[500.0, 0.0], [-2000.0, eps], [30.0, 800.0], [-1e4, -1e-3]])
        F = meng.fim_layout(bs, np.zeros(2), P)
        Fo = pair_sum_fim(bs, np.zeros(2), 2.0, P.zeta2)
        np.testing.assert_allclose(F, Fo, rtol=1e-13, atol=1e-15 * np.abs(Fo).max())


def test_fim_known_values_square_layout():
    """4 BSs at distance r, 90 degrees apart (by hand): w = r^-beta each, W = 4w,
    A = sum w e e^T = 2w I, a = 0, so F = 2 |zeta|^2 W A = 16 w^2 |zeta|^2 I and
    tr(F^-1) = 2 / (16 w^2 |zeta|^2) = r^(2 beta) / (8 |zeta|^2).
    """
    r = 1000.0
    bs = LAYOUTS[2]
    F = meng.fim_layout(bs, np.zeros(2), P)
    np.testing.assert_allclose(F, 16 * r**-4 * P.zeta2 * np.eye(2), rtol=1e-12, atol=1e-25)
    assert meng.crlb_layout(bs, np.zeros(2), P) == pytest.approx(r**4 / (8 * P.zeta2), rel=1e-12)


def test_closed_form_trace_inverse():
    rng = np.random.default_rng(3)
    for n in (2, 3, 5, 9):
        for _ in range(20):
            d = rng.uniform(50, 3000, n)
            th = rng.uniform(0, 2 * np.pi, n)
            w = d**-2.0
            W = w.sum()
            e = np.stack([np.cos(th), np.sin(th)], 1)
            A = (w[:, None, None] * e[:, :, None] * e[:, None, :]).sum(0)
            a = (w[:, None] * e).sum(0)
            adj = np.array([[A[1, 1], -A[0, 1]], [-A[1, 0], A[0, 0]]])
            closed = (W**2 + a @ a) / (2 * W * (W * np.linalg.det(A) + a @ adj @ a)) / P.zeta2
            bs = d[:, None] * e
            assert meng.crlb_layout(bs, np.zeros(2), P) == pytest.approx(closed, rel=1e-9)


def test_two_bs_formula():
    for w1, w2, phi in [(1.0, 1.0, 1.0), (2.0, 0.5, 2.5), (1e-6, 3e-6, 0.3)]:
        d1, d2 = w1**-0.5, w2**-0.5
        bs = np.array([[d1, 0.0], [d2 * math.cos(phi), d2 * math.sin(phi)]])
        expected = ((w1 + w2) ** 2 + w1**2 + w2**2 + 2 * w1 * w2 * math.cos(phi)) / (
            4 * w1 * w2 * (w1 + w2) ** 2 * math.sin(phi) ** 2
        )
        assert meng.crlb_layout(bs, np.zeros(2), P) == pytest.approx(expected / P.zeta2, rel=1e-9)


def test_one_bs_and_collinear_bs_are_singular():
    """N = 1 is range-only (rank one); BSs on one line through the target give rank one."""
    assert meng.crlb_layout(np.array([[300.0, 400.0]]), np.zeros(2), P) == math.inf
    line = np.array([[100.0, 100.0], [-300.0, -300.0], [700.0, 700.0]])
    assert meng.crlb_layout(line, np.zeros(2), P) == math.inf
    # Batched: inf only where singular, never NaN.
    batch = np.stack([LAYOUTS[1], line])
    out = meng.crlb_layout(batch, np.zeros(2), P)
    assert np.isfinite(out[0]) and out[1] == math.inf


def test_crlb_scales_with_noise_over_rcs():
    """The corrected |zeta|^2 makes the CRLB proportional to sigma_s^2 / sigma."""
    import dataclasses

    bs = LAYOUTS[3]
    base = meng.crlb_layout(bs, np.zeros(2), P)
    q = dataclasses.replace(P, noise_power=4 * P.noise_power, rcs=2.0)
    assert meng.crlb_layout(bs, np.zeros(2), q) == pytest.approx(2 * base, rel=1e-12)


@pytest.mark.parametrize("bs", LAYOUTS)
def test_eq11_corrected_is_the_crlb(bs):
    d = np.hypot(bs[:, 0], bs[:, 1])
    th = np.arctan2(bs[:, 1], bs[:, 0])
    v = ms.crlb_eq11(d, th, 2.0, P.zeta2, "corrected")
    assert v == pytest.approx(meng.crlb_layout(bs, np.zeros(2), P), rel=1e-10)


def test_eq11_as_printed_halves_and_drops_terms():
    """Printed (11) = tr(F^-1) det_all / (2 det_printed), det_printed missing the q = (i, 1), i > k
    pairs. Computed here from an explicit quadruple loop over the printed limits."""
    bs = LAYOUTS[3]
    d = np.hypot(bs[:, 0], bs[:, 1])
    th = np.arctan2(bs[:, 1], bs[:, 0])
    N = len(d)
    w = d**-2.0

    def ab(i, j):
        return math.cos(th[i]) + math.cos(th[j]), math.sin(th[i]) + math.sin(th[j])

    full = printed = 0.0
    for k in range(1, N + 1):
        for m in range(1, N + 1):  # the paper's l
            for i in range(1, N + 1):
                for j in range(1, N + 1):
                    akl, bkl = ab(k - 1, m - 1)
                    aij, bij = ab(i - 1, j - 1)
                    t = w[k - 1] * w[m - 1] * w[i - 1] * w[j - 1] * (akl * bij - aij * bkl) ** 2
                    if (i - 1) * N + j > (k - 1) * N + m:
                        full += t
                    if i >= k and j > max((k - i) * N + m, 1):
                        printed += t
    assert printed < full  # terms are dropped
    tr = meng.crlb_layout(bs, np.zeros(2), P)
    got = ms.crlb_eq11(d, th, 2.0, P.zeta2, "paper")
    assert got == pytest.approx(tr * full / (2 * printed), rel=1e-10)


def test_layout_input_validation():
    with pytest.raises(ParameterError) as e:
        meng.crlb_layout(np.zeros((3, 3)), np.zeros(2), P)
    assert e.value.name == "bs_xy"
    with pytest.raises(ParameterError):
        meng.crlb_layout(np.array([[0.0, 0.0], [1.0, 1.0]]), np.zeros(2), P)
    with pytest.raises(ParameterError):
        meng.crlb_layout(np.array([[np.nan, 0.0]]), np.zeros(2), P)
