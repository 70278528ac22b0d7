"""From a sweep spec to a labelled result: Monte Carlo and closed forms side by side.

The result is an :class:`xarray.Dataset` whose dimension is the swept axis, with, for every
Monte Carlo output ``q``: ``q`` (mean), ``q_stderr``, ``q_ci_low``/``q_ci_high`` (95%), ``q_n``
(finite samples) and ``q_n_posinf``/``q_n_neginf``/``q_n_nan`` (counted faults), and every
closed form beside them. Attributes carry the effective config (TOML), seed, versions and how infinite sums were
handled, so a saved file says how to make it again.
"""

from __future__ import annotations

import datetime as _dt
import platform
import time
from collections.abc import Sequence

import numpy as np
import xarray as xr

from ..rng import BIT_GENERATOR
from ..simulation.engine import DEFAULT_BLOCK_SIZE, ChunkCache, Executor, Job, Kernel, estimates, run_jobs
from ..simulation.estimate import Estimate
from .models import get_model
from .spec import FigureSpec

_MISSING = Estimate(mean=float("nan"), stderr=float("nan"), n=0)
"""An output a kernel does not produce at this point (e.g. a mean that does not exist)."""


def _version() -> str:
    from .. import __version__

    return __version__


def estimate(
    kernel: Kernel,
    n_layouts: int,
    seed: int,
    *,
    workers: int | None = 1,
    executor: Executor | None = None,
    block_size: int = DEFAULT_BLOCK_SIZE,
    chunk_blocks: int | None = None,
    progress: bool | None = False,
    cache: ChunkCache | None = None,
    rel_ci: float | None = None,
    max_layouts: int | None = None,
    targets: Sequence[str] | None = None,
) -> dict[str, Estimate]:
    """One Monte Carlo estimate of every output of ``kernel`` (the engine behind the facades'
    ``monte_carlo``/``expected_*`` functions).

    ``workers``: 1 serial (default), N a pool of N processes, None one per core; ``executor``
    overrides it. The numbers depend only on (kernel, n_layouts, seed, block_size) and, with
    early stopping, ``rel_ci`` and ``max_layouts``.

    ``rel_ci``: stop once the 95% CI half-width of the ``targets`` outputs (default: all) is
    below ``rel_ci * |estimate|``, checked at the stages of
    :func:`isacnet.simulation.engine.stage_ends`; ``n_layouts`` (or ``max_layouts``) is the cap.
    The layouts used are each estimate's ``n_total``.
    """
    if executor is None:
        from .executors import make_executor

        executor = make_executor(workers)
    job = Job(kernel, n_layouts, seed, point=0, block_size=block_size)
    judge = None
    if targets is not None:
        names = tuple(targets)

        def judge(job: Job, moments) -> dict[str, Estimate]:
            return {k: m.estimate() for k, m in moments.items() if k in names}

    (moments,) = run_jobs([job], executor, chunk_blocks=chunk_blocks, progress=progress, cache=cache,
                          rel_ci=rel_ci, max_layouts=max_layouts, targets=judge)
    return estimates(moments)


