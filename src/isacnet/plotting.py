"""Figures drawn from saved Datasets only (no computing module is imported here).

Uses matplotlib's object API (``Figure`` + Agg canvas), not pyplot: no global state is touched.

* :func:`plot_dataset` draws one Dataset on an Axes (a new Figure if none is given) and returns
  ``(Figure, Axes)``; :func:`figure` draws one panel per Dataset (with a ratio panel beneath
  each where the spec asks for one) and returns ``(Figure, list of Axes)``;
  :func:`save_figure` writes a Figure in one or more formats with the provenance (figure ids,
  seeds, layouts, isacnet version, the effective configs) in the file's metadata, not in the plot.
* Legends sit outside the data area (below the panels), labels are mathtext with units, integer
  axes get integer ticks.
* Monte Carlo outputs are markers with 95% CI bars; a point with +inf/NaN samples is hidden and
  counted in the legend, except for a geometric mean, which is the mean of ln(CRLB) over the
  localisable targets: it is drawn as the conditional statistic with P(singular) in the legend.

Plot keys read from the Dataset's attrs (``plot_<key>``, from the spec's ``[plot]`` table):
``xscale``, ``yscale``, ``x_transform`` ("db"), ``ylabel``, ``xlabel``, ``x_variable`` (a
variable along the sweep drawn as x, the swept coordinate then on a top axis), ``ratio`` (a
closed form: a panel of every plotted Monte Carlo output over it, with its CI band) and
``mark_max`` (variables whose argmax along the sweep the legend reports, per series).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

__all__ = ["DPI", "FIGSIZE", "figure", "plot_dataset", "provenance", "save_figure", "tex_units"]

FIGSIZE = (6.4, 4.8)
"""Size of a one-panel figure [in]; panels of a combined figure are 4.8 x 3.6 in each."""
DPI = 200
FONT = 9.0  # labels, titles [pt]
SMALL = 8.0  # ticks, legends [pt]
Z95 = 1.959963984540054

_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
_LINESTYLES = ["-", "--", ":", "-."]
_MARKERS = ["o", "s", "^", "D", "v"]

# Legend text per (model, variable): what the curve is, in words and mathtext. A Dataset variable's
# ``plot_label`` attr, if present, wins; for other models its ``long_name`` (then ``equation``).
_TR_S = r"$\mathrm{E}[\mathrm{tr}\,\mathbf{S}^{-1}]$"
_TR_F = r"$\mathrm{tr}\,\mathbf{F}^{-1}$"
_LEGEND = {
    ("song", "crlb"): "Monte Carlo of the CRLB (18), " + _TR_S,
    ("song", "jensen"): "Monte Carlo of the Jensen bound (20) = (23)",
    ("song", "bound"): "closed form (26), Theorem 2",
    ("meng-sensing", "crlb"): "Monte Carlo mean " + r"$\mathrm{E}[\mathrm{tr}\,\mathbf{F}^{-1}]$"
                              + r" (exists for $N \geq 4$)",
    ("meng-sensing", "geo_mean"): "Monte Carlo geometric mean " + r"$\exp\mathrm{E}[\ln\mathrm{tr}\,\mathbf{F}^{-1}]$",
    ("meng-sensing", "eq13"): "approximation (13)",
    ("meng-sensing", "theorem1"): r"Theorem 1 (14) with constant 2 (corrected)",
    ("meng-sensing", "theorem1_paper"): r"Theorem 1 (14) as printed (constant 1)",
    ("meng-sensing", "isotropic"): r"exact mean of (12)'s large-$N$ form, $\mathrm{E}[2/(|\zeta|^2W^2)]$",
    ("meng-acceptance", "geo_mean"): "Monte Carlo geometric mean of the CRLB of localisable targets",
    ("meng-acceptance", "crlb_a_mean_field"): "(16) re-derived: (12) with independent acceptance",
    ("meng-acceptance", "crlb_a_corrected"): "(16) with Theorem 1's constant 2",
    ("meng-acceptance", "crlb_a_paper"): "(16) as printed",
    ("meng-rate", "rate_nats"): r"Monte Carlo of (9), $\mathrm{E}[\ln(1+\mathrm{SIR})]$",
    ("meng-rate", "rate_exact"): "Theorem 2 re-derived (exact)",
    ("meng-rate", "rate_paper"): "Theorem 2 as printed",
    ("meng-rate", "rate_exact_kappa_paper"): r"Theorem 2 re-derived, printed $\kappa_c$",
    ("meng-tradeoff", "crlb_cf"): r"best cooperative design ($N \geq 2$): Theorem 2, (16)",
    ("meng-tradeoff", "crlb_ts"): "time sharing between the corners",
    ("meng-tradeoff", "geo_mean"): "Monte Carlo of the chosen design (mean rate, geometric-mean CRLB)",
    ("aoa-gain", "ratio"): "Monte Carlo mean of CRLB(delay + AoA) / CRLB(delay)",
    ("aoa-gain", "jensen_ratio"): "ratio of the Jensen bounds (closed form)",
    ("estimator", "rmse_ml"): "ML estimate (Levenberg-Marquardt from LS)",
    ("estimator", "rmse_ls"): "closed-form LS estimate",
    ("estimator", "crlb_rmse"): r"$\sqrt{\mathrm{CRLB}}$ of the layout",
}
# Short names in the panel notes of ``mark_max`` (the argmax of each variable along the sweep).
_MARK = {
    ("meng-rate", "rate_exact"): r"Theorem 2 re-derived, $\kappa_c$ derived",
    ("meng-rate", "rate_exact_kappa_paper"): r"same, $\kappa_c$ as printed",
    ("meng-rate", "rate_paper"): "Theorem 2 as printed",
}
_SYMBOLS = {"gamma": r"\gamma", "beta": r"\beta", "alpha": r"\alpha"}


def tex_units(units: str) -> str:
    """Plain units ("m^2", "m^-2", "m^gamma") as mathtext ("m$^{2}$", ...); "" stays ""."""
    return re.sub(r"\^\(?(-?[0-9.]+|gamma|beta|alpha)\)?",
                  lambda m: "$^{" + _SYMBOLS.get(m.group(1), m.group(1)) + "}$", str(units or ""))


def _axis_label(label: str, units: str) -> str:
    return f"{label} [{tex_units(units)}]" if units and units != "1" else label  # "1": dimensionless (CF)


def _legend_text(ds: xr.Dataset, name: str) -> str:
    da = ds[name]
    return str(da.attrs.get("plot_label") or _LEGEND.get((str(ds.attrs.get("model")), name))
               or da.attrs.get("long_name") or da.attrs.get("equation") or name)


def _x(ds: xr.Dataset) -> tuple[str, np.ndarray, str]:
    """The swept dimension, the x values drawn (``x_variable`` and the dB transform applied) and
    the x label."""
    dim = str(ds.attrs.get("sweep_dim", next(iter(ds.sizes))))
    xv = str(ds.attrs.get("plot_x_variable", "") or dim)
    da = ds[xv] if xv in ds.variables else ds[dim]
    sdim = ds.attrs.get("series_dim")
    x = np.asarray((da.isel({sdim: 0}) if sdim in da.dims else da).values, dtype=float)
    label, units = str(da.attrs.get("long_name", xv)), str(da.attrs.get("units", ""))
    if ds.attrs.get("plot_x_transform") == "db":
        x = 10.0 * np.log10(x)
        units = "dBW" if units == "W" else ("dB" if units in ("", "1") else f"dB({units})")
    return dim, x, str(ds.attrs.get("plot_xlabel", "")) or _axis_label(label, units)


def _series(ds: xr.Dataset) -> list[tuple[dict | None, str, str | None]]:
    """(selection, series label, colour) per series value; one row without a series axis."""
    sdim = ds.attrs.get("series_dim")
    if not sdim:
        return [(None, "", None)]
    c = ds[sdim]
    rows = []
    for j in range(ds.sizes[sdim]):
        v = c.values[j]
        val = f"{v:.4g}" if isinstance(v, float | np.floating) else str(v)
        u = str(c.attrs.get("units", ""))
        unit = "" if u in ("", "1") else tex_units(u)
        rows.append(({sdim: j}, f"{c.attrs.get('long_name', sdim)} = {val}" + (f" {unit}" if unit else ""),
                     _COLOURS[j % len(_COLOURS)]))
    return rows


def _bad(sub: xr.Dataset, names: Sequence[str]) -> np.ndarray:
    """Points where an output has +inf, -inf or NaN samples (its mean is not usable)."""
    bad = np.zeros(sub[names[0]].shape, bool)
    for v in names:
        for k in (f"{v}_n_posinf", f"{v}_n_neginf", f"{v}_n_nan"):
            if k in sub:
                bad |= np.asarray(sub[k].values) > 0
    return bad


def _no_finite(sub: xr.Dataset, name: str) -> np.ndarray:
    """Points where a conditional statistic has no finite sample (nothing to condition on)."""
    n = f"{name}_n"
    return (np.asarray(sub[n].values) == 0) if n in sub else ~np.isfinite(np.asarray(sub[name].values, float))


def _conditional(name: str) -> bool:
    """A geometric mean is exp of the mean of ln(CRLB) over the finite samples: with +inf samples
    (targets that cannot be localised) it is the statistic conditional on localisation."""
    return name == "geo_mean"


def _singular_note(ds: xr.Dataset) -> str:
    """The panel note of a conditional statistic: the largest P(singular) over the points."""
    if "singular" not in ds:
        return ""
    p = np.asarray(ds["singular"].values, dtype=float)
    p = p[np.isfinite(p)]
    if not p.size or p.max() <= 0:
        return ""
    return f"targets that cannot be localised: P $\\leq$ {p.max():.1g} (geometric mean over the others)"


class _Legend:
    """Entries collected while drawing: per series (colour) and per kind (style), so a figure
    with a series axis lists each once instead of their product."""

    def __init__(self) -> None:
        self.kinds: dict[str, dict] = {}
        self.series: dict[str, str] = {}
        self.notes: list[str] = []
        self.panel: list[str] = []  # notes of the panel being drawn (go into its title)

    def kind(self, label: str, **style) -> None:
        self.kinds.setdefault(label, style)

    def handles(self, coloured: bool):
        from matplotlib.lines import Line2D

        out = []
        for label, st in self.kinds.items():
            colour = st.get("color") if not coloured else "0.2"
            out.append(Line2D([], [], color=colour, ls=st.get("ls", "none"), marker=st.get("marker"),
                              markersize=4, lw=1.6, label=label))
        out += [Line2D([], [], color=c, lw=3, label=s) for s, c in self.series.items()]
        out += [Line2D([], [], color="none", label=n) for n in self.notes]
        return out


def _draw_lines(ds: xr.Dataset, ax, names: Sequence[str], leg: _Legend) -> None:
    _, x, _ = _x(ds)
    n_mc = n_cf = 0
    for i, name in enumerate(names):
        is_mc = f"{name}_stderr" in ds
        k = n_mc if is_mc else n_cf
        n_mc, n_cf = n_mc + is_mc, n_cf + (not is_mc)
        text = _legend_text(ds, name)
        hidden = 0
        for sel, slabel, scol in _series(ds):
            sub = ds.isel(sel) if sel else ds
            colour = scol or _COLOURS[i % len(_COLOURS)]
            if slabel:
                leg.series[slabel] = colour
            y = np.asarray(sub[name].values, dtype=float)
            if is_mc:
                bad = _no_finite(sub, name) if _conditional(name) else _bad(sub, [name])
                hidden += int(bad.sum())
                half = Z95 * np.asarray(sub[f"{name}_stderr"].values, dtype=float)
                marker = _MARKERS[k % len(_MARKERS)]
                ax.errorbar(x, np.where(bad, np.nan, y), yerr=np.where(bad, np.nan, half), color=colour,
                            marker=marker, ls="none", markersize=4, capsize=2, elinewidth=1)
                style = {"marker": marker, "ls": "none", "color": colour}
            else:
                ls = _LINESTYLES[k % len(_LINESTYLES)]
                ax.plot(x, y, ls=ls, color=colour, lw=1.6)
                style = {"ls": ls, "color": colour}
        if is_mc and _conditional(name) and _singular_note(ds):
            leg.panel.append(_singular_note(ds))
        if hidden:
            why = "no localisable layout" if _conditional(name) else "infinite samples"
            text += f" ({hidden} {'point' if hidden == 1 else 'points'} not drawn: {why})"
        leg.kind(text, **style)


def _draw_pairs(ds: xr.Dataset, ax, pairs: Sequence[str], leg: _Legend) -> None:
    """``"x:y"`` entries: y against x (a CRLB against a rate: a tradeoff region). Monte Carlo pairs
    get CI bars in both directions. A Dataset with ``ts_rate_comm`` and ``ts_crlb_sensing`` (the
    corners of time sharing) gets time sharing's CRLB_S / (1 - R / R_C) drawn densely over its
    whole range 0 <= R < R_C, in place of its values at the sweep's rates."""
    dense_ts = "ts_rate_comm" in ds and "ts_crlb_sensing" in ds
    n_mc = n_cf = 0
    for i, pair in enumerate(pairs):
        xn, yn = pair.split(":")
        if xn not in ds or yn not in ds:
            continue
        is_mc = f"{yn}_stderr" in ds
        k = n_mc if is_mc else n_cf
        n_mc, n_cf = n_mc + is_mc, n_cf + (not is_mc)
        for sel, slabel, scol in _series(ds):
            sub = ds.isel(sel) if sel else ds
            colour = scol or _COLOURS[i % len(_COLOURS)]
            if slabel:
                leg.series[slabel] = colour
            xv, yv = (np.asarray(sub[v].values, dtype=float) for v in (xn, yn))
            if is_mc:
                bad = _bad(sub, [xn] if _conditional(yn) else [xn, yn])
                xerr = Z95 * np.asarray(sub[f"{xn}_stderr"].values, dtype=float) if f"{xn}_stderr" in sub else None
                yerr = Z95 * np.asarray(sub[f"{yn}_stderr"].values, dtype=float)
                marker = _MARKERS[k % len(_MARKERS)]
                ax.errorbar(np.where(bad, np.nan, xv), np.where(bad, np.nan, yv), xerr=xerr, yerr=yerr,
                            color=colour, marker=marker, ls="none", markersize=4, capsize=2, elinewidth=1)
                style = {"marker": marker, "ls": "none", "color": colour}
            else:
                ls = _LINESTYLES[k % len(_LINESTYLES)]
                if yn == "crlb_ts" and dense_ts:
                    rc = float(np.asarray(sub["ts_rate_comm"].values, dtype=float).ravel()[0])
                    cs = float(np.asarray(sub["ts_crlb_sensing"].values, dtype=float).ravel()[0])
                    if not (math.isfinite(rc) and math.isfinite(cs)):
                        continue
                    r = rc * (1.0 - np.geomspace(1.0, 1e-2, 200))  # up to t = 0.99
                    xv, yv = r, cs / (1.0 - r / rc)
                order = np.argsort(xv)
                ax.plot(xv[order], yv[order], ls=ls, color=colour, lw=1.6)
                style = {"ls": ls, "color": colour}
        if is_mc and _conditional(yn) and _singular_note(ds):
            leg.panel.append(_singular_note(ds))
        leg.kind(_legend_text(ds, yn), **style)
    first_x, first_y = pairs[0].split(":")
    for set_label, name in ((ax.set_xlabel, first_x), (ax.set_ylabel, first_y)):
        if name in ds:
            set_label(_axis_label(str(ds[name].attrs.get("long_name", name)).split(" (")[0],
                                  str(ds[name].attrs.get("units", ""))), fontsize=FONT)
    if ds.attrs.get("plot_xlabel"):
        ax.set_xlabel(str(ds.attrs["plot_xlabel"]), fontsize=FONT)


