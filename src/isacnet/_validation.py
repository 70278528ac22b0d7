"""The one set of parameter checkers: :class:`ParameterError` and the validators of every layer.

Each validator returns the checked value or raises :class:`ParameterError`, a ``ValueError``
that names the parameter, the value and the valid range. Also the log-domain exponential
(:func:`exp_checked`) with which the closed forms refuse a result beyond float64. Re-exported by
:mod:`isacnet.params` (their public home, as before).
"""

from __future__ import annotations

import math
import numbers
import sys
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "LOG_MAX",
    "LOG_MIN",
    "ParameterError",
    "QuadratureWarning",
    "check_choice",
    "check_int",
    "check_real",
    "exp_checked",
    "real_array",
]


class ParameterError(ValueError):
    """A parameter is missing, of the wrong type, or out of its valid range.

    Attributes
    ----------
    name : str
        The parameter's name as the user spells it.
    value : Any
        The offending value.
    valid : str
        The valid range, in words (e.g. ``"> 2"``, ``"integer >= 1"``).
    """

    def __init__(self, name: str, value: Any, valid: str, where: str | None = None):
        self.name, self.value, self.valid, self.where = name, value, valid, where
        loc = f" ({where})" if where else ""
        super().__init__(f"{name} = {value!r}{loc} is invalid: must be {valid}")

    def __reduce__(self):  # pickled with its fields (a worker process's error reaches the caller whole)
        return (type(self), (self.name, self.value, self.valid, self.where))


ParameterError.__module__ = "isacnet.params"  # its public home (repr, pickling, docs), as before the split


class QuadratureWarning(RuntimeWarning):
    """A closed form's quadrature error estimate is larger than the accuracy it promises at some
    points (e.g. :func:`isacnet.analysis.coverage.coverage` at a path-loss exponent near 2 with a
    large cluster): the values are returned, with this warning naming how many points, the worst
    one and how to refine the rule. ``return_error=True`` gives every estimate."""


QuadratureWarning.__module__ = "isacnet.params"


def check_real(
    name: str,
    value: Any,
    *,
    gt: float | None = None,
    ge: float | None = None,
    lt: float | None = None,
    le: float | None = None,
) -> float:
    """Return ``value`` as a finite float or raise :class:`ParameterError` naming ``name``."""
    parts = []
    if gt is not None:
        parts.append(f"> {gt:g}")
    if ge is not None:
        parts.append(f">= {ge:g}")
    if lt is not None:
        parts.append(f"< {lt:g}")
    if le is not None:
        parts.append(f"<= {le:g}")
    valid = "a finite real number" + (" " + " and ".join(parts) if parts else "")
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(name, value, valid)
    v = float(value)
    if not math.isfinite(v):
        raise ParameterError(name, value, valid)
    if (
        (gt is not None and not v > gt)
        or (ge is not None and not v >= ge)
        or (lt is not None and not v < lt)
        or (le is not None and not v <= le)
    ):
        raise ParameterError(name, value, valid)
    return v


def real_array(name: str, value: Any, valid: str):
    """``value`` as a float ndarray, or :class:`ParameterError` for anything that is not an array
    of real numbers: bool, complex, strings (also numeric ones, as :func:`check_real`), None,
    objects, ragged sequences. Range and finiteness are the caller's to check."""
    import numpy as np

    try:
        a = np.asarray(value)
    except (TypeError, ValueError):  # ragged nested sequences
        a = None
    if (
        a is not None
        and a.dtype.kind == "O"
        and a.size
        and all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in a.flat)
    ):
        a = a.astype(float)  # Python ints beyond int64 (N = 10**20)
    if a is None or a.dtype.kind not in "iuf":
        shown = value if a is None or a.ndim == 0 or a.size > 8 else a.tolist()
        raise ParameterError(name, shown, valid)
    return a.astype(float, copy=False)


