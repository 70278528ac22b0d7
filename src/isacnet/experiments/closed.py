"""The closed forms of a figure's sweep points, evaluated once (memoised) and before any Monte
Carlo: by the preflight (:mod:`isacnet.experiments.preflight`) and again, from the memo, by the
runner (:mod:`isacnet.experiments.runner`, which re-exports :func:`closed_forms`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ..params import ParameterError
from .registry import Model, NotApplicable, get_model
from .spec import FigureSpec

__all__ = ["closed_forms", "memo_entries", "remember_entries"]


_CLOSED_MEMO: dict[Any, dict[str, float]] = {}
"""Closed forms by (model, parameters, options): the preflight's evaluation is the run's."""


def _memo_key(model: Model, params: Any, full: Mapping[str, Any]) -> Any:
    try:
        key: Any = (model.name, params, tuple(sorted(full.items())))
        hash(key)
    except TypeError:  # an unhashable option: not memoised
        key = None
    return key


def _closed_batch(model: Model, pts: Sequence[tuple[Any, Mapping[str, Any]]]) -> None:
    """Fill the memo for the points of ``pts`` not in it with one ``closed_forms_batch`` call. A
    ParameterError leaves them to :func:`_closed_at`, point by point, so that a point the closed
    forms refuse gets its reason and the others their values."""
    if model.closed_forms_batch is None or len(pts) < 2:
        return
    todo = []
    for p, o in pts:
        full = model.full_options(o)
        key = _memo_key(model, p, full)
        if key is not None and key not in _CLOSED_MEMO:
            todo.append((key, p, full))
    if len(todo) < 2:
        return
    try:
        outs = model.closed_forms_batch([(p, f) for _, p, f in todo])
    except ParameterError:
        return
    if len(_CLOSED_MEMO) + len(todo) > 4096:
        _CLOSED_MEMO.clear()
    for (key, _, _), out in zip(todo, outs, strict=True):
        _CLOSED_MEMO[key] = dict(out)


def _closed_at(model: Model, params: Any, opts: Mapping[str, Any]) -> dict[str, float]:
    """``model.closed_forms`` at one point (memoised); a ParameterError of the whole call makes
    every closed form of the point :class:`~isacnet.experiments.registry.NotApplicable`."""
    full = model.full_options(opts)
    key = _memo_key(model, params, full)
    if key is not None and key in _CLOSED_MEMO:
        return dict(_CLOSED_MEMO[key])
    try:
        out = dict(model.closed_forms(params, full))
    except ParameterError as exc:
        why = NotApplicable(" ".join(str(exc).split()))
        out = {o.name: why for o in model.closed_outputs}
    if key is not None:
        if len(_CLOSED_MEMO) > 4096:
            _CLOSED_MEMO.clear()
        _CLOSED_MEMO[key] = out
    return dict(out)


def closed_forms(spec: FigureSpec) -> tuple[list[dict[str, float]], list[str]]:
    """The closed forms of every sweep point of ``spec``, and one note per closed form that does
    not apply at some points (e.g. Theorem 1 at beta != 2): ``"theorem1 skipped at 2 of 2 points
    (beta = 3.0 is invalid: ...)"``. Those entries are NaN; they never fail the run.

    Evaluated (once, memoised) by :func:`isacnet.experiments.preflight.preflight` and again
    before the Monte Carlo of :func:`run_spec`, so that nothing fails after the work.
    """
    model = get_model(spec.model)
    pts = spec.points()
    _closed_batch(model, pts)  # where the model vectorises its closed forms over the points
    values = [_closed_at(model, p, o) for p, o in pts]
    skipped: dict[str, list[tuple[int, str]]] = {}
    for i, v in enumerate(values):
        for name, x in v.items():
            if isinstance(x, NotApplicable):
                skipped.setdefault(name, []).append((i, x.reason))
    by_reason: dict[tuple[int, str], list[str]] = {}  # outputs skipped at the same points for one reason
    for name, where in skipped.items():
        by_reason.setdefault((len(where), where[0][1]), []).append(name)
    notes = [f"{', '.join(names)} skipped at {n} of {len(pts)} point{'s' if len(pts) > 1 else ''} ({reason})"
             for (n, reason), names in by_reason.items()]
    return values, notes


def memo_entries(spec: FigureSpec) -> dict[Any, dict[str, float]]:
    """The memo's entries of ``spec``'s points (after :func:`closed_forms`): what a process that
    evaluated them hands back (:func:`remember_entries`)."""
    model = get_model(spec.model)
    keys = (_memo_key(model, p, model.full_options(o)) for p, o in spec.points())
    return {k: _CLOSED_MEMO[k] for k in keys if k is not None and k in _CLOSED_MEMO}


def remember_entries(entries: Mapping[Any, dict[str, float]]) -> None:
    """Put closed forms evaluated elsewhere (:func:`memo_entries`) into this process's memo."""
    if len(_CLOSED_MEMO) + len(entries) > 4096:
        _CLOSED_MEMO.clear()
    _CLOSED_MEMO.update(entries)
