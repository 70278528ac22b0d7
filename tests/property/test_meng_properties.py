"""Properties of the Meng FIM/CRLB and acceptance probabilities that hold everywhere."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from isacnet import meng
from isacnet.analysis import meng_sensing as ms
from isacnet.analysis.acceptance import area_variance
from isacnet.params import MengParams

SETTINGS = settings(max_examples=60, deadline=None)
P = MengParams()

coord = st.floats(-3000.0, 3000.0, allow_nan=False, allow_infinity=False)
betas = st.floats(2.0, 5.0, allow_nan=False)
psis = st.integers(1, 60)
mus = st.floats(0.01, 20.0, allow_nan=False)
ns = st.integers(1, 80)


def layouts(n_min=1, n_max=8):
    return st.integers(n_min, n_max).flatmap(lambda n: hnp.arrays(np.float64, (n, 2), elements=coord))


ORIGIN = np.zeros(2)


def _far(bs, target=ORIGIN, d_min=10.0):
    return bool(np.all(np.hypot(*(bs - target).T) >= d_min))


def _conditioning(F):
    tr = F[0, 0] + F[1, 1]
    return float((F[0, 0] * F[1, 1] - F[0, 1] ** 2) / tr**2) if tr > 0 else 0.0


@SETTINGS
@given(layouts(), betas)
def test_fim_symmetric_psd(bs, beta):
    assume(_far(bs))
    p = MengParams(beta=beta)
    F = meng.fim_layout(bs, np.zeros(2), p)
    assert F[0, 1] == F[1, 0]
    ev = np.linalg.eigvalsh(F / np.trace(F))
    assert ev.min() >= -1e-12


@SETTINGS
@given(layouts(2, 8), st.floats(0, 2 * math.pi), hnp.arrays(np.float64, (2,), elements=coord))
def test_crlb_rotation_translation_invariant(bs, angle, shift):
    assume(_far(bs))
    F = meng.fim_layout(bs, np.zeros(2), P)
    assume(_conditioning(F) > 1e-6)
    c, s = math.cos(angle), math.sin(angle)
    R = np.array([[c, -s], [s, c]])
    moved = bs @ R.T + shift
    a = meng.crlb_layout(bs, np.zeros(2), P)
    b = meng.crlb_layout(moved, shift, P)
    assert b == np.float64(a) or abs(b / a - 1) < 1e-8


@SETTINGS
@given(layouts(2, 8), st.floats(0.1, 10.0), betas)
def test_crlb_scales_as_distance_to_the_2beta(bs, scale, beta):
    """w -> s^-beta w makes F -> s^-2beta F, so tr(F^-1) -> s^2beta tr(F^-1)."""
    assume(_far(bs))
    p = MengParams(beta=beta)
    F = meng.fim_layout(bs, np.zeros(2), p)
    assume(_conditioning(F) > 1e-6)
    a = meng.crlb_layout(bs, np.zeros(2), p)
    b = meng.crlb_layout(scale * bs, np.zeros(2), p)
    assert abs(b / (a * scale ** (2 * beta)) - 1) < 1e-8


@SETTINGS
@given(layouts(1, 8))
def test_crlb_bounds_and_one_bs(bs):
    """tr(F^-1) >= 4 / tr(F); one BS, or BSs on one line through the target, cannot localise."""
    assume(_far(bs))
    F = meng.fim_layout(bs, np.zeros(2), P)
    tr = meng.crlb_layout(bs, np.zeros(2), P)
    assert tr >= 4 / np.trace(F) * (1 - 1e-12)
    line = bs[:, :1] * np.array([1.0, 0.5])  # all BSs on the line y = x/2
    assume(_far(line))
    assert meng.crlb_layout(line, np.zeros(2), P) == math.inf
    assert meng.crlb_layout(bs[:1], np.zeros(2), P) == math.inf


@settings(max_examples=25, deadline=None)
@given(layouts(2, 5))
def test_eq11_corrected_equals_layout_crlb(bs):
    assume(_far(bs))
    F = meng.fim_layout(bs, np.zeros(2), P)
    assume(_conditioning(F) > 1e-6)
    d = np.hypot(bs[:, 0], bs[:, 1])
    th = np.arctan2(bs[:, 1], bs[:, 0])
    v = ms.crlb_eq11(d, th, 2.0, P.zeta2)
    assert abs(v / meng.crlb_layout(bs, np.zeros(2), P) - 1) < 1e-7


# --------------------------------------------------------------------------- acceptance
VARIANTS = ("nb", "derived", "paper", "typical-bs")


@SETTINGS
@given(psis, mus, ns)
def test_kappa_in_unit_interval(psi, mu, N):
    for v in (*VARIANTS, "appendix"):
        k = float(ms.kappa_s(psi, mu, N, v))
        assert 0.0 <= k <= 1.0 + 1e-12
    for v in ("nb", "derived", "paper"):
        k = float(ms.kappa_c(psi, mu, N, v))
        assert 0.0 <= k <= 1.0 + 1e-12


@SETTINGS
@given(psis, mus, ns)
def test_kappa_s_monotone_as_the_paper_states(psi, mu, N):
    """Increasing in psi, decreasing in mu_s and N (below Lemma 1) -- true of the derived form
    and of (15); not of (24)'s last line (tested in test_meng_closed_forms)."""
    for v in VARIANTS:
        k = float(ms.kappa_s(psi, mu, N, v))
        assert float(ms.kappa_s(psi + 1, mu, N, v)) >= k - 1e-12
        assert float(ms.kappa_s(psi, mu * 1.1, N, v)) <= k + 1e-12
        assert float(ms.kappa_s(psi, mu, N + 1, v)) <= k + 1e-12


@SETTINGS
@given(st.integers(2, 60), mus, st.integers(1, 80))
def test_kappa_c_monotone(psi, mu, L):
    for v in ("nb", "derived"):
        k = float(ms.kappa_c(psi, mu, L, v))
        assert float(ms.kappa_c(psi + 1, mu, L, v)) >= k - 1e-12
        assert float(ms.kappa_c(psi, mu * 1.1, L, v)) <= k + 1e-12
        assert float(ms.kappa_c(psi, mu, L + 1, v)) <= k + 1e-12


@SETTINGS
@given(psis, mus, ns)
def test_derived_kappa_jensen_bounds(psi, mu, N):
    """psi/(psi + m) <= kappa <= min(1, psi/m), m = mu N.

    Lower: min(1, psi/(1+k)) >= psi/(psi+k), convex in k (Jensen). Upper: kappa =
    E[min(K, psi)]/m with min(., psi) concave (Jensen)."""
    k = float(ms.kappa_s(psi, mu, N, "derived"))
    m = mu * N
    assert psi / (psi + m) - 1e-12 <= k <= min(1.0, psi / m) + 1e-12
    # NB (default): the request sees E[K'] = m (1 + 1/a), a = N^2 / v(N)
    k = float(ms.kappa_s(psi, mu, N))
    a = N * N / float(area_variance(N, 0))
    assert psi / (psi + m * (1 + 1 / a)) - 1e-12 <= k <= min(1.0, psi / m) + 1e-12


@SETTINGS
@given(st.integers(1, 200), st.integers(1, 200))
def test_closed_forms_decrease_in_n(a, b):
    lo, hi = sorted((a, b))
    assume(lo < hi)
    for f in (ms.crlb_eq13, ms.crlb_eq12, ms.crlb_isotropic):
        assert f(hi, P) < f(lo, P)
