"""The package version, in a module of its own so that any layer can read it without importing
the package's ``__init__`` (which imports the facades, hence the whole stack)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("isacnet")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0+unknown"
