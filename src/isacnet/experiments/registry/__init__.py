"""The figure registry: what a sweep spec's ``figure.model`` names.

One module per paper area, each exporting ``MODELS`` (name -> :class:`Model`); they are merged
here, explicitly, once. Nothing registers itself at import time, and importing a module of this
package changes no other module's state.

Adding a model: declare it in the area's module (or a new one) with :class:`Model` and
:class:`Output`, add it to that module's ``MODELS``, and (new module) to ``_AREAS`` below.
"""

from __future__ import annotations

from ...params import ParameterError
from . import coverage, deploy, estimation, meng_comm, meng_sensing, song
from ._model import BACKEND_OPTIONS, Model, NotApplicable, Output, applies, choice
from .meng_sensing import meng_derived

__all__ = ["BACKEND_OPTIONS", "MODELS", "Model", "NotApplicable", "Output", "applies", "choice", "get_model",
           "meng_derived"]

_AREAS = (song, meng_sensing, meng_comm, estimation, deploy, coverage)


def _merge() -> dict[str, Model]:
    merged: dict[str, Model] = {}
    for area in _AREAS:
        for name, model in area.MODELS.items():
            if name in merged:  # pragma: no cover - a programming error, caught by the tests
                raise RuntimeError(f"figure model {name!r} defined twice (in {area.__name__})")
            merged[name] = model
    return merged


MODELS: dict[str, Model] = _merge()
"""Every figure model by name, in the order of ``_AREAS``."""


def get_model(name: str) -> Model:
    """The model ``name`` (a spec's ``figure.model``); ParameterError naming the known ones."""
    try:
        return MODELS[name]
    except KeyError:
        raise ParameterError("figure.model", name, f"one of {sorted(MODELS)}") from None
