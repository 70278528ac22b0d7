"""Monte Carlo checks of the distributional facts behind the corrected Theorem 2
(isacnet.analysis.meng_rate), with fixed seeds and tolerances from the standard error.

* T_k = pi lambda d_k^2 are the arrivals of a unit-rate Poisson process (cumulative sums of
  Exp(1)); eta^2 = T_1/T_L ~ Beta(1, L-1), independent of T_L, but not of T_1:
  E[e^(-c T_1) | eta] = (1 + eta^2 c)^-L, not the 1/(1 + c) that Theorem 2 uses.
* Given (T_1, T_L) the ring is binomial (L - 2 i.i.d. uniform BSs plus BS L on the circle), not
  Lemma 2's PPP: the ring Laplace transforms P_Y = A_Y^(L-2) B_Y and P_S match a direct
  simulation of the ring, the PGFL ones do not.
* The exact rate matches a direct simulation of E[log(1 + SIR)] (8)-(9) on PPP layouts.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from isacnet.analysis import meng_rate as mr
from isacnet.params import MengParams


def _arrivals(rng, n, k):
    return np.cumsum(rng.standard_exponential((n, k)), axis=1)


@pytest.mark.parametrize("L", [2, 5])
def test_eta_law_and_its_independence_of_TL(L):
    rng = np.random.default_rng(20240517 + L)
    n = 200_000
    T = _arrivals(rng, n, L)
    T1, TL = T[:, 0], T[:, -1]
    u = T1 / TL
    # eta^2 ~ Beta(1, L-1): KS against the CDF 1 - (1 - u)^(L-1)
    assert stats.kstest(u, lambda x: 1 - (1 - x) ** (L - 1)).pvalue > 1e-3
    # (29): eta = sqrt(u) has density 2 (L-1) eta (1 - eta^2)^(L-2): compare bin masses
    edges = np.linspace(0, 1, 11)
    counts = np.histogram(np.sqrt(u), edges)[0]
    x, w = np.polynomial.legendre.leggauss(20)
    mass = np.array(
        [
            (b - a) / 2 * w @ mr.eta_pdf((a + b) / 2 + (b - a) / 2 * x, L)
            for a, b in zip(edges[:-1], edges[1:], strict=True)
        ]
    )
    assert stats.chisquare(counts, n * mass / mass.sum()).pvalue > 1e-3
    # independent of T_L: E[u T_L^2] = E[u] E[T_L^2] = (1/L) L (L+1)
    prod = u * TL**2
    assert abs(prod.mean() - (L + 1)) < 5 * prod.std() / math.sqrt(n)
    # but not of T_1: E[u T_1] = E[T_1^2 / T_L] != E[u] E[T_1] = 1/L
    d = u * T1
    assert abs(d.mean() - 1 / L) > 10 * d.std() / math.sqrt(n)


@pytest.mark.parametrize("L, c", [(2, 1.5), (6, 4.0)])
def test_laplace_of_T1_given_eta(L, c):
    """E[e^(-c T_1) g(eta)] = E[g(eta) (1 + eta^2 c)^-L] (true) vs E[g] / (1 + c) (Theorem 2)."""
    rng = np.random.default_rng(7 * L)
    n = 200_000
    T = _arrivals(rng, n, L)
    u = T[:, 0] / T[:, -1]
    g = u  # any function of eta; eta^2 itself
    x = np.exp(-c * T[:, 0]) * g
    mc, se = x.mean(), x.std() / math.sqrt(n)
    xg, wg = np.polynomial.legendre.leggauss(60)
    uu = 0.5 * (xg + 1)
    dens = (L - 1) * (1 - uu) ** (L - 2)
    true = 0.5 * wg @ (dens * uu * (1 + uu * c) ** -L)
    paper = (1 / L) / (1 + c)  # E[eta^2] E[e^(-c T_1)], the independence Theorem 2 assumes
    assert abs(mc - true) < 4.5 * se
    assert abs(mc - paper) > 10 * se


@pytest.mark.parametrize("L, kap", [(3, 0.6), (6, 0.3)])
def test_binomial_ring_laplace_transforms(L, kap):
    """Given T_1 = 0.7, T_L = 2.9: ring-only E[e^(-zY_ring)], E[e^(-z(X+Y)_ring)] by simulation."""
    rng = np.random.default_rng(99 + L)
    n, t1, tL, pc, M, alpha = 400_000, 0.7, 2.9, 0.6, 4, 4.0
    Tin = rng.uniform(t1, tL, (n, L - 2))
    Tr = np.concatenate([Tin, np.full((n, 1), tL)], axis=1)
    ratio = (t1 / Tr) ** (alpha / 2)
    acc = rng.random(Tr.shape) < kap
    gd = rng.gamma(M - 1, pc, Tr.shape)
    gi = rng.standard_exponential(Tr.shape)
    g1 = rng.gamma(M - 1, pc, n)
    X = g1 + np.sum(np.where(acc, gd, 0.0) * ratio, axis=1)
    Y = np.sum(np.where(acc, 0.0, gi) * ratio, axis=1)
    eta = math.sqrt(t1 / tL)
    q = tL / t1 - 1
    for z in (0.3, 2.0, 9.0):
        _, _, PY, PS = mr._lt_terms(z, eta, q, float(L), pc, kap, 1.0, 1.0, float(M), alpha, "exact")
        for est, exact in ((np.exp(-z * Y), PY), (np.exp(-z * (X + Y)), PS)):
            assert abs(est.mean() - exact) < 4.5 * est.std() / math.sqrt(n) + 1e-12
        # Lemma 2's PPP ring (pgfl) is a different law: its E[e^(-zY_ring)] = exp(-t1 (1-kap) H1)
        pgfl = math.exp(-t1 * (1 - kap) * mr.H1(z, 1, alpha, eta))
        if z >= 2.0:
            e = np.exp(-z * Y)
            assert abs(e.mean() - pgfl) > 6 * e.std() / math.sqrt(n)


def _mc_rate(rng, n, L, kap, pc, M, alpha, k_max=300, block=20_000):
    """log(1 + SIR) of (8) on PPP layouts: the k_max nearest BSs exactly, the rest by the mean of
    their interference given T_kmax (Gamma(1,1) gains: int_(T_kmax)^inf (T_1/t)^(alpha/2) dt)."""
    out = []
    for i in range(0, n, block):
        m = min(block, n - i)
        T = _arrivals(rng, m, k_max)
        ratio = (T[:, :1] / T) ** (alpha / 2)
        acc = rng.random((m, k_max)) < kap
        acc[:, 0] = True
        acc[:, L:] = False
        gd = rng.gamma(M - 1, pc, (m, k_max))
        gi = rng.standard_exponential((m, k_max))
        S = np.sum(np.where(acc, gd, 0.0) * ratio, axis=1)
        intf = np.sum(np.where(acc, 0.0, gi) * ratio, axis=1)
        intf += T[:, 0] ** (alpha / 2) * T[:, -1] ** (1 - alpha / 2) / (alpha / 2 - 1)
        out.append(np.log1p(S / intf))
    return np.concatenate(out)


@pytest.mark.parametrize("L, kap, pc", [(3, 0.8, 0.6), pytest.param(6, 0.5, 0.3, marks=pytest.mark.slow)])
def test_exact_rate_matches_simulation_of_the_sir(L, kap, pc):
    rng = np.random.default_rng(31337 + L)
    n = 40_000
    x = _mc_rate(rng, n, L, kap, pc, 4, 4.0, k_max=200)
    mc, se = x.mean(), x.std() / math.sqrt(n)
    p = MengParams(sensing_power_fraction=1 - pc)
    exact = mr.rate(L, p, kappa_c=kap, unit="nats")
    assert abs(mc - exact) < 4.5 * se


def test_lemma2_laplace_transforms_for_a_ppp_ring():
    """(19)-(21) are the Laplace transforms of PPP rings: simulate the PPP given r, r_L."""
    rng = np.random.default_rng(4242)
    p = MengParams(sensing_power_fraction=0.4)
    lam, pc, M, alpha, kap = p.bs_density, 0.6, 4, 4.0, 0.65
    t1, tL, n = 0.6, 2.4, 100_000
    r, rL = math.sqrt(t1 / (math.pi * lam)), math.sqrt(tL / (math.pi * lam))
    # ring: Poisson(tL - t1) points uniform in arrival time, thinned by kappa into U and I1
    cnt = rng.poisson(tL - t1, n)
    m = cnt.max()
    T = rng.uniform(t1, tL, (n, m))
    present = np.arange(m) < cnt[:, None]
    ratio = (t1 / T) ** (alpha / 2)
    acc = rng.random((n, m)) < kap
    U = np.sum(np.where(present & acc, rng.gamma(M - 1, pc, (n, m)), 0.0) * ratio, axis=1)
    I1 = np.sum(np.where(present & ~acc, rng.standard_exponential((n, m)), 0.0) * ratio, axis=1)
    # beyond r_L: 100 arrivals after tL exactly, the rest by its conditional mean (Jensen bias < 1e-6)
    Tb = tL + np.cumsum(rng.standard_exponential((n, 100)), axis=1)
    I2 = np.sum(rng.standard_exponential((n, 100)) * (t1 / Tb) ** (alpha / 2), axis=1)
    I2 += t1 ** (alpha / 2) * Tb[:, -1] ** (1 - alpha / 2) / (alpha / 2 - 1)
    for z in (0.2, 1.0, 5.0):
        for sample, exact in (
            (U, mr.laplace_U(z, r, rL, p, kappa_c=kap)),
            (I1, mr.laplace_I1(z, r, rL, p, kappa_c=kap)),
            (I2, mr.laplace_I2(z, r, rL, p)),
        ):
            e = np.exp(-z * sample)
            assert abs(e.mean() - exact) < 4.5 * e.std() / math.sqrt(n)
