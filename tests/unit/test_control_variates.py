"""Control variates of the estimator figure (issue 18): the regression estimator against an
ordinary-least-squares twin, and the first-order error maps against the estimators themselves."""

from __future__ import annotations

import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from isacnet import SongParams
from isacnet import estimation as E
from isacnet.localization.linearised import ls_error_map, ml_error_map, noise_vector
from isacnet.simulation.kernels.localization import EstimatorKernel
from isacnet.simulation.statistics import Estimate, Moments, control_variate


def _ols_intercept(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """Slow twin: the fit y = a + b x by lstsq, a and its textbook standard error s^2 (D^T D)^-1_00."""
    design = np.column_stack([np.ones_like(x), x])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    s2 = resid @ resid / (len(y) - 2)
    cov = s2 * np.linalg.inv(design.T @ design)
    return float(coef[0]), math.sqrt(cov[0, 0])


def _moments(v: np.ndarray, blocks: int = 3) -> Estimate:
    parts = np.array_split(v, blocks)
    m = Moments.of(parts[0])
    for p in parts[1:]:
        m = m.merge(Moments.of(p))
    return m.estimate()


@pytest.mark.parametrize("rho", [0.0, 0.5, 0.999])
def test_control_variate_is_the_ols_intercept(rho):
    g = np.random.default_rng(5)
    x = g.standard_normal(5000)
    y = 4.0 + 3.0 * (rho * x + math.sqrt(1 - rho * rho) * g.standard_normal(5000)) + 0.1 * x * x
    cv = control_variate(_moments(y), _moments(x), _moments(y * x))
    a, se = _ols_intercept(y, x)
    assert cv.mean == pytest.approx(a, rel=1e-12)
    assert cv.stderr == pytest.approx(se, rel=1e-9)
    plain = _moments(y)
    assert cv.n == plain.n == 5000
    if rho > 0.9:  # the variance falls by 1 - rho^2
        assert cv.stderr < 0.1 * plain.stderr


def test_control_variate_falls_back_to_the_plain_mean():
    g = np.random.default_rng(6)
    y = g.exponential(size=100)
    x = g.standard_normal(100)
    plain = _moments(y)
    assert control_variate(plain, _moments(np.zeros(100)), _moments(np.zeros(100))) == plain  # no variance
    assert control_variate(plain, _moments(x[:99]), _moments((y * x)[:99])) == plain  # other samples
    y_nan = y.copy()
    y_nan[3] = np.nan
    x_nan = np.where(np.isfinite(y_nan), x, np.nan)
    cv = control_variate(_moments(y_nan), _moments(x_nan), _moments(y_nan * x_nan))
    assert cv.n == 99 and cv.n_nan == 1
    assert cv.mean == pytest.approx(_ols_intercept(y_nan[np.isfinite(y_nan)], x[np.isfinite(y_nan)])[0], rel=1e-12)


def _scene(aoa: bool, seed: int = 3):
    g = np.random.default_rng(seed)
    tx = g.uniform(-80, 80, (3, 2))
    rx = g.uniform(-80, 80, (4, 2))
    p = SongParams(n_rx_antennas=8, tx_power=1e-2)
    return E.make_scene(tx, rx, np.array([3.0, -2.0]), p, aoa=aoa, rx_array_axis=g.uniform(0, 6.28, 4)), p


@pytest.mark.parametrize("aoa", [False, True])
def test_ml_error_map_is_the_small_noise_ml_error(aoa):
    one, p = _scene(aoa)
    amap, mean = ml_error_map(one)
    crlb = E.crlb_delay_aoa(one.tx[0], one.rx[0], one.target[0], p, aoa=aoa, rx_array_axis=one.rx_axis[0])
    assert mean[0] == pytest.approx(float(crlb), rel=1e-10)  # E|A n|^2 = tr(F^-1)
    scene = one.repeat(8)
    meas = E.simulate(np.random.default_rng(9), scene)
    clean = E.noiseless(scene)
    for eps in (1e-3, 1e-4):  # noise scaled down: the ML error is A n + O(eps^2)
        small = E.Measurements(
            clean.range_sum + eps * (meas.range_sum - clean.range_sum),
            None if clean.dircos is None else clean.dircos + eps * (meas.dircos - clean.dircos),
        )
        n = noise_vector(scene, small)
        ml = E.ml_estimate(
            scene.tx,
            scene.rx,
            small.range_sum,
            scene.range_std,
            scene.target,
            dircos=small.dircos,
            dircos_std=scene.dircos_std,
            rx_array_axis=scene.rx_axis,
        )
        lin = n @ amap[0].T
        err = ml.estimate - scene.target
        assert np.abs(err - lin).max() < 2e-2 * eps * np.abs(lin / eps).max(), eps


@pytest.mark.parametrize("aux", ["tx", "rx"])
def test_ls_error_map_is_the_small_noise_ls_error(aux):
    one, _ = _scene(False)
    amap, mean = ls_error_map(one, aux)
    var = one.range_std[0].ravel() ** 2
    assert mean == pytest.approx(float((amap**2 * var).sum()), rel=1e-12)
    scene = one.repeat(8)
    clean = E.noiseless(scene)
    z = np.random.default_rng(10).standard_normal(clean.range_sum.shape) * scene.range_std
    for eps in (1e-3, 1e-4):
        ls = E.ls_bistatic(scene.tx, scene.rx, clean.range_sum + eps * z, scene.range_std, aux=aux)
        lin = (eps * z).reshape(8, -1) @ amap.T
        assert np.abs(ls.estimate - scene.target - lin).max() < 2e-2 * np.abs(lin).max(), eps


def test_kernel_controls_cover_the_same_samples():
    k = EstimatorKernel(SongParams(tx_power=1e-1), layout_seed=7)
    out = k(np.random.default_rng(1), 256)
    for est in ("ml", "ls"):
        y, x = out[f"{est}_sq_err"], out[f"{est}_cv_x"]
        assert np.array_equal(np.isfinite(y), np.isfinite(x))
        assert_allclose(out[f"{est}_cv_yx"], y * x, rtol=0, atol=0)
    # high SNR: the ML squared error is its linearisation's; the reported LS start is the one of
    # smaller cost of two, a piecewise-linear function of the noise, so its control explains less
    assert np.corrcoef(out["ml_sq_err"], out["ml_cv_x"])[0, 1] > 0.999
    assert np.corrcoef(out["ls_sq_err"], out["ls_cv_x"])[0, 1] > 0.6
    ppp = EstimatorKernel(SongParams(), layout="ppp")(np.random.default_rng(2), 64)
    assert np.all(ppp["ls_cv_x"][np.isfinite(ppp["ls_sq_err"])] == 0.0) and np.isfinite(ppp["ml_cv_x"]).all()


def test_a_layout_that_cannot_localise_gets_a_zero_control():
    """Every node on a line through the target: F is singular (CRLB inf) and the LS system is
    rank-deficient. The kernel runs as before (errors NaN, counted) with controls 0, not an error."""
    k = EstimatorKernel(SongParams(), tx_xy=[(10, 0), (-20, 0), (30, 0)], rx_xy=[(-15, 0), (25, 0), (40, 0)])
    assert k.crlb_fixed() == math.inf
    out = k(np.random.default_rng(1), 16)
    assert np.all(np.isnan(out["ml_sq_err"])) and np.all(out["crlb"] == math.inf)
    one = E.make_scene(np.array(k.tx_xy), np.array(k.rx_xy), np.zeros(2), k.params)
    amap, mean = ml_error_map(one)
    assert np.all(amap == 0.0) and np.all(mean == 0.0)
    assert np.all(ls_error_map(one, "tx")[0] == 0.0)
    # a batch with one singular row: the others keep their maps
    good = _scene(False)[0]
    both = E.make_scene(np.stack([one.tx[0, :3], good.tx[0]]), np.stack([one.rx[0], good.rx[0, :3]]),
                        np.stack([one.target[0], good.target[0]]), k.params)
    amap2, mean2 = ml_error_map(both)
    assert np.all(amap2[0] == 0.0) and np.all(np.isfinite(amap2[1])) and mean2[1] > 0


def _ols_intercept_k(y: np.ndarray, xs: np.ndarray) -> tuple[float, float]:
    """Slow twin with k controls: lstsq of y on [1, x_1 .. x_k], the intercept and its standard error."""
    design = np.column_stack([np.ones(len(y)), xs])
    coef, *_ = np.linalg.lstsq(design, y, rcond=None)
    resid = y - design @ coef
    s2 = resid @ resid / (len(y) - design.shape[1])
    return float(coef[0]), math.sqrt(s2 * np.linalg.inv(design.T @ design)[0, 0])


@pytest.mark.parametrize("k", [1, 2, 3])
def test_control_variates_is_the_ols_intercept_with_k_controls(k):
    """control_variates from first moments (merged blocks) equals lstsq on the samples, and for k = 1
    it is control_variate."""
    from isacnet.simulation.statistics import control_variates

    g = np.random.default_rng(10 + k)
    n = 400
    xs = g.standard_normal((n, k)) + 0.05  # sample means not 0: the correction matters
    y = 2.0 + xs @ np.linspace(0.7, -0.3, k) + 0.2 * g.standard_normal(n)
    est = control_variates(_moments(y), [_moments(xs[:, i]) for i in range(k)],
                           [_moments(y * xs[:, i]) for i in range(k)],
                           {(i, j): _moments(xs[:, i] * xs[:, j]) for i in range(k) for j in range(i + 1, k)})
    a, se = _ols_intercept_k(y, xs)
    assert est.mean == pytest.approx(a, rel=1e-10) and est.stderr == pytest.approx(se, rel=1e-8)
    if k == 1:
        one = control_variate(_moments(y), _moments(xs[:, 0]), _moments(y * xs[:, 0]))
        assert est.mean == pytest.approx(one.mean, rel=1e-12) and est.stderr == pytest.approx(one.stderr, rel=1e-10)


def test_control_variates_falls_back_to_the_plain_mean():
    """Singular controls (two equal), too few samples, or a count mismatch: the plain mean, unchanged."""
    from isacnet.simulation.statistics import control_variates

    g = np.random.default_rng(1)
    x, y = g.standard_normal(50), g.standard_normal(50)
    ey = _moments(y)
    assert control_variates(ey, [_moments(x), _moments(x)], [_moments(x * y)] * 2, {(0, 1): _moments(x * x)}) == ey
    assert control_variates(_moments(y[:3]), [_moments(x[:3])] * 2, [_moments(x[:3] * y[:3])] * 2,
                            {(0, 1): _moments(x[:3] ** 2)}) == _moments(y[:3])
    assert control_variates(ey, [_moments(x[:40])], [_moments(x[:40] * y[:40])], {}) == ey
