"""Closed forms of Song et al., "Performance Analysis of Network Sensing in the Distributed MIMO
Radar System" (../shared/papers/song-distributed-mimo-radar.md).

All functions broadcast over array arguments like numpy ufuncs.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from ..params import SPEED_OF_LIGHT, ParameterError, SongParams, check_real, exp_checked, real_array


def _check_gamma(gamma: ArrayLike) -> np.ndarray:
    valid = "> 2 (the PPP sum of r^-gamma diverges for gamma <= 2)"
    g = real_array("gamma", gamma, valid)
    if g.size == 0 or not np.all(np.isfinite(g)) or np.any(g <= 2.0):
        raise ParameterError("gamma", g.tolist() if g.ndim else float(g), valid)
    return g


def _check_density(density: ArrayLike, name: str = "density") -> np.ndarray:
    valid = "a finite density > 0 [m^-2]"
    d = real_array(name, density, valid)
    if d.size == 0 or not np.all(np.isfinite(d)) or np.any(d <= 0.0):
        raise ParameterError(name, d.tolist() if d.ndim else float(d), valid)
    return d


def _log_lemma3(density: np.ndarray, gamma: np.ndarray) -> np.ndarray:
    """ln of Lemma 3: gammaln(1 + gamma/2) - (gamma/2) (ln pi + ln lam + gammaln(1 - 2/gamma)).

    Every term is finite for valid input (1 - 2/gamma in (0, 1), so Gamma(1 - 2/gamma) > 0 has a
    finite log); only gamma beyond ~1e307 makes gammaln itself overflow, which gives +-inf or
    NaN here and a refusal in :func:`isacnet.params.exp_checked`.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return special.gammaln(1.0 + gamma / 2.0) - 0.5 * gamma * (
            math.log(math.pi) + np.log(density) + special.gammaln((gamma - 2.0) / gamma)
        )


def lemma3(density: np.ndarray | float, gamma: np.ndarray | float) -> np.ndarray:
    """E[(sum_{x in PPP} ||x||^-gamma)^{-1}] = Gamma(1+gamma/2) (pi lam Gamma(1-2/gamma))^{-gamma/2}.

    Song eq. (24)/(25), derived in Appendix A (the printed (36)-(37) have typos, errata S-3).
    Computed as a logarithm and exponentiated once, so no intermediate power overflows.

    Parameters
    ----------
    density : float or ndarray
        lambda [m^-2], > 0.
    gamma : float or ndarray
        Path-loss exponent, > 2.

    Returns
    -------
    ndarray [m^gamma], the broadcast shape of the arguments.

    Raises
    ------
    ParameterError
        For invalid arguments, and where the value is not a normal float64 (e.g. density 1e-300
        at gamma = 2.5 gives about 10^375 m^gamma): refused, never returned as inf or 0.
    """
    gamma = _check_gamma(gamma)
    density = _check_density(density)
    shown = {"density": density.tolist(), "gamma": gamma.tolist()}
    return np.asarray(exp_checked(_log_lemma3(density, gamma), shown, "Lemma 3 (24)", " m^gamma"))


def lemma3_normalised(gamma: np.ndarray | float) -> np.ndarray:
    """Lemma 3 in arrival-time units: E[(sum_k g_k^{-gamma/2})^{-1}] for a unit-rate process.

    Equals ``lemma3(density, gamma) * (pi density)^{gamma/2}``, independent of the density:
    Gamma(1 + gamma/2) Gamma(1 - 2/gamma)^{-gamma/2}.

    Parameters
    ----------
    gamma : float or ndarray
        Path-loss exponent, > 2.

    Returns
    -------
    ndarray (dimensionless); ParameterError where it overflows float64 (gamma above ~340).
    """
    gamma = _check_gamma(gamma)
    with np.errstate(over="ignore", invalid="ignore"):
        log_v = special.gammaln(1.0 + gamma / 2.0) - 0.5 * gamma * special.gammaln((gamma - 2.0) / gamma)
    return np.asarray(exp_checked(log_v, ("gamma",), "Lemma 3 in arrival-time units"))


_BOUND_NAMES = ("n_tx_antennas", "n_rx_antennas", "tx_density", "rx_density", "gamma",
                *SongParams._ETA_NAMES)


def _log_bound(log_mt: float, log_mr: float, log_eta: float, lam_t, lam_r, gamma) -> float:
    """ln of 2 c^2 / (M_r M_t eta) Lemma3(lam_t) Lemma3(lam_r) (eq. (23) with Lemma 3)."""
    g = np.asarray(gamma, dtype=float)
    # each Lemma 3 log is finite up to gamma ~ 1e307, but their sum can overflow from ~1e305 on:
    # +-inf here, which exp_checked refuses (found by the extreme-float sweep: gamma = 3.2e305)
    with np.errstate(over="ignore", invalid="ignore"):
        return float(
            math.log(2.0) + 2.0 * math.log(SPEED_OF_LIGHT) - log_mt - log_mr - log_eta
            + _log_lemma3(np.asarray(lam_t, dtype=float), g) + _log_lemma3(np.asarray(lam_r, dtype=float), g)
        )


