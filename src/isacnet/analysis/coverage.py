"""Coverage P(SINR > T) of the CoMP link of Meng & Masouros (Section II-C, eq. (8)), closed form.

Derivation (docs/coverage.md has it in full). Arrival-time units: the BSs are the arrivals
T_1 < T_2 < ... of a unit-rate Poisson process (T_k = pi lambda_b d_k^2), path gain
w_k = T_k^(-alpha/2). BS 1 serves, BSs 2..L are asked and accept independently with probability
kappa; every other BS interferes. Gains (Nakagami-m per degree of freedom; m = 1 is the paper):

    desired, per serving BS:  g ~ Gamma(k_d, theta_d),  k_d = m (M_t - 1), theta_d = p^c / m
    interfering BS:           h ~ Gamma(m, 1/m)            (mean 1, the paper's Gamma(1, 1) at m = 1)

Power-sum JT (eq. (8)): X = sum_served g_i w_i, Y = sum_interf h_j w_j, SINR = X / (Y + nu) with
nu = sigma^2 / (P_t (pi lambda_b)^(alpha/2)) (:func:`noise_level`). Coverage by Gil-Pelaez on
D = X - T (Y + nu):  P(D > 0) = 1/2 + (1/pi) int_0^inf Im E[e^(i w D)] dw / w.

Given T_L = b and eta^2 = T_1/T_L (eta^2 ~ Beta(1, L-1) independent of b ~ Gamma(L)), in the
scaled variable w' = w b^(-alpha/2) and positions u = T/b, the characteristic function factorises:
BS 1 at u = eta^2 (serves), BS L at u = 1 (asked), the L - 2 BSs in between i.i.d. uniform in
u on (eta^2, 1) (asked), the BSs beyond a PPP of density b on u > 1 (interfere):

    E[e^(i w D) | eta, b] = psi_D(eta^2) A^(L-2) B exp(-b C) exp(-i w' T nu b^(alpha/2)),
    psi_D(u) = (1 + x_D u^(-alpha/2))^(-k_d),  x_D = -i w' theta_d,
    psi_I(u) = (1 + x_I u^(-alpha/2))^(-m),    x_I = i w' T / m,
    B = kappa psi_D(1) + (1 - kappa) psi_I(1),  A = mean over the ring of the same mixture,
    C = G(x_I, m) (the PGFL of the BSs beyond T_L),
    G(x, k) = int_1^inf (1 - (1 + x u^(-alpha/2))^-k) du = (1 + x)^-k - 1 + k x/(1 - delta)
              2F1(k + 1, 1 - delta; 2 - delta; -x),  delta = 2/alpha

(substitute y = u^(-alpha/2), integrate by parts; :mod:`isacnet.analysis.coverage_pgfl`), and the
ring mean of 1 - (1 + x u^(-alpha/2))^-k is (a G(x a^(-alpha/2), k) - G(x, k)) / (1 - a), a = eta^2.
Without noise the average over b is (1 + C)^(-L); with noise it is done by quadrature on a rotated
contour (``_b_average``). L = 1: no ring,
BS 1 at u = 1, b = T_1 ~ Exp(1).

Non-coherent JT (Nigam-Minero-Haenggi 2014), closed form for k_d = 1 (M_t = 2, m = 1): the
desired amplitudes sqrt(g_i w_i) e^(j phi_i) are circular Gaussian, so given the layout
X = E p^c sum_served w_i with one E ~ Exp(1): all served BSs share one gain. Then
E[e^(i w X) | layout] = int_0^inf e^-t prod_served e^(i w t p^c w_i) dt; the t-contour is rotated
to t = s (1 + i w' p^c eta^(-alpha)) (analytic, decaying in the sector), which removes the
oscillation of BS 1's term, and the s-integral is done by Gauss-Laguerre (``n_t`` nodes).

Coherent JT has no product form (the amplitudes add before squaring): Monte Carlo only.

The outer integral over v = ln w' is a trapezoid rule (the integrand is analytic in the strip
|Im v| < pi/2, so it converges geometrically), eta by the tanh-sinh rule of
:mod:`isacnet.analysis.meng_rate`. The error estimate is the change when every other node of both
rules is dropped.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..params import MengParams, ParameterError, QuadratureWarning, real_array
from .coverage_pgfl import (  # noqa: F401 - _G, _table re-exported (meta, tests, benchmarks)
    _G,
    G,
    _Gim,
    _ring_mean,
    _ring_mean_det,
    _table,
)
from .coverage_shared import coverage_shared as _coverage_shared
from .meng_rate import _check_L, _check_params, _tanh_sinh
from .meng_sensing import kappa_c as _kappa_c

__all__ = ["JT_MODELS", "db_to_linear", "linear_to_db", "noise_level", "G", "coverage", "rate_from_coverage"]

JT_MODELS = ("power-sum", "noncoherent", "coherent")
WARN_ERROR = 1e-3
"""A coverage whose error estimate (the change when every other node is dropped) exceeds this is
returned with a :class:`~isacnet.params.QuadratureWarning`. The estimate is pessimistic where the
rules converge (both converge geometrically, so the full rule's error is about the square of the
estimate: 3.5e-4 estimated, 2e-7 actual at alpha = 2.5, L = 40, T = 1e4); above 1e-3 the full
rule may be off by more than its promised ~1e-6."""
_LN2 = math.log(2.0)


# --------------------------------------------------------------------------- conversions


def db_to_linear(x_db):
    """10^(x_db/10): a threshold in dB as the linear SINR threshold :func:`coverage` takes.

    Parameters
    ----------
    x_db : array_like
        Finite reals [dB].

    Returns
    -------
    ndarray or float, same shape, > 0 [linear power ratio].
    """
    a = real_array("x_db", x_db, "finite real(s) [dB]")
    if not np.all(np.isfinite(a)):
        raise ParameterError("x_db", x_db, "finite real(s) [dB]")
    out = 10.0 ** (a / 10.0)
    return out[()] if out.ndim == 0 else out


def linear_to_db(x):
    """10 log10(x) [dB] of a linear power ratio x > 0."""
    a = real_array("x", x, "> 0 (a linear power ratio)")
    if not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ParameterError("x", x, "> 0 (a linear power ratio)")
    out = 10.0 * np.log10(a)
    return out[()] if out.ndim == 0 else out


def noise_level(params: MengParams, noise=None) -> float:
    """nu = sigma^2 / (P_t (pi lambda_b)^(alpha/2)): the noise in the units of the SINR of
    arrival-time coordinates (a BS at arrival time T = pi lambda_b d^2 is received with power
    P_t g T^(-alpha/2) (pi lambda_b)^(alpha/2), d in m, 1 m reference distance).

    Parameters
    ----------
    params : MengParams
        tx_power P_t [W], bs_density lambda_b [m^-2], alpha, noise_power.
    noise : None, "params" or float
        None or 0: interference-limited (the paper's SIR; nu = 0). "params": sigma^2 =
        ``params.noise_power``. A float: sigma^2 in W (>= 0).

    Returns
    -------
    float
        nu >= 0 (dimensionless). With the paper's values (P_t = 1 W, lambda_b = 1 km^-2,
        alpha = 4, sigma^2 = 1e-11 W) nu = 1.013: not negligible.
    """
    _check_params(params)
    if noise is None:
        return 0.0
    if isinstance(noise, str):
        if noise != "params":
            raise ParameterError("noise", noise, "None, 'params' or a noise power >= 0 [W]")
        sigma2 = params.noise_power
    else:
        a = real_array("noise", noise, "None, 'params' or a noise power >= 0 [W]")
        if a.ndim != 0 or not np.isfinite(a) or a < 0:
            raise ParameterError("noise", noise, "None, 'params' or a noise power >= 0 [W] (a scalar)")
        sigma2 = float(a)
    return sigma2 / (params.tx_power * (math.pi * params.bs_density) ** (0.5 * params.alpha))


# --------------------------------------------------------------------------- validation


def _check_threshold(threshold) -> np.ndarray:
    a = real_array("threshold", threshold, "> 0 (a linear SINR threshold; db_to_linear converts dB)")
    if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a <= 0):
        raise ParameterError("threshold", threshold if a.ndim == 0 else a.tolist(),
                             "finite > 0 (a linear SINR threshold; db_to_linear converts dB)")
    return a


def _check_unit_interval(name, v) -> np.ndarray:
    a = real_array(name, v, "in [0, 1]")
    if a.size == 0 or not np.all(np.isfinite(a)) or np.any((a < 0) | (a > 1)):
        raise ParameterError(name, v if a.ndim == 0 else a.tolist(), "in [0, 1]")
    return a


def _check_m(m) -> float:
    a = real_array("m", m, "a Nakagami parameter >= 0.5 (a scalar)")
    if a.ndim != 0 or not np.isfinite(a) or a < 0.5:
        raise ParameterError("m", m, "a Nakagami parameter >= 0.5 (a scalar)")
    return float(a)


def _check_n(n, name, lo):
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < lo or n % 2 == 0:
        raise ParameterError(name, n, f"an odd integer >= {lo}")
    return int(n)


def _b_average(C, L, wv, Tn, alpha, n_b):
    """E_b[exp(-b C - i w' T nu b^(alpha/2))], b ~ Gamma(L). Without noise (Tn = 0): (1 + C)^-L.

    With noise the contour is rotated to b = r e^(-i pi/alpha) (the integrand is analytic and
    decays in the sector, Re C >= 0 and arg(1 + C) in [0, pi/2)), which turns the oscillating
    noise phase into the decay exp(-beta r^(alpha/2)), beta = w' T nu:
    e^(-i pi L/alpha) / Gamma(L) int_0^inf r^(L-1) exp(-r c - beta r^(alpha/2)) dr,
    c = (1 + C) e^(-i pi/alpha); then r = y / sigma, sigma = Re c + beta^(2/alpha), and the
    trapezoid rule in ln y on [ln(1e-16)/L - 1, ln 60] with n_b nodes. C, wv broadcast; Tn (R, 1, 1).
    """
    if np.all(Tn == 0):
        v = np.exp(-L * np.log1p(C))
        return v, v
    rot = np.exp(-1j * math.pi / alpha)
    c = (1.0 + C) * rot
    beta = wv * Tn
    sig = c.real + beta ** (2.0 / alpha)
    t = np.linspace(math.log(1e-16) / L - 1.0, math.log(60.0), n_b)
    h = t[1] - t[0]
    y = np.exp(t)
    r = y / sig[..., None]
    e = L * np.log(r) - r * c[..., None] - beta[..., None] * r ** (0.5 * alpha)
    tw = np.full(n_b, h)
    tw[0] = tw[-1] = 0.5 * h
    tc = np.zeros(n_b)
    tc[::2] = 2.0 * h
    tc[0] = tc[-1] = h
    f = np.exp(e)
    k = np.exp(-1j * math.pi * L / alpha) / math.gamma(L)
    return k * (f @ tw), k * (f @ tc)


def _phi_rows(wv, T, kap, th, nu, L, kd, m, alpha, jt, a, one_m_a, n_b, n_t):
    """E[e^(i w' D) | eta] for rows (R, 1, 1) x v nodes (1, V, 1) x eta nodes (1, 1, E), as
    (rest, Eb, Eb_coarse): the product of rest and the average over T_L (fine or coarse rule)."""
    xI = 1j * wv * T / m
    psiI1 = np.exp(-m * np.log1p(xI))
    Eb, Ebc = _b_average(_Gim(xI, m, alpha), L, wv, T * nu, alpha, n_b)
    if L >= 3:
        mI = _ring_mean(xI, m, alpha, a, one_m_a)
    if jt == "power-sum":
        xD = -1j * wv * th
        psiD1 = np.exp(-kd * np.log1p(xD))
        if L == 1:
            return psiD1, Eb, Ebc
        psiDa = np.exp(-kd * np.log1p(xD * a ** (-0.5 * alpha)))
        B = kap * psiD1 + (1.0 - kap) * psiI1
        ring = 1.0
        if L >= 3:
            A = 1.0 - kap * _ring_mean(xD, kd, alpha, a, one_m_a) - (1.0 - kap) * mI
            ring = A ** (L - 2)
        return psiDa * ring * B, Eb, Ebc
    # noncoherent: one shared Exp(1) gain, contour t = s zeta, zeta = 1/(1 - i w' p eta^-alpha)
    s, lam = special.roots_laguerre(n_t)
    y = wv * th
    zeta = 1.0 / (1.0 - 1j * y * a ** (-0.5 * alpha))
    if L == 1:
        return zeta, Eb, Ebc
    xs = (-1j * y * zeta)[..., None] * s  # exp(-xs u^-alpha/2) is a cooperating BS's factor
    B = kap[..., None] * np.exp(-xs) + ((1.0 - kap) * psiI1)[..., None]
    tot = B
    if L >= 3:
        A = 1.0 - kap[..., None] * _ring_mean_det(xs, alpha, a[..., None], one_m_a[..., None])
        tot = tot * (A - ((1.0 - kap) * mI)[..., None]) ** (L - 2)
    return zeta * (tot @ lam), Eb, Ebc


def _v_range(L, kd, th, T, alpha):
    """Per-row ln w' range: below, |Im phi| <~ (w' max(T, 1))^delta (L >= 2: E[eta^-alpha] = inf)
    or w' max(T, 1) (L = 1); above, |phi| <= (w' theta)^-k_d."""
    d = 2.0 / alpha
    lo = -37.0 / (d if L >= 2 else 1.0) - np.log(np.maximum(T, 1.0))
    hi = np.log(1.0 / th) + 37.0 / min(kd, 1.0) + 2.0
    return lo, hi


def _coverage_L(L, T, kap, th, nu, kd, m, alpha, jt, n_v, n_eta, n_b, n_t):
    """Fine and coarse values of P(D > 0) for rows of one L (1-D arrays T, kap, th)."""
    lo, hi = _v_range(L, kd, th, T, alpha)
    hv = (hi - lo) / (n_v - 1)
    tau = np.linspace(0.0, 1.0, n_v)
    if L == 1:
        a = np.ones((1, 1, 1))
        one_m_a = np.zeros((1, 1, 1))
        ws = ws_c = np.ones(1)
    else:
        _, log1ms, ws = _tanh_sinh(n_eta)
        one_m_a = np.exp(log1ms / (L - 1.0))[None, None, :]
        a = -np.expm1(log1ms / (L - 1.0))[None, None, :]
        ws_c = np.zeros_like(ws)
        ws_c[::2] = 2.0 * ws[::2]
    col = (slice(None), None, None)
    fine = np.empty(T.size)
    coarse = np.empty(T.size)
    block = max(1, 400_000 // (n_v * a.size * (n_t if jt == "noncoherent" else 1)))
    for i in range(0, T.size, block):
        j = slice(i, i + block)
        wv = np.exp(lo[j][:, None] + (hi - lo)[j][:, None] * tau)[..., None]
        h = hv[j]
        rest, Eb, Ebc = _phi_rows(wv, T[j][col], kap[j][col], th[j][col], nu, L, kd, m, alpha, jt, a, one_m_a, n_b, n_t)
        im = (rest * Eb).imag
        f_eta, c_eta = im @ ws, im @ ws_c  # (R, V)
        fine[j] = 0.5 + h / math.pi * f_eta.sum(axis=1)
        coarse[j] = 0.5 + 2.0 * h / math.pi * c_eta[:, ::2].sum(axis=1)
        if Ebc is not Eb:  # the rule over T_L with every other node dropped
            fb = 0.5 + h / math.pi * ((rest * Ebc).imag @ ws).sum(axis=1)
            coarse[j] = np.where(np.abs(fb - fine[j]) > np.abs(coarse[j] - fine[j]), fb, coarse[j])
    return fine, coarse


def coverage(
    threshold,
    L,
    params: MengParams,
    *,
    kappa_c=None,
    p_c=None,
    noise=None,
    jt: str = "power-sum",
    m=1.0,
    return_error: bool = False,
    method: str = "auto",
    n_v: int = 481,
    n_eta: int = 81,
    n_b: int = 241,
    n_t: int = 24,
):
    """Coverage probability P(SINR_c > threshold) of the CoMP link, eq. (8) (closed form).

    Parameters
    ----------
    threshold : array_like
        SINR threshold T, *linear* (> 0); :func:`db_to_linear` converts dB.
    L : array_like of int
        Cluster size (>= 1). Broadcast with ``threshold``, ``kappa_c`` and ``p_c``.
    params : MengParams
        n_tx_antennas M_t, alpha, sensing_power_fraction (p^c = 1 - p^s); psi and mu_c for the
        default kappa_c; tx_power, bs_density (and noise_power) for the noise.
    kappa_c : array_like, optional
        Acceptance probability in [0, 1]; default ``kappa_c(psi, mu_c, L)`` (derived variant).
    p_c : array_like, optional
        Communication power share in [0, 1], overriding ``params``.
    noise : None, "params" or float
        None (default, the paper's interference-limited SIR), "params" (sigma^2 =
        ``params.noise_power``) or sigma^2 in W; :func:`noise_level`.
    jt : {"power-sum", "noncoherent"}
        Joint-transmission model (docs/coverage.md): "power-sum" is the paper's eq. (8);
        "noncoherent" (Nigam-Minero-Haenggi) needs m (M_t - 1) = 1 (circular Gaussian desired
        amplitudes). "coherent" has no closed form (Monte Carlo:
        :mod:`isacnet.simulation.kernels.coverage`) and raises.
    m : float
        Nakagami parameter (>= 0.5) of every link: desired gain per BS Gamma(m (M_t - 1), p^c/m),
        interference gain Gamma(m, 1/m); m = 1 is the paper's Rayleigh model.
    return_error : bool
        Also return the error estimate (change when every other node is dropped).
    method : {"auto", "shared", "pointwise"}
        "shared": one node set for every threshold and cluster size
        (:mod:`isacnet.analysis.coverage_shared`; interference-limited power-sum only, about 160x
        faster on a 64 x 20 grid: ~75 ms). "pointwise": a rule fitted to each point (any noise and JT
        model). "auto" (default): "shared" where it applies. Both are within 1e-6 of each other
        and of mpmath.
    n_v, n_eta, n_b, n_t : int
        Trapezoid nodes in ln w (odd; the shared rule's step in ln w is 120 / (n_v - 1), 0.25 at
        the default, and over sqrt(k_d / 3) with 2 n_eta - 1 eta^2 nodes when k_d = m (M_t - 1) > 4);
        tanh-sinh nodes in eta (pointwise) or eta^2 (shared) (4k + 1); trapezoid nodes
        in ln T_L on the rotated contour (odd; noise only); Gauss-Laguerre nodes over the shared
        gain ("noncoherent" only).

    Returns
    -------
    coverage : ndarray or float
        Shape ``broadcast(threshold, L, kappa_c, p_c)``, in [0, 1].
    error : ndarray or float
        Only with ``return_error``.
    """
    params = _check_params(params)
    Tv = _check_threshold(threshold)
    Lv = _check_L(L)
    if jt not in JT_MODELS:
        raise ParameterError("jt", jt, f"one of {JT_MODELS}")
    if jt == "coherent":
        raise ParameterError("jt", jt, "'power-sum' or 'noncoherent' for the closed form "
                             "(coherent JT: Monte Carlo, isacnet.simulation.kernels.coverage)")
    if method not in ("auto", "shared", "pointwise"):
        raise ParameterError("method", method, "'auto', 'shared' or 'pointwise'")
    m = _check_m(m)
    kd = m * (params.n_tx_antennas - 1)
    if jt == "noncoherent" and abs(kd - 1.0) > 1e-12:
        raise ParameterError("jt", jt, "'power-sum' unless m (M_t - 1) = 1 (non-coherent JT has a closed "
                             "form only for circular Gaussian desired amplitudes: M_t = 2, m = 1)")
    n_v, n_eta, n_b, n_t = _check_rules(n_v, n_eta, n_b, n_t)
    pc = _check_unit_interval("p_c", params.comm_power_fraction if p_c is None else p_c)
    if kappa_c is None:
        kappa_c = _kappa_c(params.resource_blocks, params.mu_c, Lv)
    kap = _check_unit_interval("kappa_c", kappa_c)
    nu = noise_level(params, noise)
    shared = jt == "power-sum" and nu == 0.0
    if method == "shared" and not shared:
        raise ParameterError("method", method, "'auto' or 'pointwise' with noise or jt = 'noncoherent' (the shared "
                             "rule is for the interference-limited power-sum model)")
    shared = shared and method != "pointwise"
    Tb, Lb, kb, pb = np.broadcast_arrays(Tv, Lv, kap, pc)
    shape = Tb.shape
    Tf, Lf, kf, pf = (np.ravel(x) for x in (Tb, Lb, kb, pb))
    fine = np.zeros(Tf.size)
    coarse = np.zeros(Tf.size)
    alpha = float(params.alpha)
    with np.errstate(over="ignore", invalid="ignore"):  # an overflow is reported below, by point
        if shared:
            on = np.flatnonzero(pf > 0)  # p^c = 0: no signal, coverage 0
            if on.size:
                h, n_a = _shared_rule(n_v, n_eta, kd)
                fine[on], coarse[on] = _coverage_shared(Tf[on] / (pf[on] / m), Lf[on], kf[on], kd, m, alpha, h, n_a)
        else:
            for Lval in np.unique(Lf):
                sel = np.flatnonzero((Lf == Lval) & (pf > 0))
                if sel.size:
                    fine[sel], coarse[sel] = _coverage_L(
                        int(Lval), Tf[sel], kf[sel], pf[sel] / m, nu, kd, m, alpha, jt, n_v, n_eta, n_b, n_t
                    )
    _raise_if_overflowed(fine, coarse, Tf, Lf, alpha)
    err = np.abs(fine - coarse)
    _warn_if_inaccurate(err, fine, Tf, Lf)
    val = np.clip(fine, 0.0, 1.0).reshape(shape)
    val = val[()] if val.ndim == 0 else val
    if return_error:
        e = err.reshape(shape)
        return val, (e[()] if e.ndim == 0 else e)
    return val


def _check_rules(n_v, n_eta, n_b, n_t):
    n_v = _check_n(n_v, "n_v", 33)
    n_eta = _check_n(n_eta, "n_eta", 9)
    if (n_eta - 1) % 4:
        raise ParameterError("n_eta", n_eta, "an integer 4k + 1 >= 9")
    n_b = _check_n(n_b, "n_b", 33)
    n_t = int(_check_n(n_t + 1, "n_t", 9)) - 1
    return n_v, n_eta, n_b, n_t


def _raise_if_overflowed(fine, coarse, T, L, alpha) -> None:
    bad = ~(np.isfinite(fine) & np.isfinite(coarse))
    if np.any(bad):
        i = int(np.argmax(bad))
        raise FloatingPointError(
            f"coverage quadrature overflowed at {int(bad.sum())} of {bad.size} points (first: threshold = "
            f"{T[i]:.4g}, L = {int(L[i])}, alpha = {alpha:g}): a path-loss exponent this close to 2 with "
            "this many cooperating BSs is beyond the pointwise rule; use the shared rule where it applies "
            "(method='shared': no noise, power-sum) or the Monte Carlo (isacnet.meng.simulate_coverage)")


def _shared_rule(n_v: int, n_eta: int, kd: float) -> tuple[float, int]:
    """Step in ln s and a-nodes of the shared rule: 120 / (n_v - 1) and n_eta, and for a desired
    shape k_d > 4 the step over sqrt(k_d / 3) and 2 n_eta - 1 nodes (the characteristic function of
    a near-deterministic gain oscillates faster in ln s, and psi_D(a) is sharper: at k_d = 17.5,
    alpha = 2.5 the plain rule is 1.7e-5 off, the scaled one 4e-9; tests/unit/test_coverage_shared.py)."""
    h = 120.0 / (n_v - 1)
    if kd > 4.0:
        return h / math.sqrt(kd / 3.0), 2 * n_eta - 1
    return h, n_eta


def _warn_if_inaccurate(err: np.ndarray, value: np.ndarray, T: np.ndarray, L: np.ndarray) -> None:
    bad = err > WARN_ERROR
    if np.any(bad):
        import warnings

        i = int(np.argmax(np.where(bad, err, -1.0)))
        warnings.warn(
            f"coverage: quadrature error estimate above {WARN_ERROR:g} at "
            f"{int(bad.sum())} of {bad.size} points (worst: threshold = {T[i]:.4g}, L = {int(L[i])}: "
            f"{value[i]:.6g} +- {err[i]:.2g}); raise n_v and n_eta, or see every estimate with return_error=True",
            QuadratureWarning, stacklevel=3)


def rate_from_coverage(L, params: MengParams, *, unit: str = "bits", n_thresholds: int = 241, **kw):
    """Mean rate E[ln(1 + SINR)] = int_0^inf P(SINR > T) / (1 + T) dT from :func:`coverage`.

    Trapezoid rule in ln T on [ln 1e-14, ln 1e12]; the part below 1e-14 is <= 1e-14 and the tail
    above T_max = 1e12 is added as P(SINR > T_max) / delta (the coverage falls like T^-delta,
    delta = 2/alpha, when BS 1 is the nearest BS). An independent route to the rate of
    :func:`isacnet.analysis.meng_rate.rate` (power-sum) and the only one for "noncoherent".

    Parameters
    ----------
    L : int
        Cluster size (a scalar).
    params : MengParams
    unit : {"bits", "nats"}
        bits/s/Hz (log2) or nats/s/Hz (ln).
    n_thresholds : int
        Nodes in ln T (odd).
    **kw
        Passed to :func:`coverage` (kappa_c, p_c, noise, jt, m, n_v, ...); scalars only.

    Returns
    -------
    float
        The mean rate in ``unit``.
    """
    if unit not in ("bits", "nats"):
        raise ParameterError("unit", unit, "'bits' or 'nats'")
    n = _check_n(n_thresholds, "n_thresholds", 33)
    if np.ndim(L) != 0:
        raise ParameterError("L", L, "a scalar integer >= 1")
    t = np.linspace(math.log(1e-14), math.log(1e12), n)
    T = np.exp(t)
    c = coverage(T, L, params, **kw)
    if np.ndim(c) != 1:
        raise ParameterError("kw", sorted(kw), "scalar kappa_c and p_c")
    f = c * T / (1.0 + T)
    h = t[1] - t[0]
    val = h * (f.sum() - 0.5 * (f[0] + f[-1])) + c[-1] / (2.0 / params.alpha)
    return float(val / _LN2 if unit == "bits" else val)
