"""issue 14, item 3: the Monte Carlo at extreme but valid inputs -- no silent 0, no overflow
counted as a singular FIM, no OverflowError; refusal (ParameterError) where the samples cannot
be averaged in float64.

The oracle for the nearly rank-one FIMs of gamma = 60 is mpmath at 60 digits on the same layouts
(regenerated from the seed, in the documented draw order), summing the pair terms literally."""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest

from isacnet import meng, song
from isacnet.params import SPEED_OF_LIGHT, MengParams, ParameterError, SongParams
from isacnet.sensing import ordered_layout
from isacnet.simulation.meng import MengCrlbKernel
from isacnet.simulation.song import SongKernel


@pytest.mark.parametrize("kw", [dict(tx_power=1e308), dict(rcs=1e308), dict(noise_psd=1e-320),
                                dict(tx_density=1e300), dict(rx_density=1e-300), dict(gamma=60)])
def test_song_monte_carlo_refuses_unaveragable_scales(kw):
    """On 0.2.0: crlb = 0 +- 0 with no warning (tx_power, rcs), OverflowError (tx_density)."""
    p = SongParams(**kw)
    with pytest.raises(ParameterError, match="Monte Carlo"):
        SongKernel(p)
    with pytest.raises(ParameterError):
        song.expected_crlb(p, 100, 1)


def test_meng_monte_carlo_refuses_unaveragable_scales():
    for kw in (dict(tx_power=1e308), dict(rcs=1e308), dict(noise_power=1e-320), dict(bs_density=1e300)):
        with pytest.raises(ParameterError, match="Monte Carlo"):
            meng.monte_carlo(8, MengParams(**kw), 100, 1)


def _mp_tr_inv(g_t, ex, ey, g_r, fx, fy, gamma):
    """tr(S^-1) in arrival-time units, pair by pair, with the conditional-mean tails, in mpmath."""
    mpmath.mp.dps = 60
    p = mpmath.mpf(-gamma) / 2
    w = [mpmath.mpf(g) ** p for g in g_t]
    u = [mpmath.mpf(g) ** p for g in g_r]
    tail = lambda g: 2 * mpmath.mpf(g) ** (1 + p) / (mpmath.mpf(gamma) - 2)  # noqa: E731
    wt, ut = tail(g_t[-1]), tail(g_r[-1])
    sxx = sxy = syy = mpmath.mpf(0)
    for wk, a, b in zip(w, ex, ey, strict=True):
        for ul, c, d in zip(u, fx, fy, strict=True):
            vx, vy = mpmath.mpf(a) + mpmath.mpf(c), mpmath.mpf(b) + mpmath.mpf(d)
            sxx += wk * ul * vx * vx
            sxy += wk * ul * vx * vy
            syy += wk * ul * vy * vy
    W, U = sum(w), sum(u)
    # isotropic tails: W_t (B + U/2 I) + U_t (A + W/2 I) + W_t U_t I
    sxx += wt * (sum(ul * mpmath.mpf(c) ** 2 for ul, c in zip(u, fx, strict=True)) + U / 2)
    sxx += ut * (sum(wk * mpmath.mpf(a) ** 2 for wk, a in zip(w, ex, strict=True)) + W / 2) + wt * ut
    syy += wt * (sum(ul * mpmath.mpf(d) ** 2 for ul, d in zip(u, fy, strict=True)) + U / 2)
    syy += ut * (sum(wk * mpmath.mpf(b) ** 2 for wk, b in zip(w, ey, strict=True)) + W / 2) + wt * ut
    sxy += wt * sum(ul * mpmath.mpf(c) * mpmath.mpf(d) for ul, c, d in zip(u, fx, fy, strict=True))
    sxy += ut * sum(wk * mpmath.mpf(a) * mpmath.mpf(b) for wk, a, b in zip(w, ex, ey, strict=True))
    return (sxx + syy) / (sxx * syy - sxy * sxy)


