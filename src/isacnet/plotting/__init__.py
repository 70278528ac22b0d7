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
``mark_max`` (variables whose argmax along the sweep the panel title reports, per series).

Modules: ``_labels`` (texts, units, what a Dataset holds), ``_draw`` (one panel), this one (figures,
files and their metadata).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xarray as xr

from ._draw import _draw, _Legend, _ratio_panel
from ._labels import DPI, FIGSIZE, FONT, SMALL, plain_text, tex_units

__all__ = ["DPI", "FIGSIZE", "PUBLICATION_RC", "figure", "plot_dataset", "provenance", "save_figure", "tex_units"]


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
            _legend_on_axes(ax, leg.handles(bool(ds.attrs.get("series_dim"))))
    return fig, ax


def _covers_data(ax, legend) -> bool:
    """Whether the legend's box contains a drawn data point (display coordinates)."""
    import numpy as np

    fig = ax.figure
    if fig.canvas is None or not hasattr(fig.canvas, "get_renderer"):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        FigureCanvasAgg(fig)
    fig.canvas.draw()
    box = legend.get_window_extent(fig.canvas.get_renderer())
    for line in ax.get_lines():
        xy = np.column_stack(line.get_data(orig=False)).astype(float)
        xy = xy[np.all(np.isfinite(xy), axis=1)]
        if len(xy):
            d = ax.transData.transform(xy)
            if np.any((d[:, 0] >= box.x0) & (d[:, 0] <= box.x1) & (d[:, 1] >= box.y0) & (d[:, 1] <= box.y1)):
                return True
    return False


def _legend_on_axes(ax, handles) -> None:
    """On a caller's Axes: ``loc="best"``, moved outside the axes (right of them) if it still
    covers a data point."""
    if not handles:
        return
    lg = ax.legend(handles=handles, loc="best", fontsize=SMALL)
    if _covers_data(ax, lg):
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=SMALL,
                  frameon=False)


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
    legends = [_Legend() for _ in datasets]
    for ds, lg in zip(datasets, legends, strict=True):
        _draw_legend_only(ds, lg)
    apart = n > 1 and not _same_legend(datasets, legends)  # panels of different kinds: a legend each
    w, h = (FIGSIZE if n == 1 else ((7.4 if apart else 4.8) * ncols, 3.6 * nrows))
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
    if apart:  # right of each panel: a shared legend would give one colour two meanings
        for ax, ds, lg in zip(axes, datasets, legends, strict=True):
            ax.legend(handles=lg.handles(bool(ds.attrs.get("series_dim"))), loc="upper left",
                      bbox_to_anchor=(1.02, 1.0), fontsize=SMALL, frameon=False, borderaxespad=0.0)
        fig.isacnet_provenance = provenance(datasets)
        return fig, axes
    if n < nrows * ncols:  # an empty cell: the legend goes there, beside the panels
        r, c = divmod(n, ncols)
        lax = fig.add_subplot(gs[2 * r:2 * r + 2, c] if ratio else gs[r, c])
        lax.axis("off")
        lax.legend(handles=leg.handles(coloured), loc="center", fontsize=SMALL, frameon=False)
    else:
        _legend(fig, leg, coloured)
    fig.isacnet_provenance = provenance(datasets)
    return fig, axes


def _draw_legend_only(ds: xr.Dataset, leg: _Legend) -> None:
    """Collect the legend entries of ``ds`` alone (drawn on a throw-away Axes)."""
    fig = _new_figure((2.0, 2.0))
    _draw(ds, fig.add_subplot(), None, leg)


def _same_legend(datasets: Sequence[xr.Dataset], legends: Sequence[_Legend]) -> bool:
    """Whether one legend serves every panel: the same entries (kinds, and series with the same
    colours) in each; else a shared legend would give one colour two meanings."""
    keys = [(tuple(lg.kinds), tuple(lg.series.items()), str(ds.attrs.get("series_dim", "")))
            for ds, lg in zip(datasets, legends, strict=True)]
    return all(k == keys[0] for k in keys[1:])


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
    return {"Title": plain_text(str(first.get("title", ""))) if len(datasets) == 1 else
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


PUBLICATION_RC: dict[str, Any] = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "path"}
"""rc settings while a file is written: TrueType (Type 42) fonts in PDF, as journals' PDF checks
(IEEE PDF eXpress) require; matplotlib's default Type 3 fonts are refused there."""


def _savefig(fig, target, fmt: str, dpi: int, metadata: dict[str, str]) -> None:
    import matplotlib

    with matplotlib.rc_context(dict(PUBLICATION_RC)):  # type: ignore[arg-type]  # rc keys are Literals in the stubs
        fig.savefig(target, dpi=dpi, format=fmt, metadata=metadata)


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
    from ..experiments.store import atomic_write

    fmts = [str(f).lower().lstrip(".") for f in formats]
    bad = [f for f in fmts if f not in ("png", "pdf", "svg")]
    if not fmts or bad:
        from ..params import ParameterError

        raise ParameterError("formats", list(formats), "one or more of png, pdf, svg")
    if isinstance(fig_or_datasets, Sequence) and not isinstance(fig_or_datasets, str | bytes):
        fig, _ = figure(list(fig_or_datasets), title=suptitle, style=style)
    else:
        fig = fig_or_datasets
    prov = {**getattr(fig, "isacnet_provenance", {}), **(metadata or {})}
    stem = Path(path)
    stem = stem.with_suffix("") if stem.suffix.lower() in (".png", ".pdf", ".svg") else stem
    def writer(fmt: str):
        return lambda t: _savefig(fig, t, fmt, dpi, _metadata(fmt, prov))

    out = [atomic_write(stem.with_name(stem.name + "." + f), writer(f)) for f in fmts]
    return out[0]
