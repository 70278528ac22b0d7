"""Monte Carlo of the Meng model against exact laws and closed forms.

Exact targets: E[2/(|zeta|^2 W^2)] (crlb_isotropic, quadrature error reported), the law of the
n-th neighbour distance (KS), the binomial thinning, the mass-transport mean load mu N, and the
heavy-tail index (N-1)/2 of tr(F^-1). Tolerances |mc - exact| <= 4 stderr + quad_err.

Lemma 1 is an approximation (Poisson load); where it is compared with the spatial simulation
the tolerance adds its measured model error (MODEL_ERR, docs/errata.md M-9), stated as such.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from isacnet import meng
from isacnet.analysis import meng_sensing as ms
from isacnet.geometry import nth_neighbour_cdf, ordered_ppp
from isacnet.params import MengParams
from isacnet.simulation.meng import MengCrlbKernel

P = MengParams()
U = P.zeta2 * (math.pi * P.bs_density) ** 2


def close(est, exact, err=0.0):
    return abs(est.mean - exact) <= 4 * est.stderr + err


@pytest.mark.parametrize("N", [1, 3, 12])
def test_isotropic_form_matches_closed_form(N):
    r = meng.monte_carlo(N, P, 60_000, seed=100 + N)
    exact, err = meng.crlb_isotropic(N, P, return_error=True)
    assert close(r["isotropic"], float(exact), float(err)), (r["isotropic"], exact)
    assert r["isotropic"].rel_half_width < 0.05


@pytest.mark.parametrize("n", [1, 4, 30])
def test_ordered_sampler_nth_distance_law(n):
    """KS test of d_n from the ordered sampler against P(Gamma(n) <= pi lam r^2), and its mean
    against Gamma(n + 1/2)/(sqrt(pi lam) Gamma(n))."""
    rng = np.random.default_rng(7 + n)
    r, _ = ordered_ppp(rng, 20_000, n, P.bs_density)
    d = r[:, -1]
    ks = stats.kstest(d, lambda x: nth_neighbour_cdf(x, n, P.bs_density))
    assert ks.pvalue > 1e-3
    se = d.std(ddof=1) / math.sqrt(d.size)
    assert abs(d.mean() - ms.mean_distance(n, P.bs_density)) <= 4 * se


def test_thinning_is_binomial():
    """Independent acceptance: E[cluster size] = kappa N; a singular FIM iff at most one BS
    is kept (P = (1-k)^N + N k (1-k)^(N-1)): collinear keeps have probability zero."""
    N, kap = 3, 0.5
    r = meng.monte_carlo(N, P, 40_000, seed=11, kappa=kap)
    assert close(r["cluster_size"], kap * N)
    assert close(r["singular"], (1 - kap) ** N + N * kap * (1 - kap) ** (N - 1))


def test_jensen_bound_below_the_crlb():
    """E_theta[tr F^-1] >= tr(E_theta F)^-1 = 2/(|zeta|^2 (W^2 + sum w^2)) (matrix convexity)."""
    r = meng.monte_carlo(8, P, 40_000, seed=12)
    assert r["crlb"].mean - r["jensen"].mean > 6 * math.hypot(r["crlb"].stderr, r["jensen"].stderr)


@pytest.mark.parametrize("N", [2, 3, 4])
def test_tail_index_of_the_crlb(N):
    """Hill estimator on the 2000 largest of 4e5 layouts: (N - 1)/2 within 12 %.

    (N - 1)/2 <= 1 for N <= 3: the expectation of the CRLB does not exist there."""
    tr = MengCrlbKernel(P, N).samples(np.random.default_rng(20 + N), 400_000)
    tr = np.sort(tr[np.isfinite(tr)])[::-1]
    k = 2000
    hill = 1.0 / np.mean(np.log(tr[:k] / tr[k]))
    assert hill == pytest.approx(0.5 * (N - 1), rel=0.12)


def test_acceptance_mass_transport_and_closed_form():
    """Mean load per BS = mu N exactly; the typical request's acceptance against Lemma 1.

    Derived form: within 4 se + MODEL_ERR (its measured Poisson-model error near the knee);
    the printed (15) is rejected by more than 8 se at N = psi."""
    MODEL_ERR = 0.02
    r = meng.simulate_acceptance(P, 15, 120, seed=31)
    assert close(r.mean_load, 15.0)
    assert close(r.acceptance, r.closed_form, MODEL_ERR), (r.acceptance, r.closed_form)
    paper = float(ms.kappa_s(15, 1.0, 15, "paper"))
    assert abs(r.acceptance.mean - paper) > 8 * r.acceptance.stderr


def test_cluster_kernel_acceptance_agrees_with_the_counting_simulation():
    """Two estimators of the same Palm probability (HT with control variate vs ratio)."""
    a = meng.crlb_statistics(15, P, 40, seed=41, rule="shrink").extra["acceptance"]
    b = meng.simulate_acceptance(P, 15, 60, seed=42).acceptance
    assert abs(a.mean - b.mean) <= 4 * math.hypot(a.stderr, b.stderr)
    t = meng.crlb_statistics(15, P, 40, seed=43, rule="shrink").extra["targets"]
    assert close(t, 1.0)


# --------------------------------------------------------------------------- slow
@pytest.mark.slow
def test_theorem1_constant_is_two_not_one():
    """E[CRLB] ln^2 N U at N = 1e2..1e5 (ordered sampling): increasing, far above the printed
    limit 1, and tracking E[2/(|zeta|^2 W^2)], whose exact value -> 2 (test_meng_closed_forms).

    Fitted slope of 1/sqrt(U E[CRLB]) on ln N: close to the closed form's (isotropic) slope,
    far below the printed Theorem 1's slope 1, above the corrected limit 1/sqrt 2."""
    Ns = [100, 1000, 10_000, 100_000]
    n = [100_000, 20_000, 4000, 1000]
    vals, ses, ratios = [], [], []
    for N, m in zip(Ns, n, strict=True):
        e = meng.expected_crlb(N, P, m, seed=N, block_size=max(1, min(4096, 2**21 // N)))
        iso, err = meng.crlb_isotropic(N, P, return_error=True)
        L2U = math.log(N) ** 2 * U
        vals.append(e.mean)
        ses.append(e.stderr)
        ratios.append((e.mean / iso, e.stderr / iso))
        assert e.mean * L2U > 1.25 and (e.mean * L2U - 1.0) > 10 * e.stderr * L2U
    # ratio to the exact isotropic form decreases towards 1
    assert ratios[0][0] > 1.02 and abs(ratios[-1][0] - 1) < ratios[0][0] - 1
    # fitted slope of y = 1/sqrt(U mean) against ln N, with the delta-method weights
    x = np.log(Ns)
    y = 1 / np.sqrt(U * np.array(vals))
    sy = 0.5 * y * np.array(ses) / np.array(vals)
    w = 1 / sy**2
    X = np.stack([np.ones_like(x), x], 1)
    cov = np.linalg.inv(X.T @ (w[:, None] * X))
    slope = (cov @ X.T @ (w * y))[1]
    se = math.sqrt(cov[1, 1])
    yi = 1 / np.sqrt(U * meng.crlb_isotropic(np.array(Ns), P))
    slope_iso = np.polyfit(x, yi, 1)[0]
    # The MC/isotropic ratio falls from ~1.045 to ~1.01 over the range, which steepens the MC
    # slope by ~0.03 relative to the closed form's: allowed as a stated model difference.
    assert abs(slope - slope_iso) <= 4 * se + 0.04, (slope, slope_iso, se)
    assert 1.0 - slope > 10 * se  # printed Theorem 1: slope 1
    assert slope > 1 / math.sqrt(2)  # approaches 1/sqrt(2) from above


@pytest.mark.slow
@pytest.mark.parametrize(("psi", "mu"), [(15, 1.0), (5, 1.0), (15, 2.0)])
def test_acceptance_grid(psi, mu):
    """Derived Lemma 1 within 4 se + 0.03 for N >= 2 (the Poisson model's measured worst error
    is 0.05 at psi = 1, N = 1, and below 0.03 elsewhere); exact limit psi/(mu N) in saturation."""
    p = MengParams(resource_blocks=psi, target_density=mu * P.bs_density)
    for N in (2, 5, 10, 20, 40):
        r = meng.simulate_acceptance(p, N, 60, seed=1000 * psi + N)
        assert close(r.acceptance, r.closed_form, 0.03), (psi, mu, N, r.acceptance, r.closed_form)
        if mu * N >= 3 * psi:
            assert close(r.acceptance, psi / (mu * N), 0.01)


@pytest.mark.slow
def test_fig3_minimum_near_psi():
    """Median CRLB with independent thinning by kappa_s(N): minimum for N in [11, 15]
    (psi = 15), clearly higher at N = 8 and N = 20 (non-overlapping 95% CIs)."""
    Ns = [8, 10, 12, 13, 14, 15, 16, 20]
    med = {N: meng.crlb_statistics(N, P, 40_000, seed=500 + N, rule="thinning").median for N in Ns}
    best = min(Ns, key=lambda N: med[N].value)
    assert 11 <= best <= 15, {N: str(q) for N, q in med.items()}
    assert med[8].lo > med[best].hi and med[20].lo > med[best].hi
