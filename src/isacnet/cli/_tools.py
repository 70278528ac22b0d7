"""``isacnet optimize`` (the cooperative design) and ``isacnet map`` (maps over a deployment)."""

from __future__ import annotations

import math
from pathlib import Path

import click

from ..params import TRADEOFF_L_MAX, TRADEOFF_N_MAX
from ._eval import _evaluable, _parse_sets
from ._figopts import figure_options
from ._main import main


@main.command("optimize", short_help="The best cooperative design (L, N, p^c) under the backhaul limit.")
@click.option(
    "--weight", type=float, default=None, help="Maximise w R_c + (1 - w) (1/2) ln(1 m^2 / CRLB_a), w in [0, 1]."
)
@click.option(
    "--min-rate",
    type=float,
    default=None,
    help="Smallest CRLB_a with R_c >= this rate target, in nats/s/Hz (Theorem 2's unit; "
    "bit/s/Hz x ln 2) or in --rate-unit.",
)
@click.option(
    "--rate-unit",
    "rate_unit",
    type=click.Choice(["nats", "bits"]),
    default="nats",
    show_default=True,
    help="Unit of --min-rate and of the printed rates: nats/s/Hz or bits/s/Hz (1 bit = ln 2 nats).",
)
@click.option("--max-crlb", type=float, default=None, help="Largest R_c with CRLB_a <= this [m^2].")
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Network parameter (MengParams, SI units), e.g. --set backhaul_capacity=4 "
    "--set sensing_rate_demand=0.3 --set user_density=2e-6.",
)
@click.option(
    "--L-max",
    "L_max",
    type=int,
    default=TRADEOFF_L_MAX,
    show_default=True,
    help="Largest L searched (the same default as isacnet.meng.optimize).",
)
@click.option(
    "--N-max",
    "N_max",
    type=int,
    default=TRADEOFF_N_MAX,
    show_default=True,
    help="Largest N searched (the same default as isacnet.meng.optimize).",
)
@click.option(
    "--variant",
    type=click.Choice(["exact", "paper"]),
    default="exact",
    show_default=True,
    help="Theorem 2 re-derived or as printed.",
)
@click.option(
    "--verify", "verify", type=int, default=0, help="Confirm the design by a Monte Carlo of this many layouts."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the design as JSON.")
def optimize_cmd(weight, min_rate, max_crlb, rate_unit, sets, L_max, N_max, variant, verify, seed, as_json):
    """The best cooperative design (L, N, p^c) under the backhaul constraint R_c + e N <= C.

    Rates are in nats/s/Hz (Theorem 2's unit, the backhaul C's) unless --rate-unit bits.
    """
    import json

    from ..analysis.optimize import Tradeoff, check_objective
    from ..params import MengParams, from_mapping

    p = from_mapping(MengParams, _parse_sets(sets), where="--set")
    check_objective(weight, min_rate, max_crlb)
    if rate_unit == "bits" and min_rate is not None:  # Tradeoff works in nats
        from ..params import check_real

        min_rate = check_real("--min-rate", min_rate, ge=0.0) * math.log(2.0)
    with _evaluable(sets):
        t = Tradeoff(p, L_max=L_max, N_max=N_max, rate_variant=variant)
        d = t.solve(weight=weight, min_rate=min_rate, max_crlb=max_crlb)
    out = d.as_dict()
    if verify:
        from ..meng import verify_design

        est = verify_design(p, d, verify, seed, workers=None, progress=None)
        out.update(
            mc_rate=est["rate_nats"].mean,
            mc_rate_ci95=list(est["rate_nats"].ci95),
            mc_crlb_geo_mean=est["geo_mean"].mean,
            mc_crlb_geo_mean_ci95=list(est["geo_mean"].ci95),
            mc_singular=est["singular"].mean,
            mc_layouts=verify,
        )
    if as_json:
        # strict JSON: a non-finite number (the CRLB of a design without sensing power) as a string
        click.echo(
            json.dumps(
                {k: (repr(v) if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()},
                indent=2,
                default=float,
            )
        )
        return
    _print_design(t, d, p, rate_unit, variant, est if verify else None, verify)


def _print_design(t, d, p, rate_unit: str, variant: str, est, verify: int) -> None:
    """The design of ``optimize`` in words (rates in ``rate_unit``; ``est`` the Monte Carlo check)."""
    s, c = t.sensing_corner(), t.comm_corner()
    click.echo(f"best design: L = {d.L}, N = {d.N}, p^c = {d.p_c:.6g} (p^s = {d.p_s:.6g})")
    rates = (
        f"{d.rate:.6g} nats/s/Hz ({d.rate_bits:.6g} bits/s/Hz)"
        if rate_unit == "nats"
        else f"{d.rate_bits:.6g} bits/s/Hz ({d.rate:.6g} nats/s/Hz)"
    )
    click.echo(f"  R_c      = {rates}, Theorem 2 ({variant})")
    click.echo(f"  CRLB_a   = {d.crlb:.6g} m^2 ((16), mean-field)")
    click.echo(f"  kappa_s  = {d.kappa_s:.6g}, kappa_c = {d.kappa_c:.6g}")
    click.echo(
        f"  backhaul = R_c + e N = {d.backhaul_load:.6g} <= C = {d.backhaul_capacity:.6g} nats/s/Hz "
        f"(e = {p.sensing_rate_demand:g})"
    )
    if d.on_edge:
        click.echo(
            f"  note: the optimum is on the edge of the search box ({', '.join(d.on_edge)}); "
            "a larger --L-max/--N-max may hold a better design"
        )
    if s is not None and c is not None:
        ts = float(t.time_sharing(d.rate))
        click.echo(
            f"  time sharing at the same rate: CRLB = {ts:.6g} m^2"
            + (f" ({ts / d.crlb:.3g}x the cooperative)" if math.isfinite(ts) else "")
        )
    if verify:
        click.echo(
            f"  Monte Carlo ({verify} layouts): R_c = {est['rate_nats']}, "
            f"CRLB geometric mean = {est['geo_mean']}, P(cannot localise) = {est['singular'].mean:.3g}"
        )


@main.command("map", short_help="A map of the CRLB, CoMP rate or coverage over a deployment.")
@click.option("--sites", type=click.Path(dir_okay=False), default=None, help="CSV (x,y or lon,lat) or GeoJSON.")
@click.option("--process", default=None, help="Instead of --sites: ppp, hexagonal, square, perturbed, matern-ii.")
@click.option("--metric", default="crlb", show_default=True, help="crlb, song-crlb, rate or coverage.")
@click.option("-n", "n", type=int, default=8, show_default=True, help="N (crlb), L (rate, coverage), TXs/RXs.")
@click.option("--resolution", type=int, default=256, show_default=True, help="Grid points per axis.")
@click.option("--threshold-db", "thresholds", type=float, multiple=True, default=(0.0,), help="SIR threshold(s).")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a parameter (SI units).")
@click.option("--jt", default="power-sum", show_default=True,
              help="Joint transmission of the rate and coverage maps: power-sum (the paper's (8)), noncoherent, "
                   "coherent (docs/coverage.md).")
@click.option("--n-fading", type=int, default=None,
              help="Fading draws a point where the JT model has no closed form (coherent).")
@click.option("--seed", type=int, default=0, show_default=True,
              help="Seed of a generated network (--process) and of the fading draws.")
@click.option("--out", type=click.Path(file_okay=False), default="isacnet-map", show_default=True)
@figure_options
def map_cmd(sites, process, metric, n, resolution, thresholds, jt, n_fading, sets, seed, out, formats, dpi, style):
    """A map of the CRLB, CoMP rate or coverage over a deployment (isacnet.maps)."""
    from ..map_command import run_map

    nc, png = run_map(
        sites,
        metric,
        Path(out),
        n=n,
        resolution=resolution,
        sets=_parse_sets(sets),
        process=process,
        seed=seed,
        thresholds_db=thresholds,
        formats=formats,
        dpi=dpi,
        style=style,
        jt=jt,
        n_fading=n_fading,
    )
    click.echo(f"wrote {nc} and {', '.join(str(f) for f in png)}")
