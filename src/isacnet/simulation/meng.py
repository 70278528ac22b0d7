"""Deprecated alias of :mod:`isacnet.simulation.kernels.meng_crlb` (moved in issue 13)."""

import sys

from .kernels import meng_crlb as _module

sys.modules[__name__] = _module
