"""``isacnet eval``: closed forms (and optionally a Monte Carlo) at one parameter point; the
``--set KEY=VALUE`` parser shared by ``eval``, ``optimize`` and ``map``."""

from __future__ import annotations

import contextlib
import math

import click

from ..params import ParameterError
from ._errors import _one_line
from ._main import main


@main.command("eval")
@click.argument("model", type=click.Choice(["song"]))
@click.option(
    "--set",
    "sets",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a parameter (SI units), e.g. --set gamma=3 --set tx_power=0.1.",
)
@click.option("--mc", "mc_layouts", type=int, default=0, help="Also run a Monte Carlo of N layouts.")
@click.option("--seed", type=int, default=0, show_default=True)
def eval_(model, sets, mc_layouts, seed):
    """Closed forms (and optionally Monte Carlo) at one parameter point."""

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
