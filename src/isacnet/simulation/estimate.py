"""Deprecated alias of :mod:`isacnet.simulation.statistics` (renamed in issue 13)."""

import sys

from . import statistics as _module

sys.modules[__name__] = _module
