"""Compiled Monte Carlo backends: the same kernels as :mod:`isacnet.simulation`, compiled.

A kernel's ``backend`` field picks who computes its layouts:

``"numpy"`` (default)
    The reference: batched numpy, float64 only.
``"numba"`` (``pip install 'isacnet[fast]'``)
    Fused CPU kernels (:mod:`.numba_kernels`): one pass per layout over small scratch arrays
    that stay in L1, no temporaries of the batch's size, no trig calls. Random numbers come from
    an inlined SFC64 stream seeded per call from the block's own
    :class:`numpy.random.Generator`, so seeding stays per block.
``"jax"`` (``pip install 'isacnet[gpu]'``)
    One jitted code path for CPU and GPU (:mod:`.jax_kernels`), counter-based random numbers
    (``jax.random``) keyed from the block's Generator.

``dtype`` ``"float64"`` or ``"float32"`` (compiled backends only) sets the precision of the
random numbers and of every operation; tolerances (singular FIM, separable-form cancellation)
are keyed by it.

Every backend draws the same *law* of layouts but its own random stream: for a given seed a
backend reproduces itself bit for bit (on one machine and library version), not the numpy
backend's numbers. Agreement between backends is statistical (tests/statistical/
test_backends_stat.py) and, on the same drawn layouts, to rounding (tests/unit/
test_backends.py).
"""

from __future__ import annotations

import importlib
from types import ModuleType

import numpy as np

from ..params import ParameterError
from ..sensing import SEPARABLE_MAX_AMPLIFICATION as _SEPARABLE_F64

BACKENDS = ("numpy", "numba", "jax")
"""Names accepted by the kernels' ``backend`` field."""

DTYPES = ("float64", "float32")
"""Names accepted by the kernels' ``dtype`` field."""

EXTRAS = {"numba": ("numba", "fast"), "jax": ("jax", "gpu")}
"""backend -> (package it needs, the isacnet extra that installs it)."""

SEPARABLE_MAX_AMPLIFICATION = {np.dtype(np.float64): _SEPARABLE_F64, np.dtype(np.float32): 1e3}
"""Per dtype, the largest ``mag * tr(S) / det(S)`` for which the separable form of the Song FIM
is trusted (float64: :data:`isacnet.sensing.SEPARABLE_MAX_AMPLIFICATION`, defined there once). Its
rounding error in tr(S^-1) is about 2 eps * mag * tr / det: at most 4.4e-8 (float64) and
1.2e-4 (float32, eps = 6e-8). Layouts above are recomputed with the exact pair sum; at K = 64
that is 1e-5 of the layouts at 1e3 (median of the ratio: 4.8)."""


class BackendUnavailable(ImportError):
    """A compiled backend was asked for but its package is not installed (or too old)."""


def check_backend(backend: object, dtype: object) -> tuple[str, str]:
    """Validate ``backend`` and ``dtype`` names; raise if the backend cannot be loaded.

    Raises
    ------
    ParameterError
        Unknown name, or ``dtype="float32"`` with the numpy backend (the float64 reference).
    BackendUnavailable
        The backend's package is missing; the message names the extra to install.
    """
    if backend not in BACKENDS:
        raise ParameterError("backend", backend, "one of " + ", ".join(map(repr, BACKENDS)))
    if dtype not in DTYPES:
        raise ParameterError("dtype", dtype, "one of " + ", ".join(map(repr, DTYPES)))
    if backend == "numpy" and dtype != "float64":
        raise ParameterError(
            "dtype", dtype, "'float64' with backend='numpy' (the reference); float32 needs backend='numba' or 'jax'"
        )
    if backend != "numpy":
        load(backend)
    return backend, dtype  # type: ignore[return-value]


def describe(backend: str, dtype: str) -> dict[str, str]:
    """What a kernel stores about its backend: {} for numpy (the reference), else the backend,
    the dtype and the name of its random stream (``STREAM`` of its module)."""
    if backend == "numpy":
        return {}
    return {"backend": backend, "dtype": dtype, "rng_stream": load(backend).STREAM}


def available(backend: str) -> bool:
    """Whether ``backend`` can be used here (its package imports)."""
    if backend == "numpy":
        return True
    try:
        load(backend)
    except BackendUnavailable:
        return False
    return True


def load(backend: str) -> ModuleType:
    """The module implementing ``backend`` ("numba" or "jax"), imported on first use."""
    if backend not in EXTRAS:
        raise ParameterError("backend", backend, "'numba' or 'jax'")
    package, extra = EXTRAS[backend]
    try:
        return importlib.import_module(f".{backend}_kernels", __name__)
    except ImportError as e:
        raise BackendUnavailable(
            f"backend={backend!r} needs the {package} package, which could not be imported ({e}); "
            f"install it with: pip install 'isacnet[{extra}]'"
        ) from e
