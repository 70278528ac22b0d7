"""``isacnet eval``: closed forms (and optionally a Monte Carlo) at one parameter point; the
``--set KEY=VALUE`` parser shared by ``eval``, ``optimize`` and ``map``."""

from __future__ import annotations

import contextlib
import math

import click

from ..params import ParameterError
from ._errors import _one_line
from ._main import main


def _point_options(example: str):
    """``--set``, ``--mc`` and ``--seed``: the options every ``eval`` model takes."""

    def deco(f):
        f = click.option("--seed", type=int, default=0, show_default=True, help="Seed of the Monte Carlo.")(f)
        f = click.option(
            "--mc", "mc_layouts", type=int, default=0, help="Also run a Monte Carlo of this many layouts."
        )(f)
        return click.option(
            "--set",
            "sets",
            multiple=True,
            metavar="KEY=VALUE",
            help=f"Override a parameter (SI units, TOML values), e.g. {example}.",
        )(f)

    return deco


@main.group("eval", short_help="Closed forms (and optionally a Monte Carlo) at one parameter point.")
def eval_() -> None:
    """Closed forms (and optionally a Monte Carlo) at one parameter point: `eval song` or `eval meng`."""


@eval_.command("song", short_help="Song et al.: the Theorem 2 bound, the single-antenna bound, Lemma 3.")
@_point_options("--set gamma=3 --set tx_power=0.1")
def eval_song(sets, mc_layouts, seed):
    """Song et al.: rho_s, eta, the Theorem 2 bound (26), the single-antenna bound and Lemma 3 (SongParams)."""
    from .. import song
    from ..params import SongParams, from_mapping

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

    from ..analysis.song import _log_lemma3

    lines = []  # printed once all is computed: an error leaves no half-printed answer
    with _evaluable(sets):
        lines.append(
            f"rho_s = {num(attempt(lambda: p.rho_s), p.log_rho_s)}, eta = {num(attempt(lambda: p.eta), p.log_eta)}"
        )
        if p.gamma <= 2.0:
            p.require_gamma_above_2("the closed forms of `isacnet eval song`")
        fc = song.fair_comparison(p)  # the ratio is exact, (M_t M_r)^(1 - gamma/2), even where the bounds overflow
        lines.append(f"Theorem 2 bound (26):           {num(fc['mimo'], fc['log10_mimo'] * ln10)} m^2")
        lines.append(
            f"single-antenna bound (28),(29): {num(fc['single'], fc['log10_single'] * ln10)} m^2 "
            f"(ratio {fc['ratio']:.4g})"
        )
        l3 = attempt(lambda: float(song.lemma3(p.tx_density, p.gamma)))
        lines.append(f"Lemma 3 (24) TX:                {num(l3, float(_log_lemma3(p.tx_density, p.gamma)))} m^gamma")
        if mc_layouts:
            r = song.monte_carlo(p, mc_layouts, seed, workers=None, progress=None)
            lines.append(f"MC of (18): {r['crlb']}")
            lines.append(f"MC of (23): {r['jensen']}")
    click.echo("\n".join(lines))


@eval_.command("meng", short_help="Meng & Masouros: CRLB, kappa_s, kappa_c, CoMP rate, coverage at N, L.")
@click.option("-N", "--n-bs", "n_bs", type=int, default=10, show_default=True, help="Cooperating sensing BSs N.")
@click.option("-L", "--n-comm", "n_comm", type=int, default=2, show_default=True, help="CoMP cluster size L.")
@click.option(
    "--threshold-db",
    "thresholds",
    type=float,
    multiple=True,
    default=(0.0,),
    show_default=True,
    help="SINR threshold(s) T of the coverage P(SINR > T) [dB].",
)
@_point_options("--set beta=2 --set alpha=3.5 --set bs_density=2e-6")
def eval_meng(n_bs, n_comm, thresholds, sets, mc_layouts, seed):
    """Meng & Masouros: kappa_s, the CRLB ((13), Theorem 1, isotropic, (16)), kappa_c, the CoMP rate
    (Theorem 2) and the coverage at N sensing and L CoMP BSs (MengParams).

    Rates in nats/s/Hz (bits/s/Hz in brackets). A closed form that does not apply at the point
    (Theorem 1 at beta != 2, say) is printed as skipped, with the reason.
    """
    from ..params import MengParams, check_int, from_mapping

    p = from_mapping(MengParams, _parse_sets(sets), where="--set")
    n_bs = check_int("-N/--n-bs", n_bs, ge=1)
    n_comm = check_int("-L/--n-comm", n_comm, ge=1, le=1000)
    with _evaluable(sets):  # printed once all is computed: an error leaves no half-printed answer
        lines = [f"Meng & Masouros closed forms at N = {n_bs} sensing BSs, L = {n_comm} CoMP BSs"]
        lines += _meng_sensing(p, n_bs, mc_layouts, seed)
        lines += _meng_comm(p, n_comm, thresholds, mc_layouts, seed)
    click.echo("\n".join(lines))