def log_scaling_bound(params: SongParams) -> float:
    """ln of the Theorem 2 bound (26) [ln m^2]: finite for every valid SongParams with gamma > 2
    up to gamma ~ 1e305, also where the bound itself is not a float64; beyond, +-inf or NaN
    (:func:`scaling_bound` refuses it with a ParameterError)."""
    params.require_gamma_above_2("Theorem 2 (eq. 26)")
    return _log_bound(math.log(params.n_tx_antennas), math.log(params.n_rx_antennas), params.log_eta,
                      params.tx_density, params.rx_density, params.gamma)


def scaling_bound(params: SongParams) -> float:
    """Theorem 2, eq. (26): the lower bound on the network-average position error [m^2].

        2 c^2 / (M_r M_t eta) Gamma^2(1+gamma/2) (pi sqrt(lam_r lam_t) Gamma(1-2/gamma))^{-gamma}

    It equals (23) with Lemma 3 exactly: (2 c^2/(M_r M_t eta)) E[1/sum L^t] E[1/sum L^r].
    Computed in the log domain (:func:`log_scaling_bound`): rho_s, eta and the Lemma 3 factors
    may each overflow (noise_psd = 1e-320) while the bound is an ordinary number.

    Parameters
    ----------
    params : SongParams
        gamma > 2.

    Returns
    -------
    float [m^2]

    Raises
    ------
    ParameterError
        gamma <= 2, or the bound is not a normal float64 (it is named with its size).
    """
    return exp_checked(log_scaling_bound(params), params.values_of(_BOUND_NAMES), "the Theorem 2 bound (26)",
                       " m^2")


def _log_single(params: SongParams, tx_density, rx_density) -> float:
    params.require_gamma_above_2("the single-antenna bound (eq. 28)")
    if tx_density is None:  # M lam, in logs: no overflow of the product
        log_lt = math.log(params.n_tx_antennas) + math.log(params.tx_density)
    else:
        log_lt = math.log(check_real("tx_density", tx_density, gt=0.0))
    if rx_density is None:
        log_lr = math.log(params.n_rx_antennas) + math.log(params.rx_density)
    else:
        log_lr = math.log(check_real("rx_density", rx_density, gt=0.0))
    g = params.gamma
    # Lemma 3 at density lam = e^log_lam, written with log_lam directly (lam itself may overflow)
    with np.errstate(over="ignore", invalid="ignore"):
        head, tail = special.gammaln(1.0 + g / 2.0), special.gammaln((g - 2.0) / g)
        l3 = [float(head - 0.5 * g * (math.log(math.pi) + ll + tail)) for ll in (log_lt, log_lr)]
    return math.log(2.0) + 2.0 * math.log(SPEED_OF_LIGHT) - params.log_eta + l3[0] + l3[1]


def single_antenna_bound(
    params: SongParams, tx_density: float | None = None, rx_density: float | None = None
) -> float:
    """Eq. (28): the bound (26) for single-antenna TXs/RXs of densities lam~_t, lam~_r [m^2].

    By default the densities are the fair ones of eq. (29), lam~ = M lam, so that both networks
    have the same mean number of antennas per unit area. Computed in the log domain.

    Parameters
    ----------
    params : SongParams
        gamma > 2.
    tx_density, rx_density : float, optional
        lam~_t, lam~_r [m^-2] (> 0, finite); default M_t lam_t and M_r lam_r.

    Returns
    -------
    float [m^2]; ParameterError where it is not a normal float64.
    """
    return exp_checked(_log_single(params, tx_density, rx_density), params.values_of(_BOUND_NAMES),
                       "the single-antenna bound (28)", " m^2")


def fair_comparison(params: SongParams) -> dict[str, float | None]:
    """Eqs. (29)-(30): MIMO bound (26) against the single-antenna bound (28) at lam~ = M lam.

    The ratio single/mimo is exactly (M_t M_r)^{1 - gamma/2} (Lemma 3 scales as lam^{-gamma/2}),
    and is computed so: it is finite wherever it is a float64, even where the two bounds are not
    (density 1e-300, gamma = 300).

    Returns
    -------
    dict
        "ratio": single/mimo = (M_t M_r)^{1 - gamma/2} (< 1 for gamma > 2, M_t M_r > 1: the
        single-antenna network has the lower *bound*);
        "log10_mimo", "log10_single": log10 of the two bounds [log10 m^2], always finite;
        "mimo", "single": the bounds [m^2], or ``None`` where the bound is not a normal float64
        (its size is then in the log10 entry).

    Raises
    ------
    ParameterError
        gamma <= 2, or the ratio itself is not a normal float64.
    """
    log_mimo = log_scaling_bound(params)
    log_single = _log_single(params, None, None)
    log_ratio = (1.0 - 0.5 * params.gamma) * (math.log(params.n_tx_antennas) + math.log(params.n_rx_antennas))
    ratio = exp_checked(log_ratio, params.values_of(("gamma", "n_tx_antennas", "n_rx_antennas")),
                        "the ratio (M_t M_r)^(1 - gamma/2) of (30)")

    def maybe(log_v: float) -> float | None:
        try:
            return exp_checked(log_v, _BOUND_NAMES, "the bound")
        except ParameterError:
            return None

    ln10 = math.log(10.0)
    return {"mimo": maybe(log_mimo), "single": maybe(log_single), "ratio": ratio,
            "log10_mimo": log_mimo / ln10, "log10_single": log_single / ln10}


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
