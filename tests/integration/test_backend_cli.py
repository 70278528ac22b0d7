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
    assert "has no compiled kernel" not in capsys.readouterr().err  # meng-rate ("paper") has a numba kernel
    ds = load_dataset(out / "song-fig1a.nc")
    assert ds.attrs["mc_backend"] == "numba" and 'backend = "numba"' in ds.attrs["config_toml"]
    assert ds.attrs["mc_rng_stream"] == "sfc64-inline-v2"
    z = np.abs(ds["jensen"] - ds["bound"]) / ds["jensen_stderr"]
    assert float(z.max()) < 5
    ds = load_dataset(out / "meng-fig4-mu1.nc")
    assert ds.attrs["mc_backend"] == "numba" and 'backend = "numba"' in ds.attrs["config_toml"]
    z = np.abs(ds["rate_nats"] - ds["rate_exact"]) / ds["rate_nats_stderr"]
    assert float(z.max()) < 5


def test_bad_backend_is_refused(capsys):
    assert run_cli(["reproduce", "song-fig1a", "--backend", "fortran"]) != 0


def test_backend_a_model_lacks_runs_on_numpy_with_a_note(capsys):
    """meng-rate has a numba kernel but no jax one; estimator-vs-crlb has none: both keep numpy,
    and say so, instead of refusing the whole run."""
    from isacnet.cli import _with_backend
    from isacnet.experiments.spec import builtin_specs

    specs = builtin_specs()
    picked = [specs["meng-fig4-mu1"], specs["estimator-vs-crlb"], specs["song-fig1a"]]
    out = _with_backend(picked, "jax", None)
    err = capsys.readouterr().err
    assert "meng-fig4-mu1 (meng-rate) has no jax kernel; it runs on numpy" in err
    assert "estimator-vs-crlb" in err and "has no compiled kernel" in err
    assert out[0] is picked[0] and out[1] is picked[1]
    assert out[2].options["backend"] == "jax"


def test_backend_numpy_asked_explicitly_prints_no_fallback_note(capsys):
    """--backend numpy on a model without compiled kernels is not a fallback: no note."""
    from isacnet.cli import _with_backend
    from isacnet.experiments.spec import builtin_specs

    specs = builtin_specs()
    picked = [specs["estimator-vs-crlb"], specs["song-fig1a"]]
    out = _with_backend(picked, "numpy", None)
    assert "no compiled kernel" not in capsys.readouterr().err
    assert out[0] is picked[0]
    _with_backend(picked, "numpy", "float32")
    assert "estimator-vs-crlb" in capsys.readouterr().err  # float32 asked: it does fall back
