"""What a run reports: per-figure metrics, the terminal summary and the index of the output folder.

The index (``index.html`` and ``README.md``) shows every figure of a run together with its
metrics and links to the data (netCDF, CSV); it is rewritten atomically after each run and lists
every figure present in the folder, so several runs into one folder add up.

Files isacnet did not write are never overwritten nor trusted: the index files carry a marker
(:data:`MARK`), and a ``README.md`` or ``index.html`` without it (a user's own) is left as it
is; a ``.nc`` file that is not an isacnet result (unreadable, another program's, or one whose
attributes do not hold together) is left out of the index. Both are said in a note.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from .store import atomic_write

MARK = "isacnet-index"
"""Written into the index files (an HTML comment): only files carrying it are rewritten."""
_LEGACY = ("# isacnet results", "<title>isacnet results</title>")  # index files of isacnet <= 0.2


@dataclass(frozen=True)
class FigureMetrics:
    id: str
    title: str
    points: int
    layouts: int  # layouts per point: the most any point used (a run with early stopping: at most its cap)
    max_rel_ci: float  # largest 95% CI half-width / |estimate| over the plotted MC outputs
    nonfinite: int  # +inf / NaN samples of the plotted MC outputs (counted, never averaged)
    max_z: float  # largest |MC - closed form| / stderr over the model's agreement pairs (NaN: none)
    wall_s: float  # seconds from the start of the figure's run until it was done (figures run together
    # share one run: the later ones count the earlier ones' time; alone: its own wall time)
    quick: bool


def _nanmax(a) -> float:
    a = np.asarray(a, dtype=float)
    return float(np.max(a[np.isfinite(a)])) if np.isfinite(a).any() else float("nan")


def metrics(ds: xr.Dataset) -> FigureMetrics:
    """The summary numbers of one result Dataset (from the Dataset alone)."""
    z: list[float] = []
    with np.errstate(divide="ignore", invalid="ignore"):
        for pair in filter(None, str(ds.attrs.get("agreement_pairs", "")).split(",")):
            mc, cf = pair.split(":")
            if mc in ds and cf in ds:
                z.append(_nanmax(np.abs(ds[mc] - ds[cf]) / ds[f"{mc}_stderr"]))
        names = dict.fromkeys(q for p in str(ds.attrs.get("plotted", "")).split(",") for q in p.split(":"))
        plotted = [q for q in names if q and f"{q}_stderr" in ds]
        rel = [_nanmax(1.959963984540054 * ds[f"{q}_stderr"].values / np.abs(ds[q].values)) for q in plotted]
    nonfinite = sum(int(ds[k].sum()) for q in plotted for k in (f"{q}_n_posinf", f"{q}_n_neginf", f"{q}_n_nan")
                    if k in ds)
    rel = [r for r in rel if math.isfinite(r)]
    return FigureMetrics(
        id=str(ds.attrs.get("figure_id", "")), title=str(ds.attrs.get("title", "")),
        points=int(np.prod([ds.sizes[d] for d in _dims(ds)])), layouts=_layouts(ds),
        max_rel_ci=max(rel, default=float("nan")), nonfinite=nonfinite, max_z=max(z, default=float("nan")),
        wall_s=float(ds.attrs.get("wall_time_s", ds.attrs.get("mc_wall_time_s", float("nan")))),
        quick=bool(int(ds.attrs.get("quick", 0))),
    )


def _layouts(ds: xr.Dataset) -> int:
    """The most layouts a point used (``n_layouts_used``; a point stopped early on ``rel_ci`` uses
    fewer than the cap ``n_layouts``), else the attribute ``n_layouts``."""
    if "n_layouts_used" in ds and ds["n_layouts_used"].size:
        return int(np.nanmax(ds["n_layouts_used"].values))
    return int(ds.attrs.get("n_layouts", 0))


def _dims(ds: xr.Dataset) -> list[str]:
    dims = [str(ds.attrs.get("sweep_dim", next(iter(ds.sizes))))]
    if ds.attrs.get("series_dim"):
        dims.append(str(ds.attrs["series_dim"]))
    return dims


HEADER = (f"{'figure':<22}{'points':>7}{'layouts/pt':>12}{'max rel CI':>12}{'non-finite':>11}"
          f"{'max |MC-CF|/se':>16}{'done at s':>10}")


Z_FLAG = 4.0
"""|MC - closed form| / stderr above this is flagged ("!"): the project's agreement criterion."""


