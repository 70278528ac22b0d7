"""Closed forms for the angle-of-arrival extension of Song et al.'s Jensen bound (issue 8).

Song (20)-(23) average the delay FIM over the directions before inverting it; with matched
beams, E_theta[S_delay] = (M_r M_t eta / c^2) W U I, W = sum_k L_k, U = sum_l L_l. The receive
arrays add (docs/estimation.md)

    S_aoa = sum_l J^u_l p_l p_l^T / rho_l^2,   J^u_l = delta^2 M_r (M_r^2 - 1) M_t eta W L_l / (12 beta^2),

p_l = a_l - (a_l . q_l) q_l, whose direction average is E[p p^T] = diag(3/8, 1/8) for a common
array axis (the frame of the axis) and I/4 for i.i.d. uniform axes. Hence

    E_theta[S] = (M_r M_t eta W / c^2) (U I + kappa V diag(m_1, m_2)),
    kappa = delta^2 (M_r^2 - 1) c^2 / (12 beta^2) [m^2],  V = sum_l rho_l^(-gamma-2),

and the Jensen bound tr((E_theta S)^-1) has the PPP mean (W and (U, V) independent)

    c^2/(M_r M_t eta) E[1/W] sum_i E[1/(U + kappa m_i V)].

E[1/W] is Lemma 3 (24). The second factor follows from the same Laplace-transform/PGFL steps as
Appendix A with the path gain r^-gamma (1 + c r^-2):

    E[1/(U + c V)] = (pi lam)^(-gamma/2) Q(c pi lam),
    Q(b) = int_0^inf (gamma/2) s^(gamma/2 - 1) exp(-s G(b/s)) ds,
    G(b) = int_0^inf (1 - exp(-z^(-gamma/2) (1 + b/z))) dz,

(arrival-time units z = pi lam r^2 / t^(2/gamma), t = s^(gamma/2)). G(0) = Gamma(1 - 2/gamma) and
Q(0) = Gamma(1 + gamma/2) Gamma(1 - 2/gamma)^(-gamma/2), i.e. Lemma 3; without AoA the bound is
Theorem 2 (26). Since U + cV >= cV, Q(b) <= Q_inf(b) = Gamma(2 + gamma/2) Gamma(gamma/(gamma+2))^(-(gamma+2)/2) / b
(Lemma 3 for the exponent gamma + 2), with Q(b) / Q_inf(b) -> 1 as b -> inf: when the AoA
dominates, the bound falls as M_r^-3 instead of M_r^-1.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..params import DIRECTION_MOMENTS, SPEED_OF_LIGHT, ParameterError, SongParams, check_real
from .song import lemma3

_ORDER = 20
"""Gauss-Legendre nodes per panel; the panel counts below are doubled for the error estimate."""


def aoa_kappa(params: SongParams, element_spacing: float = 0.5) -> float:
    """kappa = delta^2 (M_r^2 - 1) c^2 / (12 beta^2) [m^2]: AoA over delay information scale."""
    d = check_real("element_spacing", element_spacing, gt=0.0)
    m = params.n_rx_antennas
    return d * d * (m * m - 1) * SPEED_OF_LIGHT**2 / (12.0 * params.eff_bandwidth**2)


def _gauss_legendre(lo: float, hi: float, panels: int) -> tuple[np.ndarray, np.ndarray]:
    """Composite Gauss-Legendre nodes and weights on [lo, hi] (``panels`` equal panels)."""
    x, w = np.polynomial.legendre.leggauss(_ORDER)
    edges = np.linspace(lo, hi, panels + 1)
    half = 0.5 * np.diff(edges)
    mid = 0.5 * (edges[1:] + edges[:-1])
    return (mid[:, None] + half[:, None] * x).ravel(), (half[:, None] * w).ravel()


def _one_minus_exp(eps: np.ndarray) -> np.ndarray:
    """eps - (1 - exp(-eps)) >= 0 without cancellation (series below 1e-3)."""
    series = eps * eps * (0.5 - eps * (1.0 / 6.0 - eps * (1.0 / 24.0 - eps / 120.0)))
    return np.where(eps < 1e-3, series, eps + np.expm1(-np.maximum(eps, 1e-3)))


def _g(b: np.ndarray, gamma: float, panels: int) -> np.ndarray:
    """G(b) = int_0^inf (1 - exp(-z^(-gamma/2) (1 + b/z))) dz for an array of b >= 0.

    In u = log(z / z0), z0 = max(1, b^(1/(gamma/2 + 1))) (where the integrand turns from ~1 to
    its tail): the head u in [-45, 0] (the rest below is < z0 e^-45), and beyond z0 the tail
    eps = z^(-gamma/2) (1 + b/z) integrated exactly minus eps - (1 - e^-eps) ~ eps^2/2, which
    decays like exp(-(gamma - 1) u): cut at u = 60/(gamma - 1).
    """
    h = 0.5 * gamma
    b = np.asarray(b, dtype=float)[..., None]
    log_z0 = np.maximum(0.0, np.log(np.where(b > 0, b, 1.0)) / (h + 1.0))
    out = []
    for lo, hi in ((-45.0, 0.0), (0.0, 60.0 / (gamma - 1.0))):
        u, wu = _gauss_legendre(lo, hi, panels)
        log_z = log_z0 + u
        z = np.exp(log_z)
        eps = np.exp(-h * log_z) * (1.0 + b / z)
        f = -np.expm1(-eps) if lo < 0 else _one_minus_exp(eps)
        out.append(np.sum(wu * z * f, axis=-1))
    head, rest = out
    z0 = np.exp(log_z0[..., 0])
    exact = z0 ** (1.0 - h) / (h - 1.0) + b[..., 0] * z0 ** (-h) / h
    return head + exact - rest


def _q(b: float, gamma: float, panels: int) -> float:
    """Q(b) = int (gamma/2) s^(gamma/2) exp(-s G(b/s)) dv, s = e^v, by composite Gauss-Legendre.

    The integrand ~ s^(gamma/2) for small s and < exp(-s G(0)) for large s (G >= G(0) =
    Gamma(1 - 2/gamma)): v from log(1/G(0)) - 45/(gamma/2) to log(60/G(0))."""
    h = 0.5 * gamma
    g0 = special.gamma(1.0 - 1.0 / h)
    v, wv = _gauss_legendre(math.log(1.0 / g0) - 45.0 / h, math.log(60.0 / g0), panels)
    s = np.exp(v)
    return float(np.sum(wv * h * s**h * np.exp(-s * _g(b / s, gamma, panels))))


def inv_sum_aoa_normalised(b: float, gamma: float) -> tuple[float, float]:
    """Q(b) = (pi lam)^(gamma/2) E[1/(U + c V)] with b = c pi lam (see the module docstring).

    Parameters
    ----------
    b : float
        Dimensionless AoA weight c pi lambda_r (>= 0; 0 gives Lemma 3 in arrival-time units).
    gamma : float
        Path-loss exponent (> 2).

    Returns
    -------
    (value, abserr) : the integral by composite Gauss-Legendre rules (40 panels of 20 nodes) on
    logarithmic domains, and the difference from the same rules with 20 panels as an error
    estimate (it bounds the coarse rule's error; the fine rule agrees with mpmath to ~1e-14,
    tests/reference/test_aoa_reference.py).
    """
    b = check_real("b", b, ge=0.0)
    gamma = check_real("gamma", gamma, gt=2.0)
    fine = _q(b, gamma, 40)
    coarse = _q(b, gamma, 20)
    if not (math.isfinite(fine) and fine > 0.0):  # pragma: no cover - quadrature failure
        raise FloatingPointError(f"inv_sum_aoa_normalised: quadrature failed (b={b}, gamma={gamma})")
    return fine, abs(fine - coarse)


def inv_sum_aoa_asymptote(b: float, gamma: float) -> float:
    """Q_inf(b) = Gamma(2 + gamma/2) Gamma(gamma/(gamma + 2))^(-(gamma+2)/2) / b, an upper bound on
    Q(b) that it approaches for b -> inf (AoA-dominated regime)."""
    b = check_real("b", b, gt=0.0)
    gamma = check_real("gamma", gamma, gt=2.0)
    h = 0.5 * gamma + 1.0
    return math.exp(special.gammaln(1.0 + h) - h * math.log(special.gamma(1.0 - 1.0 / h))) / b


def jensen_bound_aoa(
    params: SongParams, element_spacing: float = 0.5, rx_orientation: str = "aligned"
) -> tuple[float, float]:
    """PPP mean of the delay+AoA Jensen bound tr((E_theta S)^-1) [m^2], with its error estimate.

    c^2/(M_r M_t eta) * Lemma3(lam_t) * (pi lam_r)^(-gamma/2) * [Q(kappa m_1 pi lam_r) + Q(kappa m_2 pi lam_r)]

    (module docstring). For M_r = 1 (kappa = 0) it equals Theorem 2 (26).
    """
    params.require_gamma_above_2("the delay+AoA Jensen bound")
    if rx_orientation not in DIRECTION_MOMENTS:
        raise ParameterError("rx_orientation", rx_orientation, f"one of {tuple(DIRECTION_MOMENTS)}")
    kappa = aoa_kappa(params, element_spacing)
    lam_r = math.pi * params.rx_density
    pre = (
        SPEED_OF_LIGHT**2
        / (params.n_rx_antennas * params.n_tx_antennas * params.eta)
        * float(lemma3(params.tx_density, params.gamma))
        * lam_r ** (-0.5 * params.gamma)
    )
    total = err = 0.0
    for m in DIRECTION_MOMENTS[rx_orientation]:
        v, e = inv_sum_aoa_normalised(kappa * m * lam_r, params.gamma)
        total += v
        err += e
    return pre * total, pre * err
