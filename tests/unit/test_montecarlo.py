"""The Monte Carlo front door (isacnet.simulation.montecarlo) and a job's identity."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from isacnet import MengParams, SongParams, meng, song
from isacnet.simulation.engine import Job
from isacnet.simulation.meng import MengCrlbKernel
from isacnet.simulation.montecarlo import RunOptions, estimate, run_options
from isacnet.simulation.song import SongKernel


def test_run_options_merge_keywords_on_top():
    base = RunOptions(workers=2, chunk_blocks=3)
    assert run_options(base, chunk_blocks=1) == RunOptions(workers=2, chunk_blocks=1)
    assert run_options(None) == RunOptions()
    assert run_options(None, targets=["a"]).targets == ("a",)
    with pytest.raises(TypeError, match="bogus"):
        run_options(None, bogus=1)
    with pytest.raises(TypeError, match="RunOptions"):
        run_options({"workers": 1})
    with pytest.raises(dataclasses.FrozenInstanceError):
        base.workers = 3  # type: ignore[misc]


def test_run_options_do_not_change_the_numbers():
    """Chunking, given as run= or as keywords, leaves every bit of the result unchanged."""
    k = SongKernel(SongParams(), k_nearest=8)
    a = estimate(k, 600, 3, RunOptions(block_size=100))
    b = estimate(k, 600, 3, block_size=100, chunk_blocks=1)
    c = estimate(k, 600, 3, run=RunOptions(block_size=100, chunk_blocks=4))
    assert a == b == c


def test_facades_take_backend_dtype_and_run():
    p = SongParams()
    a = song.expected_crlb(p, 300, 5, k_nearest=8, backend="numpy", dtype="float64", run=RunOptions(block_size=64))
    b = song.expected_crlb(p, 300, 5, k_nearest=8, block_size=64)
    assert a == b and a.n == 300
    q = MengParams()
    m1 = meng.monte_carlo(6, q, 300, 5, run=RunOptions(block_size=128))["log_crlb"]
    m2 = meng.monte_carlo(6, q, 300, 5, block_size=128, chunk_blocks=1)["log_crlb"]
    assert m1 == m2
    with pytest.raises(TypeError):
        song.expected_crlb(p, 300, 5, wrkers=2)


@pytest.mark.numba
def test_expected_crlb_with_a_compiled_backend_is_accepted_or_names_the_extra():
    from isacnet import backends

    if not backends.available("numba"):
        with pytest.raises(backends.BackendUnavailable, match="fast"):
            song.expected_crlb(SongParams(), 100, 1, backend="numba")
        return
    pytest.importorskip("numba")
    e = song.expected_crlb(SongParams(), 200, 1, k_nearest=8, backend="numba")
    assert e.n == 200 and np.isfinite(e.mean)


def _job(**kw):
    base = {"kernel": SongKernel(SongParams(), k_nearest=8), "n_layouts": 1000, "seed": 1, "point": 0,
            "block_size": 100}
    base.update(kw)
    return Job(**base)


def test_job_identity_names_everything_that_sets_the_numbers():
    j = _job()
    ident = j.identity
    for field in ("kernel", "params", "backend", "dtype", "rng_stream", "seed", "point", "block_size",
                  "n_layouts", "isacnet_version"):
        assert field in ident
    assert ident["backend"] == "numpy" and ident["dtype"] == "float64" and ident["rng_stream"] == "PCG64"
    assert j.key == _job().key and len(j.key) == 24
    others = [
        _job(seed=2), _job(point=1), _job(block_size=50), _job(n_layouts=999),
        _job(kernel=SongKernel(SongParams(gamma=3.0), k_nearest=8)),
        _job(kernel=SongKernel(SongParams(), k_nearest=9)),
        _job(kernel=MengCrlbKernel(MengParams(), 8)),
    ]
    keys = {o.key for o in others} | {j.key}
    assert len(keys) == len(others) + 1
