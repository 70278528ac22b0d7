"""Figures drawn from saved Datasets only (no computing module is imported here).

Uses matplotlib's object API (``Figure`` + Agg canvas), not pyplot: no global state is touched.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xarray as xr

_MC_STYLE = {"marker": "o", "linestyle": "--", "markersize": 4, "capsize": 2}
_COLOURS = ["tab:blue", "tab:green", "tab:red", "tab:purple", "tab:orange", "tab:brown"]


def _x(ds: xr.Dataset) -> tuple[str, np.ndarray, str]:
    dim = str(ds.attrs.get("sweep_dim", next(iter(ds.sizes))))
    x = np.asarray(ds[dim].values, dtype=float)
    label = ds[dim].attrs.get("long_name", dim)
    units = ds[dim].attrs.get("units", "")
    if ds.attrs.get("plot_x_transform") == "db":
        x = 10.0 * np.log10(x)
        units = f"dB({units})" if units else "dB"
    return dim, x, f"{label} [{units}]" if units else label


_LINESTYLES = ["-", "--", ":", "-."]
_MARKERS = ["o", "s", "^", "D", "v"]


def _series_label(ds: xr.Dataset, dim: str, j: int) -> str:
    c = ds[dim]
    v = c.values[j]
    val = f"{v:g}" if isinstance(v, float | np.floating) else str(v)
    return f"{c.attrs.get('long_name', dim)} = {val}"


def _series_rows(ds: xr.Dataset) -> list[tuple[dict | None, str, str | None]]:
    """(selection, label prefix, colour) per series value; one row without a series axis."""
    sdim = ds.attrs.get("series_dim")
    if not sdim:
        return [(None, "", None)]
    return [({sdim: j}, _series_label(ds, sdim, j) + ": ", _COLOURS[j % len(_COLOURS)])
            for j in range(ds.sizes[sdim])]


def plot_dataset(ds: xr.Dataset, ax, variables: Sequence[str] | None = None) -> None:
    """Draw ``variables`` (default: the Dataset's ``plotted`` attr) on a matplotlib Axes.

    Monte Carlo outputs (those with ``<name>_stderr``) are markers with 95% CI error bars; a
    point with NaN or infinite samples is not drawn (its estimate is unusable) and is listed in
    the legend. Closed forms are lines. With a series axis (attr ``series_dim``) each series
    value has a colour and each output a line style / marker.
    """
    requested = list(variables or str(ds.attrs.get("plotted", "")).split(","))
    if any(":" in n for n in requested):
        _plot_pairs(ds, ax, [n for n in requested if ":" in n])
        return
    _, x, xlabel = _x(ds)
    names = [n for n in requested if n in ds]
    sdim = ds.attrs.get("series_dim")
    rows = _series_rows(ds)
    n_mc = n_cf = 0
    for i, name in enumerate(names):
        is_mc = f"{name}_stderr" in ds
        style = n_mc if is_mc else n_cf
        if is_mc:
            n_mc += 1
        else:
            n_cf += 1
        for sel, prefix, series_colour in rows:
            sub = ds.isel(sel) if sel else ds
            colour = series_colour or _COLOURS[i % len(_COLOURS)]
            da = sub[name]
            label = da.attrs.get("equation", name)
            long = da.attrs.get("long_name", name)
            if is_mc:
                y = np.asarray(da.values, dtype=float)
                bad = np.zeros(y.shape, bool)
                for k in (f"{name}_n_posinf", f"{name}_n_neginf", f"{name}_n_nan"):
                    if k in sub:
                        bad |= np.asarray(sub[k].values) > 0
                y = np.where(bad, np.nan, y)
                half = 1.959963984540054 * np.asarray(sub[f"{name}_stderr"].values, dtype=float)
                lab = prefix + f"MC {label}" + (f" ({int(bad.sum())} unusable pts hidden)" if bad.any() else "")
                kw = dict(_MC_STYLE)
                if sdim:
                    kw.update(marker=_MARKERS[style % len(_MARKERS)], linestyle="none")
                ax.errorbar(x, y, yerr=half, color=colour, label=lab, **kw)
            else:
                short = long.split(" (")[0].strip()
                lab = f"{label}: {short}" if short and short != label and not sdim else label
                ls = _LINESTYLES[style % len(_LINESTYLES)] if sdim else "-"
                ax.plot(x, np.asarray(da.values, dtype=float), ls, color=colour, lw=1.8, label=prefix + lab)
    ax.set_xlabel(xlabel)
    units = next((ds[n].attrs.get("units") for n in names), "")
    ax.set_ylabel(str(ds.attrs.get("plot_ylabel", "")) or
                  (f"position error bound [{units}]" if units == "m^2" else units))
    ax.set_xscale(ds.attrs.get("plot_xscale", "linear"))
    ax.set_yscale(ds.attrs.get("plot_yscale", "linear"))
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(str(ds.attrs.get("title", "")), fontsize=9)
    ax.legend(fontsize=6 if sdim else 7)


def _plot_pairs(ds: xr.Dataset, ax, pairs: Sequence[str]) -> None:
    """``"x:y"`` entries: y against x (e.g. a CRLB against a rate: a tradeoff region). Monte
    Carlo pairs get error bars in both directions; one colour per series value."""
    rows = _series_rows(ds)
    n_mc = n_cf = 0
    for i, pair in enumerate(pairs):
        xn, yn = pair.split(":")
        if xn not in ds or yn not in ds:
            continue
        is_mc = f"{yn}_stderr" in ds
        style = n_mc if is_mc else n_cf
        n_mc, n_cf = n_mc + is_mc, n_cf + (not is_mc)
        for sel, prefix, series_colour in rows:
            sub = ds.isel(sel) if sel else ds
            colour = series_colour or _COLOURS[i % len(_COLOURS)]
            xv = np.asarray(sub[xn].values, dtype=float)
            yv = np.asarray(sub[yn].values, dtype=float)
            label = prefix + str(sub[yn].attrs.get("equation", yn))
            if is_mc:
                bad = np.zeros(yv.shape, bool)
                for v in (xn, yn):
                    for k in (f"{v}_n_posinf", f"{v}_n_neginf", f"{v}_n_nan"):
                        if k in sub:
                            bad |= np.asarray(sub[k].values) > 0
                z = 1.959963984540054
                xerr = z * np.asarray(sub[f"{xn}_stderr"].values, dtype=float) if f"{xn}_stderr" in sub else None
                yerr = z * np.asarray(sub[f"{yn}_stderr"].values, dtype=float)
                ax.errorbar(np.where(bad, np.nan, xv), np.where(bad, np.nan, yv), xerr=xerr, yerr=yerr,
                            color=colour, marker=_MARKERS[style % len(_MARKERS)], linestyle="none",
                            markersize=4, capsize=2, label=label)
            else:
                order = np.argsort(xv)
                ax.plot(xv[order], yv[order], _LINESTYLES[style % len(_LINESTYLES)], color=colour, lw=1.6,
                        label=label)
    first_x, first_y = pairs[0].split(":")
    for axis, name in ((ax.set_xlabel, first_x), (ax.set_ylabel, first_y)):
        if name in ds:
            u = ds[name].attrs.get("units", "")
            lab = str(ds[name].attrs.get("long_name", name)).split(" (")[0]
            axis(f"{lab} [{u}]" if u else lab)
    if ds.attrs.get("plot_ylabel"):
        ax.set_ylabel(str(ds.attrs["plot_ylabel"]))
    ax.set_xscale(ds.attrs.get("plot_xscale", "linear"))
    ax.set_yscale(ds.attrs.get("plot_yscale", "linear"))
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(str(ds.attrs.get("title", "")), fontsize=9)
    ax.legend(fontsize=6)


def save_figure(datasets: Sequence[xr.Dataset], path: str | Path, suptitle: str | None = None) -> Path:
    """Draw one panel per Dataset into a PNG (written atomically)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    n = len(datasets)
    ncols = 1 if n == 1 else 2
    nrows = math.ceil(n / ncols)
    fig = Figure(figsize=(5.2 * ncols, 4.0 * nrows), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, ds in zip(axes, datasets, strict=False):
        plot_dataset(ds, ax)
    for ax in axes[n:]:
        ax.set_visible(False)
    first = datasets[0].attrs
    note = (f"isacnet {first.get('isacnet_version')}, seed {first.get('seed')}, "
            f"{first.get('n_layouts')} layouts/point, {first.get('mc_geometry', '')}"
            + (f" R={first.get('mc_window_radius_m')} m" if "mc_window_radius_m" in first else "")
            + (f" K={first.get('mc_k_nearest')}" if "mc_k_nearest" in first else ""))
    import textwrap

    note = textwrap.fill(note, width=75 * ncols)
    fig.suptitle((suptitle + "\n" if suptitle else "") + note, fontsize=8)
    from .experiments.store import atomic_write

    path = Path(path)
    return atomic_write(path, lambda t: fig.savefig(t, dpi=130, format="png"))
