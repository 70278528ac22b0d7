"""Torus typical-point kernels (isacnet.typical): their PPP curves (torus and ordered) against ordered
sampling / the rate kernel, and the stratified sampling against the i.i.d. uniform one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from isacnet.params import MengParams, SongParams
from isacnet.typical import TypicalKernel


def _close(a: np.ndarray, b: np.ndarray) -> None:
    se = math.hypot(a.std(ddof=1) / math.sqrt(a.size), b.std(ddof=1) / math.sqrt(b.size))
    assert abs(a.mean() - b.mean()) <= 4 * se, (a.mean(), b.mean(), se)


@pytest.mark.slow
@pytest.mark.parametrize("ppp", ["torus", "ordered"])
def test_typical_crlb_ppp_matches_ordered_sampling(ppp):
    from isacnet.simulation.meng import MengCrlbKernel

    p = MengParams()
    t = TypicalKernel(p, "crlb", 6, epsilon=100.0, points=16, ppp=ppp)(np.random.default_rng(3), 150)
    ref = MengCrlbKernel(p, 6, thresholds=(100.0**2,))(np.random.default_rng(4), 100_000)
    _close(t["cov_ppp"], ref["cdf_0"])
    _close(t["log_ppp"], ref["log_crlb"])


@pytest.mark.slow
@pytest.mark.parametrize("ppp", ["torus", "ordered"])
def test_typical_song_ppp_matches_ordered_sampling(ppp):
    """Song CRLB with the 4 nearest TXs and RXs: the kernel's PPP against ordered PPP layouts of 4 + 4 points."""
    from isacnet.geometry import ordered_ppp
    from isacnet.sensing import song_crlb

    p = SongParams()
    t = TypicalKernel(p, "song", 4, epsilon=0.03, points=16, ppp=ppp)(np.random.default_rng(5), 150)
    rng = np.random.default_rng(6)
    n = 50_000
    _, tx = ordered_ppp(rng, n, 4, p.tx_density)
    _, rx = ordered_ppp(rng, n, 4, p.rx_density)
    tr = song_crlb(tx, rx, np.zeros(2), p)
    _close(t["cov_ppp"], (tr <= 0.03**2).astype(float))
    _close(t["log_ppp"], np.log(tr))


@pytest.mark.slow
@pytest.mark.parametrize("ppp", ["torus", "ordered"])
def test_typical_comp_ppp_matches_rate_kernel(ppp):
    from isacnet.analysis.meng_sensing import kappa_c
    from isacnet.simulation.meng_rate import MengRateKernel

    p = MengParams()
    L = 3
    t = TypicalKernel(p, "comp", L, threshold_db=0.0, points=8, ppp=ppp)(np.random.default_rng(7), 60)
    k = MengRateKernel(p, L, kappa_c=float(kappa_c(p.resource_blocks, p.mu_c, L)))
    ref = k(np.random.default_rng(8), 100_000)
    _close(t["rate_ppp"], ref["rate_nats"])
    _close(t["cov_ppp"], (ref["sir_db"] > 0.0).astype(float))


@pytest.mark.slow
@pytest.mark.parametrize(("quantity", "kw"), [
    ("crlb", {"epsilon": 60.0, "n_bs": 4}),
    ("song", {"epsilon": 0.03, "n_bs": 3}),
    ("comp", {"threshold_db": 0.0, "n_bs": 2, "exact_sites": 32, "panels": 8}),
])
def test_stratified_sampling_agrees_with_uniform(quantity, kw):
    """The jittered grid (and song's per-point RX shift) changes the variance, not the mean: every
    output of every process against 0.3's i.i.d. uniform points, independent runs, 4 se."""
    p = SongParams() if quantity == "song" else MengParams()
    n, points = (40, 64) if quantity == "comp" else (120, 128)
    a = TypicalKernel(p, quantity, points=points, n_sites=200, **kw)(np.random.default_rng(11), n)
    b = TypicalKernel(p, quantity, points=points, n_sites=200, sampling="uniform", ppp="torus",
                      **kw)(np.random.default_rng(12), n)
    for name in a:
        if np.all(a[name] == a[name][0]) and np.all(b[name] == a[name][0]):
            continue  # a coverage of 0 or 1 at every point of both: nothing to compare
        _close(a[name], b[name])