def _mark_max(ds: xr.Dataset, ax, leg: _Legend) -> None:
    """Panel notes (in the title): the sweep value maximising each ``mark_max`` variable (one
    value if every series agrees); a dotted vertical line at the first one's."""
    names = [n for n in str(ds.attrs.get("plot_mark_max", "")).split(",") if n and n in ds]
    if not names:
        return
    dim = str(ds.attrs.get("sweep_dim"))
    parts = []
    for i, name in enumerate(names):
        stars = []
        for sel, _, _ in _series(ds):
            sub = ds.isel(sel) if sel else ds
            y = np.asarray(sub[name].values, dtype=float)
            if np.isfinite(y).any():
                stars.append(f"{ds[dim].values[int(np.nanargmax(y))]:g}")
        if stars:
            short = _MARK.get((str(ds.attrs.get("model")), name)) or _legend_text(ds, name)
            parts.append(f"{stars[0] if len(set(stars)) == 1 else '/'.join(stars)} ({short})")
            if i == 0 and len(set(stars)) == 1:
                ax.axvline(float(stars[0]), color="0.4", ls=":", lw=1.0)
    if parts:
        leg.panel.append(f"${dim}^*$ = " + ", ".join(parts))


def _integer_axis(axis, values: np.ndarray, scale: str) -> None:
    from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter, StrMethodFormatter

    if values.size == 0 or not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        return
    if scale == "log":
        axis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(StrMethodFormatter("{x:g}"))
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_locator(MaxNLocator(integer=True))


