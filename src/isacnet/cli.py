"""Command line: thin wrappers over isacnet.experiments.

    isacnet list                              the figures it can reproduce
    isacnet reproduce song-fig1 [--quick]     a paper figure (or a panel id, or `all`)
    isacnet run my-sweep.toml                 a sweep declared in a config file
    isacnet eval song --set gamma=3           closed forms at one parameter point

Exit status: 0 done; 2 bad usage (a parameter, option, config file or output folder to change;
one line ``error: ...`` naming it); 1 a failure at run time (out of memory, workers killed, an
I/O error, an internal error; one line); 130 interrupted (Ctrl-C) and 143 terminated (SIGTERM),
with finished chunks kept so the same command resumes. ``--debug`` (or ``ISACNET_DEBUG=1``)
shows the traceback instead.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import time
import warnings
from pathlib import Path

import click

from .params import TRADEOFF_L_MAX, TRADEOFF_N_MAX, ParameterError


def _executor(workers: int | None, scheduler: str | None = None, blocks: int | None = None):
    """The executor; ``--workers`` capped by the usable CPUs and by ``blocks`` (the most chunks
    the work can be cut into), with a one-line note when capped."""
    from .experiments.executors import make_executor, usable_cpus
    from .params import check_int

    if workers is not None:
        workers = check_int("--workers", workers, ge=1)
        cpus = usable_cpus()
        cap = min(cpus, blocks or workers) if scheduler is None or scheduler == "local" else workers
        if workers > cap:
            click.echo(f"note: --workers {workers} capped to {cap} ({cpus} usable CPUs, "
                       f"{blocks} blocks of work)", err=True)
            workers = cap
    return make_executor(workers, scheduler)


def _total_blocks(specs, quick: bool, max_layouts) -> int:
    total = 0
    for s in specs:
        n = max_layouts or (s.quick_n_layouts if quick else s.n_layouts)
        total += len(s.points()) * -(-n // s.block_size)
    return max(1, total)


def _check_out(value: str | Path) -> Path:
    """``--out`` must name a folder: not empty (that would be the current folder) nor a file."""
    if not str(value).strip():
        raise ParameterError("--out", str(value), "a folder name (empty would write into the current "
                             "folder; give e.g. --out isacnet-results, or --out . on purpose)")
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise ParameterError("--out", str(out), "a folder (this is an existing file)")
    return out


def _check_stopping(rel_ci, max_layouts, n_layouts) -> None:
    """--rel-ci in (0, 1); --max-layouts (the cap) only with --rel-ci and not with --n-layouts."""
    from .params import check_int, check_real

    if rel_ci is not None:
        check_real("--rel-ci", rel_ci, gt=0.0, lt=1.0)
    if max_layouts is not None:
        if rel_ci is None:
            raise ParameterError("--max-layouts", max_layouts,
                                 "given with --rel-ci (it caps early stopping; use --n-layouts for a fixed number)")
        if n_layouts is not None:
            raise ParameterError("--max-layouts", max_layouts, "given without --n-layouts (both set the cap)")
        check_int("--max-layouts", max_layouts, ge=2)


CHUNK_DIR = ".isacnet-chunks"


def _run_and_save(specs, out: Path, workers, quick, progress, fresh: bool, scheduler=None, rel_ci=None,
                  max_layouts=None, keep_chunks: bool = False) -> None:
    from .experiments.chunkstore import ChunkStore, discard
    from .experiments.preflight import preflight
    from .experiments.runner import run_specs
    from .experiments.store import check_writable, save_dataset
    from .plotting import save_figure

    _check_out(out)
    preflight(specs, quick=quick, max_layouts=max_layouts)  # every point checked before any work
    executor = _executor(workers, scheduler, _total_blocks(specs, quick, max_layouts))
    check_writable(out)
    _STATE["out"] = out
    t0 = time.perf_counter()
    if fresh and (note := discard(out / CHUNK_DIR)):
        click.echo(f"note: {note}", err=True)
    store = ChunkStore(out / CHUNK_DIR, keep_chunks=keep_chunks)
    datasets = run_specs(specs, executor, quick=quick, progress=progress,
                         cache=store, rel_ci=rel_ci, max_layouts=max_layouts)
    if store.n_invalid:
        n = store.n_invalid
        click.echo(f"warning: {n} stored chunk{'s' if n > 1 else ''} failed validation and "
                   f"{'were' if n > 1 else 'was'} recomputed (first: {store.invalid[0][1]})", err=True)
    rows = []
    for spec, ds in zip(specs, datasets, strict=True):
        paths = save_dataset(ds, out, spec.id)
        png = save_figure([ds], out / f"{spec.id}.png")
        rows.append((spec, ds, paths["nc"], png))
    groups: dict[str, list] = {}
    for spec, ds, _, _ in rows:
        if spec.group:
            groups.setdefault(spec.group, []).append(ds)
    for g, dss in groups.items():
        if len(dss) > 1:
            png = save_figure(dss, out / f"{g}.png", suptitle=g)
            click.echo(f"combined figure: {png}")
    _summary(rows, time.perf_counter() - t0, out)


def _summary(rows, wall: float, out: Path) -> None:
    """Per figure: points, layouts, largest relative 95% CI half-width of the plotted Monte Carlo
    outputs, their non-finite samples (singular FIMs; counted, never averaged), the largest
    |MC - closed form| / stderr over the model's agreement pairs (e.g. MC of (23) vs (26)) and
    the wall time; then the index of the output folder."""
    from .experiments.report import HEADER, metrics, summary_line, write_index

    click.echo("\n" + HEADER)
    for _, ds, _, _ in rows:
        click.echo(summary_line(metrics(ds)))
    skipped: list[str] = []
    html, _ = write_index(out, skipped=skipped)
    for note in skipped:
        click.echo(f"note: {note}", err=True)
    click.echo(f"wall time {wall:.1f} s; index: {html or 'not written'}")


_common = [
    click.option("--out", "out", type=str, default="isacnet-results", show_default=True,
                 callback=lambda ctx, param, v: _check_out(v), help="Output folder."),
    click.option("--quick", is_flag=True, help="Few layouts per point: a smoke test in seconds."),
    click.option("--workers", type=int, default=None,
                 help="Worker processes (1 = serial reference; default: one per core)."),
    click.option("--seed", type=int, default=None, help="Override the spec's seed."),
    click.option("--n-layouts", type=int, default=None,
                 help="Override layouts per sweep point (wins over --quick)."),
    click.option("--scheduler", default=None, metavar="local|ADDRESS",
                 help="Run on Dask: `local` starts a LocalCluster of --workers processes on this machine, "
                      "an address (tcp://host:8786) uses that running cluster. Default: a local process pool."),
    click.option("--rel-ci", "rel_ci", type=float, default=None,
                 help="Stop each point early once the 95% CI half-width of its plotted Monte Carlo outputs "
                      "is below REL_CI x |estimate| (0 < REL_CI < 1), checked at 1/64, 1/32, ... of the cap."),
    click.option("--max-layouts", "max_layouts", type=int, default=None,
                 help="With --rel-ci: the cap on layouts per point (default: the spec's n_layouts)."),
    click.option("--progress/--no-progress", default=None,
                 help="Progress bar (default: on when stderr is a terminal)."),
    click.option("--fresh", is_flag=True,
                 help=f"Discard finished chunks kept in OUT/{CHUNK_DIR} instead of resuming."),
    click.option("--keep-chunks", "keep_chunks", is_flag=True,
                 help=f"Keep every chunk file in OUT/{CHUNK_DIR} (default: one small record per finished point)."),
]


def _with_common(f):
    for opt in reversed(_common):
        f = opt(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="isacnet")
@click.option("--debug", is_flag=True, help="Show the full traceback of an error (also ISACNET_DEBUG=1); "
              "may be given anywhere on the line.")
def main(debug: bool = False) -> None:
    """isacnet: closed forms and Monte Carlo for ISAC and distributed MIMO radar networks.

    Exit status: 0 done, 2 bad usage (one line naming what to change), 1 a failure at run time
    (one line), 130 interrupted, 143 terminated (finished chunks kept: rerun to resume).
    """


@main.command("list")
def list_figures() -> None:
    """List the figures `reproduce` knows."""
    from .experiments.spec import builtin_specs

    specs = list(builtin_specs().values())
    wid = max(len("FIGURE"), *(len(s.id) for s in specs))
    wgr = max(len("GROUP"), *(len(s.group or "-") for s in specs))
    click.echo(f"{'FIGURE':<{wid}}  {'GROUP':<{wgr}}  TITLE")
    for s in specs:
        title = s.title.replace("$", "").replace("\\", "")  # mathtext is for figures, not terminals
        click.echo(f"{s.id:<{wid}}  {s.group or '-':<{wgr}}  {title}")


def _backend_options(f):
    f = click.option("--dtype", type=click.Choice(["float64", "float32"]), default=None,
                     help="Precision of the compiled backends (default float64).")(f)
    return click.option("--backend", type=click.Choice(["numpy", "numba", "jax"]), default=None,
                        help="Who computes the Monte Carlo kernels that have compiled versions (Song "
                             "and Meng CRLB; the Meng rate on numba only): numba (CPU, isacnet[fast]) or jax (GPU, "
                             "isacnet[gpu]). Figures without a kernel for it run on numpy, with a note.")(f)


def _with_backend(specs, backend, dtype):
    """Apply --backend/--dtype to the specs whose model has compiled kernels; say which not."""
    from .experiments.registry import get_model

    if backend is None and dtype is None:
        return specs
    out = []
    for s in specs:
        option = get_model(s.model).options.get("backend")
        if option is None:
            click.echo(f"note: {s.id} ({s.model}) has no compiled kernel; it runs on numpy", err=True)
            out.append(s)
            continue
        if backend is not None:
            try:
                option[0]("backend", backend)
            except ParameterError:
                click.echo(f"note: {s.id} ({s.model}) has no {backend} kernel; it runs on numpy", err=True)
                out.append(s)
                continue
        out.append(s.with_overrides(backend=backend, dtype=dtype))
    return out


@main.command()
@click.argument("figures", nargs=-1, required=True)
@_with_common
@click.option("--window-radius", type=float, default=None,
              help="Simulate the PPP on a finite disk of this radius [m] (the paper's set-up) "
                   "instead of the infinite plane.")
@click.option("--k-nearest", type=int, default=None, help="Points per process sampled exactly.")
@_backend_options
def reproduce(figures, out, quick, workers, seed, n_layouts, scheduler, rel_ci, max_layouts, progress, fresh,
              keep_chunks, window_radius, k_nearest, backend, dtype):
    """Regenerate paper figures: an id (song-fig1a), a group (song-fig1) or `all`.

    Finished chunks are kept in OUT/.isacnet-chunks: if the run is killed, the same command
    resumes it and ends with the same numbers as an uninterrupted run.
    """
    from .experiments.spec import resolve_figures

    _check_stopping(rel_ci, max_layouts, n_layouts)
    specs = [s.with_overrides(seed=seed, n_layouts=n_layouts, quick_n_layouts=n_layouts,
                              window_radius=window_radius, k_nearest=k_nearest)
             for s in resolve_figures(list(figures))]
    specs = _with_backend(specs, backend, dtype)
    if window_radius is not None:
        import dataclasses

        specs = [dataclasses.replace(s, id=f"{s.id}-window{window_radius:g}m",
                                     group=f"{s.group}-window{window_radius:g}m" if s.group else None)
                 for s in specs]
    _run_and_save(specs, out, workers, quick, progress, fresh, scheduler, rel_ci, max_layouts, keep_chunks)


@main.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_with_common
@_backend_options
def run(config, out, quick, workers, seed, n_layouts, scheduler, rel_ci, max_layouts, progress, fresh, keep_chunks,
        backend, dtype):
    """Run a sweep declared in a TOML CONFIG file (format: isacnet.experiments.spec)."""
    from .experiments.spec import load_spec

    _check_stopping(rel_ci, max_layouts, n_layouts)
    spec = load_spec(config).with_overrides(seed=seed, n_layouts=n_layouts, quick_n_layouts=n_layouts)
    (spec,) = _with_backend([spec], backend, dtype)
    _run_and_save([spec], out, workers, quick, progress, fresh, scheduler, rel_ci, max_layouts, keep_chunks)


@main.command("eval")
@click.argument("model", type=click.Choice(["song"]))
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override a parameter (SI units), e.g. --set gamma=3 --set tx_power=0.1.")
@click.option("--mc", "mc_layouts", type=int, default=0, help="Also run a Monte Carlo of N layouts.")
@click.option("--seed", type=int, default=0, show_default=True)
def eval_(model, sets, mc_layouts, seed):
    """Closed forms (and optionally Monte Carlo) at one parameter point."""

    from . import song
    from .params import SongParams, from_mapping

    p = from_mapping(SongParams, _parse_sets(sets), where="--set")
    ln10 = math.log(10.0)

    def num(value, log_value: float) -> str:
        """A value, or its power of ten where it is not a normal float64 (computed in logs)."""
        return f"{value:.6g}" if value is not None else f"10^{log_value / ln10:.6g} (beyond float64)"

    def attempt(f):
        try:
            return f()
        except ParameterError:
            return None

    from .analysis.song import _log_lemma3

    lines = []  # printed once all is computed: an error leaves no half-printed answer
    with _evaluable(sets):
        lines.append(f"rho_s = {num(attempt(lambda: p.rho_s), p.log_rho_s)}, "
                     f"eta = {num(attempt(lambda: p.eta), p.log_eta)}")
        if p.gamma <= 2.0:
            p.require_gamma_above_2("the closed forms of `isacnet eval song`")
        fc = song.fair_comparison(p)  # the ratio is exact, (M_t M_r)^(1 - gamma/2), even where the bounds overflow
        lines.append(f"Theorem 2 bound (26):           {num(fc['mimo'], fc['log10_mimo'] * ln10)} m^2")
        lines.append(f"single-antenna bound (28),(29): {num(fc['single'], fc['log10_single'] * ln10)} m^2 "
                     f"(ratio {fc['ratio']:.4g})")
        l3 = attempt(lambda: float(song.lemma3(p.tx_density, p.gamma)))
        lines.append(f"Lemma 3 (24) TX:                {num(l3, float(_log_lemma3(p.tx_density, p.gamma)))} m^gamma")
        if mc_layouts:
            r = song.monte_carlo(p, mc_layouts, seed, workers=None, progress=None)
            lines.append(f"MC of (18): {r['crlb']}")
            lines.append(f"MC of (23): {r['jensen']}")
    click.echo("\n".join(lines))

@contextlib.contextmanager
def _evaluable(sets):
    """Arithmetic faults of the formulas at the ``--set`` point (an overflow, a division by zero)
    become a ParameterError naming the ``--set`` values: they are the user's to change."""
    try:
        yield
    except ArithmeticError as exc:
        shown = " ".join(f"--set {s}" for s in sets) or "the default parameters"
        raise ParameterError("--set", shown, f"values the formulas can evaluate ({type(exc).__name__}: "
                             f"{_one_line(exc)})") from None


