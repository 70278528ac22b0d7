"""Monte Carlo of the Song model against closed forms, tolerances from the standard error.

|mc - exact| <= 4 stderr + bias budget, where the bias budget is the measured bound on the
conditional-mean tail treatment at K = 64 (test_tail_bias_against_exact_conditional_expectation:
< 2e-4 relative; we allow 5e-4).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate

from isacnet import SongParams, song
from isacnet.analysis.song import tail_laplace_exponent
from isacnet.geometry import ordered_arrivals, tail_power_mean

TAIL_BIAS = 5e-4


def close(est, exact, bias=TAIL_BIAS):
    return abs(est.mean - exact) <= 4 * est.stderr + bias * abs(exact)


@pytest.mark.parametrize("gamma", [2.5, 3.0, 4.0])
def test_lemma3_matches_monte_carlo(gamma):
    p = SongParams(gamma=gamma)
    r = song.monte_carlo(p, 120_000, seed=11)
    for q, lam in (("inv_sum_tx", p.tx_density), ("inv_sum_rx", p.rx_density)):
        exact = float(song.lemma3(lam, gamma))
        assert close(r[q], exact), (q, r[q], exact)
        assert r[q].rel_half_width < 0.02


def test_theorem2_matches_monte_carlo_of_eq23():
    p = SongParams()
    r = song.monte_carlo(p, 150_000, seed=12)
    assert close(r["jensen"], song.scaling_bound(p)), (r["jensen"], song.scaling_bound(p))


def test_crlb_sits_above_the_jensen_bound():
    """(18) >= (20) in expectation (Jensen over the angles); the gap is significant."""
    p = SongParams()
    r = song.monte_carlo(p, 60_000, seed=13)
    gap = r["crlb"].mean - song.scaling_bound(p)
    assert gap > 6 * r["crlb"].stderr


def test_tail_bias_against_exact_conditional_expectation():
    """E[1/(S_K + T) | nearest K] exactly (Laplace transform of the tail, by quadrature)
    versus the conditional-mean substitution 1/(S_K + E[T | g_K]) used by the kernel."""
    rng = np.random.Generator(np.random.PCG64(5))
    for gamma in (2.2, 2.5, 3.0, 4.0):
        g = ordered_arrivals(rng, 150, 64)
        s_k = (g ** (-gamma / 2)).sum(axis=1)
        approx = 1.0 / (s_k + tail_power_mean(g[:, -1], gamma))
        def integrand(s, sk, glast, gamma=gamma):
            return math.exp(-s * sk - tail_laplace_exponent(s, glast, gamma))

        exact = np.array([
            integrate.quad(integrand, 0, np.inf, args=(s_k[i], g[i, -1]), limit=200, epsrel=1e-9)[0]
            for i in range(g.shape[0])
        ])
        rel = np.mean(approx - exact) / np.mean(exact)
        assert -2e-4 < rel <= 0.0, (gamma, rel)  # Jensen: the substitution is biased low


def _slope(xs, ests):
    """Weighted least-squares slope of log(mean) on log(x) and its standard error."""
    x = np.log(np.asarray(xs, float))
    y = np.log([e.mean for e in ests])
    w = 1.0 / np.array([(e.stderr / e.mean) ** 2 for e in ests])
    X = np.stack([np.ones_like(x), x], 1)
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    beta = cov @ X.T @ (w * y)
    return beta[1], math.sqrt(cov[1, 1])


@pytest.mark.parametrize(
    ("field", "values", "expected"),
    [
        ("antennas", [1, 4, 16], -2.0),  # ~ (M_t M_r)^-1 with M_t = M_r = M
        ("tx_power", [0.01, 1.0, 100.0], -1.0),  # ~ rho_s^-1
        ("tx_density", [1e-4, 1e-3, 1e-2], -1.25),  # ~ lambda_t^(-gamma/2), gamma = 2.5
        ("both_density", [1e-4, 1e-3, 1e-2], -2.5),  # ~ lambda^-gamma when both move
    ],
)
def test_scaling_slopes_of_the_crlb(field, values, expected):
    ests = []
    for i, v in enumerate(values):
        if field == "antennas":
            p = SongParams(n_tx_antennas=v, n_rx_antennas=v)
        elif field == "both_density":
            p = SongParams(tx_density=v, rx_density=v)
        else:
            p = SongParams(**{field: v})
        ests.append(song.expected_crlb(p, 40_000, seed=100 + i))
    slope, se = _slope(values, ests)
    assert abs(slope - expected) <= 4 * se + 1e-9, (slope, se)


def test_finite_window_gap_shrinks_with_the_radius():
    """The paper's finite-window Monte Carlo sits above the closed form; the gap shrinks as R grows."""
    p = SongParams()
    bound = song.scaling_bound(p)
    small = song.expected_jensen(p, 20_000, seed=21, window_radius=60.0)
    large = song.expected_jensen(p, 20_000, seed=22, window_radius=300.0)
    assert small.mean - bound > 6 * small.stderr
    assert large.mean < small.mean - 4 * math.hypot(small.stderr, large.stderr)
    assert (large.mean - bound) / bound < (small.mean - bound) / bound / 3


def test_window_empty_or_collinear_layouts_are_counted_not_averaged():
    """A tiny window often holds < 2 TXs/RXs: the FIM is singular, counted as +inf."""
    p = SongParams()
    r = song.monte_carlo(p, 5_000, seed=23, window_radius=15.0)
    assert r["crlb"].n_posinf > 0 and r["crlb"].n_nan == 0
    assert not r["crlb"].usable
    assert r["crlb"].n + r["crlb"].n_posinf == 5_000


@pytest.mark.slow
def test_confidence_intervals_cover_at_the_nominal_rate():
    """200 independent small runs of E[1/sum L]: the 95% CI covers Lemma 3 in 95% of them."""
    p = SongParams(gamma=3.0)
    exact = float(song.lemma3(p.tx_density, p.gamma))
    hits = 0
    runs = 200
    for s in range(runs):
        e = song.monte_carlo(p, 4096, seed=1000 + s, k_nearest=32)["inv_sum_tx"]
        lo, hi = e.ci95
        hits += lo <= exact <= hi
    # Binomial(200, 0.95): mean 190, sd 3.1; allow 4 sd either side.
    assert 177 <= hits <= 200, hits


@pytest.mark.slow
def test_theorem2_at_high_precision_several_gammas():
    for gamma, seed in ((2.3, 31), (3.0, 32), (4.0, 33)):
        p = SongParams(gamma=gamma)
        r = song.monte_carlo(p, 600_000, seed=seed, workers=2)
        assert close(r["jensen"], song.scaling_bound(p)), (gamma, r["jensen"])
