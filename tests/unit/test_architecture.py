"""The import graph of ``src/isacnet`` follows the layers of docs/design.md (issue 13).

Every ``import`` / ``from ... import`` statement of every module is read with ``ast`` (imports
inside functions included: a lazy import is still a dependency) and resolved to the isacnet
module it names. The test fails on

* an import cycle between modules;
* an edge the layers forbid (see ``LAYERS`` and the rules below), unless it is listed in
  ``PENDING`` with the reason it is still there;
* a module over ``MAX_LINES`` lines that is not in ``LONG_MODULES`` with a reason.

Layers, lowest first; a module may import its own layer and those below it::

    base        _version, params, rng
    geometry    geometry, deployment
    physics     sensing, comm, comp_given, load, localization (position estimators), estimation (its alias)
    backends    backends.*              (never a simulation module)
    simulation  simulation.*
    facades     song, meng, maps, typical, typical_near  (analysis and simulation, never experiments)
    experiments experiments.*, plotting
    cli         cli, __main__, api (isacnet.run, isacnet.sweep: the runner's front door), the package __init__

and beside them: ``analysis.*`` imports only ``base`` and ``analysis``; ``plotting`` (and
``plotting_maps``, which may use plotting's labels) imports no
computing module (it reads Datasets); nothing imports the package root ``isacnet`` itself.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
PKG = "isacnet"
MAX_LINES = 500

LAYERS = {
    "base": 0,
    "geometry": 1,
    "physics": 2,
    "backends": 3,
    "simulation": 4,
    "facades": 5,
    "experiments": 6,
    "cli": 7,
}

COMPUTING = (
    "analysis",
    "simulation",
    "backends",
    "sensing",
    "geometry",
    "comm",
    "load",
    "localization",
    "estimation",
    "song",
    "meng",
)
"""Top-level names of the modules that compute (plotting may import none of them)."""

PENDING: dict[tuple[str, str], str] = {}
"""Forbidden edges still present, each with its reason (to be emptied)."""

LONG_MODULES = {
}
"""Modules allowed over MAX_LINES lines, with the reason (to be emptied)."""


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted((SRC / PKG).rglob("*.py")):
        rel = path.relative_to(SRC).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _resolve(module: str, node: ast.ImportFrom | ast.Import, is_pkg: bool) -> set[str]:
    """The isacnet modules an import statement of ``module`` names."""
    targets: set[str] = set()
    if isinstance(node, ast.Import):
        for alias in node.names:
            if alias.name == PKG or alias.name.startswith(PKG + "."):
                targets.add(alias.name)
        return {t for t in targets if t in MODULES}
    if node.level:
        base = module.split(".") if is_pkg else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        origin = ".".join(base + ([node.module] if node.module else []))
    else:
        origin = node.module or ""
    if not (origin == PKG or origin.startswith(PKG + ".")):
        return set()
    for alias in node.names:
        sub = f"{origin}.{alias.name}"
        targets.add(sub if sub in MODULES else origin)
    return {t for t in targets if t in MODULES}


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        is_pkg = path.name == "__init__.py"
        deps: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom):
                deps |= _resolve(name, node, is_pkg)
        deps.discard(name)
        graph[name] = deps
    return graph


GRAPH = _graph()


def layer(module: str) -> str | None:
    """The layer of an isacnet module (None: analysis and plotting, which have their own rules)."""
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if module == PKG or top in ("cli", "__main__", "map_command", "api"):  # api: run/sweep call the runner
        return "cli"
    if top in ("_version", "params", "rng", "_validation"):
        return "base"
    if top in ("geometry", "deployment"):
        return "geometry"
    if top in ("sensing", "beams", "comm", "comp_given", "load", "localization", "estimation"):
        return "physics"
    if top in ("backends", "simulation", "experiments"):
        return top
    if top in ("maps", "typical", "typical_near"):  # grids and torus kernels that also use the acceptance closed forms
        return "facades"
    if top in ("song", "meng"):
        return "facades"
    if top in ("analysis", "plotting", "plotting_maps"):
        return None
    raise AssertionError(f"{module}: no layer assigned; add it to test_architecture.layer")


def violations(src: str, dst: str) -> list[str]:
    """Why the edge src -> dst is forbidden (empty: allowed)."""
    out = []
    s_top, d_top = (m.split(".")[1] if "." in m else "" for m in (src, dst))
    if dst == PKG:
        out.append("imports the package root (import from the module that defines the name)")
    if s_top == "analysis" and layer(dst) != "base" and d_top != "analysis":
        out.append("analysis imports only params (base) and analysis")
    if s_top in ("plotting", "plotting_maps") and d_top in COMPUTING:
        out.append("plotting reads Datasets and imports no computing module")
    if s_top == "backends" and d_top == "simulation":
        out.append("backends import no simulation module")
    if layer(src) == "facades" and d_top in ("experiments", "cli", "plotting"):
        out.append("facades import analysis and simulation, never experiments")
    ls, ld = layer(src), layer(dst)
    if ls is not None and ld is not None and LAYERS[ld] > LAYERS[ls] and dst != PKG:
        out.append(f"upward edge: layer {ls} imports layer {ld}")
    if ls is not None and d_top == "analysis" and ls not in ("facades", "experiments", "cli"):
        out.append(f"layer {ls} imports analysis (only facades, experiments and cli use closed forms)")
    s_top = src.split(".")[1] if "." in src else ""
    if ld is None and d_top == "plotting" and ls not in ("experiments", "cli") and s_top not in ("plotting",
                                                                                                "plotting_maps"):
        out.append("only experiments and cli import plotting")
    return out


def test_every_module_has_a_layer():
    for m in MODULES:
        layer(m)


def test_no_forbidden_edges():
    bad = []
    for src, deps in sorted(GRAPH.items()):
        for dst in sorted(deps):
            why = violations(src, dst)
            if why and (src, dst) not in PENDING:
                bad.append(f"{src} -> {dst}: {'; '.join(why)}")
    assert not bad, "forbidden imports:\n" + "\n".join(bad)


def test_pending_edges_are_still_needed():
    for (src, dst), reason in PENDING.items():
        assert dst in GRAPH[src] and violations(src, dst), f"{src} -> {dst} is gone: remove it from PENDING"
        assert reason


def _cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(GRAPH):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles() == []


def test_the_checker_sees_a_planted_cycle_and_an_upward_edge(monkeypatch):
    """The checks can fail: an edge sensing -> simulation.engine is upward, and with the edge
    simulation.engine -> sensing already there (or planted) it closes a cycle."""
    assert violations("isacnet.sensing", "isacnet.simulation.engine")
    assert violations("isacnet.backends.numba_kernels", "isacnet.simulation.meng_rate")
    assert violations("isacnet.song", "isacnet.experiments.runner")
    assert violations("isacnet.analysis.meng_rate", "isacnet.simulation.estimate")
    assert violations("isacnet.plotting", "isacnet.analysis.song")
    assert not violations("isacnet.simulation.song", "isacnet.sensing")
    planted = {k: set(v) for k, v in GRAPH.items()}
    planted["isacnet.params"].add("isacnet.rng")
    planted["isacnet.rng"].add("isacnet.params")
    monkeypatch.setitem(globals(), "GRAPH", planted)
    assert ["isacnet.params", "isacnet.rng"] in _cycles()


def test_resolution_of_relative_imports():
    tree = ast.parse("from .. import backends\nfrom ..backends import check_backend\nfrom . import x")
    a, b, _ = tree.body
    assert _resolve("isacnet.simulation.song", a, False) == {"isacnet.backends"}
    assert _resolve("isacnet.simulation.song", b, False) == {"isacnet.backends"}
    assert "isacnet.backends" in GRAPH["isacnet.simulation.kernels.song"]


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_long_modules_are_listed_with_a_reason():
    long = {m: _lines(p) for m, p in MODULES.items() if _lines(p) > MAX_LINES}
    unlisted = {m: n for m, n in long.items() if m not in LONG_MODULES}
    assert not unlisted, f"modules over {MAX_LINES} lines without a reason in LONG_MODULES: {unlisted}"


def test_long_module_list_is_current():
    gone = [m for m in LONG_MODULES if m not in MODULES]
    assert not gone, f"no longer exist: remove them from LONG_MODULES: {gone}"
    short = [m for m in LONG_MODULES if _lines(MODULES[m]) <= MAX_LINES]
    assert not short, f"short now: remove them from LONG_MODULES: {short}"


MAX_FUNCTION_LINES = 60
"""Lines of code of a function body (docstring, blank lines and comments not counted)."""

LONG_FUNCTIONS: dict[str, str] = {}
"""Functions allowed over MAX_FUNCTION_LINES lines of code, with the reason (to be emptied)."""


def _code_lines(path: Path, node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    first = body[0]
    start = first.lineno
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        start = body[1].lineno if len(body) > 1 else node.end_lineno or node.lineno
    text = path.read_text().splitlines()[start - 1 : node.end_lineno]
    return sum(1 for line in text if line.strip() and not line.strip().startswith("#"))


def _long_functions() -> dict[str, int]:
    out = {}
    for module, path in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = _code_lines(path, node)
                if n > MAX_FUNCTION_LINES:
                    out[f"{module}.{node.name}"] = n
    return out


def test_long_functions_are_listed_with_a_reason():
    long = _long_functions()
    unlisted = {f: n for f, n in long.items() if f not in LONG_FUNCTIONS}
    assert not unlisted, f"functions over {MAX_FUNCTION_LINES} lines of code without a reason: {unlisted}"
    stale = sorted(set(LONG_FUNCTIONS) - set(long))
    assert not stale, f"short now (or gone): remove from LONG_FUNCTIONS: {stale}"


def test_numba_backend_imports_where_no_cache_folder_is_writable(tmp_path):
    """cache=True makes numba raise at decoration when no cache folder is writable; the backend
    must then compile in memory instead (``_numba_random.CACHE`` False), not fail to import."""
    pytest.importorskip("numba")
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    env = {
        **os.environ,
        "PYTHONPATH": str(SRC),
        "NUMBA_CACHE_DIR": str(blocker / "cache"),
        "NUMBA_CACHE_LOCATOR_CLASSES": "UserProvidedCacheLocator",
    }
    code = "from isacnet.backends import numba_kernels, numba_rate, _numba_random as r; print(r.CACHE)"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


@pytest.mark.parametrize(
    "module", ["isacnet.backends.numba_kernels", "isacnet.backends.numba_rate", "isacnet.backends.jax_kernels"]
)
def test_backend_cores_use_the_contract(module):
    """Every module of backend cores types them with backends/_api.py and imports no simulation."""
    assert "isacnet.backends._api" in GRAPH[module]
    assert not [d for d in GRAPH[module] if d.startswith("isacnet.simulation")]
