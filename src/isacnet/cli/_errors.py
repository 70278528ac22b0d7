"""Every failure a user can cause as one line on stderr, with the exit statuses of the command line
(2 bad usage, 1 run time, 130 Ctrl-C, 143 SIGTERM); ``--debug`` shows the traceback."""

from __future__ import annotations

import os
import signal
import sys
import warnings
from pathlib import Path

import click

from ..params import ParameterError

CHUNKS = ".isacnet-chunks"  # = _run.CHUNK_DIR (not imported: _run imports this module)


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
    return f"; finished chunks are kept in {out / CHUNKS}: rerun the same command to resume"


def _debug_requested(argv: list[str]) -> tuple[bool, list[str]]:
    """``--debug`` anywhere before ``--`` (removed from argv), or ISACNET_DEBUG set and not 0."""
    env = os.environ.get("ISACNET_DEBUG", "").strip().lower() not in ("", "0", "false", "no")
    head, sep, tail = (
        (argv[: argv.index("--")], ["--"], argv[argv.index("--") + 1 :]) if "--" in argv else (argv, [], [])
    )
    flag = "--debug" in head
    return env or flag, [a for a in head if a != "--debug"] + sep + tail


def run_cli(argv: list[str] | None = None) -> int:
    """The console script: every failure a user can cause is one line on stderr.

    Exit status 2: bad usage (ParameterError, a missing backend package, a click usage error);
    1: a failure at run time (out of memory, dead workers, I/O, anything unexpected); 130 on
    Ctrl-C, 143 on SIGTERM. With ``--debug`` or ``ISACNET_DEBUG=1`` the traceback is shown.
    """
    from ..backends import BackendUnavailable

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
        from ._main import main  # (isacnet.cli, imported first, registered every command on it)

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
    from ..simulation.executors import WorkerDied

    if isinstance(exc, ParameterError | backend_unavailable):
        return 2, _one_line(exc)
    if isinstance(exc, MemoryError):
        return 1, (
            "out of memory"
            + (f" ({_one_line(exc)})" if str(exc) else "")
            + ": lower monte_carlo.block_size, k_nearest or the number of --workers"
            + _resume_hint()
        )
    if isinstance(exc, WorkerDied):
        return 1, _one_line(exc) + _resume_hint()
    if isinstance(exc, OSError):
        name = f"{exc.filename}: " if getattr(exc, "filename", None) else ""
        return 1, f"{name}{exc.strerror or _one_line(exc)}{_resume_hint()}"
    return 1, (
        f"{type(exc).__name__}: {_one_line(exc)} (unexpected: rerun with --debug for the traceback "
        f"and report it){_resume_hint()}"
    )


def console() -> None:  # pragma: no cover - the installed `isacnet` script
    sys.exit(run_cli())
