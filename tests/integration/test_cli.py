"""TOML -> Dataset -> netCDF/CSV/PNG through the command line."""

from __future__ import annotations

import numpy as np
import pytest

from isacnet.cli import run_cli
from isacnet.experiments.spec import builtin_specs, parse_spec
from isacnet.experiments.store import load_dataset


def test_reproduce_panel_writes_dataset_csv_png(tmp_path):
    rc = run_cli(["reproduce", "song-fig1a", "--quick", "--n-layouts", "2048", "--workers", "1",
                  "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    ds = load_dataset(tmp_path / "song-fig1a.nc")
    assert (tmp_path / "song-fig1a.csv").read_text().count("\n") > 7
    assert (tmp_path / "song-fig1a.png").read_bytes()[:4] == b"\x89PNG"
    assert list(ds["n_antennas"].values) == [1, 2, 4, 8, 16, 32, 64]
    for v in ("crlb", "crlb_stderr", "crlb_ci_low", "crlb_ci_high", "jensen", "bound"):
        assert v in ds and np.all(np.isfinite(ds[v].values))
    assert np.all(ds["crlb_ci_low"] <= ds["crlb"]) and np.all(ds["crlb"] <= ds["crlb_ci_high"])
    assert ds.attrs["seed"] == 20241 and ds.attrs["n_layouts"] == 2048
    assert ds.attrs["isacnet_version"]
    # The stored config regenerates the same spec.
    again = parse_spec(ds.attrs["config_toml"])
    assert again.sweep.values == builtin_specs()["song-fig1a"].sweep.values
    assert again.n_layouts == 2048


def test_process_pool_equals_serial_bit_for_bit(tmp_path):
    args = ["reproduce", "song-fig1d", "--n-layouts", "3000", "--no-progress"]
    assert run_cli([*args, "--workers", "1", "--out", str(tmp_path / "a")]) == 0
    assert run_cli([*args, "--workers", "2", "--out", str(tmp_path / "b")]) == 0
    a = load_dataset(tmp_path / "a" / "song-fig1d.nc")
    b = load_dataset(tmp_path / "b" / "song-fig1d.nc")
    for v in ("crlb", "crlb_stderr", "jensen", "inv_sum_tx"):
        np.testing.assert_array_equal(a[v].values, b[v].values)


def test_window_option_names_its_outputs(tmp_path):
    rc = run_cli(["reproduce", "song-fig1b", "--quick", "--n-layouts", "1024", "--workers", "1",
                  "--window-radius", "200", "--out", str(tmp_path), "--no-progress"])
    assert rc == 0
    ds = load_dataset(tmp_path / "song-fig1b-window200m.nc")
    assert ds.attrs["mc_geometry"] == "disk-window" and ds.attrs["mc_window_radius_m"] == 200.0


def test_run_user_config(tmp_path):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(
        '[figure]\nid = "my-sweep"\nmodel = "song"\n'
        "[params]\ngamma = 3.0\n"
        '[sweep]\nparameters = ["n_rx_antennas"]\nvalues = [1, 8]\n'
        "[monte_carlo]\nn_layouts = 2000\nseed = 7\n"
    )
    assert run_cli(["run", str(cfg), "--workers", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    ds = load_dataset(tmp_path / "my-sweep.nc")
    assert ds.attrs["seed"] == 7 and list(ds["n_rx_antennas"].values) == [1, 8]


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ('[params]\ngama = 3.0\n', "did you mean 'gamma'"),
        ("[params]\ngamma = 1.5\n", "gamma"),
        ("[monte_carlo]\nn_layout = 10\n", "monte_carlo.n_layout"),
        ("[monte_carlo]\nn_layouts = -3\n", "monte_carlo.n_layouts"),
        ("[sweep]\nparameters = [\"nope\"]\nvalues = [1]\n", "sweep.parameters"),
        ("[plots]\nx = 1\n", "[plots]"),
    ],
)
def test_bad_config_is_a_clear_error(tmp_path, capsys, body, needle):
    base = {"figure": '[figure]\nid = "x"\nmodel = "song"\n',
            "sweep": '[sweep]\nparameters = ["n_rx_antennas"]\nvalues = [1]\n'}
    text = base["figure"] + ("" if "[sweep]" in body else base["sweep"]) + body
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    assert run_cli(["run", str(cfg), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert needle in err and "must be" in err and "bad.toml" in err


def test_unwritable_output_fails_before_work(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert run_cli(["reproduce", "song-fig1a", "--quick", "--out", str(blocker / "sub")]) == 2
    assert "out" in capsys.readouterr().err


def test_eval_prints_closed_forms(capsys):
    assert run_cli(["eval", "song", "--set", "gamma=3", "--set", "tx_power=0.5"]) == 0
    out = capsys.readouterr().out
    assert "Theorem 2 bound (26)" in out and "single-antenna" in out
    assert run_cli(["eval", "song", "--set", "gamma=2"]) == 2
