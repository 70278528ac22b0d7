"""Deprecated alias of :mod:`isacnet.simulation.kernels.localization` (moved in issue 13)."""

import sys

from .kernels import localization as _module

sys.modules[__name__] = _module
