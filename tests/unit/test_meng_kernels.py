"""Meng Monte Carlo kernels and facade: shapes, seeding, heavy-tail policing, exact small facts."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from isacnet import meng
from isacnet.params import MengParams, ParameterError
from isacnet.rng import block_rng
from isacnet.simulation.meng import MengClusterKernel, MengCrlbKernel

P = MengParams()


def test_kernel_outputs_and_picklable():
    k = MengCrlbKernel(P, 6, thresholds=(1e3, 1e4))
    assert pickle.loads(pickle.dumps(k)) == k
    out = k(np.random.default_rng(0), 100)
    assert set(out) == set(k.quantities)
    assert {"crlb", "log_crlb", "singular", "isotropic", "jensen", "cdf_0", "cdf_1"} <= set(out)
    assert all(v.shape == (100,) for v in out.values())
    assert np.all(out["cdf_0"] <= out["cdf_1"])
    np.testing.assert_allclose(np.exp(out["log_crlb"]), out["crlb"], rtol=1e-12)
    assert np.all(out["cluster_size"] == 6)
    d = k.describe()
    assert d["tail_index"] == 2.5 and d["mean_exists"] and d["variance_exists"]
    assert not MengCrlbKernel(P, 5).variance_exists


def test_kernel_same_rng_same_numbers_and_subbatching_consistent():
    k = MengCrlbKernel(P, 50)
    a = k(np.random.default_rng(5), 64)
    b = k(np.random.default_rng(5), 64)
    for q in a:
        np.testing.assert_array_equal(a[q], b[q])


def test_kernel_matches_layout_function():
    """The kernel's arrival-time computation equals crlb_layout on the same positions."""
    k = MengCrlbKernel(P, 5)
    rng = np.random.default_rng(9)
    tr = k.samples(rng, 20)
    rng = np.random.default_rng(9)
    from isacnet.geometry import ordered_arrivals, uniform_directions

    g = ordered_arrivals(rng, 20, 5)
    c, s = uniform_directions(rng, (20, 5))
    r = np.sqrt(g / (math.pi * P.bs_density))
    bs = np.stack([r * c, r * s], -1)
    np.testing.assert_allclose(tr, meng.crlb_layout(bs, np.zeros(2), P), rtol=1e-9)


def test_mean_only_where_it_exists():
    assert "crlb" not in MengCrlbKernel(P, 3).quantities
    assert "crlb" in MengCrlbKernel(P, 4).quantities
    assert "crlb" not in MengCrlbKernel(P, 10, kappa=0.9).quantities
    assert "isotropic" not in MengCrlbKernel(P, 10, kappa=0.9).quantities
    with pytest.raises(ParameterError) as e:
        meng.expected_crlb(3, P, 100, seed=1)
    assert e.value.name == "N"
    r = meng.monte_carlo(5, P, 500, seed=1)
    assert math.isnan(r["crlb"].stderr) and not r["crlb"].usable
    r = meng.monte_carlo(6, P, 500, seed=1)
    assert math.isfinite(r["crlb"].stderr)


def test_n1_always_singular():
    out = MengCrlbKernel(P, 1)(np.random.default_rng(1), 200)
    assert np.all(out["singular"] == 1.0)
    assert np.all(np.isinf(out["log_crlb"]))
    s = meng.crlb_statistics(1, P, 1000, seed=1)
    assert s.p_singular.mean == 1.0 and s.median.value == math.inf


def test_monte_carlo_independent_of_chunking():
    a = meng.monte_carlo(8, P, 3000, seed=4, block_size=512)
    b = meng.monte_carlo(8, P, 3000, seed=4, block_size=512, chunk_blocks=2)
    assert a["crlb"] == b["crlb"] and a["log_crlb"] == b["log_crlb"]


def test_validation():
    with pytest.raises(ParameterError) as e:
        MengCrlbKernel(P, 0)
    assert e.value.name == "n_bs"
    with pytest.raises(ParameterError):
        MengCrlbKernel(P, 3, kappa=0.0)
    with pytest.raises(ParameterError) as e:
        MengCrlbKernel(P, 3, thresholds=(2.0, 1.0))
    assert e.value.name == "thresholds"
    with pytest.raises(ParameterError):
        MengClusterKernel(P, 5, rule="grow")
    with pytest.raises(ParameterError):
        MengClusterKernel(P, 5, centers=(("nope", 1.0),))
    with pytest.raises(ParameterError):
        meng.crlb_statistics(5, P, 100, seed=1, rule="none", kappa=0.5)
    with pytest.raises(ParameterError):
        meng.simulate_acceptance(P, 1, 5, seed=1, service="communication")


def test_cluster_kernel_outputs():
    k = MengClusterKernel(P, 6, thresholds=(1e4,))
    assert pickle.loads(pickle.dumps(k)) == k
    out = k(block_rng(1, 0, 0), 3)
    assert set(out) == set(k.quantities)
    assert all(v.shape == (3,) for v in out.values())
    assert np.all(out["rounds"] == 1)
    pt = k.per_target(block_rng(1, 0, 0), 2)
    assert set(pt) == {"crlb", "acceptance", "cluster_size", "torus"}
    # same stream -> the HT sums of the first two tori are the per-target sums / E[M]
    em = k.expected_targets
    for i in range(2):
        sel = pt["torus"] == i
        assert out["targets"][i] == pytest.approx(sel.sum() / em)
        assert out["cluster_size"][i] == pytest.approx(pt["cluster_size"][sel].sum() / em)
        assert out["cdf_0"][i] == pytest.approx(np.sum(pt["crlb"][sel] <= 1e4) / em)


def test_cluster_kernel_control_variate_shifts_by_the_constant_only():
    a = MengClusterKernel(P, 6)(block_rng(2, 0, 0), 2)
    b = MengClusterKernel(P, 6, centers=(("acceptance", 0.9),))(block_rng(2, 0, 0), 2)
    np.testing.assert_allclose(b["acceptance"], 0.9 + a["acceptance"] - 0.9 * a["targets"], rtol=1e-12)


def test_crlb_statistics_quantile_matches_sample_quantile():
    """Median from CDF inversion = the empirical median of the same layouts (same stream)."""
    s = meng.crlb_statistics(6, P, 8192, seed=3, block_size=8192)
    k = MengCrlbKernel(P, 6)
    tr = k.samples(block_rng(3, 0, 0), 8192)
    emp = np.median(tr)
    assert s.median.lo <= emp <= s.median.hi
    assert s.median.value == pytest.approx(emp, rel=5e-3)
    g = math.exp(np.mean(np.log(tr)))
    assert s.geometric_mean.value == pytest.approx(g, rel=1e-9)
