"""Meng CoMP rate closed form (isacnet.analysis.meng_rate): validation, shapes, units, invariances
and the monotonicities that are theorems.

Monotonicity (coupling arguments, all variants unless noted): raising kappa_c turns ring BSs from
interferers into helpers (signal up, interference down, SIR up path by path); raising p^c scales
the desired gains up with the paper's Gamma(1, 1) interference unchanged; raising M_t makes the
desired gains Gamma(M_t - 1) stochastically larger; raising L at fixed kappa_c (exact model, same
PPP) lets BS L+1 help with probability kappa_c and otherwise leaves it an interferer.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from isacnet.analysis import meng_rate as mr
from isacnet.analysis.meng_sensing import kappa_c as kappa_c_fn
from isacnet.params import MengParams, ParameterError

P = MengParams()  # M_t = 4, alpha = 4, p^c = 0.5, psi = 15, mu_c = 1


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize("alpha", [2.0, 1.5, -1.0, math.inf, math.nan])
def test_H1_H2_need_alpha_above_2(alpha):
    for f in (
        lambda: mr.H1(1.0, 1, alpha, 0.5),
        lambda: mr.H2(1.0, alpha, 0.5),
        lambda: mr.annulus_mean(1, 1, alpha, 0.5),
    ):
        with pytest.raises(ParameterError) as e:
            f()
        assert e.value.name == "alpha" and "> 2" in e.value.valid


def test_incomplete_beta_validation():
    with pytest.raises(ParameterError) as e:
        mr.incomplete_beta(0.5, 0.0, 1.0)  # a = 1 - 2/alpha at alpha = 2: diverges
    assert e.value.name == "a"
    with pytest.raises(ParameterError):
        mr.incomplete_beta(0.5, 1.0, -1.0)
    with pytest.raises(ParameterError):
        mr.incomplete_beta(1.5, 1.0, 1.0)


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"p_c": 1.2}, "p_c"),
        ({"p_c": -0.1}, "p_c"),
        ({"kappa_c": 1.01}, "kappa_c"),
        ({"kappa_c": [0.5, -0.2]}, "kappa_c"),
        ({"variant": "printed"}, "variant"),
        ({"unit": "dB"}, "unit"),
        ({"interference_shape": "gamma"}, "interference_shape"),
        ({"n_eta": 40}, "n_eta"),
        ({"n_z": 128}, "n_z"),
    ],
)
def test_rate_validation(kwargs, name):
    with pytest.raises(ParameterError) as e:
        mr.rate(3, P, **kwargs)
    assert e.value.name == name


@pytest.mark.parametrize("L", [0, -1, 2.5, [1, 0], True])
def test_rate_needs_integer_L_at_least_1(L):
    with pytest.raises(ParameterError) as e:
        mr.rate(L, P)
    assert e.value.name == "L"


def test_params_validation():
    with pytest.raises(ParameterError) as e:
        MengParams(n_tx_antennas=1)  # M_t >= 2: desired gains Gamma(M_t - 1)
    assert e.value.name == "n_tx_antennas"
    with pytest.raises(ParameterError) as e:
        MengParams(alpha=2.0)
    assert e.value.name == "alpha"
    with pytest.raises(ParameterError):
        mr.rate(2, {"alpha": 4})


def test_rate_conditional_validation():
    with pytest.raises(ParameterError) as e:
        mr.rate_conditional(100.0, 50.0, 3, P)  # r_L < r
    assert e.value.name == "r_L"
    with pytest.raises(ParameterError):
        mr.rate_conditional(100.0, 150.0, 1, P)  # L = 1: r_L must be r or None
    with pytest.raises(ParameterError) as e:
        mr.rate_conditional(100.0, 150.0, 3, P, model="paper")
    assert e.value.name == "model"
    with pytest.raises(ParameterError) as e:
        mr.rate_conditional(0.0, 150.0, 3, P)
    assert e.value.name == "r"


def test_eta_pdf_needs_L_at_least_2_and_integrates_to_1():
    with pytest.raises(ParameterError):
        mr.eta_pdf(0.5, 1)
    x, w = np.polynomial.legendre.leggauss(40)
    eta = 0.5 * (x + 1)
    for L in (2, 3, 7):
        assert 0.5 * w @ mr.eta_pdf(eta, L) == pytest.approx(1.0, rel=1e-13)


# --------------------------------------------------------------------------- shapes and units


def test_rate_broadcasts_like_its_scalar_twin():
    L = np.array([[1], [2], [5]])
    pc = np.array([0.3, 0.6, 0.9])
    got, err = mr.rate(L, P, p_c=pc, return_error=True)
    assert got.shape == err.shape == (3, 3)
    for i in range(3):
        for j in range(3):
            q = dataclasses.replace(P, sensing_power_fraction=1.0 - pc[j])
            assert got[i, j] == pytest.approx(mr.rate(int(L[i, 0]), q), rel=1e-12)
    # the default kappa_c is kappa_c(psi, mu_c, L) row by row
    k = kappa_c_fn(P.resource_blocks, P.mu_c, np.array([2, 5]))
    assert mr.rate([2, 5], P) == pytest.approx(mr.rate([2, 5], P, kappa_c=k), rel=1e-14)
    assert np.ndim(mr.rate(3, P)) == 0


def test_rate_kappa_broadcast_and_matched_shape_vectorised():
    k = np.linspace(0.0, 1.0, 4)
    got = mr.rate(4, P, kappa_c=k[:, None], p_c=[0.2, 0.7], interference_shape="matched")
    assert got.shape == (4, 2)
    for i in range(4):
        for j, pc in enumerate((0.2, 0.7)):
            q = dataclasses.replace(P, sensing_power_fraction=1.0 - pc)
            assert got[i, j] == pytest.approx(mr.rate(4, q, kappa_c=k[i], interference_shape="matched"), rel=1e-12)


def test_units():
    nats = mr.rate([1, 3], P, unit="nats")
    bits = mr.rate([1, 3], P, unit="bits")
    np.testing.assert_allclose(bits, nats / math.log(2.0), rtol=1e-15)
    np.testing.assert_allclose(mr.rate([1, 3], P), bits, rtol=0)  # bits by default


def test_H_functions_broadcast_and_add_up():
    x = np.logspace(-3, 4, 7)[:, None]
    eta = np.array([0.05, 0.5, 0.95])
    h1, h2, h2_1 = mr.H1(x, 1.0, 3.5, eta), mr.H2(x, 3.5, eta), mr.H2(x, 3.5, 1.0)
    assert h1.shape == h2.shape == (7, 3)
    np.testing.assert_allclose(h1 + h2, np.broadcast_to(h2_1, (7, 3)), rtol=1e-12)  # ring + beyond = all
    assert np.all(h1 >= 0) and np.all(np.diff(h1, axis=0) > 0)
    assert mr.H1(2.0, 3, 4.0, 1.0) == pytest.approx(0.0, abs=1e-15)
    # x -> inf: every ring BS contributes 1, H1 -> ring area eta^-2 - 1
    assert mr.H1(1e30, 2, 4.0, 0.5) == pytest.approx(3.0, rel=1e-12)


# --------------------------------------------------------------------------- invariances


def test_rate_does_not_depend_on_bs_density():
    q = dataclasses.replace(P, bs_density=7.3e-5, user_density=7.3e-5 * P.mu_c)  # same mu_c
    for variant in ("exact", "pgfl", "paper"):
        np.testing.assert_array_equal(mr.rate([1, 4, 9], P, variant=variant), mr.rate([1, 4, 9], q, variant=variant))
    # rate_conditional depends on r only through pi lambda_b r^2 (and on r/r_L)
    c = 37.0
    q = dataclasses.replace(P, bs_density=c * P.bs_density)
    r, rL = np.array([120.0, 300.0, 800.0]), np.array([500.0, 700.0, 1500.0])
    for model in ("exact", "pgfl"):
        a = mr.rate_conditional(r, rL, 4, P, kappa_c=0.6, model=model)
        b = mr.rate_conditional(r / math.sqrt(c), rL / math.sqrt(c), 4, q, kappa_c=0.6, model=model)
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_kappa_zero_is_L1_and_kappa_one_edges():
    r1 = mr.rate(1, P)
    for variant in ("exact", "pgfl", "paper"):
        np.testing.assert_allclose(mr.rate([2, 5, 12], P, kappa_c=0.0, variant=variant), r1, rtol=1e-9)
    # kappa_c = 1: finite, larger than any kappa < 1
    for variant in ("exact", "pgfl", "paper"):
        assert mr.rate(5, P, kappa_c=1.0, variant=variant) > mr.rate(5, P, kappa_c=0.999, variant=variant)


def test_pc_zero_gives_zero_rate():
    assert mr.rate([1, 4], P, p_c=0.0) == pytest.approx([0.0, 0.0], abs=1e-14)


def test_paper_theorem_differs_from_exact_at_L_ge_2_only():
    a, b = mr.rate([1, 2, 6], P, variant="paper"), mr.rate([1, 2, 6], P, variant="exact")
    assert a[0] == pytest.approx(b[0], rel=1e-12)
    assert np.all(np.abs(a[1:] - b[1:]) > 1e-3)


# --------------------------------------------------------------------------- monotonicity


@pytest.mark.parametrize("variant", ["exact", "pgfl", "paper"])
def test_rate_increases_with_kappa(variant):
    r = mr.rate(6, P, kappa_c=np.linspace(0, 1, 6), variant=variant)
    assert np.all(np.diff(r) > 0)


@pytest.mark.parametrize("variant", ["exact", "pgfl", "paper"])
def test_rate_increases_with_pc_and_Mt(variant):
    r = mr.rate(3, P, kappa_c=0.7, p_c=np.linspace(0.05, 1, 6), variant=variant)
    assert np.all(np.diff(r) > 0)
    rm = [mr.rate(3, dataclasses.replace(P, n_tx_antennas=m), kappa_c=0.7, variant=variant) for m in (2, 3, 5, 8)]
    assert np.all(np.diff(rm) > 0)


def test_exact_rate_increases_with_L_at_fixed_kappa():
    r = mr.rate(np.arange(1, 12), P, kappa_c=0.6)
    assert np.all(np.diff(r) > 0)


# --------------------------------------------------------------------------- conditional twin


def _twin_conditional(t1, eta, L, pc, kap, M, alpha):
    """Slow twin of the exact conditional rate [nats]: scipy quad over z of
    A_Y^(L-2) B_Y e^(-t1 H2) - (1+p^c z)^(1-M) A_S^(L-2) B_S e^(-t1 H2), every ring mean and H2
    by scipy quad of its definition."""
    from scipy.integrate import quad

    b = alpha / 2
    q = eta**-2 - 1

    def ring_mean(x, K):
        return quad(lambda s: 1 - (1 + x * s**-b) ** -K, 1, eta**-2, epsabs=1e-13)[0] / q

    def h2(z):  # s = w^(-1/(b-1)) maps (eta^-2, inf) onto (0, eta^(2b-2)) with a bounded integrand
        g = lambda w: z / ((b - 1) * (1 + z * w ** (b / (b - 1))))  # noqa: E731
        top = eta ** (2 * b - 2)
        knee = min(top / 2, z ** (-(b - 1) / b))
        return quad(g, 0, knee, epsabs=1e-13)[0] + quad(g, knee, top, epsabs=1e-13)[0]

    def f(v):
        z = math.exp(v)
        mI, mD = ring_mean(z, 1), ring_mean(pc * z, M - 1)
        eI, eD = 1 / (1 + z * eta**alpha), (1 + pc * z * eta**alpha) ** (1 - M)
        AY, AS = 1 - (1 - kap) * mI, 1 - kap * mD - (1 - kap) * mI
        BY, BS = kap + (1 - kap) * eI, kap * eD + (1 - kap) * eI
        g = math.exp(-t1 * h2(z))
        return g * (AY ** (L - 2) * BY - (1 + pc * z) ** (1 - M) * AS ** (L - 2) * BS)

    # beyond z = e^14, e^(-t1 H2) < exp(-t1 (1.5 e^7 - eta^-2)): nothing left
    return quad(f, -35, 14, limit=400, epsabs=1e-11)[0]


def test_rate_conditional_against_slow_twin():
    lam = P.bs_density
    t1, eta, L, pc, kap = 0.8, 0.45, 3, 0.6, 0.7
    r = math.sqrt(t1 / (math.pi * lam))
    got = mr.rate_conditional(r, r / eta, L, P, kappa_c=kap, p_c=pc, unit="nats")
    assert got == pytest.approx(_twin_conditional(t1, eta, L, pc, kap, 4, 4.0), rel=1e-8)


def test_rate_conditional_L1_and_broadcast():
    r = np.array([100.0, 400.0, 900.0])
    a = mr.rate_conditional(r, None, 1, P)
    b = mr.rate_conditional(r, r, 1, P)
    np.testing.assert_allclose(a, b, rtol=1e-14)
    assert np.all(np.diff(a) < 0)  # farther serving BS, lower rate (same interference field beyond r, scaled)
    got = mr.rate_conditional(r[:, None], None, [2, 4], P, kappa_c=0.5)
    assert got.shape == (3, 2)


def test_interference_shapes():
    # all three are Gamma(1, 1) when p^c = 1 (no sensing power): variance 1
    r = [mr.rate([1, 4], P, p_c=1.0, interference_shape=s) for s in ("paper", "matched", "zf-matched")]
    np.testing.assert_allclose(r[1], r[0], rtol=1e-12)
    np.testing.assert_allclose(r[2], r[0], rtol=1e-12)
    # Gamma(1/v, v) (mean 1) grows in the convex order with v, so does the interference sum given
    # the layout, and log(1 + S/I) is convex in I: the rate increases with v.
    # matched (v = 0.5) < zf-matched (v = 0.625) < paper (v = 1) at p^c = 1/2, M_t = 4.
    a, b, c = (mr.rate(3, P, kappa_c=0.6, interference_shape=s) for s in ("matched", "zf-matched", "paper"))
    assert a < b < c
    with pytest.raises(ParameterError) as e:
        mr.laplace_I2(1.0, 100.0, 200.0, P, interference_shape="exp")
    assert e.value.name == "interference_shape"


@pytest.mark.parametrize("alpha", [2.5, 4.0, 5.0])
@pytest.mark.parametrize("variant", ["exact", "paper"])
def test_orders_1e6_reach_1e6_relative(alpha, variant):
    """ORDERS_1E6 (issue 18's fast orders) against the (81, 513) rule (itself checked against
    mpmath to ~1e-12 in tests/reference), over cluster sizes and power shares."""
    from isacnet.analysis.meng_rate import ORDERS_1E6

    p = MengParams(alpha=alpha)
    Ls, pcs = np.array([1, 2, 3, 7, 40])[:, None], np.array([1e-3, 0.05, 0.5, 1.0])
    ref = mr.rate(Ls, p, p_c=pcs, variant=variant, n_eta=81, n_z=513)
    ne, nz = ORDERS_1E6
    fast = mr.rate(Ls, p, p_c=pcs, variant=variant, n_eta=ne, n_z=nz)
    assert np.max(np.abs(fast / ref - 1.0)) < 1e-6
