"""The examples users copy run: the README's Python blocks and every docstring example.

* README.md: each ```python block is executed as a script (blocks in order, one namespace per
  block, in a temporary working directory). A block that stops working fails here.
* Docstrings: every ``>>>`` example of every isacnet module that has one, collected by the
  standard library's :mod:`doctest` and run with an output checker that compares the output
  only where the docstring states one (most examples show a call and its meaning, not its
  printed value, whose last digits depend on the platform). ``# doctest: +SKIP`` is honoured.

The documentation site itself (``python -m sphinx -W``: tutorials executed, warnings as errors)
is built by ``.ci/run``.
"""

from __future__ import annotations

import doctest
import importlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "isacnet"

# ---------------------------------------------------------------------------------------- README
_BLOCK = re.compile(r"^```python[^\n]*\n(.*?)^```", re.S | re.M)


def readme_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of every ```python block of a Markdown text."""
    return [(text[: m.start()].count("\n") + 2, m.group(1)) for m in _BLOCK.finditer(text)]


def test_readme_blocks_are_found():
    text = "a\n```python\nx = 1\n```\n```bash\nls\n```\n```python\ny = 2\n```\n"
    assert readme_blocks(text) == [(3, "x = 1\n"), (9, "y = 2\n")]
    assert readme_blocks((ROOT / "README.md").read_text(encoding="utf-8")), "README.md has no python block"


@pytest.mark.parametrize(
    ("line", "code"),
    readme_blocks((ROOT / "README.md").read_text(encoding="utf-8")),
    ids=lambda v: f"line{v}" if isinstance(v, int) else "",
)
def test_readme_python_block_runs(line, code, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})  # noqa: S102


# ------------------------------------------------------------------------------------ docstrings
class _StatedOutputOnly(doctest.OutputChecker):
    """Compares the output where the example states one; an example without one only has to run."""

    def check_output(self, want: str, got: str, optionflags: int) -> bool:
        return True if not want.strip() else super().check_output(want, got, optionflags)


def _modules_with_examples() -> list[str]:
    names = []
    for path in sorted(SRC.rglob("*.py")):
        if ">>>" in path.read_text(encoding="utf-8"):
            rel = path.relative_to(SRC.parent).with_suffix("")
            parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
            names.append(".".join(parts))
    return names


def _needs(module: str) -> list[str]:
    """Optional packages a module's examples use (skipped when absent)."""
    text = (SRC.parent / Path(*module.split("."))).with_suffix(".py")
    src = text.read_text(encoding="utf-8") if text.exists() else ""
    return [pkg for pkg in ("numba", "jax", "distributed") if re.search(rf">>>.*{pkg}", src)]


MODULES = _modules_with_examples()
_SLOW = {m for m in MODULES if _needs(m)}
"""Modules whose examples compile numba or JAX kernels or start workers (tens of seconds)."""


def test_docstring_examples_are_found():
    assert "isacnet.meng" in MODULES and "isacnet.song" in MODULES, MODULES


@pytest.mark.parametrize("module", [pytest.param(m, marks=pytest.mark.slow) if m in _SLOW else m for m in MODULES])
def test_docstring_examples_run(module, tmp_path, monkeypatch):
    for pkg in _needs(module):
        pytest.importorskip(pkg)
    monkeypatch.chdir(tmp_path)
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(checker=_StatedOutputOnly(),
                                   optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    tests = [t for t in finder.find(mod, module) if t.examples]
    assert tests, f"{module} mentions >>> but no example was collected"
    failures = []
    for test in tests:
        result = runner.run(test, out=failures.append, clear_globs=True)
        assert result.failed == 0, f"{test.name}:\n" + "".join(failures)


def test_output_checker_compares_stated_output():
    checker = _StatedOutputOnly()
    assert checker.check_output("", "anything\n", 0)
    assert checker.check_output("2\n", "2\n", 0)
    assert not checker.check_output("2\n", "3\n", 0)



# ---------------------------------------------------------------------------- TOML sweep configs
_TOML = re.compile(r"^```toml[^\n]*\n(.*?)^```", re.S | re.M)
_PAGES = [ROOT / "README.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]


def _toml_blocks() -> list:
    out = []
    for page in _PAGES:
        text = page.read_text(encoding="utf-8")
        for m in _TOML.finditer(text):
            if "[figure]" in m.group(1):
                line = text[: m.start()].count("\n") + 2
                out.append(pytest.param(m.group(1), f"{page.relative_to(ROOT)}:{line}",
                                        id=f"{page.name}:{line}"))
    return out


@pytest.mark.parametrize(("text", "where"), _toml_blocks())
def test_documented_configs_are_valid(text, where):
    """Every sweep config shown in the README and the user guide parses and validates (every
    sweep point built), as ``isacnet run`` would check it."""
    from isacnet.experiments.spec import parse_spec

    spec = parse_spec(text, source=where)
    assert spec.points()


def test_configs_guide_names_every_model():
    """docs/guide/configs.md's table of models lists every model of the registry."""
    from isacnet.experiments.registry import MODELS

    text = (ROOT / "docs" / "guide" / "configs.md").read_text(encoding="utf-8")
    missing = [name for name in MODELS if f"`{name}`" not in text]
    assert not missing, f"models not in docs/guide/configs.md: {missing}"
