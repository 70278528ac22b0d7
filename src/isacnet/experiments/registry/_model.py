"""The registry's types: a :class:`Model` ties a parameter class, a Monte Carlo kernel factory
(with its validated options), the closed forms evaluated at every sweep point, and the metadata
of each output (:class:`Output`: long name, units, equation) used by the Dataset and the plots.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ...backends import BACKENDS, DTYPES
from ...params import ParameterError, check_choice, from_mapping


@dataclass(frozen=True)
class Output:
    name: str
    long_name: str
    units: str
    equation: str
    plot_label: str


@dataclass(frozen=True)
class Model:
    name: str
    params_cls: type
    options: Mapping[str, tuple[Callable[[str, Any], Any], Any]]  # name -> (validator, default)
    make_kernel: Callable[[Any, Mapping[str, Any]], Any]
    closed_forms: Callable[[Any, Mapping[str, Any]], dict[str, float]]
    mc_outputs: tuple[Output, ...]
    closed_outputs: tuple[Output, ...]
    plotted: tuple[str, ...]  # outputs drawn by default, MC and closed form
    agreement: tuple[tuple[str, str], ...] = ()  # (MC output, closed form) that must agree
    sweep_options: tuple[str, ...] = ()  # options that a sweep may vary per point
    derived: Callable[[dict, Any], dict] | None = None  # estimates, kernel -> more estimates
    check_point: Callable[[Any, Mapping[str, Any]], None] | None = None  # cheap parse-time check
    # the closed forms of many points at once ([(params, full options)] -> [dict]), the same
    # numbers as ``closed_forms`` point by point (to rounding), faster where they vectorise
    closed_forms_batch: Callable[[list[tuple[Any, Mapping[str, Any]]]], list[dict[str, float]]] | None = None
    # a sweep option (a threshold such as the epsilon of P(CRLB <= epsilon^2)) whose values one
    # kernel evaluates on the same samples: ``group_kernel(params, full options, values)`` returns
    # a kernel whose outputs ``name@k`` are output ``name`` at ``values[k]`` (the others are the
    # same at every value). The runner makes the points that differ only in it one job.
    shared_option: str | None = None
    make_group_kernel: Callable[[Any, Mapping[str, Any], tuple], Any] | None = None

    def validate_point(self, params: Any, opts: Mapping[str, Any]) -> None:
        """Check one sweep point when a spec is parsed: ``check_point`` where the model has one
        (its kernel is expensive to build), else build the kernel."""
        if self.check_point is not None:
            self.check_point(params, self.full_options(opts))
        else:
            self.kernel(params, opts)

    def derive(self, ests: dict, kernel: Any) -> dict:
        return self.derived(ests, kernel) if self.derived is not None else ests

    def full_options(self, opts: Mapping[str, Any]) -> dict[str, Any]:
        full = {k: d for k, (_, d) in self.options.items()}
        full.update({k: v for k, v in self.check_options(opts).items() if v is not None})
        return full

    def make_params(self, mapping: Mapping[str, Any], where: str | None = None):
        return from_mapping(self.params_cls, mapping, where=where)

    def check_options(self, opts: Mapping[str, Any], where: str | None = None) -> dict[str, Any]:
        out = {}
        for k, v in opts.items():
            if k not in self.options:
                raise ParameterError(f"monte_carlo.{k}", v, f"one of {sorted(self.options)} or "
                                     "n_layouts, seed, quick_n_layouts, block_size, max_layouts", where)
            out[k] = None if v is None else self.options[k][0](f"monte_carlo.{k}", v)
        return out

    def kernel(self, params: Any, opts: Mapping[str, Any]):
        return self.make_kernel(params, self.full_options(opts))

    def group_kernel(self, params: Any, opts: Mapping[str, Any], values: tuple) -> Any:
        """The kernel of the points at ``values`` of :attr:`shared_option` (all else as ``opts``):
        its output ``name@k`` is output ``name`` at ``values[k]``."""
        if self.make_group_kernel is None or self.shared_option is None:
            raise TypeError(f"model {self.name!r} evaluates no sweep option on shared samples")
        return self.make_group_kernel(params, self.full_options(opts), tuple(values))


class NotApplicable(float):
    """NaN standing for a closed form that does not apply at a sweep point (Theorem 1 at
    beta != 2, say); ``reason`` says why. The runner fills the Dataset with NaN there and records
    the reason in the attribute ``closed_forms_skipped`` instead of failing the run."""

    reason: str

    def __new__(cls, reason: str) -> NotApplicable:
        obj = super().__new__(cls, "nan")
        obj.reason = reason
        return obj


def applies(f: Callable[..., Any], *args: Any, **kwargs: Any) -> float:
    """``float(f(*args, **kwargs))``, or :class:`NotApplicable` where ``f`` refuses the point
    with a :class:`~isacnet.params.ParameterError` (the closed form's range of validity)."""
    try:
        return float(f(*args, **kwargs))
    except ParameterError as exc:
        return NotApplicable(" ".join(str(exc).split()))


def choice(allowed: tuple[str, ...]) -> Callable[[str, Any], str]:
    """An option validator accepting exactly the names ``allowed``
    (:func:`isacnet.params.check_choice`)."""
    return lambda name, value: check_choice(name, value, allowed)


BACKEND_OPTIONS = {
    # who computes the layouts (isacnet.backends): same law, each backend its own random stream
    "backend": (choice(BACKENDS), "numpy"),
    "dtype": (choice(DTYPES), "float64"),
}
