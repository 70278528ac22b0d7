"""``isacnet reproduce`` and ``isacnet run``: specs -> preflight -> Monte Carlo -> files, and what
both share (the common options, the executor, the summary)."""

from __future__ import annotations

import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import click

from ..params import ParameterError
from ._backend import _backend_options, _gpu_block_note, _with_backend
from ._errors import _STATE
from ._figopts import FigureOutput, figure_options
from ._main import main

CHUNK_DIR = ".isacnet-chunks"
"""Where finished chunks are kept, under the output folder."""


def _executor(workers: int | None, scheduler: str | None = None, blocks: int | None = None):
    """The executor; ``--workers`` capped by the usable CPUs and by ``blocks`` (the most chunks
    the work can be cut into), with a one-line note when capped."""
    from ..params import check_int
    from ..simulation.executors import make_executor, usable_cpus

    if workers is not None:
        workers = check_int("--workers", workers, ge=1)
        cpus = usable_cpus()
        cap = min(cpus, blocks or workers) if scheduler is None or scheduler == "local" else workers
        if workers > cap:
            click.echo(
                f"note: --workers {workers} capped to {cap} ({cpus} usable CPUs, {blocks} blocks of work)", err=True
            )
            workers = cap
    return make_executor(workers, scheduler)


def _total_blocks(specs, quick: bool, max_layouts, rel_ci=None) -> int:
    total = 0
    for s in specs:
        n = max_layouts or (s.quick_n_layouts if quick else (s.rel_ci_cap if rel_ci else s.n_layouts))
        total += len(s.points()) * -(-n // s.block_size)
    return max(1, total)


def _check_out(value: str | Path) -> Path:
    """``--out`` must name a folder: not empty (that would be the current folder) nor a file."""
    if not str(value).strip():
        raise ParameterError(
            "--out",
            str(value),
            "a folder name (empty would write into the current "
            "folder; give e.g. --out isacnet-results, or --out . on purpose)",
        )
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise ParameterError("--out", str(out), "a folder (this is an existing file)")
    return out


def _check_stopping(rel_ci, max_layouts, n_layouts) -> None:
    """--rel-ci in (0, 1); --max-layouts (the cap) only with --rel-ci and not with --n-layouts."""
    from ..params import check_int, check_real

    if rel_ci is not None:
        check_real("--rel-ci", rel_ci, gt=0.0, lt=1.0)
    if max_layouts is not None:
        if rel_ci is None:
            raise ParameterError(
                "--max-layouts",
                max_layouts,
                "given with --rel-ci (it caps early stopping; use --n-layouts for a fixed number)",
            )
        if n_layouts is not None:
            raise ParameterError("--max-layouts", max_layouts, "given without --n-layouts (both set the cap)")
        check_int("--max-layouts", max_layouts, ge=2)


GROUP_TITLES = {
    "song-fig1": "Song et al., Fig. 1",
    "meng-fig3": "Meng & Masouros, Fig. 3",
    "meng-fig4": "Meng & Masouros, Fig. 4",
    "coverage": "Joint-transmission models and the meta distribution",
    "deploy": "PPP against regular networks",
}
"""Titles of the built-in combined figures (a group of the user's own is titled by its name)."""


SAVER_PROCESSES: bool | None = None
"""Write results in saver processes (True), a thread (False), or processes where they fork (None)."""


def _save_files(out: Path, output: FigureOutput, spec_id: str, ds) -> tuple[Path, Path]:
    """One figure's netCDF, CSV, sidecar and figure (in a saver process)."""
    from ..experiments.store import save_dataset
    from ..plotting import save_figure

    paths = save_dataset(ds, out, spec_id)
    png = save_figure([ds], out / spec_id, formats=output.formats, dpi=output.dpi, style=output.style)
    return paths["nc"], png


def _save_combined(out: Path, output: FigureOutput, group: str, dss: list) -> Path:
    """A group's combined figure (in a saver process)."""
    from ..plotting import save_figure

    return save_figure(dss, out / group, suptitle=GROUP_TITLES.get(group, group), formats=output.formats,
                       dpi=output.dpi, style=output.style)


class _Saver:
    """Writes each finished figure's files (netCDF, CSV, sidecar, figure) in the background, so
    that they are on disk as soon as the figure is done and the writing overlaps the other
    figures' Monte Carlo, and a group's combined figure as soon as its last member is done.

    Where processes can be forked (Linux, JAX not loaded) two saver processes (one on one CPU),
    forked before the Monte Carlo starts any thread, so that the writing neither holds this
    process's GIL nor queues behind one figure at the end; elsewhere one thread (a spawned process
    would pay isacnet's imports first). A failed write stops the run at the next figure; an
    interrupted run waits for the files being written (atomic in any case) and drops the queued
    ones."""

    def __init__(self, out: Path, output: FigureOutput, specs=(), processes: bool | None = None) -> None:
        from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor, wait

        from ..simulation.executors import _context, _die_with_parent, usable_cpus

        self.out, self.output = out, output
        self.futures: list[tuple[Any, Any, Future]] = []  # (spec, ds, future)
        ctx = _context()
        if processes is None:
            processes = ctx.get_start_method() == "fork" if SAVER_PROCESSES is None else SAVER_PROCESSES
        self.pool: Executor
        if processes:
            n = min(2, usable_cpus())
            self.pool = ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_die_with_parent)
            wait([self.pool.submit(int) for _ in range(n)])  # start the processes now
        else:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="isacnet-save")
        groups: dict[str, list[str]] = {}
        for s in specs:
            if s.group:
                groups.setdefault(s.group, []).append(s.id)
        self.groups = {g: ids for g, ids in groups.items() if len(ids) > 1}  # drawn combined
        self.members: dict[str, list] = {g: [] for g in self.groups}
        self.combined: list[Future] = []

    def submit(self, spec, ds) -> None:
        for _, _, f in self.futures:
            if f.done() and (exc := f.exception()) is not None:
                raise exc  # e.g. a full disk: say so now, not after the remaining work
        self.futures.append((spec, ds, self.pool.submit(_save_files, self.out, self.output, spec.id, ds)))
        g = spec.group
        if g in self.groups:
            self.members[g].append((spec.id, ds))
            if len(self.members[g]) == len(self.groups[g]):
                order = {sid: i for i, sid in enumerate(self.groups[g])}  # the run's order of the specs
                dss = [d for _, d in sorted(self.members[g], key=lambda m: order[m[0]])]
                self.combined.append(self.pool.submit(_save_combined, self.out, self.output, g, dss))

    def rows(self) -> list:
        """(spec, ds, nc path, figure path) per figure, once every file is written."""
        from ..experiments.report import remember

        out = []
        for spec, ds, f in self.futures:
            nc, png = f.result()
            remember(nc, ds)  # the index needs not read it back
            out.append((spec, ds, nc, png))
        self.combined_paths = [f.result() for f in self.combined]
        return out

    def __enter__(self) -> _Saver:
        return self

    def __exit__(self, exc_type, *_) -> None:
        self.pool.shutdown(wait=True, cancel_futures=exc_type is not None)


