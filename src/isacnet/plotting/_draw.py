"""Drawing one result Dataset on an Axes: lines, tradeoff pairs, ratio panels, axes and notes."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import xarray as xr

from ._labels import (
    _COLOURS,
    _LINESTYLES,
    _MARK,
    _MARKERS,
    FONT,
    SMALL,
    Z95,
    _axis_label,
    _bad,
    _conditional,
    _legend_text,
    _no_finite,
    _series,
    _singular_note,
    _x,
)


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
        hidden = no_ci_points = 0
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
                # a finite estimate without a CI (its variance is infinite: a heavy tail) is drawn
                # hollow, so it is not read as a point with a CI too small to see
                no_ci = ~bad & np.isfinite(y) & ~np.isfinite(half)
                no_ci_points += int(no_ci.sum())
                ax.errorbar(x, np.where(bad | no_ci, np.nan, y), yerr=np.where(bad, np.nan, half), color=colour,
                            marker=marker, ls="none", markersize=4, capsize=2, elinewidth=1)
                if no_ci.any():
                    ax.plot(np.asarray(x)[no_ci], y[no_ci], ls="none", marker=marker, markersize=4,
                            markerfacecolor="none", markeredgecolor=colour)
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
        if no_ci_points:
            text += " (hollow: no CI, infinite variance)"
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
    """Integer ticks on an axis of integers: on a log axis the data values themselves where they
    are few and far enough apart (``N`` = 3, 4, 6, 8, 12, 16), else 1, 2, 5 x 10^k."""
    from matplotlib.ticker import FixedLocator, LogLocator, MaxNLocator, NullFormatter, StrMethodFormatter

    if values.size == 0 or not np.all(np.isfinite(values)) or not np.all(values == np.round(values)):
        return
    if scale == "log":
        v = np.unique(values[values > 0])
        spaced = v.size >= 2 and bool(np.all(v[1:] / v[:-1] >= 1.15))
        axis.set_major_locator(FixedLocator(v.tolist()) if 2 <= v.size <= 12 and spaced
                               else LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
        axis.set_major_formatter(StrMethodFormatter("{x:g}"))
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_locator(MaxNLocator(integer=True))


def _compact(value: float, _pos=None) -> str:
    """A tick label: plain (0.02, 300) between 1e-3 and 1e4, else mathtext a x 10^b."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    if 1e-3 <= abs(value) < 1e4:
        return f"{value:g}"
    exp = math.floor(math.log10(abs(value)))
    mant = value / 10.0**exp
    mant_text = "" if abs(mant - 1.0) < 1e-9 else rf"{mant:g}\times"
    return rf"${mant_text}10^{{{exp}}}$"


def _short_log_x(ax) -> None:
    """A log x axis spanning less than ~1.5 decades: ticks at 1, 2, 5 x 10^k with compact labels
    and no minor labels (matplotlib's labelled minor ticks overlap there: "3x10^-7 4x10^-7")."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    lo, hi = sorted(ax.get_xlim())
    if lo <= 0 or math.log10(hi / lo) >= 1.5:
        return
    ax.xaxis.set_major_locator(LogLocator(base=10.0, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(_compact))
    ax.xaxis.set_minor_formatter(NullFormatter())


def _decorate(ds: xr.Dataset, ax, names: Sequence[str], pairs: bool) -> None:
    xscale = str(ds.attrs.get("plot_xscale", "linear"))
    ax.set_xscale(xscale)
    ax.set_yscale(str(ds.attrs.get("plot_yscale", "linear")))
    if not pairs:
        dim, x, xlabel = _x(ds)
        ax.set_xlabel(xlabel, fontsize=FONT)
        if not ds.attrs.get("plot_x_variable") and np.issubdtype(ds[dim].dtype, np.integer):
            _integer_axis(ax.xaxis, np.asarray(ds[dim].values, dtype=float), xscale)
        elif xscale == "log":
            _short_log_x(ax)
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
