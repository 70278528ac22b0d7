"""Hostile configs and command-line flags: every failure is one line and the right exit status.

Each case asserts: exit status 2 for bad usage (1 for a failure at run time), exactly one line
on stderr that names what to change, no traceback, and nothing written to OUT. Valid but
extreme inputs must give correct output. The CLI runs in-process (``run_cli``); a subprocess
only where a signal is sent. Counts are in docs/reliability.md ("Hostile inputs").
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from isacnet.cli import run_cli
from isacnet.experiments.store import load_dataset
from isacnet.simulation.engine import run_chunk as _REAL_RUN_CHUNK

SONG = '[figure]\nid = "h"\nmodel = "song"\n'
SWEEP = '[sweep]\nparameters = ["n_rx_antennas"]\nvalues = [1, 2]\n'
MC = "[monte_carlo]\nn_layouts = 64\nseed = 3\n"
MENG = '[figure]\nid = "h"\nmodel = "meng-sensing"\n'
MENG_SWEEP = '[sweep]\nparameters = ["n_bs"]\nvalues = [6]\n'
SERIES11 = '[series]\nparameters = ["n_tx_antennas"]\nlinspace = [1, 11, 11]\n'


def _cfg(params: str = "", mc: str = "", sweep: str = SWEEP, figure: str = SONG) -> str:
    return f"{figure}[params]\ngamma = 3.0\n{params}\n{sweep}{MC}{mc}\n"


def _big_values(n: int) -> str:
    return '[sweep]\nparameters = ["n_rx_antennas"]\nvalues = [' + ", ".join(["1"] * n) + "]\n"


# (id, config text or bytes, expected exit status, words stderr must contain)
CONFIGS = [
    ("tx_density-1e300", _cfg("tx_density = 1e300"), 2, "tx_density"),
    ("window_radius-1e7", _cfg(mc="window_radius = 1e7"), 2, "window_radius"),
    ("k_nearest-1e8", _cfg(mc="k_nearest = 1e8"), 2, "k_nearest"),
    ("k_nearest-1e12", _cfg(mc="k_nearest = 1000000000000"), 2, "k_nearest"),
    ("n_bs-1e9", _cfg(sweep=MENG_SWEEP.replace("[6]", "[1e9]"), figure=MENG).replace("gamma = 3.0", ""),
     2, "n_bs"),
    ("block_size-1e12", _cfg(mc="block_size = 1000000000000").replace("n_layouts = 64", "n_layouts = 10000000000000"),
     2, "block_size"),
    ("values-10001", _cfg(sweep=_big_values(10_001)), 2, "sweep.values"),
    ("linspace-1e7", _cfg(sweep='[sweep]\nparameters = ["gamma"]\nlinspace = [2.5, 3.5, 10000000]\n'),
     2, "sweep.linspace"),
    ("points-1e5", _cfg(sweep=_big_values(10_000) + SERIES11),
     2, "series"),
    ("nested-arrays", SONG + "[params]\ngamma = " + "[" * 50_000 + "]" * 50_000 + "\n", 2, "nest"),
    ("too-big-file", _cfg() + "#" * (1 << 20) + "\n", 2, "bytes"),
    ("non-utf8", _cfg().replace('id = "h"', 'id = "h\xff"').encode("latin-1"), 2, "UTF-8"),
    ("utf16", _cfg().encode("utf-16"), 2, "UTF-8"),
    ("empty-file", "", 2, "figure.id"),
    ("seed-negative", _cfg().replace("seed = 3", "seed = -1"), 2, "seed"),
    ("seed-float", _cfg().replace("seed = 3", "seed = 1.5"), 2, "seed"),
    ("seed-string", _cfg().replace("seed = 3", 'seed = "3"'), 2, "seed"),
    ("n_layouts-1", _cfg().replace("n_layouts = 64", "n_layouts = 1"), 2, "n_layouts"),
    ("n_layouts-bool", _cfg().replace("n_layouts = 64", "n_layouts = true"), 2, "n_layouts"),
    ("quick-1", _cfg(mc="quick_n_layouts = 1"), 2, "quick_n_layouts"),
    ("block_size-0", _cfg(mc="block_size = 0"), 2, "block_size"),
    ("id-traversal", _cfg().replace('id = "h"', 'id = "../h"'), 2, "figure.id"),
    ("id-slash", _cfg().replace('id = "h"', 'id = "a/b"'), 2, "figure.id"),
    ("model-unknown", _cfg().replace('model = "song"', 'model = "nope"'), 2, "figure.model"),
    ("gamma-nan", _cfg().replace("gamma = 3.0", "gamma = nan"), 2, "gamma"),
    ("gamma-inf", _cfg().replace("gamma = 3.0", "gamma = inf"), 2, "gamma"),
    ("gamma-2", _cfg().replace("gamma = 3.0", "gamma = 2.0"), 2, "gamma"),
    ("param-unknown", _cfg("gama = 3"), 2, "gama"),
    ("param-string", _cfg('tx_power = "1"'), 2, "tx_power"),
    ("antennas-1e400", _cfg("n_tx_antennas = 1" + "0" * 400), 2, "n_tx_antennas"),
    ("values-strings", _cfg(sweep='[sweep]\nparameters = ["n_rx_antennas"]\nvalues = ["a"]\n'), 2, "values"),
    ("values-empty", _cfg(sweep='[sweep]\nparameters = ["n_rx_antennas"]\nvalues = []\n'), 2, "values"),
    ("values-fractional-int", _cfg(sweep='[sweep]\nparameters = ["n_rx_antennas"]\nvalues = [1.5]\n'), 2,
     "n_rx_antennas"),
    ("duplicate-key", _cfg("gamma = 4.0"), 2, "TOML"),
    ("control-char", _cfg().replace('id = "h"', 'id = "h\x01"'), 2, "TOML"),
    ("k_nearest-0", _cfg(mc="k_nearest = 0"), 2, "k_nearest"),
    ("k_nearest-bool", _cfg(mc="k_nearest = true"), 2, "k_nearest"),
    ("window-negative", _cfg(mc="window_radius = -1.0"), 2, "window_radius"),
    ("backend-unknown", _cfg(mc='backend = "cuda"'), 2, "backend"),
    ("float32-numpy", _cfg(mc='dtype = "float32"'), 2, "dtype"),
    ("option-unknown", _cfg(mc="k_neighbours = 3"), 2, "k_neighbours"),
    ("plot-scale", _cfg() + '[plot]\nxscale = "weird"\n', 2, "plot.xscale"),
    ("sweep-dim", _cfg(sweep=SWEEP + 'dim = "1x"\n'), 2, "sweep.dim"),
    ("table-unknown", _cfg() + "[plots]\nx = 1\n", 2, "[plots]"),
    ("sweep-missing", SONG + MC, 2, "sweep"),
]


@pytest.mark.parametrize(("text", "rc", "needle"), [c[1:] for c in CONFIGS], ids=[c[0] for c in CONFIGS])
def test_hostile_config_is_one_line(tmp_path, capsys, text, rc, needle):
    cfg = tmp_path / "h.toml"
    (cfg.write_bytes if isinstance(text, bytes) else cfg.write_text)(text)
    out = tmp_path / "out"
    got = run_cli(["run", str(cfg), "--out", str(out), "--workers", "1", "--no-progress"])
    _assert_one_line(capsys, got, rc, needle)
    assert not out.exists(), "nothing may be written before the input is found bad"


def _assert_one_line(capsys, got: int, rc: int, needle: str) -> str:
    err = capsys.readouterr().err
    assert got == rc, err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert needle.lower() in lines[0].lower(), lines[0]
    return lines[0]


def _good_cfg(tmp_path: Path) -> Path:
    cfg = tmp_path / "good.toml"
    cfg.write_text(_cfg())
    return cfg


# (id, argv after `run CONFIG --out OUT` (or a full argv when it starts with "!"), exit status, needle)
FLAGS = [
    ("workers-0", ["--workers", "0"], 2, "--workers"),
    ("workers-negative", ["--workers", "-5"], 2, "--workers"),
    ("workers-text", ["--workers", "abc"], 2, "--workers"),
    ("seed-negative", ["--seed", "-1"], 2, "seed"),
    ("seed-text", ["--seed", "abc"], 2, "--seed"),
    ("n-layouts-1", ["--n-layouts", "1"], 2, "n_layouts"),
    ("n-layouts-0", ["--n-layouts", "0"], 2, "n_layouts"),
    ("rel-ci-0", ["--rel-ci", "0"], 2, "--rel-ci"),
    ("rel-ci-1.5", ["--rel-ci", "1.5"], 2, "--rel-ci"),
    ("rel-ci-nan", ["--rel-ci", "nan"], 2, "--rel-ci"),
    ("max-layouts-alone", ["--max-layouts", "100"], 2, "--max-layouts"),
    ("scheduler-tls", ["--scheduler", "tls://127.0.0.1:8786"], 2, "scheduler"),
    ("scheduler-inproc", ["--scheduler", "inproc://x"], 2, "scheduler"),
    ("scheduler-word", ["--scheduler", "bogus"], 2, "scheduler"),
    ("scheduler-port", ["--scheduler", "tcp://127.0.0.1:99999"], 2, "scheduler"),
    ("scheduler-empty", ["--scheduler", ""], 2, "scheduler"),
    ("backend-unknown", ["--backend", "cuda"], 2, "--backend"),
    ("dtype-float32-numpy", ["--dtype", "float32"], 2, "dtype"),
    ("option-unknown", ["--frobnicate"], 2, "--frobnicate"),
    ("config-missing", ["!", "run", "/nonexistent/x.toml"], 2, "x.toml"),
    ("config-dev-zero", ["!", "run", "/dev/zero"], 2, "regular file"),
    ("config-folder", ["!", "run", "/tmp"], 2, "/tmp"),
    ("command-unknown", ["!", "frobnicate"], 2, "frobnicate"),
    ("figure-unknown", ["!", "reproduce", "song-fig9"], 2, "song-fig9"),
    ("reproduce-window-1e7", ["!", "reproduce", "song-fig1a", "--quick", "--window-radius", "1e7"], 2,
     "window_radius"),
    ("reproduce-window-negative", ["!", "reproduce", "song-fig1a", "--window-radius", "-1"], 2, "window_radius"),
    ("reproduce-window-nan", ["!", "reproduce", "song-fig1a", "--window-radius", "nan"], 2, "window_radius"),
    ("reproduce-k-1e8", ["!", "reproduce", "song-fig1a", "--quick", "--k-nearest", "100000000"], 2, "k_nearest"),
    ("reproduce-k-float", ["!", "reproduce", "song-fig1a", "--k-nearest", "1e8"], 2, "--k-nearest"),
    ("eval-gamma-nan", ["!", "eval", "song", "--set", "gamma=nan"], 2, "gamma"),
    ("eval-unknown", ["!", "eval", "song", "--set", "nosuch=1"], 2, "nosuch"),
    ("eval-no-equals", ["!", "eval", "song", "--set", "gamma"], 2, "KEY=VALUE"),
    ("eval-mc-negative", ["!", "eval", "song", "--mc", "-1"], 2, "n_layouts"),
    ("eval-seed-negative", ["!", "eval", "song", "--mc", "4", "--seed", "-1"], 2, "seed"),
    ("optimize-weight-2", ["!", "optimize", "--weight", "2"], 2, "weight"),
    ("optimize-L-0", ["!", "optimize", "--weight", "0.5", "--L-max", "0"], 2, "L_max"),
]


@pytest.mark.parametrize(("argv", "rc", "needle"), [c[1:] for c in FLAGS], ids=[c[0] for c in FLAGS])
def test_hostile_flag_is_one_line(tmp_path, capsys, argv, rc, needle):
    out = tmp_path / "out"
    if argv[0] == "!":
        full = [*argv[1:], "--out", str(out)] if argv[1] in ("run", "reproduce") else argv[1:]
    else:
        full = ["run", str(_good_cfg(tmp_path)), "--out", str(out), *argv]
    got = run_cli([*full, "--no-progress"] if full[0] in ("run", "reproduce") else full)
    _assert_one_line(capsys, got, rc, needle)
    assert not out.exists()


def test_empty_out_is_refused_and_the_current_folder_untouched(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "README.md").write_text("mine\n")
    got = run_cli(["run", str(_good_cfg(tmp_path)), "--out", "", "--workers", "1", "--no-progress"])
    _assert_one_line(capsys, got, 2, "--out")
    assert (tmp_path / "README.md").read_text() == "mine\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "good.toml"]


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    f = tmp_path / "afile"
    f.write_text("x")
    got = run_cli(["run", str(_good_cfg(tmp_path)), "--out", str(f), "--no-progress"])
    _assert_one_line(capsys, got, 2, "--out")
    assert f.read_text() == "x"


def test_fifo_config_is_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "cfg.toml"
    os.mkfifo(fifo)
    got = run_cli(["run", str(fifo), "--out", str(tmp_path / "out"), "--no-progress"])
    _assert_one_line(capsys, got, 2, "regular file")


def test_backend_without_its_package_is_one_line(tmp_path, capsys, monkeypatch):
    """`--backend jax` where jax cannot be imported (simulated): one line naming the extra."""
    monkeypatch.setitem(sys.modules, "jax", None)
    for name in [m for m in sys.modules if m.startswith("isacnet.backends.jax")]:
        monkeypatch.delitem(sys.modules, name)
    out = tmp_path / "out"
    got = run_cli(["reproduce", "song-fig1a", "--quick", "--n-layouts", "64", "--backend", "jax",
                   "--out", str(out), "--no-progress"])
    line = _assert_one_line(capsys, got, 2, "isacnet[gpu]")
    assert "jax" in line
    assert not out.exists()


# ------------------------------------------------------------------ valid but extreme: correct output
def _run_ok(capsys, argv) -> str:
    got = run_cli([*argv, "--no-progress"])
    err = capsys.readouterr().err
    assert got == 0, err
    assert "Traceback" not in err
    return err


def test_bom_config_runs_like_the_plain_one(tmp_path, capsys):
    plain, bom = tmp_path / "plain.toml", tmp_path / "bom.toml"
    plain.write_text(_cfg())
    bom.write_bytes(b"\xef\xbb\xbf" + _cfg().encode())
    _run_ok(capsys, ["run", str(plain), "--out", str(tmp_path / "a"), "--workers", "1"])
    _run_ok(capsys, ["run", str(bom), "--out", str(tmp_path / "b"), "--workers", "1"])
    a, b = load_dataset(tmp_path / "a" / "h.nc"), load_dataset(tmp_path / "b" / "h.nc")
    np.testing.assert_array_equal(a["crlb"].values, b["crlb"].values)


@pytest.mark.parametrize("seed", [2**64, 2**63, 10**30])
def test_seed_beyond_int64_round_trips(tmp_path, capsys, seed):
    """Any seed numpy's SeedSequence takes: stored exactly (a string attribute beyond int64),
    and the run equals a direct computation with that seed."""
    out = tmp_path / "out"
    _run_ok(capsys, ["run", str(_good_cfg(tmp_path)), "--out", str(out), "--workers", "1", "--seed", str(seed)])
    ds = load_dataset(out / "h.nc")
    assert int(ds.attrs["seed"]) == seed
    assert f"seed = {seed}" in ds.attrs["config_toml"]
    from isacnet.experiments.spec import parse_spec

    assert parse_spec(ds.attrs["config_toml"]).seed == seed
    from isacnet.experiments.models import get_model
    from isacnet.simulation.engine import Job, estimates, run_jobs

    spec = parse_spec(ds.attrs["config_toml"])
    p, o = spec.points()[1]
    job = Job(get_model("song").kernel(p, o), 64, seed, point=1, block_size=spec.block_size)
    (mom,) = run_jobs([job])
    assert estimates(mom)["crlb"].mean == ds["crlb"].values[1]


def test_workers_beyond_the_machine_are_capped_with_a_note(tmp_path, capsys):
    err = _run_ok(capsys, ["run", str(_good_cfg(tmp_path)), "--out", str(tmp_path / "a"), "--workers", "10000"])
    notes = [ln for ln in err.splitlines() if "capped" in ln]
    assert len(notes) == 1 and "--workers 10000" in notes[0]
    _run_ok(capsys, ["run", str(_good_cfg(tmp_path)), "--out", str(tmp_path / "b"), "--workers", "1"])
    a, b = load_dataset(tmp_path / "a" / "h.nc"), load_dataset(tmp_path / "b" / "h.nc")
    np.testing.assert_array_equal(a["crlb"].values, b["crlb"].values)


def test_worker_cap_follows_the_work(monkeypatch):
    import click

    from isacnet import cli
    from isacnet.experiments import executors

    monkeypatch.setattr(executors, "usable_cpus", lambda: 64)
    notes = []
    monkeypatch.setattr(click, "echo", lambda msg="", **kw: notes.append(msg))
    ex = cli._executor(10_000, None, blocks=3)
    assert ex.n_workers == 3 and "capped to 3" in notes[0]
    assert cli._executor(8, None, blocks=100).n_workers == 8 and len(notes) == 1  # within both: kept
    assert executors.ProcessExecutor(10_000).n_workers == 64  # the API caps at the CPUs too


def test_foreign_files_in_out_are_left_alone(tmp_path, capsys):
    """A foreign .nc (even with a figure_id attribute), an unreadable one and a user's README.md
    and index.html: the run succeeds, says so in notes, changes none of them."""
    import xarray as xr

    out = tmp_path / "out"
    out.mkdir()
    xr.Dataset({"a": ("x", [1.0])}, attrs={"figure_id": "zz"}).to_netcdf(out / "foreign.nc", engine="h5netcdf")
    forged = {"figure_id": "yy", "isacnet_version": "0.1", "agreement_pairs": "a:b", "plotted": "a"}
    xr.Dataset({"a": ("x", [1.0]), "b": ("x", [2.0])}, attrs=forged).to_netcdf(
        out / "forged.nc", engine="h5netcdf")
    (out / "junk.nc").write_bytes(b"not netcdf")
    (out / "README.md").write_text("# my notes\n")
    (out / "index.html").write_text("<p>mine</p>\n")
    for _ in range(2):  # the second run reads the first one's index and results
        err = _run_ok(capsys, ["run", str(_good_cfg(tmp_path)), "--out", str(out), "--workers", "1"])
        assert "3 .nc file(s)" in err and "README.md was not written by isacnet" in err
    assert (out / "README.md").read_text() == "# my notes\n"
    assert (out / "index.html").read_text() == "<p>mine</p>\n"
    assert (out / "junk.nc").read_bytes() == b"not netcdf"


def test_index_files_of_ours_are_rewritten(tmp_path, capsys):
    out = tmp_path / "out"
    _run_ok(capsys, ["run", str(_good_cfg(tmp_path)), "--out", str(out), "--workers", "1"])
    first = (out / "README.md").read_text()
    assert "isacnet-index" in first and "| h |" in first
    _run_ok(capsys, ["run", str(_good_cfg(tmp_path)), "--out", str(out), "--workers", "1", "--seed", "4"])
    assert "seed 4" in (out / "README.md").read_text()


def test_debug_shows_the_traceback(tmp_path, capsys, monkeypatch):
    cfg = tmp_path / "h.toml"
    cfg.write_text(_cfg("tx_density = 1e300"))
    with pytest.raises(ValueError):  # ParameterError
        run_cli(["run", str(cfg), "--out", str(tmp_path / "o"), "--debug"])
    monkeypatch.setenv("ISACNET_DEBUG", "1")
    with pytest.raises(ValueError):
        run_cli(["run", str(cfg), "--out", str(tmp_path / "o")])


# ------------------------------------------------------------------ failures at run time: exit 1
def _boom(exc):
    def run_chunk(job, first, n):
        raise exc

    return run_chunk


@pytest.mark.parametrize(
    ("exc", "needle"),
    [(MemoryError(), "out of memory"), (OSError(5, "Input/output error", "/x/y"), "Input/output error"),
     (RuntimeError("kaput"), "kaput")],
    ids=["memory", "oserror", "internal"],
)
def test_runtime_failure_is_one_line_exit_1(tmp_path, capsys, monkeypatch, exc, needle):
    from isacnet.simulation import engine

    monkeypatch.setattr(engine, "run_chunk", _boom(exc))
    got = run_cli(["run", str(_good_cfg(tmp_path)), "--out", str(tmp_path / "o"), "--workers", "1",
                   "--no-progress"])
    line = _assert_one_line(capsys, got, 1, needle)
    assert "rerun the same command to resume" in line
    assert not list((tmp_path / "o").glob("*.nc"))


def _die_once(job, first, n):
    """The worker function, but the worker running the first chunk is SIGKILLed the first time
    (a flag file named by ISACNET_TEST_DIE_FLAG remembers it across processes)."""
    flag = os.environ["ISACNET_TEST_DIE_FLAG"]
    if first == 0 and job.point == 0 and not os.path.exists(flag):
        open(flag, "w").close()
        os.kill(os.getpid(), signal.SIGKILL)
    return _REAL_RUN_CHUNK(job, first, n)


def _die_always(job, first, n):
    if first == 0 and job.point == 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return _REAL_RUN_CHUNK(job, first, n)


def test_killed_pool_worker_is_retried_same_numbers(tmp_path, capsys, monkeypatch):
    """A SIGKILLed worker (as the OOM killer does): its chunks rerun in a new pool, one note,
    and the numbers equal the serial run's."""
    from isacnet.simulation import engine

    cfg = _good_cfg(tmp_path)
    _run_ok(capsys, ["run", str(cfg), "--out", str(tmp_path / "ref"), "--workers", "1"])
    monkeypatch.setenv("ISACNET_TEST_DIE_FLAG", str(tmp_path / "died"))
    monkeypatch.setattr(engine, "run_chunk", _die_once)
    err = _run_ok(capsys, ["run", str(cfg), "--out", str(tmp_path / "a"), "--workers", "2"])
    assert (tmp_path / "died").exists()
    assert sum("worker process died" in ln for ln in err.splitlines()) == 1, err
    a, ref = load_dataset(tmp_path / "a" / "h.nc"), load_dataset(tmp_path / "ref" / "h.nc")
    np.testing.assert_array_equal(a["crlb"].values, ref["crlb"].values)


