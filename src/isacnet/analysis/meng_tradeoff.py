"""Deprecated alias of :mod:`isacnet.analysis.optimize` (renamed in issue 13)."""

import sys

from . import optimize as _module

sys.modules[__name__] = _module
