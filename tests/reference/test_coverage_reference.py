"""Closed-form coverage against mpmath at 30 digits by an independent route (L = 1, integer desired
shape k: P(g > T Y) = sum_{n<k} (-s)^n/n! d^n/ds^n E[e^(-s Y)], s = T / theta_d, with
E[e^(-sY)] = 1 / (1 + G(s/m, m)), G by mpmath's hyp2f1 and the derivatives by mp.diff).

Generating snippet (what the test runs):
    G = lambda x, k: (1+x)**-k - 1 + k*x/(1-d) * mp.hyp2f1(k+1, 1-d, 2-d, -x)
    cov = sum((-s)**n / n! * mp.diff(lambda s: 1/(1 + G(s/m, m)), s, n) for n < k)
"""

import mpmath as mp
import numpy as np
import pytest

from isacnet.analysis import coverage as cv
from isacnet.params import MengParams


def _mp_coverage(T, k, theta, m, alpha):
    d = mp.mpf(2) / alpha

    def G(x, kk):
        return (1 + x) ** -kk - 1 + kk * x / (1 - d) * mp.hyp2f1(kk + 1, 1 - d, 2 - d, -x)

    def lap(s):
        return 1 / (1 + G(s / m, m))

    s = mp.mpf(T) / theta
    return sum((-s) ** n / mp.factorial(n) * mp.diff(lap, s, n) for n in range(k))


@pytest.mark.parametrize(
    "params, m",
    [
        (MengParams(), 1.0),  # k = 3, p^c = 1/2
        (MengParams(n_tx_antennas=2), 2.0),  # Nakagami m = 2: k = 2, interferers Gamma(2, 1/2)
        (MengParams(n_tx_antennas=3, alpha=3.0, sensing_power_fraction=0.2), 1.0),
    ],
)
def test_L1_against_mpmath(params, m):
    mp.mp.dps = 30
    try:
        T = np.array([1e-3, 0.2, 1.0, 7.0, 1e3])
        k = int(round(m * (params.n_tx_antennas - 1)))
        theta = mp.mpf(params.comm_power_fraction) / m
        ref = np.array([float(_mp_coverage(t, k, theta, mp.mpf(m), mp.mpf(params.alpha))) for t in T])
        got = cv.coverage(T, 1, params, m=m)
        np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-11)
    finally:
        mp.mp.dps = 15


def test_G_against_mpmath_quadrature():
    mp.mp.dps = 25
    try:
        for x, k, a in ((0.7j, 1.0, 4.0), (-30j, 3.0, 4.0), (2.0, 0.5, 3.0), (1e4j, 2.0, 2.5)):
            # y = u^(-alpha/2), then y = t^(1/(1-delta)) (removes the y^-delta endpoint singularity):
            # G = delta/(1-delta) int_0^1 t^(-1/(1-delta)) (1 - (1 + x y)^-k) dt, split where |x y| ~ 1
            d, z = 2 / mp.mpf(a), mp.mpc(x)
            e = 1 / (1 - d)
            cuts = {(mp.mpf(10) ** j / abs(z)) ** (1 - d) for j in range(-3, 4) if mp.mpf(10) ** j < abs(z)}
            pts = sorted({mp.mpf(0), mp.mpf(1)} | cuts)

            def f(t, e=e, k=k, z=z):
                return -(t ** (-e)) * mp.expm1(-k * mp.log1p(z * t**e))

            ref = d * e * mp.quad(f, pts)
            assert abs(complex(cv.G(x, k, a)) - complex(ref)) <= 1e-8 * max(1.0, abs(complex(ref)))
    finally:
        mp.mp.dps = 15
