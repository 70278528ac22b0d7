"""Deprecated alias of :mod:`isacnet.localization` (renamed in issue 13): the position estimators.

``isacnet.estimation``, ``isacnet.estimation.model`` and ``isacnet.estimation.solvers`` are the
modules of :mod:`isacnet.localization`.
"""

import sys

from .. import localization as _package
from ..localization import model as _model
from ..localization import solvers as _solvers

sys.modules[__name__ + ".model"] = _model
sys.modules[__name__ + ".solvers"] = _solvers
sys.modules[__name__] = _package
