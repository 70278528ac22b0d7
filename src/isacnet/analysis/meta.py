"""Meta distribution of the SIR (Haenggi 2016) for the CoMP link: moments of the conditional
success probability P_s(theta) = P(SIR > theta | layout) and the beta approximation of its law.

Closed-form moments exist for the non-cooperative link (L = 1) with an exponential desired gain
(M_t = 2, Rayleigh): given the layout, P_s(theta) = prod_{j >= 2} 1 / (1 + theta' (T_1/T_j)^(alpha/2)),
theta' = theta / p^c, so by the PGFL of the BSs beyond T_1 and T_1 ~ Exp(1),

    M_b = E[P_s^b] = E[exp(-T_1 G(theta', b))] = 1 / (1 + G(theta', b)),

G(x, b) = int_1^inf (1 - (1 + x u^(-alpha/2))^-b) du (:func:`isacnet.analysis.coverage.G`), which is
Haenggi's 1 / 2F1(b, -delta; 1 - delta; -theta') (b complex allowed there; real b > 0 here).
For L >= 2 the moments come from the Monte Carlo of the per-layout success probability
(:class:`isacnet.simulation.kernels.coverage.CoverageKernel`, outputs ps_j, ps2_j).
"""

from __future__ import annotations

import numpy as np
from scipy import special

from ..params import MengParams, ParameterError, real_array
from .coverage import _G, _check_threshold

__all__ = ["meta_moment", "beta_fraction_above"]


def meta_moment(theta, b, params: MengParams, *, p_c=None):
    """M_b = E[P_s(theta)^b] of the non-cooperative link (L = 1), M_t = 2, Rayleigh, no noise.

    Parameters
    ----------
    theta : array_like
        Linear SIR threshold(s) > 0.
    b : array_like
        Moment order(s) > 0 (b = 1: the coverage probability). Broadcast with theta.
    params : MengParams
        Needs n_tx_antennas = 2 (exponential desired gain); alpha; p^c = 1 - p^s.
    p_c : float, optional
        Overrides p^c (> 0).

    Returns
    -------
    ndarray or float, in (0, 1], shape broadcast(theta, b).
    """
    if not isinstance(params, MengParams):
        raise ParameterError("params", type(params).__name__, "a MengParams instance")
    if params.n_tx_antennas != 2:
        raise ParameterError("n_tx_antennas", params.n_tx_antennas,
                             "2 (closed-form moments need an exponential desired gain)")
    th = _check_threshold(theta)
    bb = real_array("b", b, "> 0")
    if bb.size == 0 or not np.all(np.isfinite(bb)) or np.any(bb <= 0):
        raise ParameterError("b", b, "finite > 0")
    pc = params.comm_power_fraction if p_c is None else p_c
    pc = float(real_array("p_c", pc, "in (0, 1]"))
    if not 0 < pc <= 1:
        raise ParameterError("p_c", p_c, "in (0, 1] (p^c = 0: no signal)")
    x, bb = np.broadcast_arrays(th / pc, bb)
    out = np.empty(x.shape)
    for bv in np.unique(bb):
        sel = bb == bv
        out[sel] = 1.0 / (1.0 + _G(x[sel].astype(complex), float(bv), float(params.alpha)).real)
    return out[()] if out.ndim == 0 else out


def beta_fraction_above(x, m1, m2):
    """Beta approximation (Haenggi 2016) of P(P_s > x) from the first two moments M_1, M_2:
    P_s ~ Beta(a, c) with c = (M_1 - M_2)(1 - M_1) / (M_2 - M_1^2), a = M_1 c / (1 - M_1), so
    P(P_s > x) = 1 - I_x(a, c) (I the regularised incomplete Beta function).

    Parameters
    ----------
    x : array_like
        In [0, 1].
    m1, m2 : float or array_like
        Moments with 0 < M_1 < 1 and M_1^2 < M_2 < M_1 (a non-degenerate law). Broadcast with x.

    Returns
    -------
    ndarray or float in [0, 1].
    """
    xa = real_array("x", x, "in [0, 1]")
    if not np.all((xa >= 0) & (xa <= 1)):
        raise ParameterError("x", x, "in [0, 1]")
    m1a, m2a = real_array("m1", m1, "in (0, 1)"), real_array("m2", m2, "in (M_1^2, M_1)")
    if not np.all((m1a > 0) & (m1a < 1)):
        raise ParameterError("m1", m1, "in (0, 1)")
    if not np.all((m2a > m1a**2) & (m2a < m1a)):
        raise ParameterError("m2", m2, "in (M_1^2, M_1) (a variance > 0 and P_s < 1)")
    c = (m1a - m2a) * (1.0 - m1a) / (m2a - m1a**2)
    a = m1a * c / (1.0 - m1a)
    out = special.betaincc(a, c, xa)
    return out[()] if np.ndim(out) == 0 else out
