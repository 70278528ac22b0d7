"""Song et al., distributed MIMO radar: the public API in one namespace.

>>> import isacnet
>>> p = isacnet.SongParams()                       # the paper's Section III defaults
>>> isacnet.song.scaling_bound(p)                  # Theorem 2, eq. (26) [m^2]
>>> est = isacnet.song.expected_crlb(p, 100_000, seed=1)   # Monte Carlo of eq. (18)
>>> est.mean, est.ci95

Per-layout (explicit positions): :func:`crlb_layout` (18) and :func:`fim_layout` (15).
Closed forms: :func:`lemma3` (24)-(25), :func:`scaling_bound` (26),
:func:`single_antenna_bound` (28), :func:`fair_comparison` (29)-(30).
Monte Carlo over PPP layouts: :func:`monte_carlo` (all quantities), :func:`expected_crlb` (18),
:func:`expected_jensen` (20) = (23).
"""

from __future__ import annotations

from typing import Any

from .analysis.song import (
    fair_comparison,
    lemma3,
    lemma3_normalised,
    scaling_bound,
    single_antenna_bound,
)
from .params import SongParams
from .sensing import song_crlb as crlb_layout
from .sensing import song_fim as fim_layout
from .simulation.kernels.song import QUANTITIES, SongKernel
from .simulation.montecarlo import RunOptions, estimate, run_options
from .simulation.statistics import Estimate

__all__ = [
    "QUANTITIES",
    "RunOptions",
    "SongParams",
    "crlb_layout",
    "expected_crlb",
    "expected_jensen",
    "fair_comparison",
    "fim_layout",
    "lemma3",
    "lemma3_normalised",
    "monte_carlo",
    "scaling_bound",
    "single_antenna_bound",
]


def monte_carlo(
    params: SongParams,
    n_layouts: int,
    seed: int,
    *,
    k_nearest: int = 64,
    window_radius: float | None = None,
    backend: str = "numpy",
    dtype: str = "float64",
    run: RunOptions | None = None,
    **run_kw: Any,
) -> dict[str, Estimate]:
    """Monte Carlo over PPP layouts of every per-layout quantity in ``QUANTITIES``.

    Parameters
    ----------
    params : SongParams
    n_layouts : int
        Number of independent layouts (>= 2).
    seed : int
        Run seed; the same seed gives the same numbers whatever the workers or chunking.
    k_nearest : int
        TXs and RXs sampled exactly per layout (infinite-plane mode), the rest by their
        conditional mean.
    window_radius : float, optional
        Use the paper's finite disk window of this radius [m] instead of the infinite plane.
    backend : "numpy", "numba" or "jax"
        Who computes the layouts (:mod:`isacnet.backends`): same law, each its own random stream.
    dtype : "float64" or "float32"
        Precision of the compiled backends (numpy: float64 only).
    run : RunOptions, optional
        How to run it (:class:`isacnet.simulation.montecarlo.RunOptions`): workers, executor,
        block_size, chunk_blocks, progress, cache, rel_ci, max_layouts, targets. The same names
        are accepted as keywords (``workers=2``), applied on top of ``run``.

    Returns
    -------
    dict quantity -> Estimate
        "crlb" (18) [m^2], "jensen" (20) = (23) [m^2], "inv_sum_tx", "inv_sum_rx" [m^gamma].
    """
    kernel = SongKernel(params, k_nearest=k_nearest, window_radius=window_radius, backend=backend, dtype=dtype)
    return estimate(kernel, n_layouts, seed, run_options(run, **run_kw))


def expected_crlb(params: SongParams, n_layouts: int, seed: int, **kwargs: Any) -> Estimate:
    """E over PPP layouts of the CRLB tr(S^{-1}) of eq. (18) [m^2], with its CI.

    Keyword arguments as in :func:`monte_carlo` (``backend``, ``dtype``, ``run``, ...).
    """
    return monte_carlo(params, n_layouts, seed, **kwargs)["crlb"]


def expected_jensen(params: SongParams, n_layouts: int, seed: int, **kwargs: Any) -> Estimate:
    """E over PPP layouts of the Jensen bound (20), equal to (23) for matched beams [m^2].

    Keyword arguments as in :func:`monte_carlo`."""
    return monte_carlo(params, n_layouts, seed, **kwargs)["jensen"]
