"""Command line: thin wrappers over isacnet.experiments.

    isacnet list                              the figures it can reproduce
    isacnet reproduce song-fig1 [--quick]     a paper figure (or a panel id, or `all`)
    isacnet run my-sweep.toml                 a sweep declared in a config file
    isacnet eval song --set gamma=3           closed forms at one parameter point
    isacnet eval meng -N 10 -L 2              Meng's closed forms (CRLB, kappa, rate, coverage)

Exit status: 0 done; 2 bad usage (a parameter, option, config file or output folder to change;
one line ``error: ...`` naming it); 1 a failure at run time (out of memory, workers killed, an
I/O error, an internal error; one line); 130 interrupted (Ctrl-C) and 143 terminated (SIGTERM),
with finished chunks kept so the same command resumes. ``--debug`` (or ``ISACNET_DEBUG=1``)
shows the traceback instead.

Modules: ``_main`` (the click group and ``list``), ``_run`` (``reproduce``, ``run`` and what they
share), ``_eval`` (``eval song``, ``eval meng``), ``_tools`` (``optimize``, ``map``), ``_errors``
(every failure as one line, exit statuses, the console script).
"""

from __future__ import annotations

from . import _eval, _run, _tools  # noqa: F401 - importing them registers their commands on `main`
from ._backend import _with_backend as _with_backend
from ._errors import Terminated, console, run_cli
from ._eval import eval_
from ._main import list_figures, main
from ._run import CHUNK_DIR, reproduce, run
from ._run import _executor as _executor  # tests patch and call them here
from ._tools import map_cmd, optimize_cmd

__all__ = [
    "CHUNK_DIR",
    "Terminated",
    "console",
    "eval_",
    "list_figures",
    "main",
    "map_cmd",
    "optimize_cmd",
    "reproduce",
    "run",
    "run_cli",
]
