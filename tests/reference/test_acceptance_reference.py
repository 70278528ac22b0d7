"""The NB acceptance law against mpmath at 40 digits (docs/acceptance.md)."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest

from isacnet.analysis import acceptance as acc
from isacnet.analysis import meng_sensing as ms

DPS = 40


def _nb_pmf(k, a, m):
    """NB(a, p = a/(a+m)) pmf: Gamma(k+a)/(Gamma(a) k!) p^a (1-p)^k, in mpmath."""
    a, m = mpmath.mpf(a), mpmath.mpf(m)
    p = a / (a + m)
    return mpmath.exp(mpmath.loggamma(k + a) - mpmath.loggamma(a) - mpmath.loggamma(k + 1)) * p**a * (1 - p) ** k


@pytest.mark.parametrize(("a", "m", "ks"), [
    (3.5, 1.0, [0, 1, 2, 5, 20]),
    (3.569, 15.0, [0, 5, 15, 40, 200]),
    (4.5, 0.01, [0, 1, 3, 60]),             # far tail: log domain
    (1e4, 2e4, [0, 19_000, 20_000, 24_000]),  # large shape and mean
])
def test_nb_logpmf_against_mpmath(a, m, ks):
    with mpmath.workdps(DPS):
        want = [mpmath.log(_nb_pmf(k, a, m)) for k in ks]
    got = acc.nb_logpmf(np.array(ks), a, m)
    np.testing.assert_allclose(got, [float(w) for w in want], rtol=1e-11, atol=1e-11)


@pytest.mark.parametrize("mu", [0.5, 1.0, 5.0, 15.0])
def test_published_n1_law_against_mpmath(mu):
    """Other requests at the nearest BS of a request: NB(4.5, 3.5/(3.5 + mu)) with the published
    shape 3.5, i.e. the size-biased NB(3.5) load minus one."""
    ks = np.arange(0, 40)
    with mpmath.workdps(DPS):
        p = mpmath.mpf(3.5) / (mpmath.mpf(3.5) + mu)
        want = [float(mpmath.binomial(k + mpmath.mpf(3.5), k) * p ** mpmath.mpf(4.5) * (1 - p) ** k) for k in ks]
        # size-biasing by hand: (k + 1) P(D = k + 1) / mu
        biased = [float((k + 1) * _nb_pmf(k + 1, 3.5, mu) / mu) for k in ks]
    got = acc.nb_request_load_pmf(ks, 3.5, mu)
    np.testing.assert_allclose(got, want, rtol=1e-11)
    np.testing.assert_allclose(got, biased, rtol=1e-11)


@pytest.mark.parametrize(("psi", "mu", "n", "skip"), [(1, 1.0, 1, 0), (15, 15.0, 1, 0), (15, 7.5, 2, 0),
                                                       (15, 1.0, 15, 0), (15, 14.0, 2, 1), (5, 1.0, 5, 1)])
def test_kappa_against_mpmath_sum(psi, mu, n, skip):
    """kappa = E[min(1, c/(1+K'))], K' ~ NB(a+1): summed term by term at 40 digits."""
    c = psi if skip == 0 else psi - 1
    L_or_N = n if skip == 0 else n + 1
    a = n * n / float(acc.area_variance(n, skip))
    m = mu * n
    with mpmath.workdps(DPS):
        am, mm = mpmath.mpf(a), mpmath.mpf(m)
        # K' ~ NB(a + 1, p): the mean of NB(a + 1, p) is (a + 1) m / a
        kmax = int(m * 3 + 60 * (m + 1) ** 0.5 + 400)
        want = mpmath.fsum(_nb_pmf(k, am + 1, mm * (am + 1) / am) * min(mpmath.mpf(1), mpmath.mpf(c) / (1 + k))
                           for k in range(kmax))
    f = ms.kappa_s if skip == 0 else ms.kappa_c
    assert float(f(psi, mu, L_or_N)) == pytest.approx(float(want), rel=1e-11)