def test_worker_that_keeps_dying_fails_in_one_line_resumable(tmp_path, capsys, monkeypatch):
    from isacnet.simulation import engine

    cfg = _good_cfg(tmp_path)
    monkeypatch.setattr(engine, "run_chunk", _die_always)
    got = run_cli(["run", str(cfg), "--out", str(tmp_path / "a"), "--workers", "2", "--no-progress"])
    err = capsys.readouterr().err
    assert got == 1 and "Traceback" not in err
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert len(errors) == 1 and "died" in errors[0] and "resume" in errors[0], err
    assert not (tmp_path / "a" / "h.nc").exists()
    monkeypatch.undo()
    _run_ok(capsys, ["run", str(cfg), "--out", str(tmp_path / "a"), "--workers", "2"])  # resumes
    _run_ok(capsys, ["run", str(cfg), "--out", str(tmp_path / "ref"), "--workers", "1"])
    a, ref = load_dataset(tmp_path / "a" / "h.nc"), load_dataset(tmp_path / "ref" / "h.nc")
    np.testing.assert_array_equal(a["crlb"].values, ref["crlb"].values)


def test_sigterm_prints_a_line_and_leaves_a_resumable_state(tmp_path):
    """SIGTERM mid-run: exit 143, one line, finished chunks kept; the rerun equals a clean run."""
    cfg = tmp_path / "long.toml"
    cfg.write_text(_cfg().replace("n_layouts = 64", "n_layouts = 60000") + "block_size = 1024\n")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    out = tmp_path / "out"
    args = [sys.executable, "-m", "isacnet", "run", str(cfg), "--out", str(out), "--workers", "1", "--no-progress"]
    proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True)
    chunks = out / ".isacnet-chunks"
    t0 = time.monotonic()
    while time.monotonic() - t0 < 60 and not list(chunks.glob("*/chunk-*.json")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # pragma: no cover - finished before the signal on a fast machine
        pytest.skip("the run finished before SIGTERM arrived")
    assert proc.returncode == 143, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "terminated" in err and "resume" in err
    assert list(chunks.glob("*/chunk-*.json")) and not (out / "h.nc").exists()
    assert run_cli(args[3:]) == 0  # the same command, in-process, resumes
    ref = tmp_path / "ref"
    assert run_cli([str(ref) if a == str(out) else a for a in args[3:]]) == 0
    np.testing.assert_array_equal(load_dataset(out / "h.nc")["crlb"].values,
                                  load_dataset(ref / "h.nc")["crlb"].values)


# ------------------------------------------------------------------ memory flat in n_layouts
def test_task_generation_is_lazy_for_huge_n_layouts():
    """n_layouts = 10**15 (2.4e11 blocks): the engine hands the executor a generator, and only
    the chunks the executor pulls are ever made; stopping after a few leaves memory flat."""
    from isacnet.simulation import engine

    class Stop(Exception):
        pass

    class Pull:
        n_workers = 2

        def __init__(self):
            self.pulled = 0

        def imap_unordered(self, fn, args):
            assert not isinstance(args, list | tuple)
            for i, a in enumerate(args):
                self.pulled += 1
                if self.pulled > 5:
                    raise Stop
                yield i, [{}] * a[2]

    def kernel(rng, n):  # never called: the fake executor returns empty moments
        raise AssertionError

    ex = Pull()
    job = engine.Job(kernel, 10**15, 0, block_size=4096)
    t0 = time.perf_counter()
    with pytest.raises(Stop):
        engine.run_jobs([job], ex)
    assert ex.pulled == 6 and time.perf_counter() - t0 < 5.0


@pytest.mark.slow
def test_ctrl_c_on_a_dask_run_prints_no_worker_traceback(tmp_path):
    """SIGINT to the whole process group (what a terminal's Ctrl-C does) during a LocalCluster
    run: exit 130, the one 'interrupted' line, no worker traceback or warning, chunks kept."""
    pytest.importorskip("distributed")
    cfg = tmp_path / "long.toml"
    cfg.write_text(_cfg().replace("n_layouts = 64", "n_layouts = 3000000"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2] / "src")}
    out = tmp_path / "out"
    args = [sys.executable, "-m", "isacnet", "run", str(cfg), "--out", str(out), "--scheduler", "local",
            "--workers", "2", "--no-progress"]
    proc = subprocess.Popen(args, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True)
    t0 = time.monotonic()
    while time.monotonic() - t0 < 120 and not list((out / ".isacnet-chunks").glob("*/chunk-*.json")):
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted") and "resume" in lines[0], err


def test_eval_beyond_float64_prints_powers_of_ten():
    """tx_density = 1e300: the bounds (about 1e-382 m^2) are below float64; `eval` prints them as
    powers of ten computed in logs (errata N-1), never 0 or NaN, and exits 0."""
    from click.testing import CliRunner

    from isacnet.cli import main

    res = CliRunner().invoke(main, ["eval", "song", "--set", "tx_density=1e300"])
    assert res.exit_code == 0, res.output
    assert "10^-382.1" in res.output and "beyond float64" in res.output
    assert "nan" not in res.output.lower()
