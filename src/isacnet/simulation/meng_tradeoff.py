"""Deprecated alias of :mod:`isacnet.simulation.kernels.meng_design` (moved in issue 13)."""

import sys

from .kernels import meng_design as _module

sys.modules[__name__] = _module