def _decorate(ds: xr.Dataset, ax, names: Sequence[str], pairs: bool) -> None:
    xscale = str(ds.attrs.get("plot_xscale", "linear"))
    ax.set_xscale(xscale)
    ax.set_yscale(str(ds.attrs.get("plot_yscale", "linear")))
    if not pairs:
        dim, x, xlabel = _x(ds)
        ax.set_xlabel(xlabel, fontsize=FONT)
        if not ds.attrs.get("plot_x_variable") and np.issubdtype(ds[dim].dtype, np.integer):
            _integer_axis(ax.xaxis, np.asarray(ds[dim].values, dtype=float), xscale)
        units = next((str(ds[n].attrs.get("units", "")) for n in names if n in ds), "")
        ax.set_ylabel(str(ds.attrs.get("plot_ylabel", "")) or _axis_label("value", units), fontsize=FONT)
        _top_axis(ds, ax, x)
    elif ds.attrs.get("plot_ylabel"):
        ax.set_ylabel(str(ds.attrs["plot_ylabel"]), fontsize=FONT)
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    ax.tick_params(labelsize=SMALL)
    ax.set_title(str(ds.attrs.get("title", "")), fontsize=FONT)


def _top_axis(ds: xr.Dataset, ax, x: np.ndarray) -> None:
    """With ``x_variable``, the swept coordinate on a top axis when the map is an offset (in dB)
    or a factor (linear), i.e. x_variable is proportional to the swept value."""
    xv = str(ds.attrs.get("plot_x_variable", ""))
    if not xv:
        return
    dim = str(ds.attrs.get("sweep_dim"))
    s = np.asarray(ds[dim].values, dtype=float)
    db = ds.attrs.get("plot_x_transform") == "db"
    s = 10.0 * np.log10(s) if db else s
    shift = s - x if db else s / x
    if not np.allclose(shift, shift[0], rtol=1e-9, atol=1e-9):
        return
    c = float(shift[0])
    fwd, inv = ((lambda v: v + c), (lambda v: v - c)) if db else ((lambda v: v * c), (lambda v: v / c))
    top = ax.secondary_xaxis("top", functions=(fwd, inv))
    units = str(ds[dim].attrs.get("units", ""))
    units = ("dBW" if units == "W" else "dB") if db else units
    top.set_xlabel(_axis_label(str(ds[dim].attrs.get("long_name", dim)), units), fontsize=FONT)
    top.tick_params(labelsize=SMALL)


