"""Heatmaps of map Datasets (:mod:`isacnet.maps`): log colour scale, colourbar, BS markers, units.

Reads Datasets only (no computing module is imported), like :mod:`isacnet.plotting`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

LOG_VARIABLES = ("crlb", "rmse_bound", "crlb_delay_aoa")
"""Variables drawn on a logarithmic colour scale by default (they span decades)."""

_TEX = (
    ("tr(F^-1)", r"$\mathrm{tr}\,\mathbf{F}^{-1}$"),
    ("tr(S^-1)", r"$\mathrm{tr}\,\mathbf{S}^{-1}$"),
    ("sqrt(CRLB)", r"$\sqrt{\mathrm{CRLB}}$"),
    ("E ln(1 + SIR)", r"$\mathrm{E}\,\ln(1 + \mathrm{SIR})$"),
    ("P(SIR > threshold)", r"$P(\mathrm{SIR} > \theta)$"),
    (" x ", r" $\times$ "),
)
"""The maps' plain-text long names as mathtext in the colourbar labels."""

_KM_FROM = 5000.0
"""Axes in km when the map spans at least this many metres."""


def _colourbar_label(da: xr.DataArray, variable: str) -> str:
    from .plotting._labels import tex_units

    label = str(da.attrs.get("long_name", variable))
    for plain, tex in _TEX:
        label = label.replace(plain, tex)
    units = str(da.attrs.get("units", ""))
    return label + (f" [{tex_units(units)}]" if units and units != "1" else "")


def draw_map(
    ds: xr.Dataset,
    ax,
    variable: str = "crlb",
    *,
    log: bool | None = None,
    threshold_index: int = 0,
    markers: bool = True,
    cmap: str = "viridis",
):
    """Draw one map variable as a heatmap on ``ax``; returns the colourbar's mappable.

    Parameters
    ----------
    ds : Dataset
        A map from :mod:`isacnet.maps` (coords x, y [m]; site_x, site_y).
    variable : str
        A variable of ``ds`` with dims (y, x), or ``coverage`` (threshold_db, y, x).
    log : bool, optional
        Logarithmic colour scale (default: for :data:`LOG_VARIABLES`).
    threshold_index : int
        Which threshold of ``coverage`` to draw.
    markers : bool
        Mark the BS sites (and Song TXs/RXs where present).
    """
    from matplotlib.colors import LogNorm

    if variable not in ds:
        raise KeyError(f"{variable!r} is not in the Dataset (variables: {sorted(map(str, ds.data_vars))})")
    da = ds[variable]
    if "threshold_db" in da.dims:
        da = da.isel(threshold_db=threshold_index)
    z = np.asarray(da.values, dtype=float)
    use_log = (variable in LOG_VARIABLES) if log is None else log
    finite = z[np.isfinite(z) & (z > 0)] if use_log else z[np.isfinite(z)]
    norm = None
    if use_log and finite.size:
        norm = LogNorm(vmin=float(finite.min()), vmax=float(finite.max()))
    x, y = ds.x.values, ds.y.values
    span = max(float(np.ptp(x)), float(np.ptp(y))) if x.size and y.size else 0.0
    scale, unit = (1e-3, "km") if span >= _KM_FROM else (1.0, "m")
    x, y = x * scale, y * scale
    im = ax.pcolormesh(x, y, np.ma.masked_invalid(z), shading="nearest", cmap=cmap, norm=norm)
    label = _colourbar_label(da, variable)
    if "threshold_db" in ds[variable].dims:
        label += rf", $\theta$ = {float(ds.threshold_db[threshold_index]):g} dB"
    cb = ax.figure.colorbar(im, ax=ax)
    cb.set_label(label, fontsize=8)
    if markers:
        if "tx_x" in ds or "rx_x" in ds:
            for role, mk in (("tx", "^"), ("rx", "s")):
                if f"{role}_x" in ds:
                    ax.plot(
                        ds[f"{role}_x"].values * scale,
                        ds[f"{role}_y"].values * scale,
                        mk,
                        ms=4,
                        mfc="white",
                        mec="black",
                        mew=0.7,
                        ls="none",
                        label=role.upper(),
                    )
            ax.legend(fontsize=6, loc="upper right")
        else:
            ax.plot(
                ds.site_x.values * scale, ds.site_y.values * scale, "^", ms=4, mfc="white", mec="black", mew=0.7,
                ls="none", label="BS",
            )
        ax.set_xlim(x.min(), x.max())
        ax.set_ylim(y.min(), y.max())
    ax.set_xlabel(f"x [{unit}]")
    ax.set_ylabel(f"y [{unit}]")
    ax.set_aspect("equal")
    ax.set_title(f"{ds.attrs.get('deployment_source', '')}", fontsize=8)
    return im


