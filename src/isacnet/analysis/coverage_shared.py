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
* P(SIR > T) = 1/2 + (1/pi) int Im phi(s) d(ln s): trapezoid rule of step ``h`` in y, ln s = x(y)
  (:func:`_ln_s`: x ~ y where Im phi is not small, the nodes thinning out in the left tail), on the
  lattice y = k h, each point over its own range of ln s [min(-20/delta (L >= 2), -27) + min(ln t, 0),
  ln t + 27/k_d + 2]; the map's origin depends on the point's own t only (:func:`_origin`), so that
  its value does not depend on the other points of a call, beyond the 1e-12 of the next item.
* For L >= 2 |phi(s)| <= |E_b(s)| = |1 + G(x_I)|^-L: per L the s-nodes at the top whose bounds
  sum below 1e-12 are dropped (:func:`_s_keep`).
  The tails beyond are below e^-20 (|Im phi| <~ s^delta as s -> 0 for L >= 2, s for L = 1) and
  e^-27 (|phi| <= |psi_D(1)| ~ (s/t)^-k_d as s -> inf).

The thin rings (1 - a < 0.05) are done by 4-point Gauss-Legendre (the G difference cancels there);
a 12-point rule changes no value by more than 1e-12. The error estimate is the change when every
other node of both rules is dropped, as in :mod:`isacnet.analysis.coverage`. Checked against the
pointwise rule at twice its default nodes in ``tests/unit/test_coverage_shared.py``.

Computed in blocks of ``_BLOCK`` thresholds on arrays (a-node, s, threshold), so that the first nk
a-nodes and ns s-nodes are one contiguous slice; the large arrays live in buffers reused by every
block (:class:`_Work`), whole shapes k take products instead of complex exp/log (:func:`_psi_inplace`),
and no complex array is multiplied by a real one (numpy casts per element). docs/performance.md
("Coverage closed form") has the measurements: 64 thresholds x 20 L in about 75 ms.
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
_INT_K = 64  # (1 + x)^-k by products for a whole k up to this
_S_TOL = 1e-12  # bound on what the s-nodes dropped by _s_keep add to a coverage
_MAP_C, _MAP_W0, _MAP_K = 0.35, -7.0, 40.0  # the left-tail map of ln s (:func:`_ln_s`)
_MAP_Q = 2.0  # its origin: min(ln t, 0) rounded down to a multiple of this (points of a block share it)
_BLOCK = 16  # thresholds per block: ~5 complex arrays of block x S x n_a (16: 20% faster than 32, cache)


def _int_power(z, n: int, out):
    """z^n into ``out`` for an integer n >= 1 by repeated squaring, left to right (numpy's complex
    power takes a log and an exp per element: 15x slower). |z| <= 1 here: nothing overflows."""
    bits = bin(n)[3:]
    if not bits:
        np.copyto(out, z)
        return out
    np.multiply(z, z, out=out)
    for j, bit in enumerate(bits):
        if j:
            out *= out
        if bit == "1":
            out *= z
    return out


def _psi(x, k):
    """(1 + x)^-k for purely imaginary x (|1 + x| >= 1), a new array (see :func:`_psi_inplace`,
    whose fast reciprocal holds on the imaginary axis only: checked here, on the small arrays)."""
    z = np.array(x, dtype=complex)
    if np.any(z.real != 0.0):
        raise ValueError("coverage_shared._psi: x must be purely imaginary (the characteristic-function ray)")
    return _psi_inplace(z, k, np.empty_like(z))


def _psi_inplace(z, k, tmp):
    """z <- (1 + z)^-k for purely imaginary z, ``tmp`` a buffer of z's shape. A whole k up to
    _INT_K: the reciprocal to that power (products only; 5x faster than exp(-k log1p(z)), same
    values to 1e-15); otherwise exp(-k log1p(z))."""
    if k == int(k) and 1 <= k <= _INT_K:
        _recip_1p_imag(z, tmp)
        if k > 1:
            np.copyto(tmp, z)
            _int_power(tmp, int(k), z)
        return z
    np.log1p(z, out=z)
    z *= -k
    return np.exp(z, out=z)


def _recip_1p_imag(z, tmp):
    """z <- 1 / (1 + z) for purely imaginary z = i y: (1 - i y) / (1 + y^2) in real arithmetic
    (numpy's complex division is 2.8x slower). ``tmp``, contiguous, holds y and 1 / (1 + y^2).
    Beyond |y| ~ 1e154 y^2 overflows and the value is 0 instead of ~ -i/y: below 1e-154."""
    n = z.size
    tf = tmp.reshape(-1).view(np.float64)
    y, d = tf[:n].reshape(z.shape), tf[n:].reshape(z.shape)
    np.copyto(y, z.imag)
    np.multiply(y, y, out=d)
    d += 1.0
    np.reciprocal(d, out=d)
    y *= d
    np.negative(y, out=y)
    z.real = d
    z.imag = y