def _ratio_panel(ds: xr.Dataset, ax, names: Sequence[str]) -> None:
    """Every plotted Monte Carlo output over the closed form ``plot_ratio``, with its 95% CI as a
    band (the closed form's quadrature error is negligible at this scale)."""
    ref = str(ds.attrs.get("plot_ratio", ""))
    _, x, xlabel = _x(ds)
    den = np.asarray(ds[ref].values, dtype=float)
    for i, name in enumerate(n for n in names if f"{n}_stderr" in ds):
        y = np.asarray(ds[name].values, dtype=float)
        bad = _bad(ds, [name])
        half = Z95 * np.asarray(ds[f"{name}_stderr"].values, dtype=float)
        r, lo, hi = (np.where(bad, np.nan, v / den) for v in (y, y - half, y + half))
        colour = _COLOURS[i % len(_COLOURS)]
        ax.fill_between(x, lo, hi, color=colour, alpha=0.25, lw=0)
        ax.plot(x, r, color=colour, marker=_MARKERS[i % len(_MARKERS)], markersize=3.5, lw=1)
    ax.axhline(1.0, color=_COLOURS[2], lw=1.2, ls="-")  # the x scale and ticks are shared with the panel above
    ax.set_ylabel(f"MC / {_short(ds, ref)}", fontsize=FONT)
    ax.set_xlabel(xlabel, fontsize=FONT)
    ax.grid(True, which="major", alpha=0.35)
    ax.tick_params(labelsize=SMALL)


