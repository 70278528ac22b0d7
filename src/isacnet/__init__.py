"""isacnet: network-level analysis of ISAC and distributed MIMO radar networks.

Closed forms from stochastic geometry and Monte Carlo side by side. Importing isacnet changes
no global state (no seeding, no plotting backend, no logging configuration).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from . import meng, song
from .params import MengParams, ParameterError, SongParams
from .simulation.estimate import Estimate

try:
    __version__ = version("isacnet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"

__all__ = ["Estimate", "MengParams", "ParameterError", "SongParams", "__version__", "meng", "song"]
