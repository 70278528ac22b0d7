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
is the paper's (8) (the received powers add). The other two models of
:mod:`isacnet.analysis.coverage` (docs/coverage.md, "Joint-transmission models"):

* "noncoherent" (Nigam-Minero-Haenggi: S = |sum_served sqrt(G_k w_k) e^(j phi_k)|^2, i.i.d.
  uniform phases): closed form for M_t = 2 (m = 1): given the served set A the amplitudes are
  circular Gaussian and S ~ Exp(p^c mu_A), mu_A = sum_{k in A} w_k, one shared gain, so

      P(S > theta I) = E_A[L_{I|A}(theta / (p^c mu_A))],
      E ln(1 + S/I) = E_A[int_0^inf L_{I|A}(z) (1 - 1 / (1 + z p^c mu_A)) / z dz],

  the mean over the 2^(L-1) acceptance patterns taken exactly (L <= :data:`MAX_PATTERN_L`).
  For m != 1 (M_t > 2): Monte Carlo over fading, acceptance and phases.
* "coherent" (phase-aligned: S = (sum_served sqrt(G_k w_k))^2): no product form; Monte Carlo
  over fading and acceptance (``n_fading`` draws a point, common to all points; the returned
  error is the standard error).

The Monte Carlo functions take ``rng`` (a numpy Generator) and ``n_fading``.
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


def _check(w: np.ndarray, L: int, m: int, pc: float, kappa: float, tail, jt: str, own: tuple[str, ...] = ()):
    if jt not in JT_MODELS or (own and jt not in own):
        raise ParameterError(
            "jt", jt, f"one of {list(own or JT_MODELS)} for this function (JT_MODELS maps each model to its functions)"
        )
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


def power_sum_rate(
    w, L: int, m: int, pc: float, kappa: float, tail=0.0, panels: int = 12, jt: str = "power-sum", **_ignored
) -> np.ndarray:
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
    w, T = _check(w, L, m, pc, kappa, tail, jt, ("power-sum",))
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


def power_sum_coverage(
    w,
    L: int,
    m: int,
    pc: float,
    kappa: float,
    theta,
    tail=0.0,
    panels: int = 16,
    jt: str = "power-sum",
    tol: float = COVERAGE_TOL,
    return_error: bool = False,
    **_ignored,
):
    """P(SIR > theta) over fading and acceptance (Meng (8), paper's gain laws), by Gil-Pelaez.

    The integral is evaluated with ``panels`` and 2 ``panels`` Gauss-Legendre panels; points where
    the two differ by more than ``tol`` are redone with twice as many, up to :data:`MAX_PANELS`
    (small path-loss exponents, alpha ~ 2.5, need the most: the heavy interference tail makes the
    characteristic function oscillate long before it decays). The error estimate is the last
    difference.

    Parameters as in :func:`power_sum_rate` (other keywords ignored); ``theta`` : float > 0, the SIR threshold (linear);
    ``tol`` : target absolute error; ``return_error`` : also return the error estimates. Other
    keywords (``rng``, ``n_fading`` of the Monte Carlo models) are ignored.

    Returns
    -------
    coverage : ndarray, shape (n,), clipped to [0, 1]
    error : ndarray, shape (n,) (with ``return_error``): |last - previous| estimate; points above
        ``tol`` after MAX_PANELS are not converged (callers count them).
    """
    w, T = _check(w, L, m, pc, kappa, tail, jt, ("power-sum",))
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


# --------------------------------------------------------------------------- other JT models

MAX_PATTERN_L = 12
"""Largest L whose 2^(L-1) acceptance patterns the non-coherent closed form enumerates."""
N_FADING = 4096
"""Default fading draws a point of the Monte Carlo models."""


def _patterns(L: int, kappa: float) -> tuple[np.ndarray, np.ndarray]:
    """Every acceptance pattern of BSs 2..L, (P, L - 1) bool, and its probability (P,)."""
    if L - 1 > MAX_PATTERN_L - 1:
        raise ParameterError("L", L, f"<= {MAX_PATTERN_L} for the non-coherent closed form (2^(L-1) patterns)")
    idx = np.arange(1 << (L - 1))
    acc = ((idx[:, None] >> np.arange(L - 1)[None, :]) & 1).astype(bool)
    k = acc.sum(axis=1)
    return acc, kappa**k * (1.0 - kappa) ** (L - 1 - k)