def _times_real(x, c, out):
    """out <- x * c for complex x and real c (broadcasting), as a real product on the float views:
    numpy casts c to complex per element and multiplies in complex (7x slower on the (a, s, T)
    arrays). The same values bit for bit (a zero part may differ in sign). Where a last axis is
    not contiguous (a float view is impossible), the complex product."""
    try:
        xf, of = x.view(np.float64), out.view(np.float64)
    except ValueError:
        return np.multiply(x, c, out=out)
    np.multiply(xf, c, out=of)
    return out


class _Work:
    """Named buffers reused by every block of a call: a fresh array of a few MB costs its page
    faults each time it is allocated (on the 2-core VM, a third of the time of the 64 x 20 grid)."""

    def __init__(self) -> None:
        self._b: dict[str, np.ndarray] = {}

    def __call__(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        n = math.prod(shape)
        b = self._b.get(name)
        if b is None or b.size < n:
            b = self._b[name] = np.empty(int(1.25 * n) + 1, dtype=complex)  # room for the next blocks
        return b[:n].reshape(shape)


def _ring_psi_mean(x, k, alpha, a, one_m_a, G0, out, tmp, tmp2):
    """out <- (1 - a) * mean over u ~ U(a, 1) of psi(u) = (1 + x u^(-alpha/2))^-k, i.e.
    int_a^1 psi du, for x (1, S, ...) and a (K, 1, 1) ascending; out, tmp and tmp2 (K, S, ...) buffers.
    G0 = G(x, k) (the ring's outer end, computed once). The thin rings (1 - a < 0.05) are the
    last nodes, so both parts are slices (and contiguous: a is the first axis)."""
    n_thick = int(np.count_nonzero(one_m_a >= _THIN))
    aa, qa = a[:n_thick], one_m_a[:n_thick]
    # int_a^1 (1 - psi) du = a G(x a^(-alpha/2)) - G(x); int_a^1 psi du = (1 - a) - that
    thick = out[:n_thick]
    z = _times_real(x, aa ** (-0.5 * alpha), tmp[:n_thick])
    _times_real(_Gim(z, k, alpha, out=z), aa, thick)
    thick -= G0
    np.subtract(qa.astype(complex), thick, out=thick)
    at, qt = a[n_thick:], one_m_a[n_thick:]
    thin, z, z2 = out[n_thick:], tmp[n_thick:], tmp2[n_thick:]
    thin[...] = 0.0
    for xg, wg in zip(_GL4_X, _GL4_W, strict=True):
        _times_real(x, (at + 0.5 * qt * (1.0 + xg)) ** (-0.5 * alpha), z)
        _psi_inplace(z, k, z2)
        z *= 0.5 * wg
        thin += z
    _times_real(thin, qt, thin)
    return out


def _weigh(W, A):
    """sum over the first axis of A (K, ...) complex with the real weights W (2, K): (2, ...).
    A real product on the float view (a complex product casts W and costs 4 times the flops)."""
    Af = np.ascontiguousarray(A).reshape(A.shape[0], -1).view(np.float64)  # a view where it can
    return (W @ Af).view(complex).reshape((2,) + A.shape[1:])


def _origin(t):
    """The map's origin of each threshold: min(ln t, 0) rounded down to a multiple of _MAP_Q."""
    return _MAP_Q * np.floor(np.minimum(np.log(t), 0.0) / _MAP_Q)


def _map_y0(x0, d):
    return x0 + (_MAP_W0 - _MAP_K * max(0.0, d - 0.5)) / d


def _ln_s(y, x0, d):
    """ln s = x(y) = y - e^(-c d (y - y0)) / (c d) and dx/dy = 1 + e^(-c d (y - y0)), with
    y0 = x0 + (w0 - K max(0, d - 1/2)) / d, x0 = :func:`_origin` and d = delta = 2 / alpha.

    The trapezoid rule runs on the lattice y = k h: x ~ y where Im phi is not small, and below the
    nodes thin out as |Im phi| ~ s^delta decays (BS 1 near the user; for L >= 2 the range reaches
    ln s = -20 / delta, 160 of the ~220 nodes of the plain lattice at alpha = 4). The integrand is
    analytic in |Im ln s| < pi/2, a strip the map narrows by x', so a region of nodes adds an error
    ~ |Im phi| e^(-pi^2 / (h x')) there: at alpha = 4 x' <= 2 down to |Im phi| ~ e^-10 (times its
    scale) and 4.4 at e^-20 (h = 0.25). Where delta > 1/2 the interference of a large cluster (L
    (1 + G) ~ L Gamma(1 - delta) s^delta) decays later: the map starts K (delta - 1/2) / delta
    lower. w0 = -7, c = 0.35 and K = 40 are the measured choice: on alpha in {2.2, 2.5, 3, 4}, M_t
    in {2, 4}, L up to 64 and T from -30 to 40 dB it is as close to a 721 x 121-node rule as the
    plain lattice (tests/unit/test_coverage_shared.py), with 2/3 of its nodes at alpha = 4."""
    e = np.exp(-_MAP_C * d * (y - _map_y0(x0, d)))
    return y - e / (_MAP_C * d), 1.0 + e


def _y_of(x, x0, d):
    """The inverse of :func:`_ln_s`. x(y) is increasing and concave, so Newton's method from a y
    left of the root stays left of it and converges monotonically; both y = x and, below y0,
    y0 - ln(1 + b (y0 - x)) / b (b = c d) are left of it (x(y) <= y and x(y) <= y0 - e^(-b (y - y0)) / b)."""
    x = np.asarray(x, dtype=float)
    b, y0 = _MAP_C * d, _map_y0(x0, d)
    y = np.maximum(x, y0 - np.log1p(b * np.maximum(y0 - x, 0.0)) / b)
    for _ in range(100):
        f, fp = _ln_s(y, x0, d)
        step = (f - x) / fp
        y -= step
        if np.all(np.abs(step) < 1e-12 * (1.0 + np.abs(y))):
            break
    return y


def _k_range(t, L, kd, alpha, h):
    """Per point, the lattice indices [k_lo, k_hi] of y = k h it sums over (ln s = x(y), :func:`_ln_s`)."""
    d = 2.0 / alpha
    x0 = _origin(t)
    lo = np.where(L >= 2, min(-_TAIL, -_TAIL_L2 / d), -_TAIL) + np.minimum(np.log(t), 0.0)
    hi = np.log(t) + _TAIL / kd + 2.0
    return np.floor(_y_of(lo, x0, d) / h).astype(np.int64), np.ceil(_y_of(hi, x0, d) / h).astype(np.int64)


def coverage_shared(t, L, kap, kd, m, alpha, h, n_a):
    """Fine and coarse P(SIR > T) for points (t = T / theta_d, L, kappa) (1-D arrays, t > 0)."""
    fine = np.empty(t.size)
    coarse = np.empty(t.size)
    ut, inv = np.unique(t, return_inverse=True)
    inv = inv.ravel()
    sa, log1ms, wa = _tanh_sinh(n_a)
    wc = np.zeros_like(wa)
    wc[::2] = 2.0 * wa[::2]
    a = sa[:, None, None]
    one_m_a = np.exp(log1ms)[:, None, None]
    ws = _Work()
    origin = _origin(ut)
    starts = [b0 for j in np.flatnonzero(np.r_[True, origin[1:] != origin[:-1]])  # a block: one origin
              for b0 in range(j, int(np.searchsorted(origin, origin[j], side="right")), _BLOCK)]
    for b0, b1 in zip(starts, starts[1:] + [ut.size], strict=True):
        blk = ut[b0:b1]
        pts = np.flatnonzero((inv >= b0) & (inv < b1))
        f, c = _block(blk, inv[pts] - b0, L[pts], kap[pts], kd, m, alpha, h, a, one_m_a, log1ms, wa, wc, ws)
        fine[pts], coarse[pts] = f, c
    return fine, coarse


def _s_keep(eb, h):
    """How many leading s-nodes to keep: for L >= 2 |phi(s)| <= |E_b(s)| = |1 + C(s)|^-L (|B|,
    |psi| <= 1, |Q| <= 1 - a and (L - 1) int (1 - a)^(L - 2) da = 1), so the nodes from j on add
    at most (2h / pi) 1.01 sum_{j..} |E_b| to either rule; drop the longest tail below _S_TOL.
    At L = 20 and T = 30 dB that is 29% of the nodes."""
    tail = np.cumsum(eb[::-1])[::-1] * (2.02 * h / math.pi)
    need = np.flatnonzero(tail > _S_TOL)
    return int(need[-1]) + 1 if need.size else 1


def _sum_over_a(Lv, k, dQ, QI, psiDa, W, ns, log1ms, lw, ws):
    """(L - 1) sum_a w_a psi_D(a) Q(a)^(L - 2), Q = Q_I + kappa (Q_D - Q_I), for the fine and the
    coarse a-rule (2, ns, thresholds), L >= 3, on the first ns s-nodes."""
    # nodes beyond the last one whose bound exceeds _CUT (a near 1) contribute nothing
    keep = np.flatnonzero(math.log(Lv - 1.0) + (Lv - 2.0) * log1ms + lw > math.log(_CUT))
    nk = int(keep[-1]) + 1 if keep.size else 1
    dq = dQ[:nk, :ns]
    Q = ws("tmp", dq.shape)
    qi = QI[:nk, :ns]
    if np.all(k == 1.0):  # every asked BS accepts: Q is the desired ring
        np.add(dq, qi, out=Q)
    else:
        if np.all(k == k[0]):  # one kappa (the default kappa_c(L)): a real product
            _times_real(dq, float(k[0]), Q)
        else:  # on the float view (a complex times a real array is cast per element)
            np.multiply(dq.view(np.float64), np.repeat(k, 2), out=Q.view(np.float64))
        Q += qi
    if Lv > 3:
        Q = _int_power(Q, Lv - 2, ws("tmp2", dq.shape))
    Q *= psiDa[:nk, :ns]
    return (Lv - 1.0) * _weigh(W[:, :nk], Q)


def _block(ut, inv, L, kap, kd, m, alpha, h, a, one_m_a, log1ms, wa, wc, ws):
    # nodes on the lattice y = k h (ln s = x(y)), each point summing over its own range, so that its value
    # does not depend on the other points of the call (beyond _S_TOL). Arrays are (a-node, s,
    # threshold): the first nk a-nodes and the first ns s-nodes (:func:`_s_keep`) are then one
    # contiguous block, which numpy runs through as one flat loop (the ring of the interferers,
    # the same for every threshold, is copied out to that shape so that nothing broadcasts).
    k_lo, k_hi = _k_range(ut[inv], L, kd, alpha, h)
    kv = np.arange(int(k_lo.min()), int(k_hi.max()) + 1)
    x, jac = _ln_s(h * kv, _origin(ut[:1])[0], 2.0 / alpha)  # the block's thresholds share the origin
    s = np.exp(x)
    xI = (1j * s / m)[None, :, None]  # (1, S, 1)
    psiI1 = _psi(xI[0], m)
    lg1C = np.log1p(_Gim(xI[0], m, alpha))
    xD = (-1j * s[:, None] / ut[None, :])[None]  # (1, S, thresholds)
    psiD1 = _psi(xD[0], kd)
    W = np.stack([wa, wc])  # the fine and the coarse rule in one product
    big = (a.shape[0], s.size, ut.size)
    if L.max() >= 2:  # BS 1 inside the cluster's disc
        psiDa = _psi_inplace(_times_real(xD, a ** (-0.5 * alpha), ws("psiDa", big)), kd, ws("tmp", big))
    if L.max() >= 3:  # the BSs between BS 1 and BS L
        QI = ws("QI", big)
        QI[...] = _ring_psi_mean(xI, m, alpha, a, one_m_a, _Gim(xI, m, alpha),
                                 *(ws(name, big[:2] + (1,)) for name in ("QI1", "tmp", "tmp2")))
        dQ = _ring_psi_mean(xD, kd, alpha, a, one_m_a, _Gim(xD, kd, alpha),
                            *(ws(name, big) for name in ("dQ", "tmp", "tmp2")))
        dQ -= QI
    lw = np.log(wa)
    fine = np.empty(L.size)
    coarse = np.empty(L.size)
    for Lv in np.unique(L):
        Lv = int(Lv)
        sel = np.flatnonzero(L == Lv)
        u = inv[sel]
        k = kap[sel]
        whole = u.size == ut.size and bool(np.all(u == np.arange(ut.size)))

        def pick(A, u=u, whole=whole):  # the thresholds of this L: the last axis
            return A if whole else A[..., u]

        Eb = np.exp(-Lv * lg1C)
        if Lv == 1:
            phi = phic = pick(psiD1) * Eb
            ns = s.size
        else:
            ns = _s_keep(np.abs(Eb[:, 0]) * jac, h)
            B = ((k * pick(psiD1) + (1.0 - k) * psiI1) * Eb)[:ns]
            if Lv == 2:
                r = _weigh(W, pick(psiDa)[:, :ns])
            else:
                r = _sum_over_a(Lv, k, pick(dQ), pick(QI), pick(psiDa), W, ns, log1ms, lw, ws)
            phi, phic = r[0] * B, r[1] * B
        kn, jn = kv[:ns, None], jac[:ns, None]
        on = (kn >= k_lo[sel]) & (kn <= k_hi[sel])
        fine[sel] = 0.5 + h / math.pi * np.where(on, phi.imag * jn, 0.0).sum(axis=0)
        coarse[sel] = 0.5 + 2.0 * h / math.pi * np.where(on & (kn % 2 == 0), phic.imag * jn, 0.0).sum(axis=0)
    return fine, coarse