def _short(ds: xr.Dataset, name: str) -> str:
    eq = str(ds[name].attrs.get("equation", name))
    m = re.search(r"\(\d+\)", eq)
    return m.group(0) if m else name


def _names(ds: xr.Dataset, variables: Sequence[str] | None) -> tuple[list[str], bool]:
    req = [n for n in (variables or str(ds.attrs.get("plotted", "")).split(",")) if n]
    pairs = [n for n in req if ":" in n]
    return (pairs, True) if pairs else ([n for n in req if n in ds], False)


def _draw(ds: xr.Dataset, ax, variables: Sequence[str] | None, leg: _Legend) -> list[str]:
    names, pairs = _names(ds, variables)
    leg.panel = []
    (_draw_pairs if pairs else _draw_lines)(ds, ax, names, leg)
    _mark_max(ds, ax, leg)
    _decorate(ds, ax, names, pairs)
    if leg.panel:
        ax.set_title("\n".join([str(ds.attrs.get("title", "")), *leg.panel]), fontsize=FONT)
    return names


def _new_figure(size: tuple[float, float]):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=size, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _legend(fig, leg: _Legend, coloured: bool) -> None:
    handles = leg.handles(coloured)
    if handles:
        ncol = 1 if max(len(h.get_label()) for h in handles) > 45 else 2
        fig.legend(handles=handles, loc="outside lower center", ncol=ncol, fontsize=SMALL, frameon=False)