def _parse_sets(sets) -> dict:
    """``--set KEY=VALUE`` options as a mapping (values in TOML syntax)."""
    import tomllib

    mapping = {}
    for s in sets:
        key, sep, val = s.partition("=")
        if not sep:
            raise ParameterError("--set", s, "KEY=VALUE")
        try:
            mapping[key.strip()] = tomllib.loads(f"v = {val.strip()}")["v"]
        except tomllib.TOMLDecodeError:
            raise ParameterError(key.strip(), val, "a number (TOML syntax)") from None
    return mapping


@main.command("optimize")
@click.option("--weight", type=float, default=None,
              help="Maximise w R_c + (1 - w) (1/2) ln(1 m^2 / CRLB_a), w in [0, 1].")
@click.option("--min-rate", type=float, default=None,
              help="Smallest CRLB_a with R_c >= this rate target, in nats/s/Hz (Theorem 2's unit; "
                   "bit/s/Hz x ln 2) or in --rate-unit.")
@click.option("--rate-unit", "rate_unit", type=click.Choice(["nats", "bits"]), default="nats", show_default=True,
              help="Unit of --min-rate and of the printed rates: nats/s/Hz or bits/s/Hz (1 bit = ln 2 nats).")
@click.option("--max-crlb", type=float, default=None, help="Largest R_c with CRLB_a <= this [m^2].")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Network parameter (MengParams, SI units), e.g. --set backhaul_capacity=4 "
                   "--set sensing_rate_demand=0.3 --set user_density=2e-6.")
