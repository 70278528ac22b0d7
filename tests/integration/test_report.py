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
    assert "done at s" in text and "index:" in text
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
    # stopped early: the column shows the most layouts a point used, not the cap
    early = ds.assign(n_layouts_used=ds["n_layouts_used"] * 0 + np.arange(ds.sizes["n_antennas"]) + 100)
    assert metrics(early).layouts == 100 + ds.sizes["n_antennas"] - 1 < ds.attrs["n_layouts"]


def test_index_ignores_foreign_files(tmp_path):
    (tmp_path / "junk.nc").write_bytes(b"not netcdf")
    html, md = write_index(tmp_path)
    assert html.exists() and "junk" not in md.read_text()


def test_index_from_remembered_metrics_equals_the_one_read_from_the_files(tmp_path):
    """The run remembers each result it wrote (no read-back); the index is the same as one built
    from the files alone, and a file changed since it was remembered is read again."""
    import os

    from isacnet.experiments import report

    out = tmp_path / "res"
    for fig in ("song-fig1a", "meng-fig2"):
        assert run_cli(["reproduce", fig, "--quick", "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    assert (out / "song-fig1a.nc").resolve() in report._KNOWN
    remembered = ((out / "index.html").read_text(), (out / "README.md").read_text())
    report._KNOWN.clear()
    write_index(out)
    assert ((out / "index.html").read_text(), (out / "README.md").read_text()) == remembered

    nc = out / "meng-fig2.nc"
    fake = load_dataset(out / "song-fig1a.nc")
    report.remember(nc, fake)  # a wrong record for meng-fig2 ...
    st = nc.stat()
    os.utime(nc, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))  # ... and the file changes after it
    write_index(out)
    assert "## meng-fig2: " in (out / "README.md").read_text()
