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
from .simulation.engine import DEFAULT_BLOCK_SIZE, Executor
from .simulation.estimate import Estimate
from .simulation.song import QUANTITIES, SongKernel

__all__ = [
    "QUANTITIES",
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
    workers: int | None = 1,
    executor: Executor | None = None,
    block_size: int = DEFAULT_BLOCK_SIZE,
    chunk_blocks: int | None = None,
    progress: bool | None = False,
) -> dict[str, Estimate]:
    """Monte Carlo over PPP layouts of every per-layout quantity in ``QUANTITIES``.

    Parameters
    ----------
    params : SongParams
    n_layouts : int
        Number of independent layouts (>= 2).
    seed : int
        Run seed; the same seed gives the same numbers whatever ``workers``/``chunk_blocks``.
    k_nearest : int
        TXs and RXs sampled exactly per layout (infinite-plane mode), the rest by their
        conditional mean.
    window_radius : float, optional
        Use the paper's finite disk window of this radius [m] instead of the infinite plane.
    workers : int or None
        1: serial (default); N > 1: a local pool of N processes; None: one per core.
    executor : Executor, optional
        Overrides ``workers``.

    Returns
    -------
    dict quantity -> Estimate
        "crlb" (18) [m^2], "jensen" (20) = (23) [m^2], "inv_sum_tx", "inv_sum_rx" [m^gamma].
    """
    from .experiments.runner import estimate

    kernel = SongKernel(params, k_nearest=k_nearest, window_radius=window_radius)
    return estimate(kernel, n_layouts, seed, workers=workers, executor=executor,
                    block_size=block_size, chunk_blocks=chunk_blocks, progress=progress)


def expected_crlb(params: SongParams, n_layouts: int, seed: int, **kwargs) -> Estimate:
    """E over PPP layouts of the CRLB tr(S^{-1}) of eq. (18) [m^2], with its CI.

    Keyword arguments as in :func:`monte_carlo`.
    """
    return monte_carlo(params, n_layouts, seed, **kwargs)["crlb"]


def expected_jensen(params: SongParams, n_layouts: int, seed: int, **kwargs) -> Estimate:
    """E over PPP layouts of the Jensen bound (20), equal to (23) for matched beams [m^2]."""
    return monte_carlo(params, n_layouts, seed, **kwargs)["jensen"]