def _file_metadata(fmt: str, prov: dict[str, str]) -> dict[str, str]:
    """Provenance in the metadata keys each format accepts (as :mod:`isacnet.plotting` does)."""
    if fmt == "png":
        return {k: v for k, v in prov.items() if v}
    keys = {"pdf": ("Title", "Creator", "Subject", "Keywords"), "svg": ("Title", "Creator", "Source", "Description")}
    return dict(zip(keys[fmt], (prov["Title"], prov["Software"], prov["Source"], prov["Comment"]), strict=True))


def save_map(ds: xr.Dataset, path: str | Path, variables: tuple[str, ...] | None = None, *,
             formats: tuple[str, ...] | list[str] = ("png",), dpi: int = 130, style=None, **kwargs) -> Path:
    """Draw ``variables`` (default: the map's main ones) side by side and write the figure in each
    of ``formats`` (png, pdf, svg; ``path``'s suffix is replaced), atomically, at ``dpi`` (PNG),
    under the matplotlib ``style``; the map's attributes (the provenance) go into the file
    metadata. Returns the first format's path."""
    import contextlib
    import json

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from .experiments.store import atomic_write

    if variables is None:
        variables = tuple(v for v in ("crlb", "crlb_delay_aoa", "rate_nats", "coverage") if v in ds)
    n = len(variables)
    from matplotlib import style as mstyle

    with mstyle.context(style) if style is not None else contextlib.nullcontext():
        fig = Figure(figsize=(5.6 * n, 4.6), layout="constrained")
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, n, squeeze=False).ravel()
        for ax, v in zip(axes, variables, strict=True):
            draw_map(ds, ax, v, **kwargs)

        n_ex = int(ds.attrs.get("n_excluded", 0))
        if n_ex:  # the provenance is in the file's metadata, not in the picture
            fig.suptitle(f"{n_ex} grid point{'s' if n_ex > 1 else ''} within {ds.attrs.get('min_distance_m', '')} m "
                         "of a site not drawn (NaN)", fontsize=8)
    attrs = {k: (v.item() if hasattr(v, "item") else v) for k, v in ds.attrs.items()}
    prov = {"Title": f"isacnet map: {', '.join(variables)}",
            "Software": f"isacnet {ds.attrs.get('isacnet_version', '')}".strip(),
            "Source": str(ds.attrs.get("deployment_source", "")),
            "Comment": json.dumps(attrs, default=str, sort_keys=True)}
    stem = Path(path)
    stem = stem.with_suffix("") if stem.suffix.lower() in (".png", ".pdf", ".svg") else stem
    fmts = [str(f).lower().lstrip(".") for f in formats]
    if not fmts or any(f not in ("png", "pdf", "svg") for f in fmts):
        from .params import ParameterError

        raise ParameterError("formats", list(formats), "one or more of png, pdf, svg")

    def writer(fmt: str):
        def write(t) -> None:
            import matplotlib

            with matplotlib.rc_context({"pdf.fonttype": 42, "ps.fonttype": 42}):  # TrueType fonts in PDF
                fig.savefig(t, dpi=dpi, format=fmt, metadata=_file_metadata(fmt, prov))

        return write

    return [atomic_write(stem.with_name(f"{stem.name}.{f}"), writer(f)) for f in fmts][0]