def _nc_pattern_terms(w, L: int, acc_row: np.ndarray):
    """mu_A (n,) and the interferers' path gains (n, J) of one acceptance pattern."""
    wc = w[:, 1:L]
    mu = w[:, 0] + (wc * acc_row[None, :]).sum(axis=1)
    wi = np.concatenate([wc[:, ~acc_row], w[:, L:]], axis=1)
    return mu, wi


def noncoherent_rate(
    w,
    L: int,
    m: int,
    pc: float,
    kappa: float,
    tail=0.0,
    panels: int = 12,
    jt: str = "noncoherent",
    rng=None,
    n_fading: int = N_FADING,
) -> np.ndarray:
    """E ln(1 + S/I) [nats/s/Hz] for non-coherent JT at given path gains (module docstring).

    Closed form for m = 1 (M_t = 2; exact mean over the acceptance patterns, Gauss-Legendre in
    ln z as :func:`power_sum_rate`); Monte Carlo over fading (:func:`mc_rate_coverage`) otherwise.
    Parameters as :func:`power_sum_rate`; ``rng``, ``n_fading`` for the Monte Carlo.

    Returns
    -------
    ndarray, shape (n,)
    """
    w, T = _check(w, L, m, pc, kappa, tail, jt, ("noncoherent",))
    if m != 1:
        return mc_rate_coverage(w, L, m, pc, kappa, (), T, jt=jt, rng=rng, n_fading=n_fading)[0]
    acc, prob = _patterns(L, kappa)
    u, uw = _gl_nodes(panels)
    out = np.zeros(len(w))
    for a, pa in zip(acc, prob, strict=True):
        if pa == 0.0:
            continue
        mu, wi = _nc_pattern_terms(w, L, a)
        x_lo = np.log(_END_TOL / (pc * mu))
        x_hi = np.maximum(_upper_log(wi, w[:, 0], 0, T, -math.log(_END_TOL)), x_lo + 1.0)
        z = np.exp(x_lo[:, None] + (x_hi - x_lo)[:, None] * u[None, :])
        log_li = -z * T[:, None] - np.log1p(z[:, :, None] * wi[:, None, :]).sum(axis=2)
        f = np.exp(log_li) * (pc * z * mu[:, None]) / (1.0 + pc * z * mu[:, None])
        r = (f * uw[None, :]).sum(axis=1) * (x_hi - x_lo)
        r = np.where((wi.shape[1] == 0) & (T == 0), np.inf, r)
        out += pa * r
    return out


def noncoherent_coverage(
    w,
    L: int,
    m: int,
    pc: float,
    kappa: float,
    theta,
    tail=0.0,
    jt: str = "noncoherent",
    return_error: bool = False,
    rng=None,
    n_fading: int = N_FADING,
    **_ignored,
):
    """P(S > theta I) for non-coherent JT at given path gains: closed form for m = 1,
    sum_A P(A) exp(-s T) prod_j 1 / (1 + s w_j), s = theta / (p^c mu_A) (error 0); Monte Carlo
    over fading otherwise (error: the standard error). Parameters as :func:`power_sum_coverage`.

    Returns
    -------
    coverage : ndarray, shape (n,); error : ndarray, shape (n,) (with ``return_error``)
    """
    w, T = _check(w, L, m, pc, kappa, tail, jt, ("noncoherent",))
    th = _check_theta(theta)
    if m != 1:
        _, c, e, _ = mc_rate_coverage(w, L, m, pc, kappa, (th,), T, jt=jt, rng=rng, n_fading=n_fading)
        return (c[0], e[0]) if return_error else c[0]
    acc, prob = _patterns(L, kappa)
    out = np.zeros(len(w))
    for a, pa in zip(acc, prob, strict=True):
        if pa == 0.0:
            continue
        mu, wi = _nc_pattern_terms(w, L, a)
        s = th / (pc * mu)
        out += pa * np.exp(-s * T - np.log1p(s[:, None] * wi).sum(axis=1))
    out = np.clip(out, 0.0, 1.0)
    return (out, np.zeros(len(w))) if return_error else out


def _check_theta(theta) -> float:
    th = float(theta)
    if not th > 0 or not math.isfinite(th):
        raise ParameterError("theta", theta, "a finite SIR threshold > 0 (linear)")
    return th


