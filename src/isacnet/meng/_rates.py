"""The rate functions of :mod:`isacnet.meng` (nats/s/Hz by default), and the design search."""

from __future__ import annotations

import math
from typing import Any, Literal

from ..analysis.coverage import rate_from_coverage as _rate_from_coverage
from ..analysis.meng_rate import rate as _rate
from ..analysis.meng_rate import rate_conditional as _rate_conditional
from ..analysis.optimize import Design
from ..analysis.optimize import optimize as _optimize
from ..analysis.optimize import time_sharing as _time_sharing
from ..params import TRADEOFF_L_MAX, TRADEOFF_N_MAX, MengParams, ParameterError, check_real, real_array

RateUnit = Literal["nats", "bits"]
RATE_UNITS = ("nats", "bits")
"""The rate units every rate-valued function takes as ``unit=`` ("nats", the default, or "bits")."""


def _nats_per(unit: Any) -> float:
    """Nats per ``unit``: 1 for "nats", ln 2 for "bits" (1 bit = ln 2 nats)."""
    if isinstance(unit, str) and unit == "nats":
        return 1.0
    if isinstance(unit, str) and unit == "bits":
        return math.log(2.0)
    raise ParameterError("unit", unit, "'nats' (nats/s/Hz, the default) or 'bits' (bits/s/Hz)")


# --------------------------------------------------------------------------- rates, in nats by default
def rate(L, params: MengParams, *, unit: RateUnit = "nats", **kwargs: Any):
    """Average CoMP rate R_c = E[log(1 + SIR_c)] of a typical user, (9), Theorem 2.

    Parameters
    ----------
    L : array_like of int
        Cluster size (>= 1).
    params : MengParams
    unit : {"nats", "bits"}
        nats/s/Hz (default; ln) or bits/s/Hz (log2 = ln / ln 2).
    **kwargs
        ``kappa_c``, ``p_c``, ``variant`` ("exact", "pgfl", "paper"), ``interference_shape``,
        ``return_error``, ``method`` ("auto", "shared", "pointwise"), ``n_eta``, ``n_z``: as in
        :func:`isacnet.analysis.meng_rate.rate`. A sweep is fastest as one call with array ``L``
        and ``p_c`` (the shared rule: 40 cluster sizes x 10 power shares in ~70 ms).

    Returns
    -------
    ndarray or float
        The rate in ``unit`` (and its error estimate, in ``unit``, with ``return_error``).
    """
    _nats_per(unit)
    return _rate(L, params, unit=unit, **kwargs)


def rate_conditional(r, r_L, L, params: MengParams, *, unit: RateUnit = "nats", **kwargs: Any):
    """E[log(1 + SIR_c) | d_1 = r, d_L = r_L], (18), in ``unit`` (default nats/s/Hz).

    Parameters
    ----------
    r, r_L : array_like
        Distances [m] to the nearest and to the L-th nearest BS (``r_L=None``: averaged given r).
    L : array_like of int
    params : MengParams
    unit : {"nats", "bits"}
        nats/s/Hz (default) or bits/s/Hz.
    **kwargs
        As in :func:`isacnet.analysis.meng_rate.rate_conditional`.

    Returns
    -------
    ndarray or float
        The conditional rate in ``unit``.
    """
    _nats_per(unit)
    return _rate_conditional(r, r_L, L, params, unit=unit, **kwargs)


def optimize(
    params: MengParams,
    *,
    weight: float | None = None,
    min_rate: float | None = None,
    max_crlb: float | None = None,
    unit: RateUnit = "nats",
    L_max: int = TRADEOFF_L_MAX,
    N_max: int = TRADEOFF_N_MAX,
    **kwargs: Any,
) -> Design:
    """The best feasible cooperative design (L, N, p^c) for exactly one objective.

    Parameters
    ----------
    params : MengParams
        The network (C and e of (10) in nats/s/Hz).
    weight : float, optional
        w in [0, 1]: maximise w R_c + (1 - w) (1/2) ln(1 m^2 / CRLB_a) (R_c in nats/s/Hz).
    min_rate : float, optional
        Rate target in ``unit`` (default nats/s/Hz): the smallest CRLB_a with R_c >= min_rate.
    max_crlb : float, optional
        CRLB target [m^2]: the largest R_c with CRLB_a <= max_crlb.
    unit : {"nats", "bits"}
        The unit of ``min_rate``. The returned :class:`Design` always holds ``rate`` in
        nats/s/Hz and ``rate_bits`` in bits/s/Hz (its ``min_rate`` in nats/s/Hz).
    L_max, N_max : int
        The search box (the defaults of ``isacnet optimize``).
    **kwargs
        :class:`Tradeoff` options (``N_min``, ``n_grid``, ``rate_variant``, ``rate_fn``, ...):
        as in :func:`isacnet.analysis.optimize.optimize`.

    Returns
    -------
    Design
        :attr:`Design.on_edge` is non-empty when the optimum is on the edge of the search box.

    Raises
    ------
    ParameterError
        No objective or more than one, a bad ``unit``, or no design meets the target.
    """
    scale = _nats_per(unit)
    if min_rate is not None and scale != 1.0:
        min_rate = check_real("min_rate", min_rate, ge=0.0) * scale
    return _optimize(params, weight=weight, min_rate=min_rate, max_crlb=max_crlb, L_max=L_max, N_max=N_max, **kwargs)


def time_sharing(params: MengParams, rate, *, unit: RateUnit = "nats", **kwargs: Any):
    """CRLB_a [m^2] of the time-sharing baseline at R_c = ``rate``, given in ``unit``.

    Parameters
    ----------
    params : MengParams
    rate : array_like
        Rates >= 0 in ``unit`` (default nats/s/Hz).
    unit : {"nats", "bits"}
    **kwargs
        :class:`Tradeoff` options (``L_max``, ``N_max``, ``n_grid``, ...).

    Returns
    -------
    ndarray
        The CRLB of time sharing [m^2] (inf where the rate is out of reach).
    """
    scale = _nats_per(unit)
    if scale != 1.0:
        rate = real_array("rate", rate, "finite reals >= 0 [bits/s/Hz]") * scale
    return _time_sharing(params, rate, **kwargs)


def rate_from_coverage(L, params: MengParams, *, unit: RateUnit = "nats", **kwargs: Any) -> float:
    """Mean rate E[log(1 + SINR)] from the coverage probability, in ``unit`` (default nats/s/Hz).

    Parameters
    ----------
    L : int
    params : MengParams
    unit : {"nats", "bits"}
    **kwargs
        As in :func:`isacnet.analysis.coverage.rate_from_coverage` (``n_thresholds``,
        ``kappa_c``, ``jt``, ``noise``, ...).

    Returns
    -------
    float
    """
    _nats_per(unit)
    return _rate_from_coverage(L, params, unit=unit, **kwargs)
