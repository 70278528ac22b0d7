"""The CoMP rate, design check and coverage Monte Carlo of :mod:`isacnet.meng`."""

from __future__ import annotations

from typing import Any, Literal

from ..analysis.meng_sensing import kappa_c as _kappa_c_closed
from ..analysis.optimize import Design
from ..params import MengParams, ParameterError, check_int
from ..simulation.kernels.meng_crlb import (
    crlb_derived,
)
from ..simulation.kernels.meng_design import MengDesignKernel
from ..simulation.kernels.meng_rate import MengRateKernel
from ..simulation.montecarlo import RunOptions, estimate, run_options
from ..simulation.statistics import Estimate


# --------------------------------------------------------------------------- CoMP rate, MC
def rate_kernel(
    params: MengParams, L: int, *, model: str = "paper", kappa_c: float | None = None, **kwargs: Any
) -> MengRateKernel:
    """The Monte Carlo kernel of the CoMP rate, with the acceptance ``kappa_c`` of the cooperating
    BSs defaulting (models "paper" and "zf") to :func:`kappa_c` (the negative-binomial law, errata M-34).

    Parameters
    ----------
    params : MengParams
    L : int
        Cooperative cluster size (>= 1).
    model : "paper", "zf" or "full"
    kappa_c : float in [0, 1], optional
        None: ``kappa_c(psi, mu_c, L)`` for "paper"/"zf" (must stay None for "full").
    **kwargs
        The other fields of :class:`isacnet.simulation.kernels.meng_rate.MengRateKernel`
        (``k_nearest``, ``interference_shape``, ``side``, ``centers``, ``backend``, ``dtype``).

    Returns
    -------
    MengRateKernel
    """
    if kappa_c is None and model in ("paper", "zf") and isinstance(params, MengParams):
        try:
            n = check_int("L", L, ge=1)
        except ParameterError:
            n = None  # the kernel names the bad L
        if n is not None:
            kappa_c = float(_kappa_c_closed(params.resource_blocks, params.mu_c, n))
    return MengRateKernel(params, L, model=model, kappa_c=kappa_c, **kwargs)


def simulate_rate(
    L: int,
    params: MengParams,
    n_layouts: int,
    seed: int = 0,
    *,
    model: Literal["paper", "zf", "full"] = "paper",
    kappa_c: float | None = None,
    interference_shape: str | None = None,
    k_nearest: int | None = None,
    backend: str = "numpy",
    dtype: str = "float64",
    run: RunOptions | None = None,
    **run_kw: Any,
) -> dict[str, Estimate]:
    """Monte Carlo of the CoMP rate (8)-(9) of a typical user: ``{output: Estimate}``.

    Outputs ``rate_nats`` and ``rate_bits`` (E[ln / log2 (1 + SIR)]) [nats or bits/s/Hz],
    ``sir_db`` [dB] and ``n_accepted`` (see :class:`isacnet.simulation.kernels.meng_rate.MengRateKernel`
    for the models). ``model="paper"``: the paper's gain laws with independent acceptance
    ``kappa_c`` (default :func:`kappa_c`, the negative-binomial law); ``"zf"``: channels and the zero-forcing
    precoder (2) drawn; ``"full"``: acceptance from the spatial load of users on a torus
    (``n_layouts`` then counts tori, each contributing all its users, in blocks of 8 tori by
    default). ``backend="numba"``: model "paper" only.

    ``run`` (or the same keywords, e.g. ``workers=2``, ``rel_ci=0.01``): how to run it
    (:class:`isacnet.simulation.montecarlo.RunOptions`); with ``rel_ci`` and no ``targets``, the
    run stops once the 95% CI half-width of ``rate_nats`` is below ``rel_ci`` times its estimate
    (``n_layouts`` is the cap).
    """
    kernel = rate_kernel(
        params,
        L,
        model=model,
        kappa_c=kappa_c,
        interference_shape=interference_shape,
        k_nearest=k_nearest,
        backend=backend,
        dtype=dtype,
    )
    opts = run_options(run, **run_kw)
    if opts.block_size is None and model == "full":
        opts = opts.replace(block_size=8)
    if opts.rel_ci is not None and opts.targets is None:
        opts = opts.replace(targets=("rate_nats",))
    return estimate(kernel, n_layouts, seed, opts)


def verify_design(
    params: MengParams, design: Design, n_layouts: int, seed: int, *, run: RunOptions | None = None, **run_kw: Any
) -> dict[str, Estimate]:
    """Monte Carlo of a cooperative design (L, N, p^c) found by :func:`optimize`.

    Parameters
    ----------
    params : MengParams
        The network the design was optimised for.
    design : Design
        Its L, N, p^c and kappa_s are simulated (the user's rate (9) with the default (negative-binomial)
        acceptance kappa_c of the cooperating BSs, and the target's CRLB with acceptance).
    n_layouts : int
        Layouts (>= 2).
    seed : int
    run : RunOptions, optional
        How to run it (and the same names as keywords).

    Returns
    -------
    dict output -> Estimate
        "rate_nats" [nats/s/Hz], "log_crlb", "singular", "cluster_size" and "geo_mean" [m^2]
        (the geometric-mean CRLB).
    """
    kc = float(_kappa_c_closed(params.resource_blocks, params.mu_c, design.L)) if design.p_c > 0 else None
    kernel = MengDesignKernel(params, design.L, design.N, design.p_c, kappa_s=design.kappa_s, kappa_c=kc)
    return crlb_derived(estimate(kernel, n_layouts, seed, run_options(run, **run_kw)), kernel.variance_exists)


def simulate_coverage(
    params: MengParams,
    L: int,
    thresholds,
    *,
    jt: str = "power-sum",
    kappa_c: float | None = None,
    m: float = 1.0,
    noise=None,
    meta_x=(),
    n_layouts: int = 100_000,
    seed: int = 0,
    run: RunOptions | None = None,
    **run_kw: Any,
) -> dict[str, Estimate]:
    """Monte Carlo of coverage P(SINR > T_j) (outputs ``cov_<j>``), the rate (``rate_nats``,
    ``rate_bits``: nats/s/Hz and bits/s/Hz) and, where available, per-layout success
    probabilities (``ps_<j>``, ``ps2_<j>``, ``meta_<j>_<i>``) from the same layouts:
    ``{output: Estimate}``. Thresholds are linear (:func:`db_to_linear`). See
    :class:`isacnet.simulation.kernels.coverage.CoverageKernel` and docs/coverage.md. numpy only;
    ``run`` (or the same keywords, e.g. ``workers=2``): :class:`RunOptions`.
    """
    import numpy as np

    from .simulation.kernels.coverage import CoverageKernel

    if kappa_c is None:
        kappa_c = float(_kappa_c_closed(params.resource_blocks, params.mu_c, check_int("L", L, ge=1)))
    kernel = CoverageKernel(
        params,
        L,
        tuple(np.atleast_1d(thresholds).tolist()),
        jt=jt,
        kappa_c=kappa_c,
        m=m,
        noise=noise,
        meta_x=tuple(meta_x),
    )
    return estimate(kernel, n_layouts, seed, run_options(run, **run_kw))
