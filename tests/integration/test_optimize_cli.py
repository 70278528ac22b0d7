"""`isacnet optimize` and the Fig. 4 / Fig. 5 figures end to end (quick)."""

from __future__ import annotations

import json

import numpy as np

from isacnet.cli import run_cli
from isacnet.experiments.store import load_dataset


def test_optimize_prints_a_feasible_design(capsys):
    assert run_cli(["optimize", "--min-rate", "2.0", "--set", "backhaul_capacity=5", "--L-max", "8",
                    "--N-max", "20", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["feasible"] and d["rate"] >= 2.0 - 1e-9 and 2 <= d["N"] <= 20 and 1 <= d["L"] <= 8
    assert abs(d["backhaul_load"] - (d["rate"] + 0.25 * d["N"])) < 1e-9 and d["backhaul_load"] <= 5 + 1e-9


def test_optimize_table_and_verification(capsys):
    assert run_cli(["optimize", "--weight", "0.5", "--L-max", "6", "--N-max", "16", "--verify", "4096"]) == 0
    out = capsys.readouterr().out
    for needle in ("best design", "R_c", "CRLB_a", "kappa_s", "backhaul", "time sharing", "Monte Carlo"):
        assert needle in out


def test_optimize_rejects_bad_objectives(capsys):
    assert run_cli(["optimize"]) == 2
    assert "exactly one of" in capsys.readouterr().err
    assert run_cli(["optimize", "--min-rate", "1", "--max-crlb", "1e4"]) == 2
    assert run_cli(["optimize", "--weight", "2"]) == 2
    assert "weight" in capsys.readouterr().err
    assert run_cli(["optimize", "--min-rate", "1", "--set", "backhaul_capacity=-1"]) == 2
    assert "backhaul_capacity" in capsys.readouterr().err


def test_fig4_and_fig5_quick(tmp_path):
    out = tmp_path / "r"
    assert run_cli(["reproduce", "meng-fig4-mu2", "meng-fig5", "--quick", "--n-layouts", "1024", "--out", str(out),
                    "--workers", "1", "--no-progress"]) == 0
    f4 = load_dataset(out / "meng-fig4-mu2.nc")
    assert f4["rate_nats"].dims == ("p_s", "L") and np.all(np.isfinite(f4["rate_exact"]))
    z = np.abs(f4["rate_nats"] - f4["rate_exact"]) / f4["rate_nats_stderr"]
    assert float(z.max()) < 5
    f5 = load_dataset(out / "meng-fig5.nc")
    load = f5["backhaul_load"].values
    cap = f5["C_backhaul"].values[:, None]
    assert np.all(load <= cap * (1 + 1e-9))
    assert np.all(f5["crlb_cf"].values <= f5["crlb_ts"].values * (1 + 1e-9))
    assert (out / "index.html").exists()