def _style(style):
    """A matplotlib style (name, path or rc dict) for the duration of the drawing, or nothing."""
    import contextlib

    if style is None:
        return contextlib.nullcontext()
    from matplotlib import style as mstyle

    return mstyle.context(style)


def plot_dataset(ds: xr.Dataset, ax=None, variables: Sequence[str] | None = None, *, style=None):
    """Draw ``variables`` (default: the Dataset's ``plotted`` attr) of one Dataset.

    Parameters
    ----------
    ds : xarray.Dataset
        A result of :func:`isacnet.experiments.runner.run_spec` (or a saved ``.nc``).
    ax : matplotlib Axes, optional
        Where to draw; default a new 6.4 x 4.8 in Figure. The legend goes below the figure's
        panels (outside every data area) when a new Figure is made, else on ``ax`` at the
        place with least overlap.
    variables : sequence of str, optional
        Outputs to draw ("x:y" for y against x).
    style : str, dict or Path, optional
        A matplotlib style applied while drawing (e.g. "seaborn-v0_8-paper"); the sizes of
        labels (9 pt) and ticks/legends (8 pt) are set explicitly and stay.

    Returns
    -------
    (Figure, Axes)
    """
    with _style(style):
        leg = _Legend()
        own = ax is None
        if own:
            fig = _new_figure(FIGSIZE)
            ax = fig.add_subplot()
        fig = ax.figure
        _draw(ds, ax, variables, leg)
        if own:
            _legend(fig, leg, bool(ds.attrs.get("series_dim")))
            fig.isacnet_provenance = provenance([ds])
        else:
            ax.legend(handles=leg.handles(bool(ds.attrs.get("series_dim"))), loc="best", fontsize=SMALL)
    return fig, ax


