"""Deprecated alias of :mod:`isacnet.simulation.statistics` (renamed in issue 13)."""

import sys

from . import statistics as _module
from .statistics import Z95, Estimate, Moments  # noqa: F401 - visible to type checkers

sys.modules[__name__] = _module
