"""The ``isacnet`` click group (every command is registered on it by its module) and ``list``."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="isacnet")
@click.option(
    "--debug",
    is_flag=True,
    help="Show the full traceback of an error (also ISACNET_DEBUG=1); may be given anywhere on the line.",
)
def main(debug: bool = False) -> None:
    """isacnet: closed forms and Monte Carlo for ISAC and distributed MIMO radar networks.

    Exit status: 0 done, 2 bad usage (one line naming what to change), 1 a failure at run time
    (one line), 130 interrupted, 143 terminated (finished chunks kept: rerun to resume).
    """


@main.command("list", short_help="List the figures `reproduce` knows (id, group, title).")
def list_figures() -> None:
    """List the figures `reproduce` knows."""
    from ..experiments.spec import builtin_specs

    specs = list(builtin_specs().values())
    wid = max(len("FIGURE"), *(len(s.id) for s in specs))
    wgr = max(len("GROUP"), *(len(s.group or "-") for s in specs))
    click.echo(f"{'FIGURE':<{wid}}  {'GROUP':<{wgr}}  TITLE")
    for s in specs:
        title = plain_text(s.title)  # mathtext is for figures, not terminals
        click.echo(f"{s.id:<{wid}}  {s.group or '-':<{wgr}}  {title}")



def plain_text(title: str) -> str:
    """A mathtext title for a terminal: ``$P(\\mathrm{CRLB} \\leq \\epsilon^2)$`` -> ``P(CRLB <= eps^2)``."""
    from ..plotting._labels import plain_text as plain

    return plain(title)