@click.option("--L-max", "L_max", type=int, default=TRADEOFF_L_MAX, show_default=True,
              help="Largest L searched (the same default as isacnet.meng.optimize).")
@click.option("--N-max", "N_max", type=int, default=TRADEOFF_N_MAX, show_default=True,
              help="Largest N searched (the same default as isacnet.meng.optimize).")
@click.option("--variant", type=click.Choice(["exact", "paper"]), default="exact", show_default=True,
              help="Theorem 2 re-derived or as printed.")
@click.option("--verify", "verify", type=int, default=0,
              help="Confirm the design by a Monte Carlo of this many layouts.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the design as JSON.")
def optimize_cmd(weight, min_rate, max_crlb, rate_unit, sets, L_max, N_max, variant, verify, seed, as_json):
    """The best cooperative design (L, N, p^c) under the backhaul constraint R_c + e N <= C.

    Rates are in nats/s/Hz (Theorem 2's unit, the backhaul C's) unless --rate-unit bits.
    """
    import json

    from .analysis.optimize import Tradeoff, check_objective
    from .params import MengParams, from_mapping

    p = from_mapping(MengParams, _parse_sets(sets), where="--set")
    check_objective(weight, min_rate, max_crlb)
    if rate_unit == "bits" and min_rate is not None:  # Tradeoff works in nats
        from .params import check_real

        min_rate = check_real("--min-rate", min_rate, ge=0.0) * math.log(2.0)
    with _evaluable(sets):
        t = Tradeoff(p, L_max=L_max, N_max=N_max, rate_variant=variant)
        d = t.solve(weight=weight, min_rate=min_rate, max_crlb=max_crlb)
    out = d.as_dict()
    if verify:
        from .meng import verify_design

        est = verify_design(p, d, verify, seed, workers=None, progress=None)
        out.update(mc_rate=est["rate_nats"].mean, mc_rate_ci95=list(est["rate_nats"].ci95),
                   mc_crlb_geo_mean=est["geo_mean"].mean, mc_crlb_geo_mean_ci95=list(est["geo_mean"].ci95),
                   mc_singular=est["singular"].mean, mc_layouts=verify)
    if as_json:
        # strict JSON: a non-finite number (the CRLB of a design without sensing power) as a string
        click.echo(json.dumps({k: (repr(v) if isinstance(v, float) and not math.isfinite(v) else v)
                               for k, v in out.items()}, indent=2, default=float))
        return
    s, c = t.sensing_corner(), t.comm_corner()
    click.echo(f"best design: L = {d.L}, N = {d.N}, p^c = {d.p_c:.6g} (p^s = {d.p_s:.6g})")
    rates = (f"{d.rate:.6g} nats/s/Hz ({d.rate_bits:.6g} bits/s/Hz)" if rate_unit == "nats"
             else f"{d.rate_bits:.6g} bits/s/Hz ({d.rate:.6g} nats/s/Hz)")
    click.echo(f"  R_c      = {rates}, Theorem 2 ({variant})")
    click.echo(f"  CRLB_a   = {d.crlb:.6g} m^2 ((16), mean-field)")
    click.echo(f"  kappa_s  = {d.kappa_s:.6g}, kappa_c = {d.kappa_c:.6g}")
    click.echo(f"  backhaul = R_c + e N = {d.backhaul_load:.6g} <= C = {d.backhaul_capacity:.6g} nats/s/Hz "
               f"(e = {p.sensing_rate_demand:g})")
    if d.on_edge:
        click.echo(f"  note: the optimum is on the edge of the search box ({', '.join(d.on_edge)}); "
                   "a larger --L-max/--N-max may hold a better design")
    if s is not None and c is not None:
        ts = float(t.time_sharing(d.rate))
        click.echo(f"  time sharing at the same rate: CRLB = {ts:.6g} m^2"
                   + (f" ({ts / d.crlb:.3g}x the cooperative)" if math.isfinite(ts) else ""))
    if verify:
        click.echo(f"  Monte Carlo ({verify} layouts): R_c = {est['rate_nats']}, "
                   f"CRLB geometric mean = {est['geo_mean']}, P(cannot localise) = {est['singular'].mean:.3g}")


