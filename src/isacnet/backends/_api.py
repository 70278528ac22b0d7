"""The backend contract: what a kernel hands a compiled backend, and what the backend's cores return.

A *kernel* (``simulation/kernels/<quantity>.py``) owns the constants of its quantity and the
assembly of its outputs; a *backend* (``backends/numba_kernels.py``, ``numba_rate.py``,
``jax_kernels.py``) computes raw per-layout quantities of ``n`` layouts from the block's
:class:`numpy.random.Generator`. The backend never imports a simulation module: it sees the
kernel through the small protocols below (fields and ``core_constants()``), duck-typed.

Cores (``kernel(rng, n)`` with ``backend="numba"`` or ``"jax"`` calls them; every array has shape
(n,) and the kernel's dtype):

=====================  ======================  =============================================
core                   backends                returns
=====================  ======================  =============================================
``song_core``          numba, jax              :data:`SongCore`: (the :data:`SONG_OUTPUTS`,
                                               layouts redone by the exact pair sum)
``meng_crlb``          numba, jax              the kernel's ``quantities`` (names in
                                               :data:`MENG_CRLB_OUTPUTS`; ``raw=True``: the
                                               (n,) array tr(F^-1) [m^2] alone)
``meng_rate``          numba (``numba_rate``)  the kernel's ``quantities`` (names in
                                               :data:`MENG_RATE_OUTPUTS`)
``*_draws``            numba, jax              the layouts a core would use (for the tests'
                                               slow twins)
=====================  ======================  =============================================

A core returns values and counts; it carries no state out through globals or function
attributes. A module implementing a backend also defines ``STREAM`` (the name of its random
stream, recorded with results and in every job's identity).
"""

from __future__ import annotations

from typing import Any, Protocol

import numpy as np

__all__ = [
    "MENG_CRLB_OUTPUTS",
    "MENG_RATE_OUTPUTS",
    "SONG_OUTPUTS",
    "KernelLike",
    "Outputs",
    "SongCore",
]

Outputs = dict[str, np.ndarray]
"""What a core returns per quantity: {name: (n,) array of the kernel's dtype}."""

SongCore = tuple[Outputs, int]
"""``song_core``'s result: the :data:`SONG_OUTPUTS` and the number of layouts recomputed by the
exact pair sum because the separable form was not trusted (``backends.SEPARABLE_MAX_AMPLIFICATION``)."""

SONG_OUTPUTS = ("crlb", "jensen", "inv_sum_tx", "inv_sum_rx")
"""The Song CRLB core's outputs, per layout: crlb = tr(S^-1) / const [m^2] (inf where the FIM is
singular); jensen = 2 / (const W U) [m^2]; inv_sum_tx, inv_sum_rx = 1 / (scale W), 1 / (scale U)
(W, U: the path-gain sums with their tails)."""

MENG_CRLB_OUTPUTS = ("log_crlb", "singular", "cluster_size", "crlb", "isotropic", "jensen")
"""The Meng CRLB core's outputs (it returns the kernel's ``quantities``: these, and ``cdf_<i>`` =
1{crlb <= thresholds[i]}): crlb = tr(F^-1) [m^2] (inf where singular), log_crlb its log,
singular 1.0 where singular, cluster_size the BSs that accepted, isotropic = 2 / (const W^2),
jensen = 2 / (const (W^2 + Q)) [m^2]."""

MENG_RATE_OUTPUTS = ("rate_nats", "rate_bits", "sir_db", "n_accepted")
"""The Meng rate core's outputs (model "paper"; it returns the kernel's ``quantities``):
rate_nats = ln(1 + SIR) [nats/s/Hz], rate_bits = log2(1 + SIR) [bits/s/Hz], sir_db = 10 log10 SIR
[dB] (when p^c > 0), n_accepted the cooperating BSs that accepted."""


class KernelLike(Protocol):
    """What every backend reads of a kernel: its precision and its constants.

    ``core_constants()`` returns every constant a core needs (e.g. for the Song kernel: "window",
    "k", "lim_t", "lim_r", "tail_coef", "half", "const", "scale_t", "scale_r"; for the Meng CRLB
    kernel: "half", "const"), computed once by the kernel module that owns them.
    """

    dtype: str

    def core_constants(self) -> dict[str, Any]: ...
