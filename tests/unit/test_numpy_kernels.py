"""The numpy Monte Carlo kernels' fast paths against slow, obviously correct twins.

The Song and Meng numpy kernels draw their random numbers in a fixed order and then build and sum
the layouts in cache-sized sub-batches, with their own bearings (``directions_from_uniforms``, no
np.cos/np.sin) and power laws (``arrival_power``). The twins here replay the same stream from a
fresh generator with plain numpy (``np.cumsum``, ``np.power``, ``np.cos(2 pi u)``), form the FIM
by the literal O(K^2) pair sum and the outputs from their definitions. Tolerance: first-order
rounding, |err| <= C eps (1 + kappa) |value|, kappa = mag tr(S) / det(S) computed by the twin (the
amplification of the entries' rounding in tr(S^-1)), C = 64.

The helpers (bearings, power laws, the Chebyshev coefficients) are checked against mpmath.
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from isacnet import geometry as geo
from isacnet import sensing
from isacnet.params import SPEED_OF_LIGHT, MengParams, ParameterError, SongParams
from isacnet.rng import block_rng
from isacnet.simulation.meng import MengCrlbKernel
from isacnet.simulation.song import SongKernel

EPS = float(np.finfo(float).eps)
C_ROUND = 64.0


def pair_sum(w, ex, ey, u, fx, fy):
    """sum_k sum_l w_k u_l v v^T with v = e_k + f_l: the literal double sum, batched over rows."""
    vx = ex[:, :, None] + fx[:, None, :]
    vy = ey[:, :, None] + fy[:, None, :]
    wu = w[:, :, None] * u[:, None, :]
    return (wu * vx * vx).sum((1, 2)), (wu * vx * vy).sum((1, 2)), (wu * vy * vy).sum((1, 2))


def amplification(sxx, sxy, syy, mag):
    tr, det = sxx + syy, sxx * syy - sxy * sxy
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(det > 0, mag * tr / det, np.inf)


def assert_close(got, want, kappa, what):
    tol = C_ROUND * EPS * (1.0 + kappa) * np.abs(want)
    bad = ~(np.abs(got - want) <= tol)
    assert not np.any(bad), (what, got[bad][:5], want[bad][:5], kappa[bad][:5])



@pytest.fixture(autouse=True)
def _restore_mpmath_precision():
    """Tests here raise mpmath's global precision; put it back for the rest of the session."""
    prec = mpmath.mp.prec
    yield
    mpmath.mp.prec = prec