@main.command("map")
@click.option("--sites", type=click.Path(dir_okay=False), default=None, help="CSV (x,y or lon,lat) or GeoJSON.")
@click.option("--process", default=None, help="Instead of --sites: ppp, hexagonal, square, perturbed, matern-ii.")
@click.option("--metric", default="crlb", show_default=True, help="crlb, song-crlb, rate or coverage.")
@click.option("-n", "n", type=int, default=8, show_default=True, help="N (crlb), L (rate, coverage), TXs/RXs.")
@click.option("--resolution", type=int, default=256, show_default=True, help="Grid points per axis.")
@click.option("--threshold-db", "thresholds", type=float, multiple=True, default=(0.0,), help="SIR threshold(s).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a parameter (SI units).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", type=click.Path(file_okay=False), default="isacnet-map", show_default=True)
def map_cmd(sites, process, metric, n, resolution, thresholds, sets, seed, out):
    """A map of the CRLB, CoMP rate or coverage over a deployment (isacnet.maps)."""
    from .map_command import run_map

    nc, png = run_map(sites, metric, Path(out), n=n, resolution=resolution, sets=_parse_sets(sets),
                      process=process, seed=seed, thresholds_db=thresholds)
    click.echo(f"wrote {nc} and {png}")


_STATE: dict[str, Path] = {}


