"""CoMP power-sum SIR of Meng & Masouros (8) for given BS distances, averaged over fading in closed form.

For one user with path gains w_1 >= w_2 >= ... >= w_K (w_k = d_k^-alpha, BS 1 serving, BSs
2..L asked, each accepting independently with probability kappa) and the paper's gain laws
(Section IV, Lemma 2): desired gains G ~ Gamma(m, p^c) with m = M_t - 1, interferer gains
E ~ Exp(1), the SIR (8) is S / I with

    S = sum_{accepting k <= L} G_k w_k,     I = sum_{declining k <= L} E_k w_k + sum_{k > L} E_k w_k + T,

T >= 0 the mean interference of the sites beyond the K-th (deterministic, mean gain 1, as in
:mod:`isacnet.simulation.meng_rate`). Every BS contributes independently to S and I, so the
Laplace transforms and the characteristic function of S - theta I are products of one factor a BS:

* rate (9): E ln(1 + S/I) = int_0^inf (L_I(z) - L_{S+I}(z)) / z dz, from
  ln x = int_0^inf (e^-z - e^-zx) / z dz (no independence of S and I needed);
* coverage P(S > theta I) by Gil-Pelaez: 1/2 + (1/pi) int_0^inf Im phi_{S - theta I}(t) / t dt.

Both are 1-D integrals in log z (log t), evaluated with a fixed composite Gauss-Legendre rule on a
per-point range [lo, hi] chosen so that the neglected ends are below 1e-10; vectorised over points.
Joint-transmission models (``jt``) are entries of :data:`JT_MODELS`: a name mapped to a pair of
functions ``(rate, coverage)`` with the signatures of :func:`power_sum_rate` and
:func:`power_sum_coverage`; :func:`isacnet.maps.comp_map` looks the model up there. "power-sum"
(the paper's non-coherent (8)) is the one implemented. A model whose signal is again a sum of
independent per-BS terms reuses the two integrals with other per-BS factors; coherent joint
transmission (|sum_k sqrt(w_k) h_k|^2) is not such a sum and would need its own closed form or a
Monte Carlo over fading.
"""

from __future__ import annotations

import math

import numpy as np

from .params import ParameterError

JT_MODELS: dict = {}
"""name -> (rate function, coverage function); filled at the end of this module."""

_GL_ORDER = 8
_END_TOL = 1e-10


