"""Deprecated alias of :mod:`isacnet.simulation.kernels.meng_rate` (moved in issue 13)."""

import sys

from .kernels import meng_rate as _module

sys.modules[__name__] = _module