def test_gamma60_nearly_rank_one_fims_are_not_singular():
    """On 0.2.0, 14% of the layouts at gamma = 60 were reported singular (inf): the nearest pair
    outweighs the rest by 1e13, so det = sxx syy - sxy^2 cancels to rounding noise. The FIM is
    positive definite (the isotropic tail alone makes it so): every CRLB must be finite and equal
    the 60-digit value."""
    gamma, k, n, seed = 60.0, 6, 300, 5
    params = SongParams(gamma=gamma, tx_density=1.0, rx_density=1.0)
    kernel = SongKernel(params, k_nearest=k)
    out = kernel(np.random.default_rng(seed), n)
    assert np.all(np.isfinite(out["crlb"])) and np.all(out["crlb"] > 0)
    # the same layouts, in the kernel's draw order
    rng = np.random.default_rng(seed)
    et, ut = rng.standard_exponential((n, k)), rng.random((n, k))
    er, ur = rng.standard_exponential((n, k)), rng.random((n, k))
    g_t, _, ex, ey = ordered_layout(et, ut, -0.5 * gamma)
    g_r, _, fx, fy = ordered_layout(er, ur, -0.5 * gamma)
    mpmath.mp.dps = 60
    const = (mpmath.mpf(params.n_rx_antennas * params.n_tx_antennas) * mpmath.e ** mpmath.mpf(params.log_eta)
             / mpmath.mpf(SPEED_OF_LIGHT) ** 2 * mpmath.pi ** gamma)  # (pi lam)^(gamma/2) twice, lam = 1
    # which layouts are nearly rank-one (the ones 0.2.0 called singular): condition > 1e13
    checked = 0
    for i in range(n):
        ref = _mp_tr_inv(g_t[i], ex[i], ey[i], g_r[i], fx[i], fy[i], gamma) / const
        assert out["crlb"][i] == pytest.approx(float(ref), rel=1e-9), i
        checked += 1
    assert checked == n


def test_gamma60_had_false_singulars_on_the_plain_formula():
    """The test above is not vacuous: the plain 2x2 inverse judges many of these layouts singular."""
    from isacnet.sensing import pairwise_fim, trace_inverse_2x2

    gamma, k, n = 60.0, 6, 300
    rng = np.random.default_rng(5)
    et, ut = rng.standard_exponential((n, k)), rng.random((n, k))
    er, ur = rng.standard_exponential((n, k)), rng.random((n, k))
    with np.errstate(over="ignore"):
        _, w, ex, ey = ordered_layout(et, ut, -0.5 * gamma)
        _, u, fx, fy = ordered_layout(er, ur, -0.5 * gamma)
    with np.errstate(all="ignore"):
        _, singular = trace_inverse_2x2(*pairwise_fim(w, ex, ey, u, fx, fy))
    assert singular.sum() >= 10


def test_song_monte_carlo_scales_exactly_with_the_noise():
    """CRLB ∝ N0 exactly (the FIM is proportional to rho_s): the same seed at noise c N0 gives
    c times the samples, through the whole range the Monte Carlo accepts."""
    base = SongParams()
    ref = SongKernel(base)(np.random.default_rng(3), 500)["crlb"]
    for c in (1e-60, 1e40):
        got = SongKernel(SongParams(noise_psd=base.noise_psd * c))(np.random.default_rng(3), 500)["crlb"]
        np.testing.assert_allclose(got, ref * c, rtol=1e-12)


def test_meng_singular_counts_only_rank_deficient_fims():
    """N = 1 is rank one (singular for every layout); N = 8 at beta = 2 never is."""
    p = MengParams()
    out1 = MengCrlbKernel(p, 1)(np.random.default_rng(1), 400)
    out8 = MengCrlbKernel(p, 8)(np.random.default_rng(1), 400)
    assert out1["singular"].sum() == 400 and out8["singular"].sum() == 0
    assert math.isfinite(float(np.mean(out8["log_crlb"])))