def z_text(z: float) -> str:
    """The agreement column: "-" where the figure has no Monte Carlo / closed-form pair."""
    if not math.isfinite(z):
        return "-"
    return f"{z:.2f}" + (" !" if z > Z_FLAG else "")


def summary_line(m: FigureMetrics) -> str:
    return (f"{m.id:<22}{m.points:>7}{m.layouts:>12}{m.max_rel_ci:>11.2%}{m.nonfinite:>11}"
            f"{z_text(m.max_z):>16}{m.wall_s:>10.1f}")


def _ours(path: Path) -> bool:
    """Whether ``path`` may be (over)written as an index: absent, or a regular file we wrote."""
    if not path.exists() and not path.is_symlink():
        return True
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(4096)
    except OSError:
        return False
    return MARK in head or head.lstrip().startswith(_LEGACY) or _LEGACY[1] in head


_KNOWN: dict[Path, tuple[tuple[int, int, int], FigureMetrics, dict]] = {}
"""Results written by this process: path -> ((inode, size, mtime_ns), metrics, attrs)."""


def _stamp(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_ino, st.st_size, st.st_mtime_ns


def remember(nc: str | Path, ds: xr.Dataset) -> None:
    """Record the metrics of the result ``ds`` just written to ``nc``, so that :func:`write_index`
    need not read the file back (about 0.3 s a file through h5netcdf). Used only while the file
    keeps its inode, size and modification time; a file changed since is read again."""
    nc = Path(nc)
    try:
        _KNOWN[nc.resolve()] = (_stamp(nc), metrics(ds), dict(ds.attrs))
    except OSError:
        pass


def _result(nc: Path):
    """(metrics, attrs) of an isacnet result file, or None for anything else (never raises)."""
    import xarray as xr

    try:
        if nc.is_symlink() or not nc.is_file():
            return None
        known = _KNOWN.get(nc.resolve())
        if known is not None and known[0] == _stamp(nc):
            return known[1], known[2]
        with xr.open_dataset(nc, engine="h5netcdf") as lazy:
            if "figure_id" not in lazy.attrs or "isacnet_version" not in lazy.attrs:
                return None
            ds = lazy.load()
        return metrics(ds), dict(ds.attrs)
    except Exception:  # noqa: BLE001 - a foreign or damaged file: left out, never fails the run
        return None


_IMAGE_FORMATS = ("png", "svg", "pdf")
"""Figure files the index shows (the first found inline) and links."""


def _figure_files(folder: Path, stem: str) -> list[str]:
    return [f"{stem}.{f}" for f in _IMAGE_FORMATS if (folder / f"{stem}.{f}").is_file()]


def _md_figure(folder: Path, stem: str) -> str:
    files = _figure_files(folder, stem)
    shown = next((f for f in files if not f.endswith(".pdf")), None)
    links = "Figure: " + ", ".join(f"[{f}]({f})" for f in files) if files else "No figure file."
    return (f"![{stem}]({shown})\n\n" if shown else "") + links


def _html_figure(folder: Path, stem: str) -> str:
    e = html.escape
    files = _figure_files(folder, stem)
    shown = next((f for f in files if not f.endswith(".pdf")), None)
    img = f'<img src="{e(shown)}" alt="{e(stem)}">' if shown else ""
    links = ", ".join(f'<a href="{e(f)}">{e(f)}</a>' for f in files)
    return img + (f"<p>Figure: {links}</p>" if links else "")


_INDEX_COLUMNS = ["figure", "title", "points", "layouts/point", "max rel. 95% CI", "non-finite samples",
                  "max abs(MC-CF)/se", "done at s"]


def _row(m: FigureMetrics) -> list[str]:
    return [m.id, m.title, str(m.points), str(m.layouts) + (" (quick)" if m.quick else ""),
            f"{m.max_rel_ci:.2%}", str(m.nonfinite), z_text(m.max_z), f"{m.wall_s:.1f}"]


def _scan(folder: Path, notes: list[str]):
    """The isacnet results in ``folder`` (path, metrics, attrs) and the combined figures' stems;
    a note for the .nc files that are not isacnet's."""
    found = []
    foreign = []
    for nc in sorted(folder.glob("*.nc")):
        r = _result(nc)
        if r is None:
            foreign.append(nc.name)
        else:
            found.append((nc, r[0], r[1]))
    if foreign:
        notes.append(f"{len(foreign)} .nc file(s) in {folder} are not isacnet results and were left out of "
                     f"the index: {', '.join(foreign[:5])}{' ...' if len(foreign) > 5 else ''}")
    figures = {p.stem for f in _IMAGE_FORMATS for p in folder.glob(f"*.{f}")}
    return found, sorted(figures - {nc.stem for nc, _, _ in found})


def _index_markdown(folder: Path, found, groups) -> str:
    cols = _INDEX_COLUMNS
    md = ["# isacnet results", "", f"<!-- {MARK}: written by isacnet, rewritten by every run into this folder -->", "",
          "Every figure in this folder, with its data (`.nc` netCDF with config, seed and versions "
          "in its attributes; `.csv`). Max rel. 95% CI: the largest CI half-width relative to the "
          "estimate over the plotted Monte Carlo outputs; max abs(MC-CF)/se: the largest "
          "Monte Carlo minus closed-form difference in standard errors where the two must agree "
          f"(\"-\": no such pair; \"!\": above {Z_FLAG:g}).", "",
          "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    md += ["| " + " | ".join(_row(m)) + " |" for _, m, _ in found]
    md.append("")
    for g in groups:
        md += [f"## {g}", "", _md_figure(folder, g), ""]
    for nc, m, attrs in found:
        md += [f"## {m.id}: {m.title}", "", _md_figure(folder, nc.stem), "",
               f"Data: [{nc.name}]({nc.name}), [{nc.stem}.csv]({nc.stem}.csv); seed {attrs.get('seed')}, "
               f"isacnet {attrs.get('isacnet_version')}.", ""]
    return "\n".join(md)


def _index_html(folder: Path, found, groups) -> str:
    e = html.escape
    rows = "\n".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in _row(m)) + "</tr>" for _, m, _ in found)
    imgs = "\n".join(f"<h2>{e(g)}</h2>{_html_figure(folder, g)}" for g in groups)
    imgs += "\n".join(
        f"<h2>{e(m.id)}: {e(m.title)}</h2>{_html_figure(folder, nc.stem)}"
        f'<p>Data: <a href="{e(nc.name)}">{e(nc.name)}</a>, <a href="{e(nc.stem)}.csv">{e(nc.stem)}.csv</a>; '
        f"seed {e(str(attrs.get('seed')))}, isacnet {e(str(attrs.get('isacnet_version')))}.</p>"
        for nc, m, attrs in found)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>isacnet results</title>