def figure(datasets: Sequence[xr.Dataset], title: str | None = None, *, style=None):
    """One panel per Dataset (two columns beyond one), a ratio panel beneath each whose spec sets
    ``ratio``, one legend below all panels. Returns ``(Figure, list of main Axes)``; the
    provenance of every panel is attached as ``fig.isacnet_provenance`` for :func:`save_figure`;
    ``style`` as in :func:`plot_dataset`."""
    with _style(style):
        return _figure(list(datasets), title)


def _figure(datasets: list[xr.Dataset], title: str | None):
    n = len(datasets)
    if n == 0:
        raise ValueError("figure() needs at least one Dataset")
    ncols = 1 if n == 1 else 2
    nrows = math.ceil(n / ncols)
    ratio = any(ds.attrs.get("plot_ratio") for ds in datasets)
    w, h = (FIGSIZE if n == 1 else (4.8 * ncols, 3.6 * nrows))
    fig = _new_figure((w, h * (1.3 if ratio else 1.0) + 0.25 * n))
    gs = fig.add_gridspec(nrows * (2 if ratio else 1), ncols, height_ratios=[3, 1] * nrows if ratio else None)
    axes, leg = [], _Legend()
    for k, ds in enumerate(datasets):
        r, c = divmod(k, ncols)
        ax = fig.add_subplot(gs[2 * r if ratio else r, c])
        names = _draw(ds, ax, None, leg)
        if ratio and ds.attrs.get("plot_ratio") and str(ds.attrs["plot_ratio"]) in ds:
            rax = fig.add_subplot(gs[2 * r + 1, c], sharex=ax)
            _ratio_panel(ds, rax, names)
            ax.set_xlabel("")
            ax.tick_params(labelbottom=False)
        axes.append(ax)
    if title:
        fig.suptitle(title, fontsize=FONT + 1)
    coloured = any(ds.attrs.get("series_dim") for ds in datasets)
    if n < nrows * ncols:  # an empty cell: the legend goes there, beside the panels
        r, c = divmod(n, ncols)
        lax = fig.add_subplot(gs[2 * r:2 * r + 2, c] if ratio else gs[r, c])
        lax.axis("off")
        lax.legend(handles=leg.handles(coloured), loc="center", fontsize=SMALL, frameon=False)
    else:
        _legend(fig, leg, coloured)
    fig.isacnet_provenance = provenance(datasets)
    return fig, axes