class Terminated(BaseException):
    """SIGTERM arrived: unwound like Ctrl-C (finished chunks are kept), exit status 143."""


def _on_sigterm(signum, frame):  # pragma: no cover - exercised by a subprocess test
    raise Terminated()


def _one_line(exc: BaseException | str) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def _resume_hint() -> str:
    out = _STATE.get("out")
    if out is None:
        return ""
    return f"; finished chunks are kept in {out / CHUNK_DIR}: rerun the same command to resume"


def _debug_requested(argv: list[str]) -> tuple[bool, list[str]]:
    """``--debug`` anywhere before ``--`` (removed from argv), or ISACNET_DEBUG set and not 0."""
    env = os.environ.get("ISACNET_DEBUG", "").strip().lower() not in ("", "0", "false", "no")
    head, sep, tail = (argv[: argv.index("--")], ["--"], argv[argv.index("--") + 1:]) if "--" in argv \
        else (argv, [], [])
    flag = "--debug" in head
    return env or flag, [a for a in head if a != "--debug"] + sep + tail


def run_cli(argv: list[str] | None = None) -> int:
    """The console script: every failure a user can cause is one line on stderr.

    Exit status 2: bad usage (ParameterError, a missing backend package, a click usage error);
    1: a failure at run time (out of memory, dead workers, I/O, anything unexpected); 130 on
    Ctrl-C, 143 on SIGTERM. With ``--debug`` or ``ISACNET_DEBUG=1`` the traceback is shown.
    """
    from .backends import BackendUnavailable

    debug, argv = _debug_requested(list(sys.argv[1:] if argv is None else argv))
    _STATE.clear()
    with warnings.catch_warnings():
        if not debug:
            warnings.showwarning = _warning_line
        return _run_main(argv, debug, BackendUnavailable)


