"""From a sweep spec to a labelled result: Monte Carlo and closed forms side by side.

The result is an :class:`xarray.Dataset` whose dimension is the swept axis, with, for every
Monte Carlo output ``q``: ``q`` (mean), ``q_stderr``, ``q_ci_low``/``q_ci_high`` (95%), ``q_n``
(finite samples) and ``q_n_posinf``/``q_n_neginf``/``q_n_nan`` (counted faults), and every
closed form beside them. Attributes carry the effective config (TOML), seed, versions and how infinite sums were
handled, so a saved file says how to make it again.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import functools
import json
import platform
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from .._version import __version__
from ..rng import BIT_GENERATOR, SEEDING
from ..simulation.engine import ChunkCache, Executor, Job, JobMoments, estimates, run_jobs
from ..simulation.montecarlo import RunOptions, estimate
from ..simulation.statistics import Estimate, Moments
from .closed import _CLOSED_MEMO, closed_forms  # noqa: F401  (re-exported; tests clear the memo)
from .registry import Model, get_model
from .spec import FigureSpec

__all__ = ["RunOptions", "Sweep", "closed_forms", "collect", "estimate", "jobs_for", "member_moments", "run_spec",
           "run_specs"]

_MISSING = Estimate(mean=float("nan"), stderr=float("nan"), n=0)
"""An output a kernel does not produce at this point (e.g. a mean that does not exist)."""


@dataclass(frozen=True)
class Sweep:
    """The jobs of one spec (:func:`jobs_for`): one Monte Carlo job per sweep point, or per group
    of points that differ only in the model's :attr:`~isacnet.experiments.registry.Model.shared_option`.

    Attributes
    ----------
    spec : FigureSpec
    model : Model
        The registry entry of ``spec.model``.
    points : list of (params, options)
        Per sweep point, flat and series-major.
    kernels : list
        Per point, the Monte Carlo kernel (what describes the point and derives its estimates).
    jobs : list of Job
        The jobs run: per point, or per group of points evaluated on the same samples.
    members : list of tuple of int
        Per job, the points it computes, in the order of its kernel's ``name@k`` outputs (a single
        point: the point's own kernel, outputs without suffix).
    stop_on : tuple of str
        The plotted Monte Carlo outputs (those the early-stopping rule judges).
    """

    spec: FigureSpec
    model: Model
    points: list
    kernels: list
    jobs: list[Job]
    members: list[tuple[int, ...]]
    stop_on: tuple[str, ...]

    @functools.cached_property
    def _group_at(self) -> dict[int, tuple[int, ...]]:
        """Each job's points, by the job's (first) point."""
        return {j.point: m for j, m in zip(self.jobs, self.members, strict=True)}

    def _members_of(self, job: Job) -> tuple[int, ...]:
        return self._group_at.get(job.point, (job.point,))

    def judge(self, job: Job, moments: Mapping[str, Moments]) -> dict[str, Estimate]:
        """The estimates the early-stopping rule judges: plotted outputs, derived ones included (of
        every point of a group job, named ``"<point>:<output>"``)."""
        members = self._members_of(job)
        if len(members) == 1:
            ests = self.model.derive(estimates(moments), self.kernels[job.point])
            return {k: e for k, e in ests.items() if k in self.stop_on}
        out = {}
        for k, i in enumerate(members):
            ests = self.model.derive(estimates(member_moments(moments, k)), self.kernels[i])
            out.update({f"{i}:{n}": e for n, e in ests.items() if n in self.stop_on})
        return out

    def point_moments(self, moments: Sequence[JobMoments]) -> list[JobMoments]:
        """Per point, its moments, from those of the jobs (in the order of :attr:`jobs`)."""
        out: list[JobMoments | None] = [None] * len(self.points)
        for mom, members in zip(moments, self.members, strict=True):
            for k, i in enumerate(members):
                part = member_moments(mom, k) if len(members) > 1 else mom
                out[i] = JobMoments(part, mom.n_layouts, mom.n_blocks, mom.cap)
        assert all(m is not None for m in out)
        return out  # type: ignore[return-value]


def member_moments(moments: Mapping[str, Moments], k: int) -> dict[str, Moments]:
    """The moments of the k-th point of a group job: ``name@k`` as ``name``, and every output
    without a suffix (the same at each point of the group)."""
    tag = f"@{k}"
    out = {n: m for n, m in moments.items() if "@" not in n}
    out.update({n[: -len(tag)]: m for n, m in moments.items() if n.endswith(tag)})
    return out


def _groups(model: Model, pts: Sequence[tuple[Any, Mapping[str, Any]]]) -> list[tuple[int, ...]]:
    """The points evaluated together: those that differ only in ``model.shared_option`` (in point
    order, each group at its first point); every point alone for a model without one."""
    opt = model.shared_option
    if opt is None or model.make_group_kernel is None:
        return [(i,) for i in range(len(pts))]
    by: dict[Any, list[int]] = {}
    for i, (p, o) in enumerate(pts):
        rest = tuple(sorted((k, v) for k, v in model.full_options(o).items() if k != opt))
        try:
            key: Any = (p, rest)
            hash(key)
        except TypeError:  # an unhashable option: alone
            key = ("alone", i)
        by.setdefault(key, []).append(i)
    return [tuple(g) for g in by.values()]


def jobs_for(spec: FigureSpec, *, quick: bool = False, rel_ci: bool = False) -> Sweep:
    """The Monte Carlo jobs of every sweep point of ``spec`` (``quick``: its quick layouts;
    ``rel_ci``, for a run with early stopping: its cap :attr:`FigureSpec.rel_ci_cap`; else its
    ``n_layouts``).

    Points that differ only in the model's ``shared_option`` (a coverage threshold) are one job on
    the model's group kernel, seeded as the first of them: the same samples at every threshold
    (common random numbers), so the first point's numbers are those it has alone and a coverage
    curve is an empirical CDF (monotone) rather than independent estimates, for the cost of one
    point. Early stopping judges the plotted outputs of every point of the group.
    """
    model = get_model(spec.model)
    pts = spec.points()
    n_layouts = spec.quick_n_layouts if quick else (spec.rel_ci_cap if rel_ci else spec.n_layouts)
    kernels = [model.kernel(p, o) for p, o in pts]
    members = _groups(model, pts)
    jobs = []
    for g in members:
        if len(g) == 1:
            kern = kernels[g[0]]
        else:
            p, o = pts[g[0]]
            assert model.shared_option is not None
            kern = model.group_kernel(p, o, tuple(model.full_options(pts[i][1])[model.shared_option] for i in g))
        jobs.append(Job(kern, n_layouts, spec.seed, point=g[0], block_size=spec.block_size))
    plotted = {q for p in model.plotted for q in p.split(":")}  # "x:y" entries plot y against x
    stop_on = tuple(o.name for o in model.mc_outputs if o.name in plotted)
    return Sweep(spec, model, pts, kernels, jobs, members, stop_on)


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
    """Evaluate every sweep point of ``spec`` (Monte Carlo on ``executor``, closed forms here):
    :func:`jobs_for`, the run (:func:`isacnet.simulation.engine.run_jobs`), :func:`collect`.

    With a ``cache`` (:class:`~isacnet.experiments.chunkstore.ChunkStore`), finished chunks are
    stored as they complete and reused on a rerun: a killed run resumes where it stopped.

    With ``rel_ci``, each point stops once every plotted Monte Carlo output (derived ones such as
    a geometric mean included; those without a CI at that point not judged) has a 95% CI
    half-width below ``rel_ci * |estimate|``, checked at the engine's stages
    (:func:`~isacnet.simulation.engine.stage_ends`); the cap is ``max_layouts`` or the spec's
    (:attr:`~isacnet.experiments.spec.FigureSpec.rel_ci_cap`: its ``max_layouts``, else
    ``n_layouts``). The layouts each point used are the variable ``n_layouts_used``.
    """
    t_start = time.perf_counter()
    sweep = jobs_for(spec, quick=quick, rel_ci=rel_ci is not None)
    closed = closed_forms(spec)  # before the Monte Carlo: a failure here costs no work
    t0 = time.perf_counter()
    invalid_before = getattr(cache, "n_invalid", 0)
    moments = sweep.point_moments(run_jobs(sweep.jobs, executor, progress=progress, desc=spec.id, cache=cache,
                                           rel_ci=rel_ci, max_layouts=max_layouts, targets=sweep.judge))
    run = {"quick": quick, "executor": executor, "rel_ci": rel_ci, "max_layouts": max_layouts,
           "mc_wall_time_s": time.perf_counter() - t0,
           "chunks_failed_validation": getattr(cache, "n_invalid", 0) - invalid_before}
    return collect(sweep, moments, run, t_start, closed)




def collect(sweep: Sweep, moments: Sequence[JobMoments], run: Mapping[str, Any], t_start: float,
            closed: tuple[list[dict[str, float]], list[str]] | None = None) -> xr.Dataset:
    """The Dataset of a finished sweep: Monte Carlo estimates (derived ones included) and the closed
    forms at every point (``closed``: from :func:`closed_forms`, evaluated here if not given), the
    sweep axes as coordinates, and the attributes that say how to make it again. ``run``: quick,
    executor, rel_ci, max_layouts and mc_wall_time_s of the run. Closed forms that do not apply
    are NaN, and the attribute ``closed_forms_skipped`` says which and why."""
    model = sweep.model
    closed_values, notes = closed if closed is not None else closed_forms(sweep.spec)
    point_estimates = [model.derive(estimates(mom), kern) for mom, kern in zip(moments, sweep.kernels, strict=True)]
    data = _data_vars(sweep, point_estimates, moments, [{k: float(x) for k, x in c.items()} for c in closed_values])
    attrs = _attrs(sweep, point_estimates, run)
    attrs["closed_forms_skipped"] = "; ".join(notes)  # "" where every closed form applies
    attrs["wall_time_s"] = round(time.perf_counter() - t_start, 3)  # Monte Carlo and closed forms
    return xr.Dataset(data, coords=_coords(sweep), attrs=attrs)


def _coords(sweep: Sweep) -> dict[str, tuple]:
    """The sweep (and series) axis and every swept parameter as coordinates."""
    spec, model, pts = sweep.spec, sweep.model, sweep.points

    def swept(i: int, name: str):
        p, o = pts[i]
        return o[name] if name in model.sweep_options else getattr(p, name)

    coords: dict[str, tuple] = {}
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
    return coords


def _data_vars(sweep: Sweep, point_estimates: list, moments: Sequence[JobMoments], closed: list) -> dict:
    """Per Monte Carlo output: mean, stderr, 95% CI, counts; layouts used; the closed forms."""
    model, dim, shape = sweep.model, sweep.spec.dims, sweep.spec.shape  # points: flat, series-major

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
    return data


def _attrs(sweep: Sweep, point_estimates: list, run: Mapping[str, Any]) -> dict[str, Any]:
    """What a saved Dataset says about how to make it again (config, seed, versions, run, job identity)."""
    spec, model, jobs = sweep.spec, sweep.model, sweep.jobs
    executor, rel_ci, max_layouts = run["executor"], run["rel_ci"], run["max_layouts"]
    attrs = {
        "title": spec.title,
        "figure_id": spec.id,
        "model": spec.model,
        "isacnet_version": __version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "created_utc": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        "seed": spec.seed,
        "n_layouts": jobs[0].n_layouts if max_layouts is None else max_layouts,
        "quick": int(run["quick"]),
        "block_size": spec.block_size,
        "bit_generator": BIT_GENERATOR,
        "seeding": SEEDING,
        "executor": repr(executor) if executor is not None else "SerialExecutor()",
        "mc_wall_time_s": round(run["mc_wall_time_s"], 3),  # run with others: until this one was done
        "mc_run_figures": int(run.get("mc_run_figures", 1)),  # figures whose jobs shared the executor
        "rel_ci": float(rel_ci) if rel_ci is not None else 0.0,
        "chunks_failed_validation": int(run.get("chunks_failed_validation", 0)),  # stored files refused
        "rel_ci_targets": ",".join(sweep.stop_on) if rel_ci is not None else "",
        "config_toml": spec.to_toml(),
        "plotted": ",".join(model.plotted),
        "sweep_dim": spec.sweep.dim,
        **({"series_dim": spec.series.dim} if spec.series is not None else {}),
        "agreement_pairs": ",".join(f"{a}:{b}" for a, b in model.agreement),
        **{f"plot_{k}": v for k, v in spec.plot.items()},
    }
    descs = [k.describe() for k in sweep.kernels]
    for k, v in descs[0].items():  # netCDF attrs: str, int, float only
        if any(d.get(k) != v for d in descs[1:]):
            continue  # varies along the sweep (e.g. L on a sweep over L): the coordinates say it
        attrs[f"mc_{k}"] = int(v) if isinstance(v, bool) else v if isinstance(v, str | int | float) else str(v)
    nonfinite = {o.name: int(sum(e[o.name].n_nonfinite for e in point_estimates if o.name in e))
                 for o in model.mc_outputs}
    attrs["nonfinite_samples"] = ", ".join(f"{k}={v}" for k, v in nonfinite.items())
    ident = dict(jobs[0].identity)
    del ident["point"]  # the same for every point but the point (and its kernel's swept fields)
    attrs["job_identity"] = json.dumps(ident, sort_keys=True)
    used = _used_jobs(jobs, max_layouts)
    key_of = {i: job.key for job, g in zip(used, sweep.members, strict=True) for i in g}
    attrs["job_keys"] = ",".join(key_of[i] for i in range(len(sweep.points)))  # per point (its job's)
    return attrs


def _used_jobs(jobs: Sequence[Job], max_layouts: int | None) -> list[Job]:
    """The jobs as the engine runs them (``max_layouts`` replacing their ``n_layouts``)."""
    return list(jobs) if max_layouts is None else [dataclasses.replace(j, n_layouts=max_layouts) for j in jobs]


def run_specs(
    specs: Sequence[FigureSpec],
    executor: Executor | None = None,
    *,
    quick: bool = False,
    progress: bool | None = None,
    cache: ChunkCache | None = None,
    rel_ci: float | None = None,
    max_layouts: int | None = None,
    on_result: Callable[[FigureSpec, xr.Dataset], None] | None = None,
) -> list[xr.Dataset]:
    """Run several specs on one executor (and so one process pool or Dask cluster), their jobs as
    one list (:func:`run_together`: the same numbers as one by one, without the pool draining
    between figures). ``on_result(spec, ds)`` is called as each spec finishes (the
    CLI writes its files then, in a background thread, while the other specs run)."""
    def run_all() -> list[xr.Dataset]:
        if len(specs) > 1:
            both = run_together(specs, executor, quick=quick, progress=progress, cache=cache, rel_ci=rel_ci,
                                max_layouts=max_layouts, on_result=on_result)
            if both is not None:
                return both
        out = []
        for s in specs:
            ds = run_spec(s, executor, quick=quick, progress=progress, cache=cache, rel_ci=rel_ci,
                          max_layouts=max_layouts)
            if on_result is not None:
                on_result(s, ds)
            out.append(ds)
        return out

    if hasattr(executor, "__enter__"):
        with executor:  # type: ignore[union-attr]
            return run_all()
    return run_all()


# --------------------------------------------------------------------------- figures run together
# Several figures' Monte Carlo as one list of jobs on one executor (the default of
# :func:`isacnet.experiments.runner.run_specs`).
#
# Run one after the other, each figure ends with a drain of the pool: the engine checks early
# stopping at up to seven stages per figure, and a stage waits for its slowest chunk before the next
# is submitted, so with many small figures the workers idle between stages and between figures.
# Here every figure's jobs go to :func:`~isacnet.simulation.engine.run_jobs` at once: a stage
# holds the chunks of every figure still running, and a figure is collected (and handed to
# ``on_result``) as soon as its last point is final, while the others go on.
#
# The numbers are those of the figure run alone, bit for bit: a job's numbers and its stopping
# decisions depend on (seed, point, block size, cap) only, not on which jobs share the executor
# (``tests/integration/test_run_together.py``). What changes is the timing attribute:
# ``mc_wall_time_s`` is the time from the start of the shared run until the figure's last point was
# done (``mc_run_figures`` says how many figures shared it).


def run_together(
    specs: Sequence[FigureSpec],
    executor: Executor | None,
    *,
    quick: bool,
    progress: bool | None,
    cache: ChunkCache | None,
    rel_ci: float | None,
    max_layouts: int | None,
    on_result: Callable[[FigureSpec, xr.Dataset], None] | None = None,
) -> list[xr.Dataset] | None:
    """The Datasets of ``specs`` (in order), their jobs run as one list of
    :func:`~isacnet.simulation.engine.run_jobs`; None (nothing run) where two figures' jobs cannot
    be told apart (the same kernel object at the same point), so that the caller runs them one by
    one.

    A stage of the engine holds the chunks of every figure still running, so the workers do not
    idle between figures; each figure is collected, and handed to ``on_result(spec, ds)``, as
    soon as its last point is final. The numbers are bit for bit those of :func:`run_spec` on each
    figure alone (a job's numbers and stopping decisions depend on its seed, point, block size and
    cap only). ``mc_wall_time_s`` is the time from the start of the shared run until the figure
    was done, and ``mc_run_figures`` the number of figures that shared it."""
    t_start = time.perf_counter()
    sweeps = [jobs_for(s, quick=quick, rel_ci=rel_ci is not None) for s in specs]
    closed = [closed_forms(s) for s in specs]  # before the Monte Carlo: a failure here costs no work
    jobs: list[Job] = []
    owner: list[int] = []
    whose: dict[tuple[int, int], int] = {}
    for k, sw in enumerate(sweeps):
        for job in sw.jobs:
            key = (id(job.kernel), job.point)  # kept by the engine's max_layouts replacement
            if whose.setdefault(key, k) != k:
                return None
            jobs.append(job)
            owner.append(k)
    first = [owner.index(k) for k in range(len(specs))]
    got: list[list[JobMoments | None]] = [[None] * len(sw.jobs) for sw in sweeps]
    left = [len(sw.jobs) for sw in sweeps]
    out: list[xr.Dataset | None] = [None] * len(specs)
    invalid_before = len(getattr(cache, "invalid", ()))
    t0 = time.perf_counter()

    def judge(job: Job, moments):
        return sweeps[whose[(id(job.kernel), job.point)]].judge(job, moments)

    def done(i: int, mom: JobMoments) -> None:
        k = owner[i]
        got[k][i - first[k]] = mom
        left[k] -= 1
        if left[k]:
            return
        run: dict[str, Any] = {"quick": quick, "executor": executor, "rel_ci": rel_ci, "max_layouts": max_layouts,
                               "mc_wall_time_s": time.perf_counter() - t0, "mc_run_figures": len(specs),
                               "chunks_failed_validation": _invalid(cache, invalid_before, sweeps[k].jobs, max_layouts)}
        ds = collect(sweeps[k], sweeps[k].point_moments(got[k]), run, t_start, closed[k])  # type: ignore[arg-type]
        out[k] = ds
        if on_result is not None:
            on_result(specs[k], ds)

    run_jobs(jobs, executor, progress=progress, desc=f"{len(specs)} figures", cache=cache, rel_ci=rel_ci,
             max_layouts=max_layouts, targets=judge, on_done=done)
    assert all(ds is not None for ds in out)
    return out  # type: ignore[return-value]


def _invalid(cache: Any, before: int, jobs: Sequence[Job], max_layouts: int | None) -> int:
    """Stored files of these jobs that failed validation in this run (the store keeps each job's
    files under its key, :func:`~isacnet.experiments.chunkstore.job_key`)."""
    from .chunkstore import Uncacheable, job_key

    bad = getattr(cache, "invalid", [])[before:]
    if not bad:
        return 0
    keys = set()
    for j in _used_jobs(jobs, max_layouts):
        try:
            keys.add(job_key(j))
        except Uncacheable:
            continue
    return sum(1 for path, _ in bad if any(k in path for k in keys))
