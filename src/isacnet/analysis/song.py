"""Closed forms of Song et al., "Performance Analysis of Network Sensing in the Distributed MIMO
Radar System" (../shared/papers/song-distributed-mimo-radar.md).

All functions broadcast over array arguments like numpy ufuncs.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..params import SPEED_OF_LIGHT, ParameterError, SongParams, check_real, real_array


def _check_gamma(gamma: np.ndarray) -> np.ndarray:
    valid = "> 2 (the PPP sum of r^-gamma diverges for gamma <= 2)"
    gamma = real_array("gamma", gamma, valid)
    if gamma.size == 0 or not np.all(np.isfinite(gamma)) or np.any(gamma <= 2.0):
        raise ParameterError("gamma", gamma.tolist() if gamma.ndim else float(gamma), valid)
    return gamma


def _check_density(density: np.ndarray, name: str = "density") -> np.ndarray:
    valid = "a finite density > 0 [m^-2]"
    density = real_array(name, density, valid)
    if density.size == 0 or not np.all(np.isfinite(density)) or np.any(density <= 0.0):
        raise ParameterError(name, density.tolist() if density.ndim else float(density), valid)
    return density


def lemma3(density: np.ndarray | float, gamma: np.ndarray | float) -> np.ndarray:
    """E[(sum_{x in PPP} ||x||^-gamma)^{-1}] = Gamma(1+gamma/2) (pi lam Gamma(1-2/gamma))^{-gamma/2}.

    Song eq. (24)/(25), derived in Appendix A (the printed (36)-(37) have typos, errata S-3).

    Parameters
    ----------
    density : float or ndarray
        lambda [m^-2], > 0.
    gamma : float or ndarray
        Path-loss exponent, > 2.

    Returns
    -------
    ndarray [m^gamma]
    """
    gamma = _check_gamma(gamma)
    density = _check_density(density)
    a = math.pi * density * special.gamma(1.0 - 2.0 / gamma)
    return np.exp(special.gammaln(1.0 + gamma / 2.0) - 0.5 * gamma * np.log(a))


def lemma3_normalised(gamma: np.ndarray | float) -> np.ndarray:
    """Lemma 3 in arrival-time units: E[(sum_k g_k^{-gamma/2})^{-1}] for a unit-rate process.

    Equals ``lemma3(density, gamma) * (pi density)^{gamma/2}``, independent of the density.
    """
    gamma = _check_gamma(gamma)
    return np.exp(special.gammaln(1.0 + gamma / 2.0) - 0.5 * gamma * np.log(special.gamma(1.0 - 2.0 / gamma)))


def _bound(mt, mr, eta, lam_t, lam_r, gamma):
    return 2.0 * SPEED_OF_LIGHT**2 / (mt * mr * eta) * lemma3(lam_t, gamma) * lemma3(lam_r, gamma)


def scaling_bound(params: SongParams) -> float:
    """Theorem 2, eq. (26): the lower bound on the network-average position error [m^2].

        2 c^2 / (M_r M_t eta) Gamma^2(1+gamma/2) (pi sqrt(lam_r lam_t) Gamma(1-2/gamma))^{-gamma}

    It equals (23) with Lemma 3 exactly: (2 c^2/(M_r M_t eta)) E[1/sum L^t] E[1/sum L^r].
    """
    params.require_gamma_above_2("Theorem 2 (eq. 26)")
    return float(_bound(params.n_tx_antennas, params.n_rx_antennas, params.eta,
                        params.tx_density, params.rx_density, params.gamma))


def single_antenna_bound(
    params: SongParams, tx_density: float | None = None, rx_density: float | None = None
) -> float:
    """Eq. (28): the bound (26) for single-antenna TXs/RXs of densities lam~_t, lam~_r [m^2].

    By default the densities are the fair ones of eq. (29), lam~ = M lam, so that both networks
    have the same mean number of antennas per unit area.
    """
    params.require_gamma_above_2("the single-antenna bound (eq. 28)")
    lt = params.n_tx_antennas * params.tx_density if tx_density is None else tx_density
    lr = params.n_rx_antennas * params.rx_density if rx_density is None else rx_density
    lt, lr = check_real("tx_density", lt, gt=0.0), check_real("rx_density", lr, gt=0.0)
    return float(_bound(1, 1, params.eta, lt, lr, params.gamma))


def fair_comparison(params: SongParams) -> dict[str, float]:
    """Eqs. (29)-(30): MIMO bound (26) against the single-antenna bound (28) at lam~ = M lam.

    Returns
    -------
    dict with "mimo", "single" [m^2] and "ratio" = single/mimo = (M_t M_r)^{1 - gamma/2}
    (< 1 for gamma > 2, M_t M_r > 1: the single-antenna network has the lower *bound*).
    """
    mimo = scaling_bound(params)
    single = single_antenna_bound(params)
    return {"mimo": mimo, "single": single, "ratio": single / mimo}


def tail_laplace_exponent(s: np.ndarray, g_last: np.ndarray, gamma: float) -> np.ndarray:
    """-log E[exp(-s T)] for T = sum of g^{-gamma/2} over unit-rate arrivals beyond g_last.

        int_{g_last}^inf (1 - exp(-s g^{-gamma/2})) dg
          = s^{2/gamma} gammainc_lower(1 - 2/gamma, x) - g_last (1 - e^{-x}),  x = s g_last^{-gamma/2}

    (lower incomplete gamma, not regularised). At g_last = 0 it is s^{2/gamma} Gamma(1-2/gamma),
    the exponent in Song eq. (35)/(36). Used by tests to get exact conditional expectations.
    """
    gamma = float(_check_gamma(gamma))
    d = 2.0 / gamma
    s = np.asarray(s, dtype=float)
    g_last = np.asarray(g_last, dtype=float)
    with np.errstate(divide="ignore"):  # g_last = 0: x = inf, the full-plane exponent
        x = s * g_last ** (-gamma / 2.0)
    low = special.gammainc(1.0 - d, x) * special.gamma(1.0 - d)
    return s**d * low - np.where(g_last > 0, g_last * (-np.expm1(-x)), 0.0)