def _warning_line(message, category, filename, lineno, file=None, line=None) -> None:
    """A warning as one line on stderr (not the two-line default with the source line)."""
    click.echo(f"warning: {category.__name__}: {_one_line(message)}", err=True)


def _run_main(argv: list[str], debug: bool, backend_unavailable: type) -> int:
    old_term = None
    try:
        old_term = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread: leave SIGTERM alone
        pass
    try:
        rv = main(args=argv, standalone_mode=False, prog_name="isacnet")
    except click.exceptions.Abort:
        click.echo(f"interrupted{_resume_hint()}", err=True)
        return 130
    except Terminated:
        click.echo(f"terminated (SIGTERM){_resume_hint()}", err=True)
        return 143
    except click.ClickException as exc:
        ctx = getattr(exc, "ctx", None)
        where = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
        click.echo(f"error: {_one_line(exc.format_message())}{where}", err=True)
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - the one place every error becomes one line
        if debug:
            raise
        code, msg = _describe(exc, backend_unavailable)
        click.echo(f"error: {msg}", err=True)
        return code
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
    return rv if isinstance(rv, int) else 0


def _describe(exc: Exception, backend_unavailable: type) -> tuple[int, str]:
    """(exit status, one line) for an exception that reached the top."""
    from .experiments.executors import WorkerDied

    if isinstance(exc, ParameterError | backend_unavailable):
        return 2, _one_line(exc)
    if isinstance(exc, MemoryError):
        return 1, ("out of memory" + (f" ({_one_line(exc)})" if str(exc) else "")
                   + ": lower monte_carlo.block_size, k_nearest or the number of --workers" + _resume_hint())
    if isinstance(exc, WorkerDied):
        return 1, _one_line(exc) + _resume_hint()
    if isinstance(exc, OSError):
        name = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return 1, f"{name}{exc.strerror or _one_line(exc)}{_resume_hint()}"
    return 1, (f"{type(exc).__name__}: {_one_line(exc)} (unexpected: rerun with --debug for the traceback "
               f"and report it){_resume_hint()}")


def console() -> None:  # pragma: no cover - the installed `isacnet` script
    sys.exit(run_cli())


if __name__ == "__main__":  # pragma: no cover
    console()
