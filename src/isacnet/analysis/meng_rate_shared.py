"""Theorem 2 ("exact" variant) with one node set shared by every cluster size and power share
(the fast path of :func:`isacnet.analysis.meng_rate.rate`).

Same integrand as :mod:`isacnet.analysis.meng_rate`, in the variables of
:mod:`isacnet.analysis.coverage_shared`. For each eta, substitute z = z' a^(-alpha/2), a = eta^2:
dz/z = dz'/z', and z' is the Laplace argument in units of T_L, the arrival time of BS L. Then

* the PPP beyond BS L gives (1 + eta^2 H2(z, alpha, eta))^-L = (1 + G(z'))^-L with
  G(z') = H2(theta z', alpha, 1, k_I) (Lemma 2, the whole plane beyond u = 1): no a;
* BS L, at u = 1, gives e_I = (1 + theta z')^-k_I or e_D = (1 + p^c z')^-(M_t - 1): no a;
* BS 1 gives D = (1 + p^c z)^-(M_t - 1), and a BS of the ring the annulus means m_I(z, eta),
  m_D(p^c z, eta) of :func:`isacnet.analysis.meng_laplace.annulus_mean`;
* the density of eta^2, (L - 1)(1 - a)^(L - 2), folds into the ring factors: with
  Q_Y = (1 - a)(1 - (1 - kappa) m_I) and Q_S = (1 - a)(1 - kappa m_D - (1 - kappa) m_I),

      R = int dz'/z' (1 + G(z'))^-L (L - 1) int_0^1 [Q_Y^(L-2) B_Y - D Q_S^(L-2) B_S] da,
      B_Y = kappa + (1 - kappa) e_I,  B_S = kappa e_D + (1 - kappa) e_I;

  L = 1: R = int dz'/z' (1 + G(z'))^-1 (1 - e_D); L = 2: no ring.

So one tanh-sinh rule in a and one trapezoid rule in ln z' serve every L and p^c: the annulus
means and G are computed once per (z', a) (and once per p^c for the desired ones), and per L
there remain two integer powers and two sums. 0 <= Q <= 1 - a, so the powers cannot overflow, and
a-nodes where (L - 1)(1 - a)^(L - 2) w_a < 1e-17 are skipped. The z' range:
[-28/delta - max(0, ln(p^c (M_t - 1))), 28/(delta L) + 2] (the integrand falls like z'^delta
below, from BS 1's heavy tail, and like z'^(-delta L) above; 28: e^-28 = 7e-13 per unit of
rate); the nodes lie on the lattice ln z' = k h and each point sums over its own range, so its
value does not depend on the other points of a call. Checked against the pointwise rule at
(81, 513) to 2e-8 relative (typically 1e-10) over alpha in 2.2..6, M_t, L in 1..40, p^c in 1e-4..1
(tests/unit/test_meng_rate_shared.py).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from ._quadrature import _tanh_sinh
from .meng_laplace import _annulus_mean, _h_parts

__all__: list[str] = []

_TAIL = 28.0
_CUT = 1e-17


_SHARED_BLOCK = 16  # distinct p^c per call of the shared rule (~6 arrays of 16 x ~250 x 61: in cache)


def rate_shared_groups(Lf, pcf, kf, thf, shf, M, alpha, n_eta, n_z):
    """The shared rule per interference law (theta, k) and per block of distinct p^c."""
    n_a = 3 * (n_eta - 1) // 2 + 1
    s, log1ms, w = _tanh_sinh(n_a)
    wc = np.zeros_like(w)
    wc[::2] = 2.0 * w[::2]
    a_rule = (s, np.exp(log1ms), log1ms, w, wc)
    h = 120.0 / (max(n_z, 257) - 1)
    fine = np.zeros(Lf.size)  # p^c = 0: no signal, rate 0 exactly
    coarse = np.zeros(Lf.size)
    _, law = np.unique(np.stack([thf, shf]), axis=1, return_inverse=True)
    law = np.ravel(law)
    for g in np.unique(law):
        sel = np.flatnonzero((law == g) & (pcf > 0))
        if not sel.size:
            continue
        ups, pidx = np.unique(pcf[sel], return_inverse=True)
        pidx = np.ravel(pidx)
        for b in range(0, ups.size, _SHARED_BLOCK):
            j = sel[(pidx >= b) & (pidx < b + _SHARED_BLOCK)]
            fine[j], coarse[j] = rate_shared(
                pcf[j], Lf[j].astype(np.int64), kf[j], float(thf[j[0]]), float(shf[j[0]]), M, alpha, h, a_rule)
    # R is a difference of two terms of order 1, so its absolute rounding is ~1e-13: where the
    # rate is below that (p^c -> 0) it can come out slightly negative; R >= 0, so clip there
    return np.maximum(fine, 0.0), np.maximum(coarse, 0.0)


def rate_shared(pc, L, kap, th, sh, M, alpha, h, a_rule):
    """Fine and coarse R [nats] for points (p^c, L, kappa) (1-D arrays) sharing the interference
    gain law Gamma(sh, th) (scalars); ``a_rule`` = (a, 1 - a, log(1 - a), weights, coarse weights)."""
    K = M - 1.0
    d = 2.0 / alpha
    up, inv = np.unique(pc, return_inverse=True)
    inv = inv.ravel()
    # nodes on the lattice ln z' = k h, each row summing over its own range, so that a point's
    # value does not depend on the other points of the call
    k_lo = np.floor((-_TAIL / d - np.maximum(0.0, np.log(np.maximum(up * K, 1e-300)))) / h).astype(np.int64)
    k_hi = int(math.ceil((_TAIL / (d * int(L.min())) + 2.0) / h))  # what the call's smallest L needs
    k0 = int(k_lo.min())
    zp = np.exp(h * np.arange(k0, k_hi + 1))
    f = _Factors(zp, up, th, sh, K, alpha, a_rule, (k0, k_hi, h))
    fine = np.empty(pc.size)
    coarse = np.empty(pc.size)
    for Lv in np.unique(L):
        sel = np.flatnonzero(L == Lv)
        # the upper tail falls like z'^(-delta L): fewer nodes for larger L
        S = min(k_hi, int(math.ceil((_TAIL / (d * Lv) + 2.0) / h))) - k0 + 1
        Fz, Fc = f.integrand(int(Lv), inv[sel], kap[sel], S)
        k = np.arange(k0, k0 + S)
        on = k >= k_lo[inv[sel]][:, None]
        fine[sel] = h * np.where(on, Fz, 0.0).sum(axis=1)
        coarse[sel] = 2.0 * h * np.where(on & (k % 2 == 0), Fc, 0.0).sum(axis=1)
    return fine, coarse


@functools.lru_cache(maxsize=16)
def _interference(th: float, sh: float, alpha: float, K: float, h: float, n_a: int):
    """The p^c-free factors (ln(1 + G), e_I, m_I) on every lattice node any call with this
    interference law, alpha, K and rule can use (p^c <= 1, L >= 1), computed once: a root search
    over p^c (``meng.optimize``'s polish) or a per-point loop then pays for the desired terms only.
    Returns the first lattice index and read-only arrays."""
    from ._quadrature import _tanh_sinh

    d = 2.0 / alpha
    kg = int(math.floor((-_TAIL / d - max(0.0, math.log(K))) / h))
    k1 = int(math.ceil((_TAIL / d + 2.0) / h))
    zp = np.exp(h * np.arange(kg, k1 + 1))
    a, log1ma, _ = _tanh_sinh(n_a)
    eta, q = np.sqrt(a), np.exp(log1ma) / a
    x = th * zp[:, None] * a ** (-0.5 * alpha)
    lg1G = np.log1p(_h_parts(th * zp, sh, alpha, 1.0)[1])
    eI = np.exp(-sh * np.log1p(th * zp))
    mI = np.clip(_annulus_mean(x, sh, alpha, eta, q, _h_parts(x, sh, alpha, eta)[0]), 0.0, 1.0)
    for v in (lg1G, eI, mI):
        v.flags.writeable = False
    return kg, lg1G, eI, mI


class _Factors:
    """The L-free factors on the (p^c, z', a) grid, and the integrand in z' for one L."""

    def __init__(self, zp, up, th, sh, K, alpha, a_rule, lattice):
        a, one_m_a, log1ma, wa, wc = a_rule
        eta = np.sqrt(a)
        q = one_m_a / a  # eta^-2 - 1
        z = zp[:, None] * a ** (-0.5 * alpha)  # the Laplace argument in units of T_1 (S, K)
        k0, k_hi, h = lattice
        kg, lg1G, eI, mI = _interference(float(th), float(sh), float(alpha), float(K), float(h), a_rule[0].size)
        rows = slice(k0 - kg, k_hi - kg + 1)
        self.lg1G, self.eI, self.mI = lg1G[rows], eI[rows], mI[rows]
        xD = up[:, None, None] * z
        h1D = _h_parts(xD, K, alpha, eta)[0]
        self.mD = np.clip(_annulus_mean(xD, K, alpha, eta, q, h1D), 0.0, 1.0)
        self.D = np.exp(-K * np.log1p(xD))  # BS 1
        self.eD = np.exp(-K * np.log1p(up[:, None] * zp))  # BS L (u = 1)
        self.one_m_a, self.log1ma, self.wa, self.wc = one_m_a, log1ma, wa, wc

    def integrand(self, L, u, kap, S):
        """(fine, coarse-in-a) integrand in ln z' at the first S nodes, rows (p^c index u, kappa)."""
        E = np.exp(-L * self.lg1G[:S])
        eD = self.eD[u, :S]
        if L == 1:
            F = E * (1.0 - eD)
            return F, F
        k = kap[:, None]
        ku, kinv = np.unique(kap, return_inverse=True)  # the Y part depends on kappa alone
        kinv = kinv.ravel()
        eI = self.eI[:S]
        BY = (ku[:, None] + (1.0 - ku[:, None]) * eI)[kinv]
        BS = k * eD + (1.0 - k) * eI
        wa, wc = self.wa, self.wc
        if L == 2:
            D = self.D[u, :S]
            return (BY - (D @ wa) * BS) * E, (BY - (D @ wc) * BS) * E
        keep = np.flatnonzero(math.log(L - 1.0) + (L - 2.0) * self.log1ma + np.log(wa) > math.log(_CUT))
        nk = int(keep[-1]) + 1 if keep.size else 1
        oma, mI = self.one_m_a[:nk], self.mI[:S, :nk]
        QY = (oma * (1.0 - (1.0 - ku[:, None, None]) * mI)) ** (L - 2)
        YY, YYc = (QY @ wa[:nk])[kinv], (QY @ wc[:nk])[kinv]
        kk = k[..., None]
        QS = oma * np.clip(1.0 - kk * self.mD[u, :S, :nk] - (1.0 - kk) * mI, 0.0, 1.0)
        np.power(QS, L - 2, out=QS)
        QS *= self.D[u, :S, :nk]
        return ((L - 1.0) * (YY * BY - (QS @ wa[:nk]) * BS) * E,
                (L - 1.0) * (YYc * BY - (QS @ wc[:nk]) * BS) * E)
