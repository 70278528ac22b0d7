"""Input checks and log-domain helpers shared by the Meng sensing closed forms
(:mod:`.meng_sensing`, :mod:`.meng_acceptance`), and the distance ratios both need
(:func:`log_gamma_half_ratio`, :func:`nbar`; public in :mod:`.meng_sensing`)."""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..params import MengParams, ParameterError, exp_checked, real_array


def _ints(value, name: str, ge: int = 1) -> np.ndarray:
    valid = f"integer(s) >= {ge}"
    try:
        a = np.asarray(value)
    except (TypeError, ValueError):
        a = None
    if a is None or a.dtype.kind not in "iu":
        a = real_array(name, value, valid)  # bool, str, complex, None, objects: ParameterError
    bad = ParameterError(name, value if a.ndim == 0 else a.tolist(), valid)
    if a.size == 0:
        raise bad
    if a.dtype.kind == "f" and (not np.all(np.isfinite(a)) or np.any(a != np.round(a))):
        raise bad
    if np.any(a < ge):
        raise bad
    if np.max(np.abs(a)) < 2.0**62:
        return a.astype(np.int64)
    return np.asarray(a, dtype=float)  # beyond int64: exact integers as floats (N = 1e20, ...)


def _reals(value, name: str, *, gt: float | None = None, ge: float | None = None) -> np.ndarray:
    rng = "finite real(s)" + (f" > {gt:g}" if gt is not None else "") + (f" >= {ge:g}" if ge is not None else "")
    a = real_array(name, value, rng)
    if (
        a.size == 0
        or not np.all(np.isfinite(a))
        or (gt is not None and np.any(a <= gt))
        or (ge is not None and np.any(a < ge))
    ):
        raise ParameterError(name, value if a.ndim == 0 else a.tolist(), rng)
    return a


def _require_beta2(params: MengParams, what: str) -> None:
    if params.beta != 2.0:
        raise ParameterError("beta", params.beta, f"2 for {what} (the ln^2 N law needs beta = 2)")


def _out(a: np.ndarray):
    return a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a


def _inv_zeta2(params: MengParams) -> float:
    """1 / |zeta|^2; inf at p^s = 0 (no sensing power, no Fisher information: every CRLB is inf)."""
    return math.inf if params.zeta2 == 0.0 else 1.0 / params.zeta2


_CRLB_NAMES = (*MengParams._ZETA_NAMES, "bs_density", "beta")


def _crlb_from_log(log_value, params: MengParams, what: str, inf_ok=False):
    """exp of a CRLB's logarithm [m^2]: the closed forms are 1/(|zeta|^2 (pi lam_b)^beta x a
    dimensionless sum); |zeta|^2 and (pi lam_b)^beta may each overflow or underflow (tx_power =
    1e308, bs_density = 1e-300) while their product does not, so the result is formed in logs.
    +inf at p^s = 0 (ln |zeta|^2 = -inf) and where ``inf_ok`` (a singular form: N = 1, kappa = 0);
    ParameterError where the CRLB is not a normal float64, or its log overflowed."""
    shown = {n: getattr(params, n) for n in _CRLB_NAMES}
    inf_ok = np.asarray(inf_ok, dtype=bool) | (params.sensing_power_fraction == 0.0)
    return exp_checked(log_value, shown, what, " m^2", inf_ok=inf_ok)


def _log_scale(params: MengParams) -> float:
    """ln of |zeta|^2 (pi lam_b)^beta, the scale of every CRLB here (-inf at p^s = 0)."""
    return params.log_zeta2 + params.beta * (math.log(math.pi) + math.log(params.bs_density))


def _log(x) -> np.ndarray:
    """ln of a non-negative array, -inf at 0, without a divide-by-zero warning."""
    with np.errstate(divide="ignore"):
        return np.log(np.asarray(x, dtype=float))


# --------------------------------------------------------------------------- distances (Lemma 1)
def log_gamma_half_ratio(n) -> np.ndarray:
    """ln(Gamma(n + 1/2) / Gamma(n)) to ~1e-16 relative for every n >= 1.

    gammaln differences (and scipy's beta/poch) lose up to 1e-9 for n in 300..1e6; beyond
    n = 20 we use DLMF 5.11.8, ln Gamma(n + h) - ln Gamma(n) ~ h ln n + sum_k (-1)^k
    (B_k(h) - B_k) / (k (k-1) n^(k-1)), at h = 1/2 (B_k(1/2) = (2^(1-k) - 1) B_k):
    1/2 ln n - 1/(8n) + 1/(192 n^3) - 1/(640 n^5) + 17/(14336 n^7) - 5115/(3041280 n^9).
    """
    n = np.asarray(n, dtype=float)
    small = n < 20.0
    ns = np.where(small, n, 20.0)
    nl = np.where(small, 20.0, n)
    r = 1.0 / nl
    r2 = r * r
    poly = -1.0 / 8 + r2 * (1.0 / 192 + r2 * (-1.0 / 640 + r2 * (17.0 / 14336 - r2 * 5115.0 / 3041280)))
    series = 0.5 * np.log(nl) + r * poly
    return np.where(small, special.gammaln(ns + 0.5) - special.gammaln(ns), series)


def nbar(n) -> np.ndarray:
    """N-bar = Gamma(n + 1/2)^2 / Gamma(n)^2 = pi lambda_b E[d_n]^2 (Lemma 1).

    The paper uses it as the mean load per BS over mu; the exact mean load is mu n by mass
    transport (each point sends n requests), and N-bar = n - 1/4 + 1/(32 n) + ... < n
    (errata M-10).
    """
    n = _ints(n, "N").astype(float)
    return _out(np.exp(2.0 * log_gamma_half_ratio(n)))
