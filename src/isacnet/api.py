"""One way in from Python: :func:`run` a sweep spec and :func:`sweep` a registry model.

Both end in the engine of the command line (``isacnet run``): the spec is parsed and validated
by :func:`isacnet.experiments.spec.parse_spec`, every sweep point is built and tried by
:func:`isacnet.experiments.preflight.preflight` before any Monte Carlo, and
:func:`isacnet.experiments.runner.run_specs` returns the :class:`xarray.Dataset` (Monte Carlo
means, standard errors, 95% CIs and sample counts, the closed forms, the sweep axes as
coordinates, and the attributes that say how to make it again). So

>>> import isacnet                                                     # doctest: +SKIP
>>> ds = isacnet.run("my-sweep.toml")                                  # doctest: +SKIP

gives the numbers ``isacnet run my-sweep.toml`` writes to ``<id>.nc``, bit for bit (same seed,
layouts and block size; the workers and executor never change the numbers), and

>>> ds = isacnet.sweep("meng-rate", {"n_comm": [1, 2, 4], "alpha": [3.0, 4.0]},
...                    params={"n_tx_antennas": 4}, n_layouts=20_000, seed=1)   # doctest: +SKIP

builds the same kind of spec in memory. Rates are in nats/s/Hz (``units`` attribute
``"nats/s/Hz"``; docs/guide/units.md).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .params import ParameterError, check_int, check_real

if TYPE_CHECKING:  # xarray is imported by the runner, when a run starts (not by `import isacnet`)
    import xarray as xr

__all__ = ["ClosedFormSkipped", "run", "spec_toml", "sweep"]


class ClosedFormSkipped(UserWarning):
    """A closed form that does not apply at some sweep points (Theorem 1 at beta != 2, Lemma 3 at
    gamma <= 2): NaN there, the run goes on; the Dataset attribute ``closed_forms_skipped`` says
    the same. ``warnings.simplefilter("ignore", isacnet.ClosedFormSkipped)`` silences it."""

RUN_OPTIONS = ("quick", "seed", "n_layouts", "block_size", "backend", "dtype", "workers", "scheduler", "executor",
               "rel_ci", "max_layouts", "progress", "cache", "out")
"""The keyword options of :func:`run` (and of :func:`sweep`, which passes them on)."""

_TABLES = ("figure", "params", "sweep", "series", "monte_carlo", "plot")
_AXIS_KEYS = ("values", "logspace", "linspace", "parameters", "dim", "label", "units")
MAX_DIMS = 2
"""Swept dimensions of one :func:`sweep` (the runner's sweep and series axes)."""


# --------------------------------------------------------------------------- run
def run(
    spec: Any,
    *,
    quick: bool = False,
    seed: int | None = None,
    n_layouts: int | None = None,
    block_size: int | None = None,
    backend: str | None = None,
    dtype: str | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    executor: Any = None,
    rel_ci: float | None = None,
    max_layouts: int | None = None,
    progress: bool | None = False,
    cache: Any = None,
    out: str | os.PathLike | None = None,
    **unknown: Any,
) -> xr.Dataset:
    """Run a sweep spec: the engine of ``isacnet run``, from Python.

    Parameters
    ----------
    spec : path, str, dict or FigureSpec
        A path to a TOML config (format: :mod:`isacnet.experiments.spec`); a figure id of
        ``isacnet list`` (``"song-fig1a"``); a dict with the structure of the TOML file
        (``{"figure": {...}, "params": {...}, "sweep": {...}, "monte_carlo": {...}}``),
        validated exactly like the file; or a parsed
        :class:`~isacnet.experiments.spec.FigureSpec`.
    quick : bool
        Use the spec's ``quick_n_layouts`` (``--quick``).
    seed, n_layouts, block_size : int, optional
        Override the spec's ``[monte_carlo]`` values (``n_layouts`` wins over ``quick``).
    backend, dtype : str, optional
        Who computes the Monte Carlo layouts, for models with compiled kernels
        (``"numpy"``, ``"numba"``, ``"jax"``; ``"float64"``, ``"float32"``).
    workers : int or None
        1 (default): serial, the reference; N > 1: N processes; None: one per core. The
        numbers do not depend on it.
    scheduler : str, optional
        ``"local"`` (a Dask LocalCluster of ``workers`` processes) or a Dask address.
    executor : Executor, optional
        An executor you made (:mod:`isacnet.simulation.executors`); it is not closed here.
    rel_ci : float in (0, 1), optional
        Stop each point once its plotted Monte Carlo outputs have a 95% CI half-width below
        ``rel_ci * |estimate|`` (``--rel-ci``).
    max_layouts : int, optional
        With ``rel_ci``: the cap on layouts per point (default: the spec's ``max_layouts``, else its
        ``n_layouts``).
    progress : bool or None
        A progress bar (None: when stderr is a terminal).
    cache : path or ChunkCache, optional
        Keep finished chunks there so that a killed run resumes
        (:class:`~isacnet.experiments.chunkstore.ChunkStore`); default ``out/.isacnet-chunks``
        when ``out`` is given, else none.
    out : path, optional
        Also write ``<id>.nc`` and ``<id>.csv`` (with its ``.json`` metadata) there, as
        ``isacnet run --out`` does.

    Returns
    -------
    xarray.Dataset
        Per Monte Carlo output ``q``: ``q``, ``q_stderr``, ``q_ci_low``, ``q_ci_high``,
        ``q_n``, ``q_n_posinf``, ``q_n_neginf``, ``q_n_nan``; ``n_layouts_used``; the closed
        forms; every variable with ``units`` and ``long_name`` attributes (rates in nats/s/Hz).

    Raises
    ------
    ParameterError
        Naming the option or spec key (with file:line for a config file) and its valid range,
        before any Monte Carlo.
    """
    if unknown:
        name = sorted(unknown)[0]
        raise ParameterError(name, unknown[name], f"one of the run options {list(RUN_OPTIONS)}")
    s = _as_spec(spec)
    _check_run_options(quick, workers, scheduler, executor, rel_ci, max_layouts, n_layouts, progress)
    s = s.with_overrides(seed=seed, n_layouts=n_layouts, quick_n_layouts=n_layouts, block_size=block_size)
    s = _with_backend(s, backend, dtype)

    from .experiments.chunkstore import ChunkStore
    from .experiments.preflight import preflight
    from .experiments.runner import run_spec, run_specs
    from .experiments.store import check_writable, save_dataset

    for note in preflight([s], quick=quick, max_layouts=max_layouts):  # every point checked before any work
        # a closed form that does not apply at some points (Theorem 1 at beta != 2): NaN there, said once
        warnings.warn(f"isacnet.run: {note}", ClosedFormSkipped, stacklevel=2)
    out_dir = None
    if out is not None:
        out_dir = check_writable(_check_folder("out", out))
    if isinstance(cache, str | os.PathLike):
        cache = ChunkStore(_check_folder("cache", cache))
    elif cache is None and out_dir is not None:
        cache = ChunkStore(out_dir / ".isacnet-chunks")  # the command line's folder: it resumes there
    elif cache is not None and not (hasattr(cache, "get") and hasattr(cache, "put")):
        raise ParameterError("cache", type(cache).__name__, "None, a folder or a ChunkCache (ChunkStore)")
    if executor is not None:  # the caller's: used, not closed
        ds = run_spec(s, executor, quick=quick, progress=progress, cache=cache, rel_ci=rel_ci,
                      max_layouts=max_layouts)
    else:
        from .simulation.executors import make_executor

        (ds,) = run_specs([s], make_executor(workers, scheduler), quick=quick, progress=progress, cache=cache,
                          rel_ci=rel_ci, max_layouts=max_layouts)
    if out_dir is not None:
        save_dataset(ds.copy(), out_dir, s.id)
    return ds


def _as_spec(spec: Any):
    from .experiments.spec import FigureSpec, load_spec, parse_spec, resolve_figures

    if isinstance(spec, FigureSpec):
        return spec
    if isinstance(spec, Mapping):
        return parse_spec(spec_toml(spec), source="<dict>")
    if isinstance(spec, os.PathLike) or (isinstance(spec, str) and (spec.endswith(".toml") or os.sep in spec)):
        return load_spec(Path(spec))
    if isinstance(spec, str):
        if Path(spec).is_file():
            return load_spec(spec)
        found = resolve_figures([spec])
        if len(found) != 1:
            raise ParameterError("spec", spec, f"one figure id (this group has {[f.id for f in found]}; "
                                 "run each, or use `isacnet reproduce` for a group)")
        return found[0]
    raise ParameterError("spec", type(spec).__name__, "a path to a TOML file, a figure id, a dict with the TOML "
                         "file's tables or a FigureSpec")


def _check_run_options(quick, workers, scheduler, executor, rel_ci, max_layouts, n_layouts, progress) -> None:
    if not isinstance(quick, bool):
        raise ParameterError("quick", quick, "True or False")
    if progress is not None and not isinstance(progress, bool):
        raise ParameterError("progress", progress, "True, False or None")
    if workers is not None:
        check_int("workers", workers, ge=1)
    if scheduler is not None and not isinstance(scheduler, str):
        raise ParameterError("scheduler", scheduler, "None, 'local' or a Dask address such as 'tcp://host:8786'")
    if executor is not None:
        if scheduler is not None or workers not in (None, 1):
            raise ParameterError("executor", type(executor).__name__, "given without workers and scheduler "
                                 "(the executor decides where the work runs)")
        if not hasattr(executor, "map"):
            raise ParameterError("executor", type(executor).__name__, "an Executor (isacnet.simulation.executors)")
    if rel_ci is not None:
        check_real("rel_ci", rel_ci, gt=0.0, lt=1.0)
    if max_layouts is not None:
        if rel_ci is None:
            raise ParameterError("max_layouts", max_layouts, "given with rel_ci (it caps early stopping; "
                                 "use n_layouts for a fixed number)")
        if n_layouts is not None:
            raise ParameterError("max_layouts", max_layouts, "given without n_layouts (both set the cap)")
        check_int("max_layouts", max_layouts, ge=2)


def _check_folder(name: str, value: Any) -> Path:
    if not isinstance(value, str | os.PathLike) or not str(value).strip():
        raise ParameterError(name, value, "a folder path (not empty)")
    p = Path(value)
    if p.exists() and not p.is_dir():
        raise ParameterError(name, str(p), "a folder (this is an existing file)")
    return p


def _with_backend(spec, backend: str | None, dtype: str | None):
    """``backend``/``dtype`` applied to a spec whose model has compiled kernels; an error otherwise."""
    if backend is None and dtype is None:
        return spec
    from .experiments.registry import get_model

    model = get_model(spec.model)
    for name, value in (("backend", backend), ("dtype", dtype)):
        if value is None:
            continue
        option = model.options.get(name)
        if option is None:
            raise ParameterError(name, value, f"None: model {spec.model!r} has no compiled kernel (it runs on numpy)")
        option[0](name, value)  # e.g. meng-rate: numpy or numba only
    return spec.with_overrides(backend=backend, dtype=dtype)


# --------------------------------------------------------------------------- dict -> TOML
def spec_toml(doc: Mapping[str, Any]) -> str:
    """The TOML text of a spec given as a dict of tables (``{"figure": {...}, ...}``).

    Values may be numbers (numpy scalars included), strings, booleans and lists of these;
    :func:`isacnet.experiments.spec.parse_spec` then validates the text as it does a file.

    Raises
    ------
    ParameterError
        For a table that is not a dict, or a value TOML cannot hold (None, a nested dict).
    """
    lines: list[str] = []
    for table, body in doc.items():
        if not isinstance(table, str):
            raise ParameterError("spec", table, f"table names among {list(_TABLES)}")
        if not isinstance(body, Mapping):
            raise ParameterError(table, type(body).__name__, "a dict (a table of the spec)")
        lines.append(f"[{table}]")
        for key, value in body.items():
            if not isinstance(key, str) or not key.replace("_", "").isalnum():
                raise ParameterError(f"{table}.{key}", key, "a name of letters, digits and _")
            lines.append(f"{key} = {_toml_value(f'{table}.{key}', value)}")
        lines.append("")
    return "\n".join(lines)


def _toml_value(name: str, v: Any) -> str:
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        f = float(v)
        return repr(f) if math.isfinite(f) else ("nan" if f != f else ("inf" if f > 0 else "-inf"))
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string (JSON's escapes are TOML's)
    if isinstance(v, np.ndarray) and v.ndim == 1:
        v = v.tolist()
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(f"{name}[{i}]", x) for i, x in enumerate(v)) + "]"
    raise ParameterError(name, v, "a number, string, boolean or a list of these")


