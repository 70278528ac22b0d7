"""The three joint-transmission models from the same layouts (JTCompareKernel, figure model
``coverage-jt``): the power-sum and non-coherent closed forms within 4 standard errors of the
Monte Carlo, the ordering the physics fixes, and the figure models' closed forms."""

import math

import numpy as np
import pytest

from isacnet.analysis import coverage as cv
from isacnet.experiments.registry import MODELS
from isacnet.params import MengParams, ParameterError
from isacnet.simulation.kernels.coverage import CoverageKernel, JTCompareKernel

P2 = MengParams(n_tx_antennas=2)


def _check(x: np.ndarray, exact: float, err: float) -> None:
    n = x.size
    se = math.sqrt(max(x.var(), exact * (1.0 - exact)) / n)
    assert abs(x.mean() - exact) <= 4 * se + err, (x.mean(), exact, se)


@pytest.mark.parametrize(
    "L, T, kap, noise",
    [
        (2, 1.0, 0.8, None),
        pytest.param(3, 4.0, 1.0, None, marks=pytest.mark.slow),
        pytest.param(4, 0.5, 0.6, "params", marks=pytest.mark.slow),
    ],
)
def test_jt_kernel_closed_forms_within_4se(L, T, kap, noise):
    out = JTCompareKernel(P2, L, T, kappa_c=kap, noise=noise)(np.random.default_rng(L), 8000)
    for tag, jt in (("ps", "power-sum"), ("nc", "noncoherent")):
        exact, err = cv.coverage(T, L, P2, kappa_c=kap, noise=noise, jt=jt, return_error=True)
        _check(out[f"cov_{tag}"], float(exact), float(err))


@pytest.mark.slow
@pytest.mark.parametrize("L", [2, 5, 10])
@pytest.mark.parametrize("T", [0.1, 1.0, 10.0])
def test_jt_kernel_closed_forms_grid(L, T):
    out = JTCompareKernel(P2, L, T, kappa_c=0.9)(np.random.default_rng(100 * L + int(10 * T)), 60_000)
    for tag, jt in (("ps", "power-sum"), ("nc", "noncoherent")):
        exact, err = cv.coverage(T, L, P2, kappa_c=0.9, jt=jt, return_error=True)
        _check(out[f"cov_{tag}"], float(exact), float(err))


def test_jt_kernel_same_samples_ordering():
    """Coherent >= power-sum per layout (Cauchy-Schwarz is the other way: (sum a)^2 >= sum a^2);
    at L = 1 the three coincide exactly."""
    out = JTCompareKernel(P2, 3, 1.0, kappa_c=1.0)(np.random.default_rng(5), 2000)
    assert np.all(out["rate_coh"] >= out["rate_ps"] - 1e-12)
    one = JTCompareKernel(P2, 1, 1.0)(np.random.default_rng(6), 500)
    np.testing.assert_allclose(one["rate_nc"], one["rate_ps"], rtol=1e-12)
    np.testing.assert_allclose(one["rate_coh"], one["rate_ps"], rtol=1e-12)


def test_jt_kernel_matches_coverage_kernel_in_law():
    """The power-sum output of JTCompareKernel and CoverageKernel agree (independent streams)."""
    a = JTCompareKernel(P2, 2, 1.0, kappa_c=0.7)(np.random.default_rng(1), 6000)["rate_ps"]
    b = CoverageKernel(P2, 2, (1.0,), kappa_c=0.7)(np.random.default_rng(2), 6000)["rate_nats"]
    assert abs(a.mean() - b.mean()) <= 4 * math.hypot(a.std(), b.std()) / math.sqrt(6000)


def test_jt_kernel_bad_input():
    with pytest.raises(ParameterError, match="threshold"):
        JTCompareKernel(P2, 2, -1.0)
    with pytest.raises(ParameterError, match="kappa_c"):
        JTCompareKernel(P2, 2, 1.0, kappa_c=1.5)
    with pytest.raises(ParameterError, match="L"):
        JTCompareKernel(P2, 0, 1.0)


def test_registry_models_closed_forms():
    m = MODELS["coverage-jt"]
    cf = m.closed_forms(P2, m.full_options({"n_comm": 3, "threshold_db": 0.0}))
    assert set(cf) == {"cov_ps_closed", "cov_nc_closed"}
    assert 0 < cf["cov_nc_closed"] < cf["cov_ps_closed"] < 1  # power-sum has diversity, NC-JT none
    cf4 = m.closed_forms(MengParams(), m.full_options({"n_comm": 3}))
    assert math.isnan(cf4["cov_nc_closed"])  # M_t = 4: no non-coherent closed form
    r = MODELS["coverage-jt-rate"]
    assert r.closed_forms(P2, r.full_options({"n_comm": 2}))["rate_ps_closed"] > 0
    meta = MODELS["meta-coop"]
    b = meta.closed_forms(P2, meta.full_options({"x": 0.5}))["meta_noncoop_beta"]
    assert 0 < b < 1
    with pytest.raises(ParameterError, match="n_tx_antennas"):
        meta.kernel(MengParams(), {})
