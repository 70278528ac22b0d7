"""Compiled backends agree statistically with the numpy backend and with the closed forms.

Backends draw their own random streams, so agreement is in law: for two independent estimates,
z = |m_1 - m_2| / sqrt(se_1^2 + se_2^2) < 4.5 (fixed seeds; a false alarm has probability
7e-6 per comparison). Closed forms: |mc - exact| <= 4.5 se + bias budget (the Song tail bias at
K = 64 is < 5e-4 relative, tests/statistical/test_song_mc.py). Exact laws of the drawn layouts:
Kolmogorov-Smirnov tests (g_k ~ Gamma(k), bearings uniform), the probability that a disk window
is empty (e^-lam pi R^2) and the thinning law (cluster size ~ Binomial(N, kappa)).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from isacnet import backends
from isacnet.analysis.meng_sensing import crlb_isotropic
from isacnet.analysis.song import lemma3, scaling_bound
from isacnet.experiments.runner import estimate
from isacnet.params import MengParams, SongParams
from isacnet.rng import block_rng
from isacnet.simulation.meng import MengCrlbKernel
from isacnet.simulation.song import SongKernel

pytestmark = pytest.mark.slow

COMPILED = [
    pytest.param(
        b,
        marks=pytest.mark.skipif(
            not backends.available(b), reason=f"{b} is not installed (pip install 'isacnet[{backends.EXTRAS[b][1]}]')"
        ),
    )
    for b in ("numba", "jax")
]
DTYPES = ["float64", "float32"]
Z = 4.5
TAIL_BIAS = 5e-4


def z_score(a, b) -> float:
    return abs(a.mean - b.mean) / math.hypot(a.stderr, b.stderr)


@pytest.fixture(scope="module")
def song_numpy():
    return estimate(SongKernel(SongParams()), 80_000, seed=101)


@pytest.fixture(scope="module")
def meng_numpy():
    return estimate(MengCrlbKernel(MengParams(), 16), 100_000, seed=102)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", COMPILED)
def test_song_agrees_with_numpy_and_closed_forms(backend, dtype, song_numpy):
    p = SongParams()
    r = estimate(SongKernel(p, backend=backend, dtype=dtype), 80_000, seed=201)
    for q in ("crlb", "jensen", "inv_sum_tx", "inv_sum_rx"):
        assert r[q].n == 80_000
        assert z_score(r[q], song_numpy[q]) < Z, (q, r[q], song_numpy[q])
    for q, exact in (
        ("jensen", scaling_bound(p)),
        ("inv_sum_tx", float(lemma3(p.tx_density, p.gamma))),
        ("inv_sum_rx", float(lemma3(p.rx_density, p.gamma))),
    ):
        assert abs(r[q].mean - exact) <= Z * r[q].stderr + TAIL_BIAS * exact, (q, r[q], exact)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", COMPILED)
def test_meng_agrees_with_numpy_and_closed_form(backend, dtype, meng_numpy):
    P = MengParams()
    r = estimate(MengCrlbKernel(P, 16, backend=backend, dtype=dtype), 100_000, seed=202)
    for q in ("crlb", "log_crlb", "isotropic", "jensen"):
        assert z_score(r[q], meng_numpy[q]) < Z, (q, r[q], meng_numpy[q])
    exact, err = crlb_isotropic(16, P, return_error=True)
    assert abs(r["isotropic"].mean - float(exact)) <= Z * r["isotropic"].stderr + float(err)
    assert r["cluster_size"].mean == 16
    # float64 resolves every layout; float32 calls det <= 1e-5 tr^2 singular (a few 1e-5 at N = 16)
    assert r["singular"].mean == 0.0 if dtype == "float64" else r["singular"].mean < 2e-4


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", COMPILED)
def test_meng_thinning_law(backend, dtype):
    """Each BS kept w.p. kappa: E[cluster size] = kappa N; with fewer than 2 BSs the FIM is
    singular (two BSs at distinct bearings resolve the target: rank 2), so in float64
    P(singular) = (1-kappa)^N + N kappa (1-kappa)^(N-1)."""
    N, kappa, n = 6, 0.6, 100_000
    r = estimate(MengCrlbKernel(MengParams(), N, kappa=kappa, backend=backend, dtype=dtype), n, seed=203)
    cs = r["cluster_size"]
    assert abs(cs.mean - kappa * N) <= Z * cs.stderr, cs
    p1 = (1 - kappa) ** N + N * kappa * (1 - kappa) ** (N - 1)
    se = math.sqrt(p1 * (1 - p1) / n)
    if dtype == "float64":
        assert abs(r["singular"].mean - p1) <= Z * se, (r["singular"], p1)
    else:  # float32 also calls nearly collinear pairs singular (det <= 1e-5 tr^2)
        assert r["singular"].mean >= p1 - Z * se


@pytest.mark.parametrize("backend", COMPILED)
def test_song_window_is_a_ppp_on_the_disk(backend):
    """P(no TX in the window) = exp(-lam pi R^2); then 1/sum L_t is inf (counted, not averaged)."""
    p = SongParams()
    R, n = 30.0, 60_000
    r = estimate(SongKernel(p, window_radius=R, backend=backend), n, seed=204)
    p0 = math.exp(-p.tx_density * math.pi * R**2)
    for q in ("inv_sum_tx", "inv_sum_rx"):
        frac = r[q].n_posinf / n
        assert abs(frac - p0) <= Z * math.sqrt(p0 * (1 - p0) / n), (q, frac, p0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", COMPILED)
def test_drawn_layouts_have_the_ordered_ppp_law(backend, dtype):
    mod = backends.load(backend)
    K, n = 8, 20_000
    d = mod.song_draws(SongKernel(SongParams(), k_nearest=K, backend=backend, dtype=dtype), block_rng(5, 0, 0), n)
    for s in ("t", "r"):
        g = d[f"g_{s}"].astype(float)
        for k in (1, 4, K):
            assert stats.kstest(g[:, k - 1], stats.gamma(k).cdf).pvalue > 1e-4, (s, k)
        phi = d[f"phi_{s}"].astype(float)
        assert stats.kstest(phi[:, 0], stats.uniform(-math.pi, 2 * math.pi).cdf).pvalue > 1e-4
        assert stats.kstest(phi[:, -1], stats.uniform(-math.pi, 2 * math.pi).cdf).pvalue > 1e-4
        # independence of consecutive bearings (drawn in pairs from one 64-bit output)
        rho = np.corrcoef(np.cos(phi[:, 0]), np.cos(phi[:, 1]))[0, 1]
        assert abs(rho) < Z / math.sqrt(n)


@pytest.mark.skipif(not backends.available("numba"), reason="numba is not installed (pip install 'isacnet[fast]')")
@pytest.mark.parametrize("dtype", DTYPES)
def test_numba_exponentials_law(dtype):
    """The kernels' exponentials (float32: the ziggurat on both halves of a 64-bit output,
    tail path beyond r = 7.697 for idx 0, wedge tests otherwise): KS against Exp(1), mean 1 and
    variance 1, P(X > 7.697) = e^-7.697 (the tail path), P(X < 0.01) = 1 - e^-0.01."""
    from isacnet.backends.numba_kernels import exponentials, stream_state

    n = 2_000_000
    x = np.empty(n, dtype)
    exponentials(stream_state(block_rng(9, 0, 0)), x)
    x = x.astype(float)
    assert np.all(x > 0)
    assert stats.kstest(x[:200_000], "expon").pvalue > 1e-4
    assert abs(x.mean() - 1) <= Z / math.sqrt(n)
    assert abs(x.var() - 1) <= Z * math.sqrt(8 / n)  # Var(sample var) ~ (mu_4 - 1) / n, mu_4 = 9
    for p in (math.exp(-7.6971174701310497), 1 - math.exp(-0.01)):
        frac = np.mean(x > 7.6971174701310497) if p < 1e-3 else np.mean(x < 0.01)
        assert abs(frac - p) <= Z * math.sqrt(p * (1 - p) / n), (frac, p)