@pytest.mark.slow
def test_near_points_agree_with_the_grid_alone():
    """Points near the sites (multiple importance sampling) change the coverage's variance, not its
    mean: every coverage of every torus process against the jittered grid alone, independent runs,
    4 se; a small coverage (about 0.01-0.03 at epsilon = 50 m, lambda_b = 10^-6.5) so that the
    weights matter, and a larger epsilon where many covered points lie beyond R0 (600 samples: a
    bias of 5% in the weights fails it, checked by hand)."""
    p = MengParams(bs_density=10**-6.5)
    kw = dict(n_bs=8, thresholds=(50.0, 150.0), n_sites=200, ppp_points=1)
    a = TypicalKernel(p, "crlb", points=256, near_points=512, near_radius=0.1, **kw)(np.random.default_rng(13), 600)
    b = TypicalKernel(p, "crlb", points=1024, **kw)(np.random.default_rng(14), 600)
    for name in a:
        if name.startswith("cov_") and "ppp" not in name:
            _close(a[name], b[name])
            assert a[name].mean() > 0.005


@pytest.mark.slow
def test_two_radii_and_the_ppp_first_arrival_agree_with_plain_sampling():
    """Near points in two discs (0.1 and 0.3 spacings, stratified offsets) and the PPP's first
    arrival by stratified importance sampling against the grid alone and plain ordered sampling,
    independent runs, 4 se, every coverage of every process (the PPP included), at a small and a
    larger epsilon; the Matern II site-count control has mean 0 (its E[n] is exact)."""
    p = MengParams(bs_density=10**-6.5)
    kw = dict(n_bs=8, thresholds=(50.0, 150.0), n_sites=200, ppp_points=512)
    a = TypicalKernel(p, "crlb", points=256, near_points=512, near_radius=(0.1, 0.3), **kw)(
        np.random.default_rng(15), 500)
    b = TypicalKernel(p, "crlb", points=1024, **kw)(np.random.default_rng(16), 500)
    for name in b:
        if name.startswith("cov") and not name.startswith("covx"):
            _close(a[name], b[name])
            assert a[name].mean() > 0.005
    x = np.concatenate([a["sitesx_matern_ii"], b["sitesx_matern_ii"]])
    assert abs(x.mean()) <= 4 * x.std(ddof=1) / math.sqrt(x.size)


@pytest.mark.slow
def test_matern_site_count_control_variate_agrees_and_narrows():
    """The derived covcv_matern_ii (regression control variate on X = n / E[n] - 1) against the plain
    mean of an independent run (4 se), with a smaller standard error than the plain mean of the
    same samples at a small coverage (epsilon = 50 m, lambda_b = 10^-6.25, 300 samples)."""
    from isacnet.experiments.registry.deploy import _crlb_derived
    from isacnet.simulation.statistics import Moments

    p = MengParams(bs_density=10**-6.25)
    kw = dict(n_bs=8, epsilon=50.0, n_sites=400, ppp_points=64, near_points=256, near_radius=(0.15, 0.3))
    a = TypicalKernel(p, "crlb", points=128, **kw)(np.random.default_rng(17), 300)
    b = TypicalKernel(p, "crlb", points=128, **kw)(np.random.default_rng(18), 300)
    est = _crlb_derived({k: Moments.of(v).estimate() for k, v in a.items()}, None)
    cv, plain = est["covcv_matern_ii"], est["cov_matern_ii"]
    other = Moments.of(b["cov_matern_ii"]).estimate()
    assert abs(cv.mean - other.mean) <= 4 * math.hypot(cv.stderr, other.stderr)
    assert cv.stderr < 0.9 * plain.stderr and cv.n == 300


@pytest.mark.slow
def test_comp_shot_noise_control_variate_agrees_and_narrows():
    """ratecv_P (regression control variate on the shot-noise control, control_radius = 0.4) against
    the plain mean of an independent run (4 se), every process, with at most 0.7x the plain
    standard error of the same samples (L = 1 and 4; 200 samples of 32 points)."""
    from isacnet.experiments.registry.deploy import _comp_derived
    from isacnet.simulation.statistics import Moments

    p = MengParams()
    for L in (1, 4):
        kw = dict(points=32, n_sites=200, ppp_points=32, exact_sites=32, panels=8, with_coverage=False)
        a = TypicalKernel(p, "comp", L, control_radius=0.4, **kw)(np.random.default_rng(30 + L), 200)
        b = TypicalKernel(p, "comp", L, **kw)(np.random.default_rng(40 + L), 200)
        est = _comp_derived({k: Moments.of(v).estimate() for k, v in a.items()}, None)
        for proc in ("ppp", "hexagonal", "perturbed", "matern_ii"):
            cv, plain = est[f"ratecv_{proc}"], est[f"rate_{proc}"]
            other = Moments.of(b[f"rate_{proc}"]).estimate()
            assert abs(cv.mean - other.mean) <= 4 * math.hypot(cv.stderr, other.stderr), (L, proc)
            assert cv.stderr < 0.7 * plain.stderr, (L, proc, cv.stderr / plain.stderr)
