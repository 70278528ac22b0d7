"""Shared test configuration.

Hypothesis explores new random examples on every run during development; under CI (CI=true)
it is derandomized so that a CI verdict is reproducible.
"""

import os
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

_STATISTICAL = Path(__file__).parent / "statistical"
_NUMBA_ONLY = {"test_backends_rate.py", "test_backends_rate_stat.py", "test_backend_cli.py"}
"""Test modules that exercise the numba backend only (every test in them gets the numba mark)."""


def pytest_collection_modifyitems(config, items):
    """Marks applied in one place: ``statistical`` for tests/statistical/, ``numba`` / ``jax`` for
    tests parametrised with that backend (or in a numba-only module), so that
    ``pytest -m "not numba and not jax"`` runs without compiling anything."""
    for item in items:
        path = Path(str(item.fspath))
        if _STATISTICAL in path.parents:
            item.add_marker(pytest.mark.statistical)
        if path.name in _NUMBA_ONLY:
            item.add_marker(pytest.mark.numba)
        params = getattr(getattr(item, "callspec", None), "params", {})
        for value in params.values():
            if isinstance(value, str) and value in ("numba", "jax"):
                item.add_marker(getattr(pytest.mark, value))


@pytest.fixture
def rng(request) -> np.random.Generator:
    """A Generator seeded from the test's node id: the same numbers on every run of that test,
    different numbers for different tests (no shared global seed)."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
