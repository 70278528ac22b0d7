"""--block-size on the command line, and the note for JAX kernels starved on a GPU."""

from __future__ import annotations

import subprocess
import sys

import pytest

from isacnet import song
from isacnet.cli import _backend as cli_run
from isacnet.cli import run_cli
from isacnet.experiments.spec import builtin_specs
from isacnet.experiments.store import load_dataset


def test_block_size_reaches_the_run_and_is_recorded(tmp_path):
    """The figure's numbers are those of the Python API with the same block size (a block is
    drawn from its own seed, so the size is part of the stream), and the size is stored."""
    out = tmp_path / "r"
    args = ["reproduce", "song-fig1a", "--n-layouts", "3000", "--seed", "5", "--workers", "1", "--no-progress"]
    assert run_cli([*args, "--out", str(out), "--block-size", "1000"]) == 0
    ds = load_dataset(out / "song-fig1a.nc")
    assert ds.attrs["block_size"] == 1000 and "block_size = 1000" in ds.attrs["config_toml"]
    assert run_cli([*args, "--out", str(tmp_path / "d")]) == 0
    default = load_dataset(tmp_path / "d" / "song-fig1a.nc")
    assert default.attrs["block_size"] == 4096
    # 3000 layouts: one block of 3000 by default, three of 1000 here: other random numbers
    assert float(abs(ds["crlb"] - default["crlb"]).max()) > 0


@pytest.mark.parametrize("bad", ["0", "-4096"])
def test_nonsense_block_size_is_refused_naming_it(tmp_path, capsys, bad):
    assert run_cli(["reproduce", "song-fig1a", "--block-size", bad, "--out", str(tmp_path)]) != 0
    err = capsys.readouterr().err
    assert "block_size" in err and bad in err
    assert not list(tmp_path.iterdir())  # refused before any work


def test_gpu_note_only_for_jax_kernels_in_small_blocks(monkeypatch, capsys):
    """With a GPU (here a fake one), JAX kernels in blocks of 4096 get a note naming them and the
    remedy; big blocks, numpy kernels, or no GPU get none."""
    specs = builtin_specs()
    asked = []

    def fake_gpu():
        asked.append(1)
        return "Fake GPU"

    monkeypatch.setattr(cli_run, "_jax_gpu", fake_gpu)
    jax_small = [s.with_overrides(backend="jax") for s in (specs["song-fig1a"], specs["song-fig1b"])]
    cli_run._gpu_block_note(jax_small)
    err = capsys.readouterr().err
    assert "GPU (Fake GPU)" in err and "song-fig1a, song-fig1b" in err and "--block-size 1048576" in err
    assert "blocks of 4096" in err

    cli_run._gpu_block_note([s.with_overrides(block_size=cli_run.GPU_BLOCK) for s in jax_small])
    cli_run._gpu_block_note([specs["song-fig1a"]])  # numpy: the GPU is not even looked for
    assert capsys.readouterr().err == ""
    assert len(asked) == 1

    monkeypatch.setattr(cli_run, "_jax_gpu", lambda: None)
    cli_run._gpu_block_note(jax_small)
    assert capsys.readouterr().err == ""


def test_jax_gpu_probe_answers_without_failing():
    """The probe names the GPU where JAX's default device is one and says None elsewhere (CI: a
    CPU). Run in a child process: starting JAX's backends here would leave threads in this test
    process, which later tests fork."""
    pytest.importorskip("jax", reason="the JAX backend is optional (pip install 'isacnet[gpu]')")
    code = (
        "import jax; from isacnet.cli import _backend as b; d = jax.devices()[0]; "
        "print(b._jax_gpu() == (d.device_kind if d.platform == 'gpu' else None), b._jax_gpu())"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "True", done.stdout


def test_block_size_is_part_of_the_stream():
    """The same seed and block size give the same mean, bit for bit; another block size gives
    another (each block is drawn from its own seed), which is why the note says so."""
    a = song.expected_crlb(song.SongParams(), 2000, seed=3, block_size=500)
    b = song.expected_crlb(song.SongParams(), 2000, seed=3, block_size=500)
    c = song.expected_crlb(song.SongParams(), 2000, seed=3, block_size=1000)
    assert a.mean == b.mean and a.mean != c.mean
