"""Interference-limited power-sum coverage with one node set shared by every threshold and
cluster size (the fast path of :func:`isacnet.analysis.coverage.coverage`).

Same characteristic function as :mod:`isacnet.analysis.coverage` (docs/coverage.md), in other
variables, so that the expensive factors (the PGFL G on the ray) are computed once for all L:

* Without noise the coverage depends on T and p^c only through t = T / theta_d (scale X by theta_d).
  With s = w' T the interference factors x_I = i s / m depend on s alone and the desired factors
  x_D = -i s / t on s / t.
* BS 1 at a = eta^2 in (0, 1), whose density is (L - 1)(1 - a)^(L - 2) (Beta(1, L - 1)); the L - 2
  BSs between are i.i.d. on (a, 1). Their joint factor times the density is (L - 1) Q(a)^(L - 2) with

      Q(a) = int_a^1 q(u) du = (1 - a) (1 - kappa r_D(a) - (1 - kappa) r_I(a)),
      q(u) = kappa psi_D(u) + (1 - kappa) psi_I(u),

  r_D, r_I the ring means of 1 - psi of :mod:`isacnet.analysis.coverage_pgfl`. So one tanh-sinh
  rule in a (``n_a`` nodes on (0, 1)) serves every L: per L only Q = Q_I + kappa (Q_D - Q_I), an
  integer power and a sum remain. |psi| <= 1 gives |Q| <= 1 - a, so nodes where
  (L - 1)(1 - a)^(L - 2) w_a < 1e-17 are skipped.
* phi(s) = (L - 1) sum_a w_a psi_D(a) Q(a)^(L - 2) * (kappa psi_D(1) + (1 - kappa) psi_I(1))
  * (1 + G(x_I))^(-L); L = 2: no power; L = 1: psi_D(1) (1 + G(x_I))^-1.
* P(SIR > T) = 1/2 + (1/pi) int Im phi(s) d(ln s): trapezoid rule of step ``h`` in ln s, on the
  lattice ln s = k h, each point over its own range [min(-20/delta (L >= 2), -27) + min(ln t, 0),
  ln t + 27/k_d + 2] (so that its value does not depend on the other points of a call).
  The tails beyond are below e^-20 (|Im phi| <~ s^delta as s -> 0 for L >= 2, s for L = 1) and
  e^-27 (|phi| <= |psi_D(1)| ~ (s/t)^-k_d as s -> inf).

The thin rings (1 - a < 0.05) are done by 4-point Gauss-Legendre (the G difference cancels there);
a 12-point rule changes no value by more than 1e-12. The error estimate is the change when every
other node of both rules is dropped, as in :mod:`isacnet.analysis.coverage`. Checked against the
pointwise rule at twice its default nodes in ``tests/unit/test_coverage_shared.py``.
"""

from __future__ import annotations

import math

import numpy as np

from ._quadrature import _tanh_sinh
from .coverage_pgfl import _Gim

__all__: list[str] = []

_TAIL = 27.0  # the tails of the ln s integral are cut where the integrand is below e^-27 ...
_TAIL_L2 = 20.0  # ... or e^-20 at small s for L >= 2 (|Im phi| ~ s^delta there: 2.5x the nodes)
_THIN = 0.05
_GL4_X, _GL4_W = np.polynomial.legendre.leggauss(4)
_CUT = 1e-17  # a-nodes whose weight bound (L - 1)(1 - a)^(L - 2) w_a is below this are skipped
_BLOCK = 16  # thresholds per block: ~5 complex arrays of block x S x n_a (16: 20% faster than 32, cache)


def _ring_psi_mean(x, k, alpha, a, one_m_a, G0):
    """(1 - a) * mean over u ~ U(a, 1) of psi(u) = (1 + x u^(-alpha/2))^-k, i.e. int_a^1 psi du,
    for x (..., S, 1) and a (1, 1, K) ascending; G0 = G(x, k) (the ring's outer end, computed
    once). The thin rings (1 - a < 0.05) are the last nodes, so both parts are slices."""
    n_thick = int(np.count_nonzero(one_m_a >= _THIN))
    shape = np.broadcast_shapes(x.shape, a.shape)
    out = np.empty(shape, dtype=complex)
    aa, qa = a[..., :n_thick], one_m_a[..., :n_thick]
    # int_a^1 (1 - psi) du = a G(x a^(-alpha/2)) - G(x); int_a^1 psi du = (1 - a) - that
    out[..., :n_thick] = qa - (aa * _Gim(x * aa ** (-0.5 * alpha), k, alpha) - G0)
    at, qt = a[..., n_thick:, None], one_m_a[..., n_thick:, None]
    u = at + 0.5 * qt * (1.0 + _GL4_X)  # (1, 1, K_thin, 4)
    f = np.exp(-k * np.log1p(x[..., None] * u ** (-0.5 * alpha)))
    out[..., n_thick:] = 0.5 * qt[..., 0] * (f @ _GL4_W)
    return out