LOG_MAX = math.log(sys.float_info.max)
"""ln of the largest float64 (709.78): exp of anything above overflows to inf."""
LOG_MIN = math.log(sys.float_info.min)
"""ln of the smallest *normal* float64 (-708.40): below it a value is subnormal (precision lost)
or 0. Results below it are refused rather than returned with a few significant digits."""


def exp_checked(
    log_value: Any, names: Sequence[str] | Mapping[str, Any], what: str, unit: str = "", inf_ok: Any = False
):
    """exp(``log_value``) where it is a normal float64, else :class:`ParameterError`.

    The closed forms of both papers are products of powers of the parameters; they are computed
    as logarithms (which never overflow) and exponentiated here once. A finite logarithm whose
    exponential would overflow to inf or underflow below the smallest normal float64 means the
    true answer exists but cannot be represented: that is refused, naming the parameters that
    enter ``what`` and the size of the answer, never returned as a silent inf or 0. A log of
    +inf passes through as +inf only where ``inf_ok`` says it is a documented infinity (no
    sensing power, a singular FIM); anywhere else it is an overflow of the log itself (gamma
    near 1e308) and refused, as are NaN logs and a log of -inf.

    Parameters
    ----------
    log_value : float or ndarray
        Natural logarithm of the result.
    names : sequence of str, or mapping name -> value
        The parameters the result depends on (named in the error, with their values if given).
    what : str
        The quantity, in words (e.g. "the Theorem 2 bound (26)").
    unit : str
        Its unit, for the message.
    inf_ok : bool or ndarray of bool
        Where +inf is the documented, exact answer (broadcast with ``log_value``).

    Returns
    -------
    float or ndarray, the same shape as ``log_value``.
    """
    import numpy as np

    lv = np.asarray(log_value, dtype=float)
    finite = np.isfinite(lv)
    documented = np.broadcast_to(np.asarray(inf_ok, dtype=bool), lv.shape) & (lv == math.inf)
    bad = ~documented & (~finite | (lv > LOG_MAX) | (lv < LOG_MIN))
    if np.any(bad):
        worst = lv[bad].flat[0]
        size = "beyond float64" if math.isnan(worst) else f"about 10^{worst / math.log(10.0):.4g}{unit}"
        side = "above 1.8e308" if not math.isnan(worst) and worst > 0 else "below 2.2e-308"
        shown = dict(names) if isinstance(names, Mapping) else "these values"
        raise ParameterError(
            ", ".join(names),
            shown,
            f"values at which {what} is representable in float64 (it is {size}, {side}); "
            "rescale the units or move the parameters toward their typical range",
        )
    with np.errstate(over="ignore", under="ignore"):
        out = np.exp(lv)
    return float(out) if out.ndim == 0 and not isinstance(log_value, np.ndarray) else out


def _prefer_direct(direct: float, log_value: float, names: Mapping[str, Any], what: str) -> float:
    """``direct`` (the plain product, bit-identical to earlier versions) where it is a normal
    float64 that agrees with exp(``log_value``); otherwise exp(``log_value``), checked."""
    v = exp_checked(log_value, names, what)
    if math.isfinite(direct) and direct != 0.0 and math.isclose(direct, v, rel_tol=1e-12):
        return direct
    return v


def check_int(name: str, value: Any, *, ge: int = 1, le: int | None = None) -> int:
    """Return ``value`` as an int or raise :class:`ParameterError` naming ``name``."""
    valid = f"an integer >= {ge}" + (f" and <= {le}" if le is not None else "")
    if isinstance(value, bool):
        raise ParameterError(name, value, valid)
    if isinstance(value, numbers.Integral):
        v = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(float(value)) and float(value) == int(value):  # type: ignore[call-overload]
        v = int(value)  # type: ignore[call-overload]
    else:
        raise ParameterError(name, value, valid)
    if v < ge or (le is not None and v > le):
        raise ParameterError(name, value, valid)
    return v


def check_choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    """``value`` if it is one of the names ``allowed``, else a ParameterError naming ``name``
    and the allowed values (the one choice validator of the package)."""
    if value not in allowed:
        raise ParameterError(name, value, f"one of {allowed}")
    return value