def provenance(datasets: Sequence[xr.Dataset]) -> dict[str, str]:
    """What made the figure: per panel its figure id, seed, layouts per point and geometry; the
    isacnet version; the effective configs (TOML). Keys: Title, Software, Source, Comment."""
    first = datasets[0].attrs
    src = []
    for ds in datasets:
        a = ds.attrs
        geo = str(a.get("mc_geometry", ""))
        extra = (f", R = {a['mc_window_radius_m']} m" if "mc_window_radius_m" in a else "") + \
                (f", K = {a['mc_k_nearest']}" if "mc_k_nearest" in a else "")
        src.append(f"{a.get('figure_id', '?')}: seed {a.get('seed')}, {a.get('n_layouts')} layouts per point"
                   + (f", {geo}{extra}" if geo else extra))
    configs = "\n".join(f"# {ds.attrs.get('figure_id', '?')}\n{ds.attrs.get('config_toml', '')}" for ds in datasets)
    return {"Title": str(first.get("title", "")) if len(datasets) == 1 else
            "; ".join(str(ds.attrs.get("figure_id", "")) for ds in datasets),
            "Software": f"isacnet {first.get('isacnet_version', '?')}",
            "Source": "; ".join(src), "Comment": configs,
            "Created": str(first.get("created_utc", ""))}


def _metadata(fmt: str, prov: dict[str, str]) -> dict[str, str]:
    """Provenance in the keys each format accepts (PNG text chunks are free-form)."""
    if fmt == "png":
        return {k: v for k, v in prov.items() if v}
    if fmt == "pdf":
        return {"Title": prov.get("Title", ""), "Creator": prov.get("Software", ""),
                "Subject": prov.get("Source", ""), "Keywords": prov.get("Comment", "")}
    if fmt == "svg":
        return {"Title": prov.get("Title", ""), "Creator": prov.get("Software", ""),
                "Source": prov.get("Source", ""), "Description": prov.get("Comment", "")}
    return {}


def save_figure(fig_or_datasets, path: str | Path, suptitle: str | None = None, *,
                formats: Sequence[str] = ("png",), dpi: int = DPI,
                metadata: dict[str, str] | None = None, style=None) -> Path:
    """Write a figure in each of ``formats`` (atomically), provenance in the file metadata.

    Parameters
    ----------
    fig_or_datasets : matplotlib Figure or sequence of xarray.Dataset
        A Figure (from :func:`figure` or :func:`plot_dataset`), or Datasets drawn with
        :func:`figure` (``suptitle`` its title).
    path : str or Path
        File stem; a suffix (".png") is replaced by each format's.
    formats : sequence of {"png", "pdf", "svg"}
    dpi : int
        Resolution of raster formats [dots per inch] (PNG: 6.4 in x 200 = 1280 px wide).
    metadata : dict, optional
        Extra provenance (keys Title, Software, Source, Comment) over the figure's own.
    style : str, dict or Path, optional
        A matplotlib style for drawing Datasets (see :func:`plot_dataset`).

    Returns
    -------
    Path of the first format's file.
    """
    from .experiments.store import atomic_write

    fmts = [str(f).lower().lstrip(".") for f in formats]
    bad = [f for f in fmts if f not in ("png", "pdf", "svg")]
    if not fmts or bad:
        from .params import ParameterError

        raise ParameterError("formats", list(formats), "one or more of png, pdf, svg")
    if isinstance(fig_or_datasets, Sequence) and not isinstance(fig_or_datasets, str | bytes):
        fig, _ = figure(list(fig_or_datasets), title=suptitle, style=style)
    else:
        fig = fig_or_datasets
    prov = {**getattr(fig, "isacnet_provenance", {}), **(metadata or {})}
    stem = Path(path)
    stem = stem.with_suffix("") if stem.suffix.lower() in (".png", ".pdf", ".svg") else stem
    out = []
    for f in fmts:
        target = stem.with_name(stem.name + "." + f)
        out.append(atomic_write(target, lambda t, f=f: fig.savefig(t, dpi=dpi, format=f,
                                                                   metadata=_metadata(f, prov))))
    return out[0]
