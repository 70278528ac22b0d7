"""isacnet: network-level analysis of ISAC and distributed MIMO radar networks.

Closed forms from stochastic geometry and Monte Carlo side by side. Importing isacnet changes
no global state (no seeding, no plotting backend, no logging configuration).
"""

from __future__ import annotations

from . import meng, song
from ._version import __version__
from .api import ClosedFormSkipped, run, sweep
from .params import MengParams, ParameterError, QuadratureWarning, SongParams
from .simulation.statistics import Estimate

__all__ = [
    "ClosedFormSkipped", "Estimate", "MengParams", "ParameterError", "QuadratureWarning", "SongParams",
    "__version__", "meng", "run", "song", "sweep",
]
