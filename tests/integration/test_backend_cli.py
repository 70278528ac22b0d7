"""--backend on the command line reaches the kernels and is recorded in the result."""

from __future__ import annotations

import numpy as np
import pytest

from isacnet.cli import run_cli
from isacnet.experiments.store import load_dataset

pytest.importorskip("numba", reason="the numba backend is optional (pip install 'isacnet[fast]')")


def test_reproduce_with_numba_backend(tmp_path, capsys):
    out = tmp_path / "r"
    assert run_cli(["reproduce", "song-fig1a", "meng-fig4-mu1", "--n-layouts", "2048", "--backend", "numba",
                    "--out", str(out), "--workers", "1", "--no-progress"]) == 0
    assert "meng-fig4-mu1 (meng-rate) has no compiled kernel" in capsys.readouterr().err
    ds = load_dataset(out / "song-fig1a.nc")
    assert ds.attrs["mc_backend"] == "numba" and 'backend = "numba"' in ds.attrs["config_toml"]
    z = np.abs(ds["jensen"] - ds["bound"]) / ds["jensen_stderr"]
    assert float(z.max()) < 5


def test_bad_backend_is_refused(capsys):
    assert run_cli(["reproduce", "song-fig1a", "--backend", "fortran"]) != 0