# --------------------------------------------------------------------------- sweep
def sweep(
    model: str,
    dims: Mapping[str, Any],
    *,
    params: Any = None,
    options: Mapping[str, Any] | None = None,
    n_layouts: int = 10_000,
    seed: int = 0,
    block_size: int | None = None,
    title: str | None = None,
    figure_id: str | None = None,
    **run_options: Any,
) -> xr.Dataset:
    """Sweep a registry model over one or two dimensions: Monte Carlo, CIs and closed forms.

    A spec is built in memory (the dict form of a TOML config) and run by :func:`run`, so the
    result is what ``isacnet run`` gives for the same config (its TOML is the Dataset's
    ``config_toml`` attribute: save it to rerun from the command line).

    Parameters
    ----------
    model : str
        A registry model (``song``, ``meng-sensing``, ``meng-acceptance``, ``meng-rate``,
        ``meng-tradeoff``, ...: :data:`isacnet.experiments.registry.MODELS`).
    dims : dict name -> values
        One or two swept dimensions, in the order of the Dataset's dimensions. A name is a
        field of the model's parameter class (``gamma``, ``bs_density``, ...) or one of its
        sweepable options (``n_bs``, ``n_comm``, ...); values a list or 1-d array. A value may
        also be a dict like the TOML ``[sweep]`` table, e.g. ``{"parameters": ["n_tx_antennas",
        "n_rx_antennas"], "values": [1, 2, 4], "units": ""}`` to set several parameters at once,
        or ``{"parameters": ["bs_density"], "logspace": [-6, -4, 5]}``.
    params : dict or SongParams/MengParams, optional
        The base parameters (those not swept), SI units; default: the paper's.
    options : dict, optional
        Model options of the ``[monte_carlo]`` table (``k_nearest``, ``interference``, ...).
    n_layouts, seed, block_size : int
        Layouts per point, the run seed and the layouts per block (these set the numbers).
    title, figure_id : str, optional
        The Dataset's title and figure id (default ``sweep-<model>``).
    **run_options
        As in :func:`run`: ``backend``, ``dtype``, ``workers``, ``scheduler``, ``executor``,
        ``rel_ci``, ``max_layouts``, ``progress``, ``cache``, ``out``.

    Returns
    -------
    xarray.Dataset
        Dimensions ``tuple(dims)``; variables as in :func:`run`.

    Raises
    ------
    ParameterError
        An unknown model, dimension, parameter or option, a value out of range (naming the
        sweep point), more than two dimensions, before any Monte Carlo.

    Examples
    --------
    >>> import isacnet
    >>> ds = isacnet.sweep("song", {"gamma": [2.5, 3.0]}, n_layouts=2000, seed=1)
    >>> ds["crlb"].dims, ds["crlb"].attrs["units"]
    (('gamma',), 'm^2')
    """
    from .experiments.registry import get_model

    if not isinstance(model, str):
        raise ParameterError("model", model, "a registry model name (a string)")
    m = get_model(model)
    if not isinstance(dims, Mapping) or not dims:
        raise ParameterError("dims", dims, "a dict of one or two swept names -> values")
    if len(dims) > MAX_DIMS:
        raise ParameterError("dims", list(dims), f"at most {MAX_DIMS} swept dimensions (the runner's sweep and "
                             "series axes): loop over a third and combine with xarray.concat")
    if "quick" in run_options:
        raise ParameterError("quick", run_options["quick"], "absent: set n_layouts")
    unknown = sorted(set(run_options) - set(RUN_OPTIONS))
    if unknown:
        raise ParameterError(unknown[0], run_options[unknown[0]], f"a sweep argument or one of the run options "
                             f"{[o for o in RUN_OPTIONS if o not in ('quick', 'seed', 'n_layouts', 'block_size')]}")
    fig_id = f"sweep-{model}" if figure_id is None else figure_id
    axes = [_axis(name, v) for name, v in dims.items()]
    doc: dict[str, Any] = {
        "figure": {"id": fig_id, "model": model,
                   "title": title if title is not None else f"{model}: sweep over {', '.join(dims)}"},
        "params": _base_params(params, m.params_cls),
        "sweep": axes[0],
    }
    if len(axes) == 2:
        doc["series"] = axes[1]
    mc: dict[str, Any] = {"n_layouts": n_layouts, "seed": seed, "quick_n_layouts": n_layouts}
    if block_size is not None:
        mc["block_size"] = block_size
    if options is not None:
        if not isinstance(options, Mapping):
            raise ParameterError("options", options, "a dict of model options")
        for k in ("n_layouts", "seed", "quick_n_layouts", "block_size"):
            if k in options:
                raise ParameterError(f"options.{k}", options[k], f"absent: pass {k}= to sweep")
        mc.update(options)
    doc["monte_carlo"] = mc
    ds = run(doc, **run_options)
    return ds.transpose(*dims) if len(dims) == 2 else ds


