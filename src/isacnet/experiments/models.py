"""Compatibility module: the figure registry moved to :mod:`isacnet.experiments.registry`."""

from .registry import BACKEND_OPTIONS, MODELS, Model, Output, get_model, meng_derived  # noqa: F401
