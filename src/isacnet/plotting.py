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
    dim = next(iter(ds.sizes))
    x = np.asarray(ds[dim].values, dtype=float)
    label = ds[dim].attrs.get("long_name", dim)
    units = ds[dim].attrs.get("units", "")
    if ds.attrs.get("plot_x_transform") == "db":
        x = 10.0 * np.log10(x)
        units = f"dB({units})" if units else "dB"
    return dim, x, f"{label} [{units}]" if units else label


def plot_dataset(ds: xr.Dataset, ax, variables: Sequence[str] | None = None) -> None:
    """Draw ``variables`` (default: the Dataset's ``plotted`` attr) on a matplotlib Axes.

    Monte Carlo outputs (those with ``<name>_stderr``) are markers with 95% CI error bars; a
    point with NaN or infinite samples is not drawn (its estimate is unusable) and is listed in
    the legend. Closed forms are solid lines.
    """
    _, x, xlabel = _x(ds)
    names = list(variables or str(ds.attrs.get("plotted", "")).split(","))
    for i, name in enumerate(n for n in names if n in ds):
        da = ds[name]
        colour = _COLOURS[i % len(_COLOURS)]
        label = da.attrs.get("equation", name)
        long = da.attrs.get("long_name", name)
        if f"{name}_stderr" in ds:
            y = np.asarray(da.values, dtype=float)
            bad = np.zeros(y.shape, bool)
            for k in (f"{name}_n_posinf", f"{name}_n_nan"):
                if k in ds:
                    bad |= np.asarray(ds[k].values) > 0
            y = np.where(bad, np.nan, y)
            half = 1.959963984540054 * np.asarray(ds[f"{name}_stderr"].values, dtype=float)
            lab = f"MC {label}" + (f" ({int(bad.sum())} unusable pts hidden)" if bad.any() else "")
            ax.errorbar(x, y, yerr=half, color=colour, label=lab, **_MC_STYLE)
        else:
            short = long.split(" (")[0].strip()
            ax.plot(x, np.asarray(da.values, dtype=float), "-", color=colour, lw=1.8,
                    label=f"{label}: {short}" if short and short != label else label)
    ax.set_xlabel(xlabel)
    units = next((ds[n].attrs.get("units") for n in names if n in ds), "")
    ax.set_ylabel(f"position error bound [{units}]" if units == "m^2" else units)
    ax.set_xscale(ds.attrs.get("plot_xscale", "linear"))
    ax.set_yscale(ds.attrs.get("plot_yscale", "linear"))
    ax.grid(True, which="both", alpha=0.3)
    ax.set_title(str(ds.attrs.get("title", "")), fontsize=9)
    ax.legend(fontsize=7)


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
