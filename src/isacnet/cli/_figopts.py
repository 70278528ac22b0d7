"""``--format``, ``--dpi`` and ``--style``: how ``reproduce``, ``run`` and ``map`` write figures.

Each is checked when the command line is parsed (before any work): a bad value is one line,
exit status 2.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import click

from ..params import ParameterError, check_int

FORMATS = ("png", "pdf", "svg")
"""Figure formats written by ``--format`` (a comma list)."""
DEFAULT_DPI = 200
"""Resolution of PNG figures [dots per inch] (a 6.4 in wide figure: 1280 px)."""


@dataclass(frozen=True)
class FigureOutput:
    """What ``--format``, ``--dpi`` and ``--style`` asked for."""

    formats: tuple[str, ...] = ("png",)
    dpi: int = DEFAULT_DPI
    style: str | None = None


def check_formats(value: str | None) -> tuple[str, ...]:
    """``"png,pdf"`` -> ``("png", "pdf")``: known formats, each once, at least one."""
    text = "png" if value is None else str(value)
    names = [f.strip().lower().lstrip(".") for f in text.split(",")]
    bad = [f for f in names if f not in FORMATS]
    if bad or not any(names):
        shown = ", ".join(repr(b) for b in bad) or repr(text)
        raise ParameterError("--format", text, f"a comma list of {', '.join(FORMATS)} (not {shown})")
    return tuple(dict.fromkeys(names))


def check_style(value: str | None) -> str | None:
    """A matplotlib style name (``matplotlib.style.available`` or ``default``) or a style file."""
    if value is None or not str(value).strip():
        return None
    if Path(value).is_file():
        return str(value)
    from matplotlib import style

    if value == "default" or value in style.available:
        return str(value)
    close = [s for s in sorted(style.available) if value.lower() in s.lower()][:3]
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise ParameterError(
        "--style",
        value,
        f"a matplotlib style name (e.g. default, ggplot, seaborn-v0_8-paper) or an .mplstyle file{hint}",
    )


def figure_options(f):
    """The three options, checked at parse time; the command receives ``figure_output``."""
    opts = [
        click.option(
            "--format",
            "formats",
            default="png",
            show_default=True,
            metavar="FMT[,FMT...]",
            callback=lambda ctx, param, v: check_formats(v),
            help="Figure formats, a comma list of png, pdf, svg (e.g. --format png,pdf).",
        ),
        click.option(
            "--dpi",
            type=int,
            default=DEFAULT_DPI,
            show_default=True,
            callback=lambda ctx, param, v: check_int("--dpi", v, ge=50, le=1200),
            help="Resolution of PNG figures [dots per inch], 50 to 1200.",
        ),
        click.option(
            "--style",
            default=None,
            callback=lambda ctx, param, v: check_style(v),
            help="A matplotlib style name or .mplstyle file drawn under (default: isacnet's own look: "
            "9 pt labels, 8 pt ticks and legends, tab colours).",
        ),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f