def _run_and_save(
    specs,
    out: Path,
    workers,
    quick,
    progress,
    fresh: bool,
    scheduler=None,
    rel_ci=None,
    max_layouts=None,
    keep_chunks: bool = False,
    output: FigureOutput | None = None,
) -> None:
    from ..experiments.chunkstore import ChunkStore, discard
    from ..experiments.preflight import preflight
    from ..experiments.runner import run_specs
    from ..experiments.store import check_writable
    from ..simulation.executors import usable_cpus

    output = output or FigureOutput()
    _check_out(out)
    helpers = 0 if workers == 1 or scheduler is not None else min(2, usable_cpus())  # closed forms beside the kernels
    for note in preflight(specs, quick=quick, max_layouts=max_layouts, processes=helpers):  # all before any work
        click.echo(f"note: {note}", err=True)  # a closed form that does not apply: skipped, said once
    executor = _executor(workers, scheduler, _total_blocks(specs, quick, max_layouts, rel_ci))
    check_writable(out)
    _STATE["out"] = out
    t0 = time.perf_counter()
    if fresh and (note := discard(out / CHUNK_DIR)):
        click.echo(f"note: {note}", err=True)
    store = ChunkStore(out / CHUNK_DIR, keep_chunks=keep_chunks)
    with _Saver(out, output, specs) as saver:  # each figure's files are written as soon as it is done
        run_specs(specs, executor, quick=quick, progress=progress, cache=store, rel_ci=rel_ci,
                  max_layouts=max_layouts, on_result=saver.submit)
        order = {id(s): i for i, s in enumerate(specs)}
        rows = sorted(saver.rows(), key=lambda r: order[id(r[0])])  # the order asked for, not of completion
    if store.n_invalid:
        n = store.n_invalid
        click.echo(
            f"warning: {n} stored chunk{'s' if n > 1 else ''} failed validation and "
            f"{'were' if n > 1 else 'was'} recomputed (first: {store.invalid[0][1]})",
            err=True,
        )
    for png in saver.combined_paths:
        click.echo(f"combined figure: {png}")
    _summary(rows, time.perf_counter() - t0, out)


def _summary(rows, wall: float, out: Path) -> None:
    """Per figure: points, layouts, largest relative 95% CI half-width of the plotted Monte Carlo
    outputs, their non-finite samples (singular FIMs; counted, never averaged), the largest
    |MC - closed form| / stderr over the model's agreement pairs (e.g. MC of (23) vs (26)) and
    the wall time; then the index of the output folder."""
    from ..experiments.report import HEADER, metrics, summary_line, write_index

    click.echo("\n" + HEADER)
    for _, ds, _, _ in rows:
        click.echo(summary_line(metrics(ds)))
    skipped: list[str] = []
    html, _ = write_index(out, skipped=skipped)
    for note in skipped:
        click.echo(f"note: {note}", err=True)
    click.echo(f"wall time {wall:.1f} s; index: {html or 'not written'}")


