"""Reliability of `isacnet run`: storage faults, counted numerical faults, determinism, no pickles.

* An unwritable output folder or a full disk is a one-line error (exit status 2) before any
  Monte Carlo work; a disk that fills up during the run stops it with the same kind of error,
  keeps every chunk stored so far, and the same command resumes to the uninterrupted numbers; a
  failed result write leaves the previous result file as it was.
* Singular Fisher matrices are counted per point in the Dataset, in its attrs, in the terminal
  summary, and the unusable point is not drawn.
* The same spec gives identical Datasets whatever the executor (serial, a process pool of 1 or
  2 workers, another chunking, another completion order) and after a resume with other chunks.
* Nothing in isacnet unpickles or evaluates anything, and result files are not pickles.
"""

from __future__ import annotations

import errno
import io
import os
import re
import tokenize
from collections import namedtuple
from pathlib import Path

import numpy as np
import pytest

import isacnet
from isacnet.cli import CHUNK_DIR, run_cli
from isacnet.experiments.chunkstore import ChunkStore
from isacnet.experiments.runner import run_spec
from isacnet.experiments.spec import parse_spec
from isacnet.experiments.store import load_dataset
from isacnet.simulation.engine import SerialExecutor
from isacnet.simulation.executors import ProcessExecutor

SONG = """\
[figure]
id = "rel"
model = "song"
[params]
gamma = 3.0
[sweep]
parameters = ["n_rx_antennas"]
values = [1, 4]
[monte_carlo]
n_layouts = 2000
seed = 3
block_size = 100
k_nearest = 4
"""

MENG = """\
[figure]
id = "relm"
model = "meng-sensing"
[sweep]
parameters = ["n_bs"]
values = [1, 6]
[monte_carlo]
n_layouts = 1500
seed = 5
block_size = 100
"""
MENG_N = 1500


def _cfg(tmp_path: Path, text: str = SONG, name: str = "rel.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def _run(cfg: Path, out: Path, *extra: str) -> int:
    return run_cli(["run", str(cfg), "--out", str(out), "--workers", "1", "--no-progress", *extra])


def _same(a, b) -> None:
    assert set(a.data_vars) == set(b.data_vars)
    for v in list(a.data_vars) + list(a.coords):
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)


@pytest.fixture
def no_work(monkeypatch):
    """Fail the test if the Monte Carlo work starts."""

    def boom(*a, **k):
        raise AssertionError("the Monte Carlo work started")

    monkeypatch.setattr("isacnet.experiments.runner.run_specs", boom)


# --------------------------------------------------------------------------- storage faults
def test_read_only_folder_fails_before_work(tmp_path, monkeypatch, capsys, no_work):
    real_open = os.open

    def ro_open(path, flags, *a, **k):  # a read-only file system (root ignores chmod, so simulate it)
        if str(path).startswith(str(tmp_path / "out")) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *a, **k)

    monkeypatch.setattr(os, "open", ro_open)
    assert _run(_cfg(tmp_path), tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "error: out = " in err and "Read-only file system" in err and "writable folder" in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root writes into read-only folders")
def test_unwritable_folder_permissions(tmp_path, capsys, no_work):
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o500)
    try:
        assert _run(_cfg(tmp_path), out) == 2
    finally:
        out.chmod(0o700)
    assert "Permission denied" in capsys.readouterr().err


def test_full_disk_fails_before_work(tmp_path, monkeypatch, capsys, no_work):
    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)  # the probe's 64 KiB cannot reach the disk
    assert _run(_cfg(tmp_path), tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "No space left on device" in err and "free some space" in err
    assert not list((tmp_path / "out").iterdir())  # probe removed


def test_too_little_free_space_fails_before_work(tmp_path, monkeypatch, capsys, no_work):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("isacnet.experiments.store.shutil.disk_usage", lambda p: usage(10**9, 10**9 - 4096, 4096))
    assert _run(_cfg(tmp_path), tmp_path / "out") == 2
    assert "bytes free (4096 free)" in capsys.readouterr().err


def test_disk_full_during_run_keeps_chunks_and_resumes(tmp_path, monkeypatch, capsys):
    cfg = _cfg(tmp_path)
    ref = run_spec(parse_spec(SONG), SerialExecutor(), progress=False)  # uninterrupted, same code
    real_fsync, calls = os.fsync, {"n": 0}

    def fills_up(fd):  # the probe and the first chunks get through, then the disk is full
        calls["n"] += 1
        if calls["n"] > 6:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)

    out = tmp_path / "out"
    monkeypatch.setattr(os, "fsync", fills_up)
    assert _run(cfg, out) == 2
    monkeypatch.setattr(os, "fsync", real_fsync)
    err = capsys.readouterr().err
    assert "No space left on device" in err and "chunks stored so far are kept" in err and "rerun" in err
    stored = {f: f.read_bytes() for f in (out / CHUNK_DIR).glob("*/chunk-*.json")}
    assert stored and not list((out / CHUNK_DIR).glob("*/.chunk-*"))  # the failed write left nothing
    assert not (out / "rel.nc").exists()
    assert _run(cfg, out, "--keep-chunks") == 0  # space again: the same command resumes (chunks kept to compare)
    for f, content in stored.items():
        assert f.read_bytes() == content
    _same(load_dataset(out / "rel.nc"), ref)