def run_spec(
    spec: FigureSpec,
    executor: Executor | None = None,
    *,
    quick: bool = False,
    progress: bool | None = None,
    cache: ChunkCache | None = None,
    rel_ci: float | None = None,
    max_layouts: int | None = None,
) -> xr.Dataset:
    """Evaluate every sweep point of ``spec`` (Monte Carlo on ``executor``, closed forms here).

    With a ``cache`` (:class:`~isacnet.experiments.chunkstore.ChunkStore`), finished chunks are
    stored as they complete and reused on a rerun: a killed run resumes where it stopped.

    With ``rel_ci``, each point stops once every plotted Monte Carlo output (derived ones such as
    a geometric mean included; those without a CI at that point not judged) has a 95% CI
    half-width below ``rel_ci * |estimate|``, checked at the engine's stages
    (:func:`~isacnet.simulation.engine.stage_ends`); the cap is ``max_layouts`` or the spec's
    layouts. The layouts each point used are the variable ``n_layouts_used``.
    """
    t_start = time.perf_counter()
    model = get_model(spec.model)
    pts = spec.points()
    n_layouts = spec.quick_n_layouts if quick else spec.n_layouts
    kernels = [model.kernel(p, o) for p, o in pts]
    jobs = [Job(k, n_layouts, spec.seed, point=i, block_size=spec.block_size) for i, k in enumerate(kernels)]
    t0 = time.perf_counter()
    plotted = {q for p in model.plotted for q in p.split(":")}  # "x:y" entries plot y against x
    stop_on = tuple(o.name for o in model.mc_outputs if o.name in plotted)

    def judge(job: Job, mom) -> dict[str, Estimate]:
        ests = model.derive(estimates(mom), kernels[job.point])
        return {k: e for k, e in ests.items() if k in stop_on}

    moments = run_jobs(jobs, executor, progress=progress, desc=spec.id, cache=cache,
                       rel_ci=rel_ci, max_layouts=max_layouts, targets=judge)
    if max_layouts is not None:
        n_layouts = max_layouts
    wall = time.perf_counter() - t0
    closed = [model.closed_forms(p, model.full_options(o)) for p, o in pts]
    point_estimates = [model.derive(estimates(mom), kern)
                       for mom, kern in zip(moments, kernels, strict=True)]

    dim = spec.dims  # (sweep,) or (series, sweep); points are flat, series-major
    shape = spec.shape

    def swept(i: int, name: str):
        p, o = pts[i]
        return o[name] if name in model.sweep_options else getattr(p, name)

    coords = {}
    n_sweep = len(spec.sweep.values)
    axes = [(spec.sweep, lambda k: k)]
    if spec.series is not None:
        axes.append((spec.series, lambda k: k * n_sweep))
    for axis, point_of in axes:
        vals = np.asarray(axis.values)
        if np.all(vals == np.round(vals)) and all(isinstance(swept(0, n), int) for n in axis.parameters):
            vals = vals.astype(np.int64)
        coords[axis.dim] = (axis.dim, vals, {"long_name": axis.label, "units": axis.units or "1"})
        for name in axis.parameters:
            if name != axis.dim:
                coords[name] = (axis.dim, np.asarray([swept(point_of(k), name) for k in range(len(vals))]))

    def arr(values) -> np.ndarray:
        return np.asarray(values).reshape(shape)

    data: dict[str, tuple] = {}
    for out in model.mc_outputs:
        ests = [e.get(out.name, _MISSING) for e in point_estimates]
        base = {"units": out.units or "1", "equation": out.equation}  # CF: "1" is dimensionless
        anc = " ".join(f"{out.name}_{s}" for s in ("stderr", "ci_low", "ci_high", "n", "n_posinf", "n_neginf", "n_nan"))
        data[out.name] = (dim, arr([e.mean for e in ests]),
                          {"long_name": out.long_name, **base, "ancillary_variables": anc})
        data[f"{out.name}_stderr"] = (dim, arr([e.stderr for e in ests]),
                                      {"long_name": f"standard error of {out.name}", **base})
        lo, hi = zip(*(e.ci95 for e in ests), strict=True)
        data[f"{out.name}_ci_low"] = (dim, arr(lo), {"long_name": f"95% CI low of {out.name}", **base})
        data[f"{out.name}_ci_high"] = (dim, arr(hi), {"long_name": f"95% CI high of {out.name}", **base})
        data[f"{out.name}_n"] = (dim, arr([e.n for e in ests]), {"long_name": "finite samples", "units": "1"})
        data[f"{out.name}_n_posinf"] = (dim, arr([e.n_posinf for e in ests]),
                                        {"long_name": "samples = +inf (e.g. singular FIM), not averaged",
                                         "units": "1"})
        data[f"{out.name}_n_nan"] = (dim, arr([e.n_nan for e in ests]),
                                     {"long_name": "NaN samples (numerical faults), not averaged", "units": "1"})
        data[f"{out.name}_n_neginf"] = (dim, arr([e.n_neginf for e in ests]),
                                        {"long_name": "samples = -inf (numerical faults), not averaged",
                                         "units": "1"})
    data["n_layouts_used"] = (dim, arr([m.n_layouts for m in moments]),
                              {"long_name": "layouts simulated (fewer than n_layouts: stopped early on rel_ci)",
                               "units": "1"})
    for out in model.closed_outputs:
        data[out.name] = (dim, arr([c[out.name] for c in closed]),
                          {"long_name": out.long_name, "units": out.units or "1", "equation": out.equation})

    attrs = {
        "title": spec.title,
        "figure_id": spec.id,
        "model": spec.model,
        "isacnet_version": _version(),
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "seed": spec.seed,
        "n_layouts": n_layouts,
        "quick": int(quick),
        "block_size": spec.block_size,
        "bit_generator": BIT_GENERATOR,
        "seeding": "SeedSequence(seed, spawn_key=(point, block))",
        "executor": repr(executor) if executor is not None else "SerialExecutor()",
        "mc_wall_time_s": round(wall, 3),
        "rel_ci": float(rel_ci) if rel_ci is not None else 0.0,
        "rel_ci_targets": ",".join(stop_on) if rel_ci is not None else "",
        "config_toml": spec.to_toml(),
        "plotted": ",".join(model.plotted),
        "sweep_dim": spec.sweep.dim,
        **({"series_dim": spec.series.dim} if spec.series is not None else {}),
        "agreement_pairs": ",".join(f"{a}:{b}" for a, b in model.agreement),
        **{f"plot_{k}": v for k, v in spec.plot.items()},
    }
    descs = [k.describe() for k in kernels]
    for k, v in descs[0].items():  # netCDF attrs: str, int, float only
        if any(d.get(k) != v for d in descs[1:]):
            continue  # varies along the sweep (e.g. L on a sweep over L): the coordinates say it
        attrs[f"mc_{k}"] = int(v) if isinstance(v, bool) else v if isinstance(v, str | int | float) else str(v)
    nonfinite = {o.name: int(sum(e[o.name].n_nonfinite for e in point_estimates if o.name in e))
                 for o in model.mc_outputs}
    attrs["nonfinite_samples"] = ", ".join(f"{k}={v}" for k, v in nonfinite.items())
    attrs["wall_time_s"] = round(time.perf_counter() - t_start, 3)  # Monte Carlo and closed forms
    return xr.Dataset(data, coords=coords, attrs=attrs)


def run_specs(
    specs: Sequence[FigureSpec],
    executor: Executor | None = None,
    *,
    quick: bool = False,
    progress: bool | None = None,
    cache: ChunkCache | None = None,
    rel_ci: float | None = None,
    max_layouts: int | None = None,
) -> list[xr.Dataset]:
    """Run several specs, reusing one executor (and so one process pool or Dask cluster)."""
    kw = {"quick": quick, "progress": progress, "cache": cache, "rel_ci": rel_ci, "max_layouts": max_layouts}
    if hasattr(executor, "__enter__"):
        with executor:  # type: ignore[union-attr]
            return [run_spec(s, executor, **kw) for s in specs]
    return [run_spec(s, executor, **kw) for s in specs]
