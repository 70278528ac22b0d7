"""Sphinx configuration of the isacnet documentation site.

Build: ``python -m sphinx -W --keep-going -b html docs docs/_build/html`` (what ``.ci/run`` runs).
The tutorials in ``examples/`` are executed by sphinx-gallery at every build, so a tutorial that
stops working fails the build.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))
os.environ.setdefault("MPLBACKEND", "Agg")

import isacnet  # noqa: E402

project = "isacnet"
author = "isacnet developers"
copyright = "2026, isacnet developers"  # noqa: A001 - Sphinx's name
release = isacnet.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "numpydoc",
    "myst_parser",
    "sphinx_click",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "scripts", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.codeobj.json"]

myst_enable_extensions = ["dollarmath", "amsmath", "deflist"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # the errata use ### entries under ## sections by design

numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
autodoc_typehints = "none"
autodoc_member_order = "bysource"

intersphinx_mapping = {}  # no network at build time: links are written out, not resolved

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/tutorial_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "matplotlib_animations": False,
    "within_subsection_order": "FileNameSortKey",
    # execute every tutorial at every build, not only those whose file changed since the last
    # one: a tutorial broken by a change in isacnet must fail the build
    "run_stale_examples": True,
}

html_theme = "alabaster"
html_title = f"isacnet {release}"
html_static_path: list[str] = []


# --------------------------------------------------------------------------- plain-text maths
# isacnet's docstrings and CLI help write maths as plain text, readable in help() and --help:
# |zeta|^2, |MC - CF| / se, ||d_l - x_1||. In reStructuredText a word between bars is a
# substitution reference (|d| -> "undefined substitution") and a line that starts with a bar is
# a line block, so the site escapes every bar outside ``inline literals`` and literal blocks
# before docutils reads the text. Everything else in a docstring is reStructuredText as usual.
_LITERAL = re.compile(r"(``.*?``)")


def _escape_bars(lines: list[str]) -> None:
    in_block, block_indent = False, 0
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if in_block:
            if stripped and indent <= block_indent:
                in_block = False
            else:
                continue
        if "|" in line:
            parts = _LITERAL.split(line)
            lines[i] = "".join(p if p.startswith("``") else p.replace("|", r"\|") for p in parts)
        if line.rstrip().endswith("::") or _DIRECTIVE.match(line):
            in_block, block_indent = True, indent


# A few module docstrings show a config file as a Markdown fence (```toml ... ```), which reads
# well in help(); the site turns such a fence into a code-block.
_FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
_DIRECTIVE = re.compile(r"^\s*\.\. (code-block|math)::")


def _fences_to_code_blocks(lines: list[str]) -> None:
    out: list[str] = []
    fence_indent: str | None = None
    for line in lines:
        m = _FENCE.match(line)
        if fence_indent is None and m:
            fence_indent = m.group(1)
            out += [f"{fence_indent}.. code-block:: {m.group(2) or 'text'}", ""]
        elif fence_indent is not None and m:
            fence_indent = None
            out.append("")
        elif fence_indent is not None:
            out.append(f"{fence_indent}    {line}" if line.strip() else "")
        else:
            out.append(line)
    lines[:] = out


def _escape_docstring(app, what, name, obj, options, lines):  # noqa: ARG001 - Sphinx's signature
    _fences_to_code_blocks(lines)
    _escape_bars(lines)


def _escape_click(app, ctx, lines):  # noqa: ARG001 - sphinx-click's signature
    _escape_bars(lines)


def setup(app):
    app.connect("autodoc-process-docstring", _escape_docstring)
    for event in ("description", "usage", "options", "arguments", "envvars", "epilog"):
        app.connect(f"sphinx-click-process-{event}", _escape_click)
