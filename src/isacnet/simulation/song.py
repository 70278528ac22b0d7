"""Deprecated alias of :mod:`isacnet.simulation.kernels.song` (moved in issue 13)."""

import sys

from .kernels import song as _module

sys.modules[__name__] = _module
