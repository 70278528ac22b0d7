"""Old path of :mod:`isacnet.simulation.executors` (moved in 0.4.0: the Monte Carlo engine's
executors belong to the simulation layer). The module object itself is installed under this
name, so every name, private ones included, and monkeypatching keep working."""

import sys

from ..simulation import executors as _module

sys.modules[__name__] = _module