def _gl_nodes(panels: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights on [0, 1]."""
    x, w = np.polynomial.legendre.leggauss(_GL_ORDER)
    edges = np.linspace(0.0, 1.0, panels + 1)
    h = np.diff(edges)
    nodes = (edges[:-1, None] + 0.5 * h[:, None] * (x[None, :] + 1.0)).ravel()
    weights = (0.5 * h[:, None] * w[None, :]).ravel()
    return nodes, weights


def _upper_log(wi: np.ndarray, c0: np.ndarray, m: int, tail: np.ndarray, target: float) -> np.ndarray:
    """ln z where g(z) = m ln(1 + z c0) + sum_k ln(1 + z wi_k) + z tail first exceeds ``target``.

    g is increasing; a lower bound of -ln |L_I(z)| (or of -ln |phi(t)|), so beyond the returned
    point the integrands are below e^-target. Bisection in ln z, vectorised over rows.
    """
    scale = np.maximum(np.maximum(c0 if m else 0.0, wi.max(axis=1, initial=0.0)), tail)
    scale = np.where(scale > 0, scale, 1.0)
    lo = -40.0 - np.log(scale)
    hi = target + 1.0 - np.log(scale)
    for _ in range(36):
        mid = 0.5 * (lo + hi)
        z = np.exp(mid)
        g = m * np.log1p(z * c0) + np.log1p(z[:, None] * wi).sum(axis=1) + z * tail
        big = g > target
        hi = np.where(big, mid, hi)
        lo = np.where(big, lo, mid)
    return hi


def _check(w: np.ndarray, L: int, m: int, pc: float, kappa: float, tail, jt: str):
    if jt not in JT_MODELS:
        raise ParameterError("jt", jt, f"one of {sorted(JT_MODELS)} (the paper's non-coherent power sum)")
    w = np.asarray(w, dtype=float)
    if w.ndim != 2 or w.shape[1] < L or not np.all(np.isfinite(w)) or np.any(w <= 0):
        raise ParameterError("w", f"array of shape {w.shape}", f"finite path gains > 0 of shape (n, K), K >= L = {L}")
    if not pc > 0:
        raise ParameterError("comm_power_fraction", pc, "> 0 for a CoMP map (no power, no signal)")
    if not 0.0 <= kappa <= 1.0:
        raise ParameterError("kappa_c", kappa, "in [0, 1]")
    t = np.broadcast_to(np.asarray(tail, dtype=float), w.shape[:1])
    if np.any(t < 0) or not np.all(np.isfinite(t)):
        raise ParameterError("tail", "negative or non-finite", "finite values >= 0")
    return w, t


def power_sum_rate(w, L: int, m: int, pc: float, kappa: float, tail=0.0, panels: int = 12,
                   jt: str = "power-sum") -> np.ndarray:
    """E over fading and acceptance of ln(1 + SIR) (Meng (8)-(9)) [nats/s/Hz] for given path gains.

    Parameters
    ----------
    w : ndarray, shape (n, K)
        Path gains d_k^-alpha of the K nearest BSs, nearest first (K >= L).
    L : int
        Cluster size (BS 1 serves, 2..L asked).
    m : int
        Shape of the desired gains, M_t - 1.
    pc : float
        p^c, scale of the desired gains.
    kappa : float
        Acceptance probability of each asked BS.
    tail : float or ndarray, shape (n,)
        Mean interference of the sites beyond the K-th (same units as w).
    panels : int
        Gauss-Legendre panels (8 nodes each) over ln z.

    Returns
    -------
    rate : ndarray, shape (n,)
        +inf where the interference vanishes with positive probability (no interferer left).
    """
    w, T = _check(w, L, m, pc, kappa, tail, jt)
    wc, wi = w[:, 1:L], w[:, L:]
    ES = pc * m * (w[:, 0] + kappa * wc.sum(axis=1))
    x_lo = np.log(_END_TOL / ES)
    x_hi = _upper_log(wi, w[:, 0], 0, T, -math.log(_END_TOL))
    x_hi = np.maximum(x_hi, x_lo + 1.0)
    u, uw = _gl_nodes(panels)
    x = x_lo[:, None] + (x_hi - x_lo)[:, None] * u[None, :]  # (n, q)
    z = np.exp(x)
    log_li = -z * T[:, None] - np.log1p(z[:, :, None] * wi[:, None, :]).sum(axis=2)
    a = 1.0 / (1.0 + z[:, :, None] * wc[:, None, :])  # Laplace factor of an Exp(1) w_k
    b = (1.0 + pc * z[:, :, None] * wc[:, None, :]) ** (-m)  # of a Gamma(m, p^c) w_k
    decl = kappa + (1.0 - kappa) * a  # E e^{-z I_k}: nothing if it accepts
    both = kappa * b + (1.0 - kappa) * a  # E e^{-z (S_k + I_k)}
    log_li = log_li + np.log(decl).sum(axis=2)
    lr = -m * np.log1p(pc * z * w[:, :1]) + (np.log(both) - np.log(decl)).sum(axis=2)
    f = np.exp(log_li) * -np.expm1(lr)
    rate = (f * uw[None, :]).sum(axis=1) * (x_hi - x_lo)
    no_interf = (wi.shape[1] == 0) & (T == 0) & (kappa > 0)
    return np.where(no_interf, np.inf, rate)


COVERAGE_TOL = 1e-6
"""Target absolute error of :func:`power_sum_coverage` (per point, estimated by panel doubling)."""
MAX_PANELS = 1024


def _gil_pelaez(w, T, L: int, m: int, pc: float, kappa: float, th: float, panels: int) -> np.ndarray:
    """1/2 + (1/pi) int Im phi_{S - theta I}(t) d ln t with ``panels`` Gauss-Legendre panels (rows of w)."""
    wc, wi = w[:, 1:L], w[:, L:]
    ES = pc * m * (w[:, 0] + kappa * wc.sum(axis=1))
    EI = th * ((1.0 - kappa) * wc.sum(axis=1) + wi.sum(axis=1) + T)
    # ends: |Im phi(t)| <= t E|S - theta I| below, |phi(t)| above; each neglected part < end_tol
    end_tol = 1e-2 * COVERAGE_TOL
    x_lo = np.log(end_tol / (ES + EI))
    # |phi(t)| <= (1 + (t p^c w_1)^2)^(-m/2) prod_{k>L} (1 + (theta t w_k)^2)^(-1/2): solve in t^2
    x_hi = 0.5 * _upper_log((th * wi) ** 2, (pc * w[:, 0]) ** 2, m, np.zeros_like(T), -2.0 * math.log(end_tol))
    x_hi = np.maximum(x_hi, x_lo + 1.0)
    u, uw = _gl_nodes(panels)
    out = np.empty(len(w))
    step = max(1, (1 << 21) // (u.size * max(1, w.shape[1])))  # bounded work arrays
    for r in range(0, len(w), step):
        sl = slice(r, r + step)
        t = np.exp(x_lo[sl, None] + (x_hi - x_lo)[sl, None] * u[None, :])  # (n, q)
        ai = th * t[:, :, None] * wi[sl, None, :]
        log_mag = -0.5 * np.log1p(ai * ai).sum(axis=2)
        phase = -np.arctan(ai).sum(axis=2) - th * t * T[sl, None]
        s1 = pc * t * w[sl, :1]  # serving BS: (1 - i s1)^-m
        log_mag += -0.5 * m * np.log1p(s1 * s1)
        phase += m * np.arctan(s1)
        tc = t[:, :, None] * wc[sl, None, :]
        mix = kappa * (1.0 - 1j * pc * tc) ** (-m) + (1.0 - kappa) / (1.0 + 1j * th * tc)
        phi = np.exp(log_mag + 1j * phase) * np.prod(mix, axis=2)
        out[sl] = 0.5 + (phi.imag * uw[None, :]).sum(axis=1) * (x_hi - x_lo)[sl] / math.pi
    return out


def power_sum_coverage(w, L: int, m: int, pc: float, kappa: float, theta, tail=0.0, panels: int = 16,
                       jt: str = "power-sum", tol: float = COVERAGE_TOL, return_error: bool = False):
    """P(SIR > theta) over fading and acceptance (Meng (8), paper's gain laws), by Gil-Pelaez.

    The integral is evaluated with ``panels`` and 2 ``panels`` Gauss-Legendre panels; points where
    the two differ by more than ``tol`` are redone with twice as many, up to :data:`MAX_PANELS`
    (small path-loss exponents, alpha ~ 2.5, need the most: the heavy interference tail makes the
    characteristic function oscillate long before it decays). The error estimate is the last
    difference.

    Parameters as in :func:`power_sum_rate`; ``theta`` : float > 0, the SIR threshold (linear);
    ``tol`` : target absolute error; ``return_error`` : also return the error estimates.

    Returns
    -------
    coverage : ndarray, shape (n,), clipped to [0, 1]
    error : ndarray, shape (n,) (with ``return_error``): |last - previous| estimate; points above
        ``tol`` after MAX_PANELS are not converged (callers count them).
    """
    w, T = _check(w, L, m, pc, kappa, tail, jt)
    th = float(theta)
    if not th > 0 or not math.isfinite(th):
        raise ParameterError("theta", theta, "a finite SIR threshold > 0 (linear)")
    prev = _gil_pelaez(w, T, L, m, pc, kappa, th, panels)
    n = 2 * panels
    val = _gil_pelaez(w, T, L, m, pc, kappa, th, n)
    err = np.abs(val - prev)
    todo = np.flatnonzero(err > tol)
    while todo.size and 2 * n <= MAX_PANELS:
        n *= 2
        again = _gil_pelaez(w[todo], T[todo], L, m, pc, kappa, th, n)
        err[todo] = np.abs(again - val[todo])
        val[todo] = again
        todo = todo[err[todo] > tol]
    val = np.clip(val, 0.0, 1.0)
    return (val, err) if return_error else val


JT_MODELS["power-sum"] = (power_sum_rate, power_sum_coverage)
