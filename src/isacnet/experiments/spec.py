"""Sweep specifications: a strict TOML format, one file per figure panel.

```toml
[figure]
id = "song-fig1a"                 # unique name
group = "song-fig1"               # figures reproduced together (optional)
title = "Error versus antennas"
model = "song"                    # a key of isacnet.experiments.models.MODELS

[params]                          # overrides of the model's parameter defaults (SI units)
gamma = 2.5

[sweep]
dim = "n_antennas"                # name of the swept axis in the result Dataset
parameters = ["n_tx_antennas", "n_rx_antennas"]   # all set to each value
values = [1, 2, 4, 8]             # or: logspace = [start_exp, stop_exp, num] / linspace = [a, b, num]
label = "antennas per TX and RX"  # axis label for plots
units = ""

[series]                          # optional: one curve per value (a second axis)
dim = "p_c"
parameters = ["sensing_power_fraction"]
values = [0.5, 0.9]
label = "p^s"

[monte_carlo]
n_layouts = 100000
seed = 2024
k_nearest = 64                    # model options (window_radius, ...) also go here
quick_n_layouts = 4000            # used by --quick

[plot]
xscale = "log"                    # "linear" or "log"
yscale = "log"
x_transform = "none"              # "db": plot 10 log10(x)
```

Every table and key is checked: an unknown key, a wrong type or a value out of range raises
:class:`isacnet.params.ParameterError` naming the key, the value, the valid range, the file and
the line.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..params import ParameterError, check_int, check_real

_TABLES = {
    "figure": {"id", "group", "title", "model"},
    "params": None,  # validated by the model's parameter class
    "sweep": {"dim", "parameters", "values", "logspace", "linspace", "label", "units"},
    "series": {"dim", "parameters", "values", "logspace", "linspace", "label", "units"},
    "monte_carlo": None,  # common keys below + model options
    "plot": {"xscale", "yscale", "x_transform", "ylabel", "xlabel", "x_variable", "ratio", "mark_max"},
}
MC_KEYS = {"n_layouts", "seed", "quick_n_layouts", "block_size", "max_layouts"}
MAX_CONFIG_BYTES = 1 << 20
"""Largest config file read (1 MiB; the shipped specs are under 1 kB): checked before reading."""
MAX_AXIS_VALUES = 10_000
"""Most values of one sweep axis (``values``, ``logspace``, ``linspace``)."""
MAX_POINTS = 100_000
"""Most sweep points of a spec (series x sweep)."""
_FILE_STEM = re.compile(r"[A-Za-z0-9_+][A-Za-z0-9._+-]*")


@dataclass(frozen=True)
class SweepSpec:
    dim: str
    parameters: tuple[str, ...]
    values: tuple[float, ...]
    label: str = ""
    units: str = ""


@dataclass(frozen=True)
class FigureSpec:
    """A validated sweep: model parameters, the swept axis, Monte Carlo and plot settings."""

    id: str
    model: str
    title: str
    group: str | None
    params: Mapping[str, Any]
    sweep: SweepSpec
    n_layouts: int
    seed: int
    quick_n_layouts: int
    block_size: int
    options: Mapping[str, Any]  # model-specific Monte Carlo options (k_nearest, window_radius...)
    plot: Mapping[str, str] = field(default_factory=dict)
    source: str = ""  # the TOML text this spec came from (after overrides: see to_toml)
    series: SweepSpec | None = None  # optional second axis: one curve per value
    max_layouts: int | None = None  # the cap of a run with early stopping (--rel-ci); None: n_layouts

    @property
    def rel_ci_cap(self) -> int:
        """The cap of a run with early stopping: ``max_layouts``, else ``n_layouts``."""
        return self.n_layouts if self.max_layouts is None else self.max_layouts

    @property
    def shape(self) -> tuple[int, ...]:
        """(series, sweep) sizes, or (sweep,) without a series."""
        n = len(self.sweep.values)
        return (len(self.series.values), n) if self.series is not None else (n,)

    @property
    def dims(self) -> tuple[str, ...]:
        return (self.series.dim, self.sweep.dim) if self.series is not None else (self.sweep.dim,)

    def points(self) -> list[tuple[Any, dict[str, Any]]]:
        """(model parameters, Monte Carlo options) of every point, series-major then sweep order
        (point ``i`` is ``(i // n_sweep, i % n_sweep)`` with a series).

        A swept name is either a field of the model's parameter class or one of the model's
        sweepable options (e.g. the cluster size ``n_bs`` of the Meng models).
        """
        from .models import get_model

        model = get_model(self.model)
        out: list[tuple[Any, dict[str, Any]]] = []
        outer: list[tuple[SweepSpec | None, float | None]] = (
            [(self.series, v) for v in self.series.values] if self.series is not None else [(None, None)]
        )
        for axis_s, s in outer:
            for v in self.sweep.values:
                mapping = dict(self.params)
                opts = dict(self.options)
                for axis, value in ((axis_s, s), (self.sweep, v)):
                    if axis is None or value is None:
                        continue
                    for name in axis.parameters:
                        if name in model.sweep_options:
                            opts[name] = int(value) if float(value) == int(value) else value
                        else:
                            mapping[name] = _as_param_value(model.params_cls, name, value)
                where = f"{self.id}, sweep point {len(out)}"
                out.append((model.make_params(mapping, where=where), opts))
        return out

    def point_params(self) -> list:
        """The model parameter object of every sweep point, in sweep order."""
        return [p for p, _ in self.points()]

    def with_overrides(self, **changes: Any) -> FigureSpec:
        """A copy with top-level fields and/or ``options`` entries replaced (None: unchanged)."""
        opts = dict(self.options)
        top = {}
        for k, v in changes.items():
            if v is None:
                continue
            if k in {f.name for f in dataclasses.fields(self)}:
                top[k] = v
            else:
                opts[k] = v
        for k, ge in (("n_layouts", 2), ("quick_n_layouts", 2), ("block_size", 1)):
            if k in top:
                top[k] = check_int(k, top[k], ge=ge)
        if "n_layouts" in top or "max_layouts" in top:  # a new n_layouts is the cap too, unless given
            cap, n = top.get("max_layouts"), top.get("n_layouts", self.n_layouts)
            top["max_layouts"] = None if cap is None else check_int("max_layouts", cap, ge=n)
        if "seed" in top:
            from ..rng import check_seed

            top["seed"] = check_seed(top["seed"])
        spec = dataclasses.replace(self, options=opts, **top)
        from .models import get_model

        get_model(spec.model).check_options(spec.options, where=spec.id)
        return spec

    def to_toml(self) -> str:
        """The effective spec (after overrides) as TOML text, stored with every result."""
        lines = ["[figure]", f"id = {_q(self.id)}", f"model = {_q(self.model)}", f"title = {_q(self.title)}"]
        if self.group:
            lines.append(f"group = {_q(self.group)}")
        lines += ["", "[params]"] + [f"{k} = {_val(v)}" for k, v in self.params.items()]
        for table, s in (("sweep", self.sweep), ("series", self.series)):
            if s is None:
                continue
            lines += [
                "", f"[{table}]", f"dim = {_q(s.dim)}",
                f"parameters = [{', '.join(_q(p) for p in s.parameters)}]",
                f"values = [{', '.join(_val(v) for v in s.values)}]",
                f"label = {_q(s.label)}", f"units = {_q(s.units)}",
            ]
        lines += [
            "", "[monte_carlo]", f"n_layouts = {self.n_layouts}", f"seed = {self.seed}",
            f"quick_n_layouts = {self.quick_n_layouts}", f"block_size = {self.block_size}",
        ] + ([f"max_layouts = {self.max_layouts}"] if self.max_layouts is not None else [])
        lines += [f"{k} = {_val(v)}" for k, v in self.options.items() if v is not None]
        lines += ["", "[plot]"] + [f"{k} = {_q(v)}" for k, v in self.plot.items()]
        return "\n".join(lines) + "\n"


def _q(s: str) -> str:
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _val(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        return repr(float(v))
    return _q(v)


def _as_param_value(cls: type, name: str, v: float) -> Any:
    """Sweep values are floats in TOML lists; integer fields get ints (when exact)."""
    ftypes = {f.name: f.type for f in dataclasses.fields(cls)}
    if ftypes.get(name) in (int, "int") and float(v) == int(v):
        return int(v)
    return v


def _line_of(text: str, table: str, key: str | None) -> int | None:
    """1-based line of ``key`` in ``[table]`` (or of the table header), for error messages."""
    current = None
    for i, line in enumerate(text.splitlines(), 1):
        m = re.match(r"\s*\[([^\]]+)\]", line)
        if m:
            current = m.group(1).strip()
            if key is None and current == table:
                return i
            continue
        if current == table and key is not None and re.match(rf"\s*{re.escape(key)}\s*=", line):
            return i
    return None


def parse_spec(text: str, source: str = "<string>") -> FigureSpec:
    """Parse and validate a sweep spec from TOML text.

    Raises
    ------
    ParameterError
        Naming the key, value and valid range, with ``source:line`` where it can be found.
    """

    def where(table: str, key: str | None = None) -> str:
        line = _line_of(text, table, key)
        return f"{source}:{line}" if line else source

    doc = _load_tables(text, source, where)
    fig = doc.get("figure", {})
    model = _check_figure(fig, where)
    params = dict(doc.get("params", {}))
    try:
        model.make_params(params)  # validates names and values
    except ParameterError as exc:  # file:line of the offending key (its table's header if none)
        raise ParameterError(exc.name, exc.value, exc.valid, _key_where(where, "params", exc.name, params)) from None

    sweep = _parse_axis("sweep", doc.get("sweep", {}), model, where)
    series = _parse_axis("series", doc["series"], model, where) if "series" in doc else None
    if series is not None:
        _check_series(series, sweep, where)
    mc = dict(doc.get("monte_carlo", {}))
    n_layouts, seed, quick, block, cap = _parse_monte_carlo(mc, model, where)
    plot = doc.get("plot", {})
    for k, allowed_vals in (("xscale", ("linear", "log")), ("yscale", ("linear", "log")),
                            ("x_transform", ("none", "db"))):
        if k in plot and plot[k] not in allowed_vals:
            raise ParameterError(f"plot.{k}", plot[k], f"one of {allowed_vals}", where("plot", k))

    spec = FigureSpec(
        id=fig["id"], model=fig["model"], title=str(fig.get("title", fig["id"])),
        group=fig.get("group"), params=params, sweep=sweep, n_layouts=n_layouts, seed=seed,
        quick_n_layouts=quick, block_size=block, options=mc, plot=dict(plot), source=source,
        series=series, max_layouts=cap,
    )
    _validate_points(spec, model, params, where)
    return spec


def _load_tables(text: str, source: str, where) -> dict[str, Any]:
    """The TOML document, its size, its tables and their keys checked against ``_TABLES``."""
    if len(text) > MAX_CONFIG_BYTES:
        raise ParameterError("config", source, f"at most {MAX_CONFIG_BYTES} characters ({len(text)} given)")
    try:
        doc = tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise ParameterError("config", source, f"valid TOML ({exc})") from None
    except RecursionError:
        raise ParameterError("config", source, "TOML whose arrays and tables nest less deeply") from None
    for t in doc:
        if t not in _TABLES:
            raise ParameterError(f"[{t}]", "table", f"one of {sorted(_TABLES)}", where(t))
        if not isinstance(doc[t], dict):
            raise ParameterError(t, doc[t], "a table", source)
    for t, allowed in _TABLES.items():
        if allowed is None:
            continue
        for k in doc.get(t, {}):
            if k not in allowed:
                raise ParameterError(f"{t}.{k}", doc[t][k], f"one of {sorted(allowed)}", where(t, k))
    return doc


def _check_figure(fig: Mapping[str, Any], where):
    """The ``[figure]`` table's id, model, group and title; returns the registry model."""
    from .models import get_model

    for k in ("id", "model"):
        if not isinstance(fig.get(k), str) or not fig.get(k):
            raise ParameterError(f"figure.{k}", fig.get(k), "a non-empty string", where("figure", k))
    for k in ("id", "group"):  # they name the output files: OUT/<id>.nc, OUT/<group>.png
        if k in fig and not (isinstance(fig[k], str) and _FILE_STEM.fullmatch(fig[k])):
            raise ParameterError(f"figure.{k}", fig[k], "a file name: letters, digits and . _ + - "
                                 "(not starting with . or -)", where("figure", k))
    if "title" in fig and not isinstance(fig["title"], str):
        raise ParameterError("figure.title", fig["title"], "a string", where("figure", "title"))
    try:
        return get_model(fig["model"])
    except ParameterError as exc:
        raise ParameterError(exc.name, exc.value, exc.valid, where("figure", "model")) from None


def _check_series(series: SweepSpec, sweep: SweepSpec, where) -> None:
    if len(series.values) * len(sweep.values) > MAX_POINTS:
        raise ParameterError("series", f"{len(series.values)} x {len(sweep.values)} points",
                             f"at most {MAX_POINTS} sweep points in all", where("series"))
    if series.dim == sweep.dim:
        raise ParameterError("series.dim", series.dim, f"a name other than sweep.dim {sweep.dim!r}",
                             where("series", "dim"))
    both = set(series.parameters) & set(sweep.parameters)
    if both:
        raise ParameterError("series.parameters", sorted(both), "names not also swept in [sweep]",
                             where("series", "parameters"))


def _parse_monte_carlo(mc: dict[str, Any], model, where) -> tuple[int, int, int, int, int | None]:
    """n_layouts, seed, quick_n_layouts, block_size and max_layouts (None if absent) popped from
    ``mc``; the model's options left in ``mc`` are checked."""
    from ..simulation.engine import DEFAULT_BLOCK_SIZE

    def mc_int(key: str, default: int, ge: int) -> int:
        try:
            return check_int(f"monte_carlo.{key}", mc.pop(key, default), ge=ge)
        except ParameterError as exc:
            raise ParameterError(exc.name, exc.value, exc.valid, where("monte_carlo", key)) from None

    n_layouts = mc_int("n_layouts", 100_000, 2)
    seed = mc_int("seed", 0, 0)
    quick = mc_int("quick_n_layouts", min(n_layouts, 4000), 2)
    block = mc_int("block_size", DEFAULT_BLOCK_SIZE, 1)
    cap = mc_int("max_layouts", n_layouts, n_layouts) if "max_layouts" in mc else None
    try:
        model.check_options(mc, where=where("monte_carlo"))
    except ParameterError as exc:
        key = exc.name.removeprefix("monte_carlo.")
        raise ParameterError(exc.name, exc.value, exc.valid, where("monte_carlo", key)) from None
    return n_layouts, seed, quick, block, cap


def _validate_points(spec: FigureSpec, model, params: Mapping[str, Any], where) -> None:
    """Every sweep point validates, kernel included, before any work."""
    try:
        points = spec.points()
    except ParameterError as exc:  # a swept value out of its parameter's range
        raise ParameterError(exc.name, exc.value, exc.valid, f"{where('sweep', 'values')}: {exc.where}") from None
    for i, (p, opts) in enumerate(points):
        try:
            model.validate_point(p, opts)
        except ParameterError as exc:
            at = _key_where(where, "params", exc.name, params) if exc.name in params else where("sweep", "values")
            raise ParameterError(exc.name, exc.value, exc.valid, f"{at}, sweep point {i}") from None


def _key_where(where, table: str, name: str, keys: Mapping[str, Any]) -> str:
    """``source:line`` of the key ``name`` of ``[table]`` where the file has it (a parameter's
    error names the parameter: ``gamma``, ``monte_carlo.k_nearest``), else of the table."""
    key = name.split(".")[-1].strip("[]")
    return where(table, key) if key in keys else where(table)


def _parse_axis(table: str, sw: Mapping[str, Any], model, where) -> SweepSpec:
    """The ``[sweep]`` (or ``[series]``) table: which parameters take which values."""
    names = sw.get("parameters")
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise ParameterError(f"{table}.parameters", names, "a non-empty list of parameter names",
                             where(table, "parameters"))
    fields = {f.name for f in dataclasses.fields(model.params_cls)} | set(model.sweep_options)
    for n in names:
        if n not in fields:
            raise ParameterError(f"{table}.parameters", n, f"names among {sorted(fields)}",
                                 where(table, "parameters"))
    given = [k for k in ("values", "logspace", "linspace") if k in sw]
    if len(given) != 1:
        raise ParameterError(table, given, "exactly one of values, logspace, linspace", where(table))
    kind = given[0]
    raw = sw[kind]
    if not isinstance(raw, list) or not raw:
        raise ParameterError(f"{table}.{kind}", raw, "a non-empty list", where(table, kind))
    if len(raw) > MAX_AXIS_VALUES:
        raise ParameterError(f"{table}.{kind}", f"a list of {len(raw)} values",
                             f"at most {MAX_AXIS_VALUES} values", where(table, kind))
    try:
        if kind == "values":
            vals = [check_real(f"{table}.values[{i}]", v) for i, v in enumerate(raw)]
        else:
            if len(raw) != 3:
                raise ParameterError(f"{table}.{kind}", raw, "[start, stop, num]")
            a = check_real(f"{table}.{kind}[0]", raw[0])
            b = check_real(f"{table}.{kind}[1]", raw[1])
            num = check_int(f"{table}.{kind}[2]", raw[2], ge=1, le=MAX_AXIS_VALUES)
            vals = list(np.logspace(a, b, num) if kind == "logspace" else np.linspace(a, b, num))
    except ParameterError as exc:
        raise ParameterError(exc.name, exc.value, exc.valid, where(table, kind)) from None
    dim = sw.get("dim", names[0])
    if not isinstance(dim, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", dim):
        raise ParameterError(f"{table}.dim", dim, "an identifier", where(table, "dim"))
    for k in ("label", "units"):
        if k in sw and not isinstance(sw[k], str):
            raise ParameterError(f"{table}.{k}", sw[k], "a string", where(table, k))
    return SweepSpec(dim, tuple(names), tuple(float(v) for v in vals),
                     str(sw.get("label", dim)), str(sw.get("units", "")))


def read_config(path: str | Path) -> str:
    """The text of a config file, checked before it is read: a regular file (not a FIFO, a
    device such as ``/dev/zero`` or a folder) of at most :data:`MAX_CONFIG_BYTES` bytes, UTF-8
    (a byte-order mark is accepted and dropped).

    Raises
    ------
    ParameterError
        Naming the file and what it must be.
    """
    import os
    import stat

    p = Path(path)
    try:
        fd = os.open(p, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a FIFO must not block here
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise ParameterError("config", str(p), "a regular file (not a folder, device or pipe)")
            if st.st_size > MAX_CONFIG_BYTES:
                raise ParameterError("config", str(p), f"a file of at most {MAX_CONFIG_BYTES} bytes "
                                     f"({st.st_size} bytes)")
            with os.fdopen(os.dup(fd), "rb") as f:
                data = f.read(MAX_CONFIG_BYTES + 1)
        finally:
            os.close(fd)
    except OSError as exc:
        raise ParameterError("config", str(p), f"a readable TOML file ({exc.strerror or exc})") from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ParameterError("config", str(p), f"a file of at most {MAX_CONFIG_BYTES} bytes")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ParameterError("config", str(p), f"UTF-8 text (byte {exc.start}, line {line}, "
                             f"is {data[exc.start:exc.start + 1]!r}: save the file as UTF-8)") from None


def load_spec(path: str | Path) -> FigureSpec:
    """Read and validate a sweep spec file (see the module docstring for the format)."""
    return parse_spec(read_config(path), source=str(path))


FIGURES_DIR = Path(__file__).with_name("figures")


def builtin_specs() -> dict[str, FigureSpec]:
    """Every figure spec shipped with isacnet, by id."""
    return {s.id: s for s in (load_spec(p) for p in sorted(FIGURES_DIR.glob("*.toml")))}


def resolve_figures(names: list[str]) -> list[FigureSpec]:
    """Figure specs for ids, group names (``song-fig1``) or ``all``, in a stable order."""
    specs = builtin_specs()
    groups: dict[str, list[str]] = {}
    for s in specs.values():
        groups.setdefault(s.group or s.id, []).append(s.id)
    out: list[FigureSpec] = []
    for name in names:
        if name == "all":
            ids = sorted(specs)
        elif name in specs:
            ids = [name]
        elif name in groups:
            ids = sorted(groups[name])
        else:
            raise ParameterError("figure", name, f"'all' or one of {sorted(set(groups) | set(specs))}")
        out.extend(specs[i] for i in ids if specs[i] not in out)
    return out