def _applies(label: str, f, unit: str) -> str:
    """``label = value unit``, or ``label: skipped (reason)`` where the closed form does not apply."""
    try:
        return f"  {label:<34} = {float(f()):.6g} {unit}".rstrip()
    except ParameterError as exc:
        return f"  {label:<34} = skipped: {_one_line(exc)}"


def _meng_sensing(p, n: int, mc_layouts: int, seed: int) -> list[str]:
    from .. import meng

    tail = float(meng.crlb_tail_index(n))
    lines = [
        "sensing",
        _applies("kappa_s (acceptance, NB law)", lambda: meng.kappa_s(p.resource_blocks, p.mu_s, n), ""),
        _applies("CRLB (13) approximation", lambda: meng.crlb_eq13(n, p), "m^2"),
        _applies("CRLB Theorem 1 (14), corrected", lambda: meng.crlb_theorem1(n, p, "corrected"), "m^2"),
        _applies("CRLB Theorem 1 (14), as printed", lambda: meng.crlb_theorem1(n, p, "paper"), "m^2"),
        _applies("CRLB isotropic, exact (M-6)", lambda: meng.crlb_isotropic(n, p), "m^2"),
        _applies("CRLB_a (16) mean-field, kappa_s", lambda: meng.crlb_a(n, p), "m^2"),
        f"  E[tr F^-1] over PPP layouts: {'exists' if tail > 1 else 'infinite (N <= 3)'}, variance "
        f"{'finite' if tail > 2 else 'infinite (N <= 5)'} (tail index (N-1)/2 = {tail:g}, errata M-8)",
    ]
    if mc_layouts:
        r = meng.monte_carlo(n, p, mc_layouts, seed, workers=None, progress=None)
        g = r["log_crlb"]
        lo, hi = g.ci95
        lines.append(
            f"  MC geometric mean exp(E[ln tr F^-1]) = {math.exp(g.mean):.6g} m^2 "
            f"(95% CI [{math.exp(lo):.6g}, {math.exp(hi):.6g}], {mc_layouts} layouts)"
        )
        if "crlb" in r and tail > 2:
            lines.append(f"  MC mean E[tr F^-1] = {r['crlb']} m^2")
        lines.append(f"  MC P(cannot localise) = {r['singular'].mean:.3g}")
    return lines


def _meng_comm(p, L: int, thresholds, mc_layouts: int, seed: int) -> list[str]:
    from .. import meng

    def nats(variant: str) -> str:
        r = float(meng.rate(L, p, variant=variant))
        return f"{r:.6g} nats/s/Hz ({r / math.log(2.0):.6g} bits/s/Hz)"

    lines = [
        "communication",
        _applies("kappa_c (acceptance, NB law)", lambda: meng.kappa_c(p.resource_blocks, p.mu_c, L), ""),
    ]
    for variant, label in (("exact", "re-derived"), ("paper", "as printed")):
        try:
            lines.append(f"  {'R_c Theorem 2, ' + label:<34} = {nats(variant)}")
        except ParameterError as exc:
            lines.append(f"  {'R_c Theorem 2, ' + label:<34} = skipped: {_one_line(exc)}")
    for t in thresholds:
        lines.append(_applies(f"coverage P(SINR > {t:g} dB)", lambda t=t: meng.coverage(10.0 ** (t / 10.0), L, p), ""))
    if mc_layouts:
        r = meng.simulate_rate(L, p, mc_layouts, seed, workers=None, progress=None)
        e = r["rate_nats"]
        lo, hi = e.ci95
        lines.append(f"  MC R_c = {e.mean:.6g} nats/s/Hz (95% CI [{lo:.6g}, {hi:.6g}], {mc_layouts} layouts)")
    return lines


@contextlib.contextmanager
def _evaluable(sets):
    """Arithmetic faults of the formulas at the ``--set`` point (an overflow, a division by zero)
    become a ParameterError naming the ``--set`` values: they are the user's to change."""
    try:
        yield
    except ArithmeticError as exc:
        shown = " ".join(f"--set {s}" for s in sets) or "the default parameters"
        raise ParameterError(
            "--set", shown, f"values the formulas can evaluate ({type(exc).__name__}: {_one_line(exc)})"
        ) from None


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
