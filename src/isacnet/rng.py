"""Seeds: one :class:`numpy.random.SeedSequence` per run, one child per sweep point and block.

The random numbers of block ``b`` of sweep point ``p`` come from
``SeedSequence(seed, spawn_key=(p, b))``, which is exactly the ``b``-th child of the ``p``-th
child of ``SeedSequence(seed)``. A block is the unit of randomness (a fixed number of layouts);
work is handed to executors in chunks of whole blocks, so the numbers do not depend on how the
work is split, on the number of workers, or on the order in which chunks finish. (The points of
a sweep over a threshold that shares its samples are one job, drawn from the stream of the first
of them: :func:`isacnet.experiments.runner.jobs_for`.)
"""

from __future__ import annotations

import numpy as np

BIT_GENERATOR = "PCG64"
"""The bit generator used for every block (named explicitly, not numpy's default)."""

SEEDING = "SeedSequence(seed, spawn_key=(point, block))"
"""How block ``block`` of sweep point ``point`` is seeded (:func:`block_rng`)."""


def check_seed(seed: object) -> int:
    """Return ``seed`` as a non-negative int or raise a ValueError naming ``seed``."""
    from .params import check_int

    return check_int("seed", seed, ge=0)


def block_rng(seed: int, point: int, block: int) -> np.random.Generator:
    """The generator of block ``block`` of sweep point ``point`` of the run seeded ``seed``."""
    ss = np.random.SeedSequence(seed, spawn_key=(point, block))
    return np.random.Generator(np.random.PCG64(ss))