# --------------------------------------------------------------------------- Song
def song_twin(params: SongParams, k: int, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Every Song output from the replayed stream: TX gaps, TX bearings, RX gaps, RX bearings."""
    et, ut = rng.standard_exponential((n, k)), rng.random((n, k))
    er, ur = rng.standard_exponential((n, k)), rng.random((n, k))
    half = 0.5 * params.gamma
    gt, gr = np.cumsum(et, 1), np.cumsum(er, 1)
    w, u = np.power(gt, -half), np.power(gr, -half)
    ex, ey = np.cos(2 * math.pi * ut), np.sin(2 * math.pi * ut)
    fx, fy = np.cos(2 * math.pi * ur), np.sin(2 * math.pi * ur)
    # Beyond the K-th point: conditional mean int_{g_K}^inf g^-half dg, isotropic (E e e^T = I/2).
    wt = gt[:, -1] ** (1 - half) / (half - 1)
    ut_ = gr[:, -1] ** (1 - half) / (half - 1)
    W, U = w.sum(1) + wt, u.sum(1) + ut_
    pxx, pxy, pyy = pair_sum(w, ex, ey, u, fx, fy)
    # Tail terms: W_t (B + U/2 I) + U_t (A + W/2 I) + W_t U_t I (A, B without tails).
    A = [(w * ex * ex).sum(1), (w * ex * ey).sum(1), (w * ey * ey).sum(1)]
    B = [(u * fx * fx).sum(1), (u * fx * fy).sum(1), (u * fy * fy).sum(1)]
    Wk, Uk = w.sum(1), u.sum(1)
    sxx = pxx + wt * (B[0] + Uk / 2) + ut_ * (A[0] + Wk / 2) + wt * ut_
    sxy = pxy + wt * B[1] + ut_ * A[1]
    syy = pyy + wt * (B[2] + Uk / 2) + ut_ * (A[2] + Wk / 2) + wt * ut_
    a = np.hypot((w * ex).sum(1), (w * ey).sum(1))
    b = np.hypot((u * fx).sum(1), (u * fy).sum(1))
    kappa = amplification(sxx, sxy, syy, 2 * U * W + 2 * a * b)
    sc_t, sc_r = (math.pi * params.tx_density) ** half, (math.pi * params.rx_density) ** half
    const = params.n_rx_antennas * params.n_tx_antennas * params.eta / SPEED_OF_LIGHT**2 * sc_t * sc_r
    return {
        "crlb": (sxx + syy) / (sxx * syy - sxy * sxy) / const,
        "jensen": 2.0 / (const * W * U),
        "inv_sum_tx": 1.0 / (sc_t * W),
        "inv_sum_rx": 1.0 / (sc_r * U),
        "kappa": kappa,
    }


@pytest.mark.parametrize("gamma", [2.5, 3.0, 3.3, 4.0])  # pow; sqrt; pow; 1/(g g)
@pytest.mark.parametrize("k, n", [(1, 50), (5, 300), (64, 300)])  # K = 64: two sub-batches
def test_song_kernel_matches_pair_sum_twin_on_the_replayed_stream(gamma, k, n):
    p = SongParams(gamma=gamma)
    rng = block_rng(7, 0, 0)
    got = SongKernel(p, k_nearest=k)(rng, n)
    twin_rng = block_rng(7, 0, 0)
    want = song_twin(p, k, twin_rng, n)
    for q in ("crlb", "jensen", "inv_sum_tx", "inv_sum_rx"):
        assert got[q].shape == (n,)
        assert_close(got[q], want[q], want["kappa"], q)
    # The kernel consumed exactly the twin's random numbers.
    assert rng.random() == twin_rng.random()


def test_song_kernel_pair_sum_fallback_redraws_the_same_layouts(monkeypatch):
    """With every layout flagged, all are redrawn from the saved state and summed by pairs."""
    p, k, n = SongParams(), 6, 200
    normal = SongKernel(p, k_nearest=k)(block_rng(3, 0, 0), n)
    monkeypatch.setattr(sensing, "SEPARABLE_MAX_AMPLIFICATION", 0.0)
    rng = block_rng(3, 0, 0)
    forced = SongKernel(p, k_nearest=k)(rng, n)
    twin_rng = block_rng(3, 0, 0)
    want = song_twin(p, k, twin_rng, n)
    assert rng.random() == twin_rng.random()  # the redraw left the caller's generator alone
    for q in ("crlb", "jensen", "inv_sum_tx", "inv_sum_rx"):
        assert_close(forced[q], want[q], want["kappa"], q)
        assert_close(forced[q], normal[q], want["kappa"], q)


# --------------------------------------------------------------------------- Meng
@pytest.mark.parametrize("n_bs", [1, 2, 5, 16])
@pytest.mark.parametrize("kappa", [1.0, 0.6])
def test_meng_kernel_matches_pair_sum_twin_on_the_replayed_stream(n_bs, kappa):
    p, n, th = MengParams(), 3000, (1e3, 1e5)  # n_bs = 16: 3000 layouts are three sub-batches
    k = MengCrlbKernel(p, n_bs, kappa=kappa, thresholds=th)
    rng = block_rng(11, 0, 0)
    got = k(rng, n)
    r = block_rng(11, 0, 0)
    e, u = r.standard_exponential((n, n_bs)), r.random((n, n_bs))
    keep = r.random((n, n_bs)) < kappa if kappa < 1 else np.ones((n, n_bs), bool)
    assert rng.random() == r.random()
    g = np.cumsum(e, 1)
    w = np.where(keep, np.power(g, -0.5 * p.beta), 0.0)
    ex, ey = np.cos(2 * math.pi * u), np.sin(2 * math.pi * u)
    sxx, sxy, syy = pair_sum(w, ex, ey, w, ex, ey)  # every (i, j), monostatic i = j included
    W = w.sum(1)
    a = np.hypot((w * ex).sum(1), (w * ey).sum(1))
    kap = amplification(sxx, sxy, syy, 2 * W * W + 2 * a * a)
    const = p.zeta2 * (math.pi * p.bs_density) ** p.beta
    det = sxx * syy - sxy * sxy
    singular = ~(det > sensing.SINGULAR_RTOL[np.dtype(float)] * (sxx + syy) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        tr = np.where(singular, np.inf, (sxx + syy) / det / const)
    np.testing.assert_array_equal(got["singular"], singular.astype(float))
    ok = ~singular
    with np.errstate(divide="ignore"):
        assert_close(np.exp(got["log_crlb"][ok]), tr[ok], kap[ok], "log_crlb")
    if "crlb" in got:
        assert_close(got["crlb"][ok], tr[ok], kap[ok], "crlb")
    np.testing.assert_array_equal(got["cluster_size"], keep.sum(1).astype(float))
    for i, t in enumerate(th):
        near = np.abs(tr - t) <= C_ROUND * EPS * (1 + kap) * t  # rounding may put these either side
        np.testing.assert_array_equal(got[f"cdf_{i}"][~near], (tr <= t)[~near].astype(float))
    if kappa == 1.0:
        ones = np.ones(n)
        assert_close(got["isotropic"], 2.0 / (const * W * W), ones, "isotropic")
        assert_close(got["jensen"], 2.0 / (const * (W * W + (w * w).sum(1))), ones, "jensen")


# --------------------------------------------------------------------------- sub-batched sums
@pytest.mark.parametrize("p", [-1.25, -1.0])
def test_ordered_direction_sums_in_sub_batches_equal_the_whole_array_sums(p):
    rng = np.random.default_rng(5)
    n, k = 103, 7
    e, u = rng.standard_exponential((n, k)), rng.random((n, k))
    keep = rng.random((n, k)) < 0.7
    g, w, ex, ey = sensing.ordered_layout(e, u, p, keep)
    np.testing.assert_allclose(g, np.cumsum(e, 1), rtol=0, atol=0)
    np.testing.assert_allclose(w, np.where(keep, g**p, 0.0), rtol=4 * EPS)
    whole = sensing.direction_sums(w, ex, ey)
    want = [
        w.sum(1),
        (w * ex).sum(1),
        (w * ey).sum(1),
        (w * ex * ex).sum(1),
        (w * ex * ey).sum(1),
        (w * ey * ey).sum(1),
    ]
    np.testing.assert_allclose(whole, want, rtol=1e-13, atol=1e-15 * w.sum(1).max())
    for sub in (1, 10, 7 * 13, 10_000):  # a sub-batch of 0 rows rounds up to 1 layout
        sums, g_last = sensing.ordered_direction_sums(e, u, p, keep, squares=True, sub_batch=sub)
        np.testing.assert_array_equal(g_last, g[:, -1])
        np.testing.assert_allclose(sums[:6], whole, rtol=1e-13, atol=1e-15 * w.sum(1).max())
        np.testing.assert_allclose(sums[6], (w * w).sum(1), rtol=1e-13)


def test_ordered_direction_sums_drawing_from_a_generator_uses_the_stream_in_order():
    n, k = 50, 9
    r1, r2 = np.random.default_rng(8), np.random.default_rng(8)
    e = r1.standard_exponential((n, k))
    got, gl = sensing.ordered_direction_sums(e, r1, -1.5, sub_batch=4 * k)
    e2, u2 = r2.standard_exponential((n, k)), r2.random((n, k))
    want, gl2 = sensing.ordered_direction_sums(e2, u2, -1.5, sub_batch=4 * k)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(gl, gl2)
    assert r1.random() == r2.random()
    with pytest.raises(ParameterError) as err:
        sensing.ordered_direction_sums(e, r1, -1.5, keep=np.ones((n, k), bool))
    assert err.value.name == "keep"


# --------------------------------------------------------------------------- bearings
def test_directions_from_uniforms_against_mpmath():
    mpmath.mp.prec = 160
    rng = np.random.default_rng(2)
    tiny = 2.0**-53
    special = [
        0.0,
        tiny,
        0.125,
        0.125 - tiny,
        0.125 + tiny,
        0.25,
        0.375,
        0.5 - tiny,
        0.5,
        0.625,
        0.75,
        0.875,
        0.875 + tiny,
        1.0 - tiny,
        1.0,
        1e-300,
    ]
    u = np.concatenate([special, rng.random(3000)])
    c, s = geo.directions_from_uniforms(u)
    err = 0.0
    for ui, ci, si in zip(u, c, s, strict=True):
        a = 2 * mpmath.pi * mpmath.mpf(float(ui))
        err = max(err, float(abs(mpmath.cos(a) - ci)), float(abs(mpmath.sin(a) - si)))
    assert err <= 2.5e-16  # np.cos(2 pi u) alone: up to 4.4e-16 from rounding 2 pi u
    assert c[0] == 1.0 and s[0] == 0.0 and c[special.index(0.25)] == 0.0 and s[special.index(0.5)] == 0.0


def test_directions_from_uniforms_against_numpy_and_buffers():
    u = np.random.default_rng(4).random((300, 17))
    c, s = geo.directions_from_uniforms(u)
    assert c.shape == s.shape == u.shape
    assert np.max(np.abs(c - np.cos(2 * math.pi * u))) < 8e-16
    assert np.max(np.abs(s - np.sin(2 * math.pi * u))) < 8e-16
    out, work = (np.empty_like(u), np.empty_like(u)), tuple(np.empty_like(u) for _ in range(3))
    c2, s2 = geo.directions_from_uniforms(u, out=out, work=work)
    assert c2 is out[0] and s2 is out[1]
    np.testing.assert_array_equal(c2, c)
    np.testing.assert_array_equal(s2, s)
    c3, s3 = geo.uniform_directions(np.random.default_rng(4), (300, 17))
    np.testing.assert_array_equal(c3, c)
    np.testing.assert_array_equal(s3, s)


def test_sine_coefficients_are_the_chebyshev_fit():
    """The snippet that generated geometry._SIN_QUARTER_TURN, and the error it promises."""
    mpmath.mp.dps = 40

    def f(x):
        if x == 0:
            return mpmath.pi / 2
        r = mpmath.sqrt(x)
        return mpmath.sin(mpmath.pi * r / 2) / r

    try:  # mpmath >= 1.4 deprecates the descending order and takes asc=True
        poly, fit_err = mpmath.chebyfit(f, [0, mpmath.mpf(1) / 4], 7, error=True, asc=True)
    except TypeError:  # mpmath < 1.4: descending powers only
        poly, fit_err = mpmath.chebyfit(f, [0, mpmath.mpf(1) / 4], 7, error=True)
        poly = poly[::-1]
    np.testing.assert_allclose(geo._SIN_QUARTER_TURN, [float(c) for c in poly], rtol=1e-14)
    assert fit_err < 1e-17
    worst = mpmath.mpf(0)
    for i in range(1, 1001):
        r = mpmath.mpf(i) / 2000
        approx = r * sum(mpmath.mpf(c) * r ** (2 * j) for j, c in enumerate(geo._SIN_QUARTER_TURN))
        worst = max(worst, abs(approx / mpmath.sin(mpmath.pi * r / 2) - 1))
    assert worst < 5e-17


# --------------------------------------------------------------------------- power laws
@pytest.mark.parametrize("p", [-0.5, -1.0, -1.5, -2.0, -2.5, -3.0, -3.5, -4.0, -1.25, -1.65, -4.5])
def test_arrival_power_against_mpmath(p):
    mpmath.mp.prec = 120
    g = np.concatenate([[1e-3, 0.5, 1.0, 2.0, 700.0], np.random.default_rng(6).exponential(20.0, 400)])
    got = geo.arrival_power(g, p)
    out = np.empty_like(g)
    assert geo.arrival_power(g, p, out=out) is out
    np.testing.assert_array_equal(out, got)
    rel = max(
        float(abs(mpmath.mpf(float(x)) / mpmath.power(mpmath.mpf(float(gi)), p) - 1))
        for x, gi in zip(got, g, strict=True)
    )
    assert rel <= 3 * EPS


@pytest.mark.parametrize("batch", [(), (4,), (2, 3)])
def test_direction_sums_any_batch_shape(batch):
    rng = np.random.default_rng(9)
    w = rng.random(batch + (5,))
    phi = 2 * math.pi * rng.random(batch + (5,))
    ex, ey = np.cos(phi), np.sin(phi)
    got = sensing.direction_sums(w, ex, ey)
    assert got.shape == (6,) + batch
    want = [w.sum(-1), (w * ex).sum(-1), (w * ey).sum(-1), (w * ex * ex).sum(-1), (w * ex * ey).sum(-1),
            (w * ey * ey).sum(-1)]  # fmt: skip
    np.testing.assert_allclose(got, np.array(want), rtol=1e-14, atol=1e-15)