def _axis(name: Any, values: Any) -> dict[str, Any]:
    if not isinstance(name, str):
        raise ParameterError("dims", name, "names (strings)")
    if isinstance(values, Mapping):
        extra = sorted(set(values) - set(_AXIS_KEYS))
        if extra:
            raise ParameterError(f"dims.{name}.{extra[0]}", values[extra[0]], f"one of {list(_AXIS_KEYS)}")
        axis = {"parameters": [name]} | dict(values) | {"dim": name}
    else:
        arr = np.asarray(values)
        if arr.ndim != 1 or arr.size == 0 or arr.dtype.kind not in "iuf":
            raise ParameterError(f"dims.{name}", values, "a non-empty 1-d list or array of numbers")
        axis = {"parameters": [name], "values": arr.tolist(), "dim": name}
    axis.setdefault("label", name)
    return axis


def _base_params(params: Any, cls: type) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, Mapping):
        return dict(params)
    if dataclasses.is_dataclass(params) and not isinstance(params, type):
        if not isinstance(params, cls):
            raise ParameterError("params", type(params).__name__, f"a {cls.__name__} or a dict for this model")
        default = cls()
        return {f.name: getattr(params, f.name) for f in dataclasses.fields(params)
                if f.init and getattr(params, f.name) != getattr(default, f.name)}
    raise ParameterError("params", type(params).__name__, f"None, a dict or a {cls.__name__}")
