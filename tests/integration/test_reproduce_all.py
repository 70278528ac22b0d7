"""Every built-in figure end to end: `reproduce all --quick` (slow), and a cheap default-set twin
that runs each figure's model through the engine at one sweep point and a few layouts, so that a
broken lazy import of a model hook (kernel, derived statistics, closed forms, plotting) fails the
default test run, not a user's `reproduce all` (it did: registry/deploy.py, fixed in cc81956)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from isacnet.cli import run_cli
from isacnet.experiments.runner import run_spec
from isacnet.experiments.spec import builtin_specs
from isacnet.experiments.store import load_dataset

SPECS = builtin_specs()


def _one_point(spec):
    """``spec`` at its first sweep (and series) value, with a few layouts."""
    first = dataclasses.replace(spec.sweep, values=spec.sweep.values[:1])
    series = None if spec.series is None else dataclasses.replace(spec.series, values=spec.series.values[:1])
    n = min(spec.quick_n_layouts, 8)
    spec = dataclasses.replace(spec, sweep=first, series=series, n_layouts=n, quick_n_layouts=n, block_size=n)
    if "L_max" in spec.options or spec.model == "meng-tradeoff":  # a small design search: the hooks, not the optimum
        spec = spec.with_overrides(L_max=4, N_max=4, n_grid=5)
    return spec


@pytest.mark.parametrize("fig", sorted(SPECS))
def test_every_model_hook_runs_at_one_point(fig):
    """Kernel, derived statistics, closed forms and the figure of each built-in spec (a second or
    less each): every lazy import on the way is executed."""
    from isacnet.plotting import figure

    spec = _one_point(SPECS[fig])
    ds = run_spec(spec)
    assert ds.attrs["figure_id"] == fig and ds.attrs["closed_forms_skipped"] == ""
    plotted = [q for p in ds.attrs["plotted"].split(",") for q in p.split(":") if q in ds]
    assert plotted, "nothing to plot"
    assert any(np.isfinite(ds[q].values).any() for q in plotted)
    fig_, axes = figure([ds])
    assert axes and fig_.isacnet_provenance["Source"].startswith(fig)


@pytest.mark.slow
def test_reproduce_all_quick_end_to_end(tmp_path, capsys):
    """`isacnet reproduce all --quick` as a user runs it (about 70 s on one core)."""
    out = tmp_path / "all"
    assert run_cli(["reproduce", "all", "--quick", "--workers", "1", "--no-progress", "--out", str(out)]) == 0
    for fig in SPECS:
        ds = load_dataset(out / f"{fig}.nc")
        assert ds.attrs["figure_id"] == fig
        assert (out / f"{fig}.png").read_bytes()[:4] == b"\x89PNG"
    groups = {s.group for s in SPECS.values() if s.group}
    for g in groups:
        assert (out / f"{g}.png").exists()
    assert (out / "index.html").exists()
    assert "error" not in capsys.readouterr().err
