"""The run summary and the index of the output folder."""

from __future__ import annotations

import math

import numpy as np
import pytest

from isacnet.cli import run_cli
from isacnet.experiments.report import metrics, write_index
from isacnet.experiments.store import load_dataset


def test_reproduce_writes_an_index_of_every_figure(tmp_path, capsys):
    out = tmp_path / "res"
    assert run_cli(["reproduce", "song-fig1a", "--quick", "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    assert run_cli(["reproduce", "meng-fig2", "--quick", "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    text = capsys.readouterr().out
    assert "wall s" in text and "index:" in text
    page = (out / "index.html").read_text()
    md = (out / "README.md").read_text()
    for fig in ("song-fig1a", "meng-fig2"):  # the second run keeps the first run's figure listed
        assert f'src="{fig}.png"' in page and f"({fig}.png)" in md and f"{fig}.nc" in md
    assert "(quick)" in md


def test_metrics_from_the_dataset_alone(tmp_path):
    out = tmp_path / "r"
    assert run_cli(["reproduce", "song-fig1a", "--quick", "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    ds = load_dataset(out / "song-fig1a.nc")
    m = metrics(ds)
    assert m.points == ds.sizes["n_antennas"] and m.layouts == ds.attrs["n_layouts"] and m.quick
    # recomputed here from the stored columns: the largest relative CI of the plotted MC outputs
    rel = max(float(np.nanmax(1.959963984540054 * ds[f"{q}_stderr"] / abs(ds[q])))
              for q in ("crlb", "jensen"))
    assert m.max_rel_ci == pytest.approx(rel, rel=1e-12)
    z = float(np.nanmax(abs(ds["jensen"] - ds["bound"]) / ds["jensen_stderr"]))
    assert m.max_z >= z and math.isfinite(m.wall_s) and m.wall_s > 0


def test_index_ignores_foreign_files(tmp_path):
    (tmp_path / "junk.nc").write_bytes(b"not netcdf")
    html, md = write_index(tmp_path)
    assert html.exists() and "junk" not in md.read_text()