def _k_range(t, L, kd, alpha, h):
    """Per point, the lattice indices [k_lo, k_hi] of ln s = k h it sums over."""
    lo = np.where(L >= 2, min(-_TAIL, -_TAIL_L2 * 0.5 * alpha), -_TAIL) + np.minimum(np.log(t), 0.0)
    hi = np.log(t) + _TAIL / kd + 2.0
    return np.floor(lo / h).astype(np.int64), np.ceil(hi / h).astype(np.int64)


def coverage_shared(t, L, kap, kd, m, alpha, h, n_a):
    """Fine and coarse P(SIR > T) for points (t = T / theta_d, L, kappa) (1-D arrays, t > 0)."""
    fine = np.empty(t.size)
    coarse = np.empty(t.size)
    ut, inv = np.unique(t, return_inverse=True)
    inv = inv.ravel()
    sa, log1ms, wa = _tanh_sinh(n_a)
    wc = np.zeros_like(wa)
    wc[::2] = 2.0 * wa[::2]
    a = sa[None, None, :]
    one_m_a = np.exp(log1ms)[None, None, :]
    for b0 in range(0, ut.size, _BLOCK):
        blk = ut[b0:b0 + _BLOCK]
        pts = np.flatnonzero((inv >= b0) & (inv < b0 + blk.size))
        f, c = _block(blk, inv[pts] - b0, L[pts], kap[pts], kd, m, alpha, h, a, one_m_a, log1ms, wa, wc)
        fine[pts], coarse[pts] = f, c
    return fine, coarse


def _block(ut, inv, L, kap, kd, m, alpha, h, a, one_m_a, log1ms, wa, wc):
    # nodes on the lattice ln s = k h, each point summing over its own range, so that its value
    # does not depend on the other points of the call
    k_lo, k_hi = _k_range(ut[inv], L, kd, alpha, h)
    kv = np.arange(int(k_lo.min()), int(k_hi.max()) + 1)
    s = np.exp(h * kv)
    xI = (1j * s / m)[None, :, None]
    psiI1 = np.exp(-m * np.log1p(xI[..., 0]))
    lg1C = np.log1p(_Gim(xI[..., 0], m, alpha))
    xD = (-1j * s[None, :] / ut[:, None])[..., None]
    psiD1 = np.exp(-kd * np.log1p(xD[..., 0]))
    if L.max() >= 2:  # BS 1 inside the cluster's disc
        psiDa = np.exp(-kd * np.log1p(xD * a ** (-0.5 * alpha)))
    if L.max() >= 3:  # the BSs between BS 1 and BS L
        QI = _ring_psi_mean(xI, m, alpha, a, one_m_a, _Gim(xI, m, alpha))
        dQ = _ring_psi_mean(xD, kd, alpha, a, one_m_a, _Gim(xD, kd, alpha)) - QI
    lw = np.log(wa)
    fine = np.empty(L.size)
    coarse = np.empty(L.size)
    for Lv in np.unique(L):
        Lv = int(Lv)
        sel = np.flatnonzero(L == Lv)
        u = inv[sel]
        k = kap[sel][:, None]
        whole = u.size == ut.size and bool(np.all(u == np.arange(ut.size)))

        def pick(A, u=u, whole=whole):
            return A if whole else A[u]

        Eb = np.exp(-Lv * lg1C)
        if Lv == 1:
            phi = phic = pick(psiD1) * Eb
        else:
            B = (k * pick(psiD1) + (1.0 - k) * psiI1) * Eb
            if Lv == 2:
                pa = pick(psiDa)
                phi, phic = (pa @ wa) * B, (pa @ wc) * B
            else:
                # nodes beyond the last one whose bound exceeds _CUT (a near 1) contribute nothing
                keep = np.flatnonzero(math.log(Lv - 1.0) + (Lv - 2.0) * log1ms + lw > math.log(_CUT))
                nk = int(keep[-1]) + 1 if keep.size else 1
                Q = pick(dQ)[..., :nk] * k[..., None]
                Q += QI[..., :nk]
                np.power(Q, Lv - 2, out=Q)
                Q *= pick(psiDa)[..., :nk]
                phi = (Lv - 1.0) * (Q @ wa[:nk]) * B
                phic = (Lv - 1.0) * (Q @ wc[:nk]) * B
        on = (kv >= k_lo[sel][:, None]) & (kv <= k_hi[sel][:, None])
        fine[sel] = 0.5 + h / math.pi * np.where(on, phi.imag, 0.0).sum(axis=1)
        coarse[sel] = 0.5 + 2.0 * h / math.pi * np.where(on & (kv % 2 == 0), phic.imag, 0.0).sum(axis=1)
    return fine, coarse