_common = [
    click.option(
        "--out",
        "out",
        type=str,
        default="isacnet-results",
        show_default=True,
        callback=lambda ctx, param, v: _check_out(v),
        help="Output folder.",
    ),
    click.option("--quick", is_flag=True, help="Few layouts per point: a smoke test in seconds."),
    click.option(
        "--workers", type=int, default=None, help="Worker processes (1 = serial reference; default: one per core)."
    ),
    click.option("--seed", type=int, default=None, help="Override the spec's seed."),
    click.option("--n-layouts", type=int, default=None, help="Override layouts per sweep point (wins over --quick)."),
    click.option(
        "--scheduler",
        default=None,
        metavar="local|ADDRESS",
        help="Run on Dask: `local` starts a LocalCluster of --workers processes on this machine, "
        "an address (tcp://host:8786) uses that running cluster. Default: a local process pool.",
    ),
    click.option(
        "--rel-ci",
        "rel_ci",
        type=float,
        default=None,
        help="Stop each point early once the 95% CI half-width of its plotted Monte Carlo outputs "
        "is below REL_CI x |estimate| (0 < REL_CI < 1), checked at 1/64, 1/32, ... of the cap.",
    ),
    click.option(
        "--max-layouts",
        "max_layouts",
        type=int,
        default=None,
        help="With --rel-ci: the cap on layouts per point (default: the spec's max_layouts, else its n_layouts).",
    ),
    click.option(
        "--progress/--no-progress", default=None, help="Progress bar (default: on when stderr is a terminal)."
    ),
    click.option("--fresh", is_flag=True, help=f"Discard finished chunks kept in OUT/{CHUNK_DIR} instead of resuming."),
    click.option(
        "--keep-chunks",
        "keep_chunks",
        is_flag=True,
        help=f"Keep every chunk file in OUT/{CHUNK_DIR} (default: one small record per finished point).",
    ),
]


def _with_common(f):
    for opt in reversed(_common):
        f = opt(f)
    return f


@main.command(short_help="Regenerate paper figures: an id, a group or `all` (resumable).")
@click.argument("figures", nargs=-1, required=True)
@_with_common
@click.option(
    "--window-radius",
    type=float,
    default=None,
    help="Simulate the PPP on a finite disk of this radius [m] (the paper's set-up) instead of the infinite plane.",
)
@click.option("--k-nearest", type=int, default=None, help="Points per process sampled exactly.")
@_backend_options
@figure_options
def reproduce(
    figures,
    out,
    quick,
    workers,
    seed,
    n_layouts,
    scheduler,
    rel_ci,
    max_layouts,
    progress,
    fresh,
    keep_chunks,
    window_radius,
    k_nearest,
    backend,
    dtype,
    block_size,
    formats,
    dpi,
    style,
):
    """Regenerate paper figures: an id (song-fig1a), a group (song-fig1) or `all`.

    Finished chunks are kept in OUT/.isacnet-chunks: if the run is killed, the same command
    resumes it and ends with the same numbers as an uninterrupted run.
    """
    from ..experiments.spec import resolve_figures

    _check_stopping(rel_ci, max_layouts, n_layouts)
    specs = [
        s.with_overrides(
            seed=seed,
            n_layouts=n_layouts,
            quick_n_layouts=n_layouts,
            block_size=block_size,
            window_radius=window_radius,
            k_nearest=k_nearest,
        )
        for s in resolve_figures(list(figures))
    ]
    specs = _with_backend(specs, backend, dtype)
    _gpu_block_note(specs)
    if window_radius is not None:
        import dataclasses

        specs = [
            dataclasses.replace(
                s,
                id=f"{s.id}-window{window_radius:g}m",
                group=f"{s.group}-window{window_radius:g}m" if s.group else None,
            )
            for s in specs
        ]
    _run_and_save(
        specs,
        out,
        workers,
        quick,
        progress,
        fresh,
        scheduler,
        rel_ci,
        max_layouts,
        keep_chunks,
        FigureOutput(formats, dpi, style),
    )


@main.command(short_help="Run a sweep declared in a TOML config file (Monte Carlo + closed forms).")
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_with_common
@_backend_options
@figure_options
def run(
    config,
    out,
    quick,
    workers,
    seed,
    n_layouts,
    scheduler,
    rel_ci,
    max_layouts,
    progress,
    fresh,
    keep_chunks,
    backend,
    dtype,
    block_size,
    formats,
    dpi,
    style,
):
    """Run a sweep declared in a TOML CONFIG file (format: isacnet.experiments.spec)."""
    from ..experiments.spec import load_spec

    _check_stopping(rel_ci, max_layouts, n_layouts)
    spec = load_spec(config).with_overrides(
        seed=seed, n_layouts=n_layouts, quick_n_layouts=n_layouts, block_size=block_size
    )
    (spec,) = _with_backend([spec], backend, dtype)
    _gpu_block_note([spec])
    _run_and_save(
        [spec],
        out,
        workers,
        quick,
        progress,
        fresh,
        scheduler,
        rel_ci,
        max_layouts,
        keep_chunks,
        FigureOutput(formats, dpi, style),
    )
