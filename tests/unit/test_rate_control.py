"""The control variate of the CoMP-rate Monte Carlo (issue 18): the kernel's outputs against a
per-layout loop, and its mean, psi(M_t - 1) + ln p^c - (alpha/2)(psi(1) - psi(j + 1)), against
numerical integration of the laws it rests on (Gamma(a, scale) and the ordered arrival times)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, special

from isacnet.meng import rate_kernel
from isacnet.params import MengParams
from isacnet.simulation.kernels._rate_control import control_index, control_mean, rate_control


def _mean_log_gamma(a: float, scale: float) -> float:
    """E[ln G], G ~ Gamma(a, scale), by quadrature of ln x against the density (no digamma)."""
    pdf = lambda x: x ** (a - 1) * math.exp(-x / scale) / (math.gamma(a) * scale**a)  # noqa: E731
    return sum(integrate.quad(lambda x: math.log(x) * pdf(x), lo, hi, limit=200)[0]
               for lo, hi in ((0.0, scale), (scale, math.inf)))


@pytest.mark.parametrize("mt,ps,alpha,L,K", [(4, 0.4, 4.0, 5, 64), (2, 0.1, 3.0, 1, 64), (8, 0.7, 3.5, 12, 12)])
def test_control_mean_is_the_mean_of_the_logs(mt, ps, alpha, L, K):
    p = MengParams(n_tx_antennas=mt, sensing_power_fraction=ps, alpha=alpha)
    j = control_index(L, K)
    assert j == min(L, K - 1)
    want = _mean_log_gamma(mt - 1, 1.0 - ps) - 0.5 * alpha * (_mean_log_gamma(1, 1.0) - _mean_log_gamma(j + 1, 1.0))
    assert control_mean(p, L, K) == pytest.approx(want, rel=1e-9, abs=1e-10)


def test_kernel_outputs_match_a_per_layout_loop():
    p = MengParams(sensing_power_fraction=0.4)
    k = rate_kernel(p, 5, k_nearest=32)
    d = k.draw(np.random.default_rng(3), 200)
    out = k.evaluate(d)
    m = control_mean(p, 5, 32)
    for i in range(200):
        x = math.log(d.desired[i, 0]) - 2.0 * (math.log(d.arrivals[i, 0]) - math.log(d.arrivals[i, 5])) - m
        assert out["cv_x"][i] == pytest.approx(x, rel=1e-12, abs=1e-12)
        assert out["cv_rate_x"][i] == pytest.approx(out["rate_nats"][i] * x, rel=1e-12, abs=1e-12)
    np.testing.assert_array_equal(out["cv_x"], rate_control(d.arrivals, d.desired[:, 0], p, 5))


def test_only_the_paper_model_with_data_power_has_a_control():
    p = MengParams()
    assert {"cv_x", "cv_rate_x"} <= set(rate_kernel(p, 3).quantities)
    assert not {"cv_x", "cv_rate_x"} & set(rate_kernel(p, 3, model="zf").quantities)
    assert not {"cv_x", "cv_rate_x"} & set(rate_kernel(MengParams(sensing_power_fraction=1.0), 3).quantities)
    assert rate_kernel(MengParams(sensing_power_fraction=1.0), 3).control_args == (-1, 0.0)
    assert special.digamma(1.0) == pytest.approx(-np.euler_gamma)


@pytest.mark.parametrize("N,p_c", [(8, 0.5), (0, 0.5), (8, 0.0), (0, 1.0)])
def test_design_kernel_declares_what_it_outputs(N, p_c):
    """MengDesignKernel (Meng Fig. 5): its outputs are its declared quantities (part of the chunk
    key), the rate's control variate passed through wherever the rate kernel has one."""
    from isacnet.simulation.kernels.meng_design import MengDesignKernel

    k = MengDesignKernel(MengParams(), L=3, N=N, p_c=p_c, kappa_c=0.9 if p_c > 0 else None)
    out = k(np.random.default_rng(1), 64)
    assert set(out) == set(k.quantities)
    assert ("cv_x" in out) == (p_c > 0)
    if p_c > 0:  # the same numbers as the rate kernel's, from the same stream
        r = k.rate_kernel(np.random.default_rng(1), 64)
        np.testing.assert_array_equal(out["cv_x"], r["cv_x"])
