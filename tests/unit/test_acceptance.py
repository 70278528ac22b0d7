"""The NB acceptance law (isacnet.analysis.acceptance, docs/acceptance.md): fast checks.

Independent routes: direct sums of the NB pmf (slow twin of the closed form), the size-biased
route E[min(1, c/(1+K'))], known geometry (the lens of two equal disks), Gilbert's (1962)
Voronoi cell-area variance 0.2802 and the analytic slope 1/2 - 2/pi^2 of the area variance.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from isacnet.analysis import acceptance as acc
from isacnet.analysis import meng_sensing as ms
from isacnet.params import ParameterError


# --------------------------------------------------------------------------- slow twins
def _twin_acceptance(c: int, m: float, a: float) -> float:
    """E[min(D, c)] / m by an explicit sum over the NB pmf (scipy.stats.nbinom)."""
    p = a / (a + m)
    kmax = int(m + 60 * math.sqrt(m * (1 + m / a)) + 200)
    k = np.arange(kmax)
    return float(np.sum(stats.nbinom.pmf(k, a, p) * np.minimum(k, c)) / m)


def _twin_request_view(c: int, m: float, a: float) -> float:
    """E[min(1, c/(1+K'))], K' ~ NB(a + 1, a/(a+m)): the view of a typical request."""
    p = a / (a + m)
    k = np.arange(int(m + 60 * math.sqrt(m * (1 + m / a)) + 200))
    return float(np.sum(stats.nbinom.pmf(k, a + 1, p) * np.minimum(1.0, c / (1.0 + k))))


@pytest.mark.parametrize(("c", "m", "a"), [(1, 1.0, 3.5), (5, 5.0, 3.57), (15, 15.0, 50.0),
                                           (14, 14.0, 5.6), (15, 30.0, 7.0), (3, 0.5, 100.0),
                                           (40, 10.0, 0.7), (1, 25.0, 2.0)])
def test_closed_form_against_two_sums(c, m, a):
    got = float(acc.nb_request_acceptance(c, m, a))
    assert got == pytest.approx(_twin_acceptance(c, m, a), rel=1e-11, abs=1e-14)
    assert got == pytest.approx(_twin_request_view(c, m, a), rel=1e-11, abs=1e-14)


def test_poisson_limit_and_edges():
    assert acc.nb_request_acceptance(15, 15.0, np.inf) == pytest.approx(
        float(ms.poisson_request_acceptance(15, 15.0)), rel=1e-15)
    assert acc.nb_request_acceptance(15, 15.0, 1e13) == pytest.approx(
        float(ms.poisson_request_acceptance(15, 15.0)), rel=1e-9)
    assert acc.nb_request_acceptance(0, 2.0, 3.0) == 0.0
    assert acc.nb_request_acceptance(4, 0.0, 3.0) == 1.0
    # saturation: kappa -> c / m
    assert acc.nb_request_acceptance(15, 3000.0, 3000 / 0.3) == pytest.approx(15 / 3000, rel=1e-9)


def test_request_load_pmf_is_the_published_law_at_n1():
    """shape 3.5: K' ~ NB(4.5, 3.5/(3.5 + mu)) (Ferenc-Neda; Yu-Kim; Singh-Dhillon-Andrews)."""
    mu = 2.0
    k = np.arange(60)
    want = stats.nbinom.pmf(k, 4.5, 3.5 / (3.5 + mu))
    np.testing.assert_allclose(acc.nb_request_load_pmf(k, 3.5, mu), want, rtol=1e-12)
    np.testing.assert_allclose(np.exp(acc.nb_logpmf(k, 3.5, mu)), stats.nbinom.pmf(k, 3.5, 3.5 / 5.5),
                               rtol=1e-12)
    np.testing.assert_allclose(np.exp(acc.nb_logpmf(k, np.inf, mu)), stats.poisson.pmf(k, mu), rtol=1e-12)
    # the kappa of that law, at c = 1: E[1/(1+K')]
    assert float(acc.kappa_s_nb(1, mu, 1, shape=3.5)) == pytest.approx(
        float(np.sum(want / (1.0 + k))), rel=1e-10)


# --------------------------------------------------------------------------- area variance
def test_lens_area_equal_disks():
    """Two disks of area s through the origin at angle phi: (s/pi)(pi - phi - sin phi)."""
    phi = np.linspace(0.0, math.pi, 9)
    s = 3.0
    got = acc._lens_area(np.full_like(phi, s), np.full_like(phi, s), phi)
    # (at phi = pi the disks touch: the square root of a rounding-level product leaves 3e-8)
    np.testing.assert_allclose(got, s / math.pi * (math.pi - phi - np.sin(phi)), atol=1e-7)
    # nested at phi = 0: the smaller disk
    assert acc._lens_area(np.array(1.0), np.array(4.0), np.array(0.0)) == pytest.approx(1.0)


def test_lens_area_against_grid_count():
    """Unequal disks: area of the intersection by counting a fine grid."""
    s1, s2, phi = 2.0, 5.0, 1.1
    r1, r2 = math.sqrt(s1 / math.pi), math.sqrt(s2 / math.pi)
    c1, c2 = np.array([r1, 0.0]), r2 * np.array([math.cos(phi), math.sin(phi)])
    h = 0.002
    x, y = np.meshgrid(np.arange(-2.6, 2.6, h), np.arange(-2.6, 2.6, h))
    inside = ((x - c1[0]) ** 2 + (y - c1[1]) ** 2 <= r1 * r1) & ((x - c2[0]) ** 2 + (y - c2[1]) ** 2 <= r2 * r2)
    assert float(acc._lens_area(np.array(s1), np.array(s2), np.array(phi))) == pytest.approx(
        inside.sum() * h * h, rel=3e-3)


def test_voronoi_cell_area_variance_is_gilberts():
    """v(1, 0) = Var of the typical Poisson-Voronoi cell area = 0.2802 (Gilbert 1962), a coarse
    quadrature and the table; E[area] = 1 is built in."""
    coarse = acc.region_area_variance(1, 0, nodes=12, panels=4, nphi=24)
    assert coarse == pytest.approx(0.2802, abs=1.5e-3)
    assert float(acc.area_variance(1, 0)) == pytest.approx(0.2802, abs=1e-4)
    # so the shape of the gamma law with the exact variance is 3.569, the published fit 3.5
    assert 1.0 / float(acc.area_variance(1, 0)) == pytest.approx(3.569, abs=2e-3)


def test_area_variance_slope():
    """v(n) - v(n-1) -> 1/2 - 2/pi^2 (mean overlap of two equal disks through the BS)."""
    assert acc.VAR_SLOPE == pytest.approx(0.5 - 2 / math.pi**2)
    for skip in (0, 1):
        top = len(acc._VAR_TABLE[skip])
        d = float(acc.area_variance(top, skip) - acc.area_variance(top - 1, skip))
        assert d == pytest.approx(acc.VAR_SLOPE, abs=4e-3)
        # extrapolation: continuous slope beyond the table
        assert float(acc.area_variance(top + 1, skip) - acc.area_variance(top, skip)) == pytest.approx(acc.VAR_SLOPE)
    # 0 < v and v < n (the area is less variable than a Poisson count of the same mean)
    n = np.arange(1, 50)
    v = acc.area_variance(n, 0)
    assert np.all(v > 0) and np.all(v < n) and np.all(np.diff(v) > 0)


# --------------------------------------------------------------------------- kappa wiring
def test_default_variant_is_nb():
    assert ms.kappa_s(15, 1.0, 10) == ms.kappa_s(15, 1.0, 10, "nb")
    assert ms.kappa_c(15, 1.0, 10) == ms.kappa_c(15, 1.0, 10, "nb")
    a = 100.0 / float(acc.area_variance(10, 0))
    assert ms.kappa_s(15, 1.0, 10) == pytest.approx(_twin_acceptance(15, 10.0, a), rel=1e-11)
    a = 81.0 / float(acc.area_variance(9, 1))
    assert ms.kappa_c(15, 1.0, 10) == pytest.approx(_twin_acceptance(14, 9.0, a), rel=1e-11)
    assert ms.kappa_c(15, 3.0, 1) == 1.0 and ms.kappa_c(1, 3.0, 4) == 0.0
    assert ms.kappa_s(15, 1.0, 10, "poisson") == ms.kappa_s(15, 1.0, 10, "derived")
    assert ms.kappa_c(15, 1.0, 10, "poisson") == ms.kappa_c(15, 1.0, 10, "derived")


def test_nb_below_poisson_and_bounds():
    """Overdispersion lowers the acceptance: NB <= Poisson; Jensen: c/(c + m (1 + 1/a)) <=
    kappa <= min(1, c/m)."""
    psi, mu, N = np.meshgrid([1, 5, 15], [0.5, 1, 2, 5, 15], [1, 2, 5, 20, 40], indexing="ij")
    nb, po = ms.kappa_s(psi, mu, N), ms.kappa_s(psi, mu, N, "derived")
    assert nb.shape == (3, 5, 5)
    assert np.all(nb <= po + 1e-15)
    m = mu * N
    a = N * N / acc.area_variance(N, 0)
    assert np.all(nb >= psi / (psi + m * (1 + 1 / a)) - 1e-12)
    assert np.all(nb <= np.minimum(1.0, psi / m) + 1e-12)


OLD = {  # computed with the code of commit 4e455f1 (before this change)
    "s": ([(1, 1.0, 1), (5, 5.0, 1), (15, 15.0, 1), (15, 7.5, 2), (15, 1.0, 15), (15, 2.0, 10), (5, 0.5, 7)], {
        "derived": [0.6321205588285577, 0.8245326302321496, 0.897564133335466, 0.897564133335466,
                    0.897564133335466, 0.7374794301281775, 0.9288541631727782],
        "paper": [0.540582789476528, 0.7943703953963368, 0.9124825985128976, 0.8682275120409664,
                  0.8264470926474013, 0.7275820886691906, 0.8444668998223197],
        "appendix": [0.540582789476528, 0.27989254721390666, 0.17377578532976687, 0.2624831538942413,
                     0.3679561924909914, 0.610502752665422, 0.24575500541398476],
        "typical-bs": [0.8986757576468127, 0.9477076700934248, 0.9808432461181308, 0.9599641012994082,
                       0.9286710297401698, 0.7857435498881613, 0.969471448890135]}),
    "c": ([(15, 1.0, 2), (15, 14.0, 2), (15, 1.0, 16), (5, 2.0, 3), (15, 1.0, 20)], {
        "derived": [0.9999999999996801, 0.8940108520694843, 0.8619410472650665, 0.8046331851868356,
                    0.7248991152393781],
        "paper": [0.9999999999939676, 0.6157868333119989, 0.8975992765084584, 0.8317813390038866,
                  0.7672216678158612]}),
}


@pytest.mark.parametrize("fam", ["s", "c"])
def test_old_variants_unchanged(fam):
    pts, table = OLD[fam]
    f = ms.kappa_s if fam == "s" else ms.kappa_c
    for v, want in table.items():
        got = [float(f(*p, v)) for p in pts]
        np.testing.assert_allclose(got, want, rtol=1e-14, err_msg=v)


# --------------------------------------------------------------------------- validation
@pytest.mark.parametrize("variant", ["nb", "derived", "paper"])
def test_validation_names_the_parameter(variant):
    for f in (ms.kappa_s, ms.kappa_c):
        with pytest.raises(ParameterError, match=r"psi = 10+ is invalid: must be integer\(s\) in \[1, 2\*\*53\]"):
            f(10**30, 1, 10, variant)
        with pytest.raises(ParameterError) as e:
            f(0, 1, 10, variant)
        assert e.value.name == "psi"
        with pytest.raises(ParameterError) as e:
            f(15, -1.0, 10, variant)
        assert e.value.name in ("mu_s", "mu_c")
        with pytest.raises(ParameterError) as e:
            f(15, 1.0, 2.5, variant)
        assert e.value.name in ("N", "L")
    with pytest.raises(ParameterError) as e:
        ms.kappa_s(15, 1.0, 10**30)
    assert e.value.name == "N"
    with pytest.raises(ParameterError) as e:
        ms.kappa_s(15, 1.0, 10, "nope")
    assert e.value.name == "variant"


def test_extremes_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for v in ("nb", "derived"):
            assert ms.kappa_s(2**53, 1e-300, 2**53, v) == 1.0
            assert ms.kappa_s(1, 1e300, 1, v) == pytest.approx(1e-300, rel=1e-6)
            with pytest.raises(ParameterError) as e:  # mean load 9e315 overflows: refused, never clipped
                ms.kappa_c(2**53, 1e300, 2**53, v)
            assert e.value.name == "mu_c"
            k = ms.kappa_s(10**6, 1.0, 10**6, v)  # sd of the load ~ sqrt(1.3e6): 1 - 0.4 sd/m
            assert 0.9995 < k < 0.99962
        big = ms.kappa_s(np.array([1, 15, 10**4]), np.array([[1e-3], [1.0], [1e3]]), 10**5)
        assert big.shape == (3, 3) and np.all((big >= 0) & (big <= 1))


def test_printed_forms_refuse_loads_beyond_their_sum():
    """The printed forms sum their Poisson tail term by term: mu N-bar <= 1e8, else a clear
    ParameterError (it was a numpy 'Maximum allowed size exceeded')."""
    with pytest.raises(ParameterError) as e:
        ms.kappa_s(15, 1e300, 2**53, "paper")
    assert e.value.name == "mu_s"
    with pytest.raises(ParameterError) as e:
        ms.kappa_c(15, 1e9, 3, "paper")
    assert e.value.name == "mu_c"


@pytest.mark.slow
@pytest.mark.parametrize(("n", "skip"), [(1, 0), (2, 0), (5, 0), (20, 0), (1, 1), (3, 1), (19, 1), (20, 1)])
def test_table_is_the_quadrature(n, skip):
    """The stored table is what region_area_variance computes (same rule: equal to rounding)."""
    assert float(acc.area_variance(n, skip)) == pytest.approx(acc.region_area_variance(n, skip), rel=1e-12)


@pytest.mark.slow
def test_quadrature_converged():
    """A finer rule moves v by less than 1e-4 (skip 0) and 5e-4 (skip 1) relative, n = 3 (measured:
    7e-5 and 1.9e-4)."""
    for skip in (0, 1):
        v = acc.region_area_variance(3, skip)
        fine = acc.region_area_variance(3, skip, nodes=24, panels=8, nphi=64)
        assert v == pytest.approx(fine, rel=1e-4 if skip == 0 else 5e-4)


def test_simulation_without_any_request_says_why():
    """mu = 1e-3 on 64-BS tori: no request at all in 2 tori; the acceptance of a typical request
    is not observed, and the error says how many requests a torus expects and what to raise."""
    from isacnet import meng
    from isacnet.params import MengParams, ParameterError

    p = MengParams(user_density=1e-7, bs_density=1e-4)
    with pytest.raises(ParameterError, match=r"2 tori of side 800 m held none \(a torus expects 0.064 requesting "
                                             r"users at mu = 0.001\); raise n_realisations or side"):
        meng.simulate_acceptance(p, 2, 2, 0, service="communication", side=800.0)