def mc_rate_coverage(
    w,
    L: int,
    m: int,
    pc: float,
    kappa: float,
    thetas,
    tail=0.0,
    jt: str = "coherent",
    rng=None,
    n_fading: int = N_FADING,
):
    """Monte Carlo over fading, acceptance (and phases) at given path gains, any JT model.

    ``n_fading`` draws per point: desired gains Gamma(m, p^c), interferers Exp(1), BSs 2..L
    accepting with probability kappa, phases uniform (non-coherent); the tail by its mean.

    Returns
    -------
    rate : ndarray (n,) [nats/s/Hz]; coverage : ndarray (len(thetas), n); stderr : ndarray
    (len(thetas), n), the standard errors of the coverage; rate_stderr : ndarray (n,).
    """
    from .comm import served_signal

    w, T = _check(w, L, m, pc, kappa, tail, jt)
    nf = int(n_fading)
    if nf < 2:
        raise ParameterError("n_fading", n_fading, "an integer >= 2")
    rng = np.random.default_rng(rng)
    ths = np.array([_check_theta(t) for t in thetas])
    n, K = w.shape
    rate, rate_se = np.empty(n), np.empty(n)
    cov = np.empty((ths.size, n))
    se = np.empty((ths.size, n))
    step = max(1, (1 << 21) // (nf * K))
    for r in range(0, n, step):
        wr, k = w[r : r + step], min(step, n - r)
        g = rng.gamma(m, pc, (k, nf, L))
        acc = rng.random((k, nf, L - 1)) < kappa
        ph = 2.0 * math.pi * rng.random((k, nf, L)) if jt == "noncoherent" else None
        served = np.concatenate([np.ones((k, nf, 1), dtype=bool), acc], axis=2)
        ws = np.broadcast_to(wr[:, None, :L], (k, nf, L))
        S = served_signal(
            ws.reshape(-1, L), g.reshape(-1, L), served.reshape(-1, L), jt, None if ph is None else ph.reshape(-1, L)
        ).reshape(k, nf)
        e = rng.exponential(1.0, (k, nf, K - 1))
        w_int = np.concatenate(
            [np.where(acc, 0.0, ws[:, :, 1:]), np.broadcast_to(wr[:, None, L:], (k, nf, K - L))], axis=2
        )
        interf = (e * w_int).sum(axis=2) + T[r : r + step, None]
        with np.errstate(divide="ignore"):
            sir = S / interf
        lr = np.log1p(sir)
        rate[r : r + step] = lr.mean(axis=1)
        rate_se[r : r + step] = lr.std(axis=1, ddof=1) / math.sqrt(nf)
        for j, t in enumerate(ths):
            ind = (sir > t).astype(float)
            cov[j, r : r + step] = ind.mean(axis=1)
            se[j, r : r + step] = ind.std(axis=1, ddof=1) / math.sqrt(nf)
    return rate, cov, se, rate_se


def coherent_rate(
    w,
    L: int,
    m: int,
    pc: float,
    kappa: float,
    tail=0.0,
    jt: str = "coherent",
    rng=None,
    n_fading: int = N_FADING,
    **_ignored,
) -> np.ndarray:
    """E ln(1 + S/I) [nats/s/Hz] for coherent JT at given path gains, Monte Carlo over fading
    (:func:`mc_rate_coverage`). Returns ndarray, shape (n,)."""
    return mc_rate_coverage(w, L, m, pc, kappa, (), tail, jt=jt, rng=rng, n_fading=n_fading)[0]


def coherent_coverage(
    w,
    L: int,
    m: int,
    pc: float,
    kappa: float,
    theta,
    tail=0.0,
    jt: str = "coherent",
    return_error: bool = False,
    rng=None,
    n_fading: int = N_FADING,
    **_ignored,
):
    """P(S > theta I) for coherent JT at given path gains, Monte Carlo over fading; the error is
    the standard error. Returns coverage (n,) [and error (n,) with ``return_error``]."""
    _, c, e, _ = mc_rate_coverage(w, L, m, pc, kappa, (_check_theta(theta),), tail, jt=jt, rng=rng, n_fading=n_fading)
    return (c[0], e[0]) if return_error else c[0]


JT_MODELS["power-sum"] = (power_sum_rate, power_sum_coverage)
JT_MODELS["noncoherent"] = (noncoherent_rate, noncoherent_coverage)
JT_MODELS["coherent"] = (coherent_rate, coherent_coverage)
