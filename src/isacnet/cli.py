"""Command line: thin wrappers over isacnet.experiments.

    isacnet list                              the figures it can reproduce
    isacnet reproduce song-fig1 [--quick]     a paper figure (or a panel id, or `all`)
    isacnet run my-sweep.toml                 a sweep declared in a config file
    isacnet eval song --set gamma=3           closed forms at one parameter point
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from .params import ParameterError


def _executor(workers: int | None, scheduler: str | None = None):
    from .experiments.executors import make_executor

    return make_executor(workers, scheduler)


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
                  max_layouts=None) -> None:
    import shutil

    from .experiments.chunkstore import ChunkStore
    from .experiments.runner import run_specs
    from .experiments.store import check_writable, save_dataset
    from .plotting import save_figure

    check_writable(out)
    t0 = time.perf_counter()
    if fresh:
        shutil.rmtree(out / CHUNK_DIR, ignore_errors=True)
    datasets = run_specs(specs, _executor(workers, scheduler), quick=quick, progress=progress,
                         cache=ChunkStore(out / CHUNK_DIR), rel_ci=rel_ci, max_layouts=max_layouts)
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
    html, _ = write_index(out)
    click.echo(f"wall time {wall:.1f} s; index: {html}")


_common = [
    click.option("--out", "out", type=click.Path(file_okay=False, path_type=Path),
                 default=Path("isacnet-results"), show_default=True, help="Output folder."),
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
]


def _with_common(f):
    for opt in reversed(_common):
        f = opt(f)
    return f


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="isacnet")
def main() -> None:
    """isacnet: closed forms and Monte Carlo for ISAC and distributed MIMO radar networks."""


@main.command("list")
def list_figures() -> None:
    """List the figures `reproduce` knows."""
    from .experiments.spec import builtin_specs

    for s in builtin_specs().values():
        click.echo(f"{s.id:<14} {s.group or '':<11} {s.title}")


def _backend_options(f):
    f = click.option("--dtype", type=click.Choice(["float64", "float32"]), default=None,
                     help="Precision of the compiled backends (default float64).")(f)
    return click.option("--backend", type=click.Choice(["numpy", "numba", "jax"]), default=None,
                        help="Who computes the Monte Carlo kernels that have compiled versions (Song "
                             "and Meng CRLB; the Meng rate on numba only): numba (CPU, isacnet[fast]) or jax (GPU, "
                             "isacnet[gpu]). Figures without a kernel for it run on numpy, with a note.")(f)


def _with_backend(specs, backend, dtype):
    """Apply --backend/--dtype to the specs whose model has compiled kernels; say which not."""
    from .experiments.models import get_model

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
              window_radius, k_nearest, backend, dtype):
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
    _run_and_save(specs, out, workers, quick, progress, fresh, scheduler, rel_ci, max_layouts)


@main.command()
@click.argument("config", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_with_common
@_backend_options
def run(config, out, quick, workers, seed, n_layouts, scheduler, rel_ci, max_layouts, progress, fresh, backend, dtype):
    """Run a sweep declared in a TOML CONFIG file (format: isacnet.experiments.spec)."""
    from .experiments.spec import load_spec

    _check_stopping(rel_ci, max_layouts, n_layouts)
    spec = load_spec(config).with_overrides(seed=seed, n_layouts=n_layouts, quick_n_layouts=n_layouts)
    (spec,) = _with_backend([spec], backend, dtype)
    _run_and_save([spec], out, workers, quick, progress, fresh, scheduler, rel_ci, max_layouts)


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
    click.echo(f"rho_s = {p.rho_s:.6g}, eta = {p.eta:.6g}")
    click.echo(f"Theorem 2 bound (26):           {song.scaling_bound(p):.6g} m^2")
    fc = song.fair_comparison(p)
    click.echo(f"single-antenna bound (28),(29): {fc['single']:.6g} m^2 (ratio {fc['ratio']:.4g})")
    click.echo(f"Lemma 3 (24) TX:                {float(song.lemma3(p.tx_density, p.gamma)):.6g} m^gamma")
    if mc_layouts:
        r = song.monte_carlo(p, mc_layouts, seed, workers=None, progress=None)
        click.echo(f"MC of (18): {r['crlb']}")
        click.echo(f"MC of (23): {r['jensen']}")


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
@click.option("--min-rate", type=float, default=None, help="Smallest CRLB_a with R_c >= this [nats/s/Hz].")
@click.option("--max-crlb", type=float, default=None, help="Largest R_c with CRLB_a <= this [m^2].")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Network parameter (MengParams, SI units), e.g. --set backhaul_capacity=4 "
                   "--set sensing_rate_demand=0.3 --set user_density=2e-6.")
@click.option("--L-max", "L_max", type=int, default=20, show_default=True, help="Largest L searched.")
@click.option("--N-max", "N_max", type=int, default=30, show_default=True, help="Largest N searched.")
@click.option("--variant", type=click.Choice(["exact", "paper"]), default="exact", show_default=True,
              help="Theorem 2 re-derived or as printed.")
@click.option("--verify", "verify", type=int, default=0,
              help="Confirm the design by a Monte Carlo of this many layouts.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the design as JSON.")
def optimize_cmd(weight, min_rate, max_crlb, sets, L_max, N_max, variant, verify, seed, as_json):
    """The best cooperative design (L, N, p^c) under the backhaul constraint R_c + e N <= C."""
    import json
    import math

    from .analysis.meng_tradeoff import Tradeoff, _objective
    from .params import MengParams, from_mapping

    p = from_mapping(MengParams, _parse_sets(sets), where="--set")
    _objective(weight, min_rate, max_crlb)
    t = Tradeoff(p, L_max=L_max, N_max=N_max, rate_variant=variant)
    d = t.solve(weight=weight, min_rate=min_rate, max_crlb=max_crlb)
    out = d.as_dict()
    if verify:
        from .experiments.models import _meng_derived
        from .experiments.runner import estimate
        from .simulation.meng_tradeoff import MengDesignKernel

        kernel = MengDesignKernel(p, d.L, d.N, d.p_c, kappa_s=d.kappa_s)
        est = _meng_derived(estimate(kernel, verify, seed, workers=None, progress=None), kernel)
        out.update(mc_rate=est["rate_nats"].mean, mc_rate_ci95=list(est["rate_nats"].ci95),
                   mc_crlb_geo_mean=est["geo_mean"].mean, mc_crlb_geo_mean_ci95=list(est["geo_mean"].ci95),
                   mc_singular=est["singular"].mean, mc_layouts=verify)
    if as_json:
        click.echo(json.dumps(out, indent=2, default=float))
        return
    s, c = t.sensing_corner(), t.comm_corner()
    click.echo(f"best design: L = {d.L}, N = {d.N}, p^c = {d.p_c:.6g} (p^s = {d.p_s:.6g})")
    click.echo(f"  R_c      = {d.rate:.6g} nats/s/Hz ({d.rate_bits:.6g} bit/s/Hz), Theorem 2 ({variant})")
    click.echo(f"  CRLB_a   = {d.crlb:.6g} m^2 ((16), mean-field)")
    click.echo(f"  kappa_s  = {d.kappa_s:.6g}, kappa_c = {d.kappa_c:.6g}")
    click.echo(f"  backhaul = R_c + e N = {d.backhaul_load:.6g} <= C = {d.backhaul_capacity:.6g} "
               f"(e = {p.sensing_rate_demand:g})")
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


def run_cli(argv: list[str] | None = None) -> int:
    """The console script: parameter errors become one clear line and exit status 2."""
    try:
        rv = main(args=argv, standalone_mode=False)
    except ParameterError as exc:
        click.echo(f"error: {exc}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return rv if isinstance(rv, int) else 0


def console() -> None:  # pragma: no cover - the installed `isacnet` script
    sys.exit(run_cli())


if __name__ == "__main__":  # pragma: no cover
    console()