<!-- {MARK}: written by isacnet, rewritten by every run into this folder -->
<style>body{{font-family:sans-serif;max-width:1100px;margin:auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 6px;font-size:90%}}img{{max-width:100%}}</style></head>
<body><h1>isacnet results</h1>
<table><tr>{''.join(f'<th>{e(c)}</th>' for c in _INDEX_COLUMNS)}</tr>
{rows}
</table>
{imgs}
</body></html>
"""


def write_index(folder: str | Path, skipped: list[str] | None = None) -> tuple[Path | None, Path | None]:
    """(Re)write ``index.html`` and ``README.md`` in ``folder`` for every result found there.

    ``skipped`` (a list) receives one note per file left out of the index or not overwritten.
    Returns the two paths; None for an index file left alone because isacnet did not write it.
    """
    folder = Path(folder)
    notes = skipped if skipped is not None else []
    found, groups = _scan(folder, notes)
    page = _index_html(folder, found, groups)
    md = _index_markdown(folder, found, groups)
    written: list[Path | None] = []
    for name, text in (("index.html", page), ("README.md", md)):
        path = folder / name
        if not _ours(path):
            notes.append(f"{path} was not written by isacnet: left unchanged")
            written.append(None)
            continue
        def write(t: Path, text: str = text) -> None:
            t.write_text(text, encoding="utf-8")

        written.append(atomic_write(path, write))
    return written[0], written[1]