@pytest.fixture(params=["processes", "thread"])
def saver(request, monkeypatch):
    """Results written by saver processes (forked: they see this test's monkeypatches) or a thread."""
    import multiprocessing as mp

    if request.param == "processes" and "fork" not in mp.get_all_start_methods():
        pytest.skip("saver processes are forked; this platform cannot fork")
    monkeypatch.setattr("isacnet.cli._run.SAVER_PROCESSES", request.param == "processes")
    if request.param == "processes":  # forked even where an earlier test loaded JAX (the saver never uses it)
        monkeypatch.setattr("isacnet.simulation.executors._context", lambda: mp.get_context("fork"))
    return request.param


def test_failed_result_write_keeps_previous_file(tmp_path, monkeypatch, capsys, saver):
    cfg, out = _cfg(tmp_path), tmp_path / "out"
    assert _run(cfg, out) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    import xarray as xr

    def full(self, path, *a, **k):
        Path(path).write_bytes(b"\x89HDF partial")  # some bytes got out, then the disk filled up
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    assert _run(cfg, out, "--seed", "9") == 2  # another result would replace rel.nc
    assert "writing rel.nc failed: No space left on device" in capsys.readouterr().err
    after = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert after == before  # the old record intact, no temporary file left


def test_a_failed_result_write_stops_the_run_at_the_next_figure(tmp_path, monkeypatch, capsys, saver):
    # files are written in a background thread while the other figures run: a failure there must
    # not be lost, nor wait for the whole run. Serial executor: the figures' chunks are computed in
    # order, so the run stops when song-fig1b is done, before song-fig1c's first chunk.
    import xarray as xr

    import isacnet.simulation.engine as engine

    def full(self, path, *a, **k):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    computed = []
    real = engine.run_chunk

    def counting(job, first, n):
        computed.append(job.kernel)
        return real(job, first, n)

    monkeypatch.setattr(engine, "run_chunk", counting)
    monkeypatch.setattr(xr.Dataset, "to_netcdf", full)
    out = tmp_path / "out"
    code = run_cli(["reproduce", "song-fig1a", "song-fig1b", "song-fig1c", "--n-layouts", "8192", "--workers", "1",
                    "--no-progress", "--out", str(out)])
    assert code == 2
    assert "writing song-fig1a.nc failed: No space left on device" in capsys.readouterr().err
    fig1c = isacnet.experiments.runner.jobs_for(isacnet.experiments.spec.builtin_specs()["song-fig1c"]).kernels
    assert computed and not any(k in fig1c for k in computed)


def test_files_and_combined_figure_of_a_group_are_written(tmp_path, capsys, saver):
    out = tmp_path / "out"
    assert run_cli(["reproduce", "song-fig1a", "song-fig1b", "--quick", "--workers", "1", "--no-progress",
                    "--out", str(out)]) == 0
    assert f"combined figure: {out / 'song-fig1.png'}" in capsys.readouterr().out
    for stem in ("song-fig1a", "song-fig1b"):
        assert load_dataset(out / f"{stem}.nc").attrs["figure_id"] == stem
        assert (out / f"{stem}.png").stat().st_size > 0 and (out / f"{stem}.csv").exists()


# --------------------------------------------------------------------------- numerical faults
def test_singular_fims_counted_per_point_and_reported(tmp_path, capsys):
    """N = 1: the FIM 2 w^2 (e e^T + e e^T)/... has rank one for every layout, so every sample of
    log tr F^-1 is +inf (counted, never averaged); N = 6: P(singular) = 0."""
    assert _run(_cfg(tmp_path, MENG, "m.toml"), tmp_path) == 0
    ds = load_dataset(tmp_path / "relm.nc")
    np.testing.assert_array_equal(ds["geo_mean_n_posinf"].values, [MENG_N, 0])
    np.testing.assert_array_equal(ds["geo_mean_n"].values, [0, MENG_N])
    np.testing.assert_array_equal(ds["singular"].values, [1.0, 0.0])
    for q in ("geo_mean", "crlb", "singular", "cluster_size"):
        np.testing.assert_array_equal(ds[f"{q}_n_nan"].values, [0, 0])
        np.testing.assert_array_equal(ds[f"{q}_n_neginf"].values, [0, 0])
    assert np.isnan(ds["geo_mean"].values[0]) and np.isfinite(ds["geo_mean"].values[1])
    assert np.isnan(ds["crlb"].values[0]) and ds["crlb_n"].values[0] == 0  # the mean does not exist at N = 1
    assert f"geo_mean={MENG_N}" in ds.attrs["nonfinite_samples"]
    lines = capsys.readouterr().out.splitlines()
    header = next(ln for ln in lines if "non-finite" in ln)
    row = next(ln for ln in lines if ln.startswith("relm"))
    a, b = re.search(r"\S*non-finite", header).span()
    assert row[a:b].strip() == str(MENG_N)  # the terminal summary's column
    from matplotlib.figure import Figure

    from isacnet.plotting import plot_dataset

    ax = Figure().subplots()
    plot_dataset(ds, ax)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    # the geometric mean is the conditional statistic (localisable layouts): drawn where some
    # layout localises (N = 6), not drawn and counted where none does (N = 1)
    assert any("geometric mean" in lab and "1 point not drawn: no localisable layout" in lab for lab in labels), labels


# --------------------------------------------------------------------------- determinism
class _Reordered:
    """Serial, but with another chunking (through ``n_workers``) and chunks finishing in a random
    order."""

    def __init__(self, n_workers: int, seed: int):
        self.n_workers, self.rng = n_workers, np.random.default_rng(seed)

    def imap_unordered(self, fn, args):
        args = list(args)  # the engine hands over a generator (chunks made lazily)
        for i in self.rng.permutation(len(args)):
            yield int(i), fn(*args[i])


@pytest.mark.parametrize("text", [SONG, MENG], ids=["song", "meng-sensing"])
def test_spec_run_identical_across_executors_and_chunkings(tmp_path, text):
    spec = parse_spec(text)
    ref = run_spec(spec, SerialExecutor(), progress=False)
    for ex in (_Reordered(3, 1), _Reordered(7, 2)):
        _same(run_spec(spec, ex, progress=False), ref)
    for n in (1, 2):
        with ProcessExecutor(n) as ex:
            _same(run_spec(spec, ex, progress=False), ref)
    store = ChunkStore(tmp_path / "chunks", keep_chunks=True)  # a resume: chunks of two chunkings
    run_spec(spec, _Reordered(5, 3), progress=False, cache=store)
    files = sorted((tmp_path / "chunks").glob("*/chunk-*.json"))
    for f in files[::2] + sorted((tmp_path / "chunks").glob("*.json")):  # and no finished point's record
        f.unlink()
    _same(run_spec(spec, _Reordered(2, 4), progress=False, cache=store), ref)


# --------------------------------------------------------------------------- no pickle, no eval
FORBIDDEN = re.compile(r"^(pickle|cPickle|dill|cloudpickle|marshal|shelve|eval|exec|allow_pickle|literal_eval)$")


def test_no_pickle_or_eval_in_isacnet():
    """Scan the code (names, not comments or docstrings) of every isacnet module."""
    root = Path(isacnet.__file__).parent
    hits = []
    for path in sorted(root.rglob("*.py")):
        toks = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        hits += [
            f"{path.relative_to(root)}:{t.start[0]} {t.string}"
            for t in toks
            if t.type == tokenize.NAME and FORBIDDEN.match(t.string)
        ]
    assert not hits, hits
    assert len(list(root.rglob("*.py"))) > 10


def test_result_files_are_not_pickles(tmp_path):
    assert _run(_cfg(tmp_path), tmp_path) == 0
    magic = {".nc": b"\x89HDF\r\n\x1a\n", ".png": b"\x89PNG", ".json": b"{"}
    files = [p for p in tmp_path.rglob("*") if p.is_file() and p.suffix != ".toml"]
    assert files
    for p in files:
        head = p.read_bytes()[:8]
        assert not head.startswith(b"\x80"), p  # every pickle protocol >= 2 starts with 0x80
        if p.suffix in magic:
            assert head.startswith(magic[p.suffix]), p
        else:
            assert p.suffix in (".csv", ".html", ".md"), p
            p.read_text(encoding="utf-8")
