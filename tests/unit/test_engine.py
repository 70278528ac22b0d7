"""Mergeable moments, estimates, and the seeded chunked Monte Carlo engine (determinism)."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest

from isacnet import ParameterError, SongParams, song
from isacnet.simulation.engine import Job, run_jobs
from isacnet.simulation.estimate import Z95, Estimate, Moments
from isacnet.simulation.executors import ProcessExecutor, SerialExecutor


# --------------------------------------------------------------------------- Moments
def _check_moments(m: Moments, v: np.ndarray, rtol: float = 1e-12) -> None:
    assert m.n == v.size
    assert m.mean == pytest.approx(float(np.mean(v)), rel=rtol, abs=rtol * float(np.abs(v).max()))
    assert m.m2 / (m.n - 1) == pytest.approx(float(np.var(v, ddof=1)), rel=rtol)


def test_moments_of_matches_numpy():
    v = np.random.default_rng(1).normal(3.0, 2.0, 1001)
    m = Moments.of(v)
    _check_moments(m, v, 1e-14)
    assert (m.n_posinf, m.n_neginf, m.n_nan) == (0, 0, 0)


def test_moments_hand_values():
    m = Moments.of(np.array([1.0, 2.0, 3.0, 6.0]))
    assert (m.n, m.mean, m.m2) == (4, 3.0, 14.0)  # deviations -2, -1, 0, 3
    e = m.estimate()
    assert e.stderr == pytest.approx(math.sqrt(14.0 / 3 / 4), rel=1e-15)


@pytest.mark.parametrize("seed", range(8))
def test_merge_of_random_split_equals_whole(seed):
    g = np.random.default_rng(seed)
    v = g.lognormal(5.0, 1.5, int(g.integers(2, 5000))) + 1e6 * g.random()  # big offset
    cuts = np.sort(g.choice(np.arange(1, v.size), size=min(6, v.size - 1), replace=False))
    parts = np.split(v, cuts)
    merged = Moments()
    for part in parts:
        merged = merged.merge(Moments.of(part))
    _check_moments(merged, v, 1e-12)
    # merging in the other order gives the same numbers (to rounding)
    rev = Moments()
    for part in parts[::-1]:
        rev = rev.merge(Moments.of(part))
    assert rev.mean == pytest.approx(merged.mean, rel=1e-14)
    assert rev.m2 == pytest.approx(merged.m2, rel=1e-12)


def test_merge_with_empty_is_identity():
    m = Moments.of(np.array([1.0, 5.0, 7.0]))
    assert m.merge(Moments()) == m
    assert Moments().merge(m) == m
    assert Moments().merge(Moments()) == Moments()
    assert Moments.of(np.array([])) == Moments()


def test_non_finite_values_counted_not_averaged():
    v = np.array([1.0, np.inf, 2.0, np.nan, -np.inf, 3.0, np.inf, np.nan, np.nan])
    m = Moments.of(v)
    assert (m.n, m.n_posinf, m.n_neginf, m.n_nan) == (3, 2, 1, 3)
    assert m.mean == 2.0 and m.m2 == 2.0
    merged = m.merge(Moments.of(np.array([np.inf, 4.0])))
    assert (merged.n, merged.n_posinf, merged.n_neginf, merged.n_nan) == (4, 3, 1, 3)
    assert merged.mean == pytest.approx(2.5, rel=1e-15)
    e = merged.estimate()
    assert e.n_total == 11 and e.n_nonfinite == 7
    assert not e.usable
    assert "non-finite=7" in str(e)


def test_all_non_finite_gives_nan_estimate():
    e = Moments.of(np.array([np.inf, np.nan])).estimate()
    assert e.n == 0 and math.isnan(e.mean) and math.isnan(e.stderr)
    assert not e.usable


def test_estimate_ci95():
    e = Estimate(mean=10.0, stderr=0.5, n=100)
    assert Z95 == pytest.approx(1.959963984540054, rel=1e-15)
    from scipy import stats

    assert Z95 == pytest.approx(stats.norm.ppf(0.975), rel=1e-14)
    lo, hi = e.ci95
    assert lo == pytest.approx(10.0 - Z95 * 0.5, rel=1e-15)
    assert hi == pytest.approx(10.0 + Z95 * 0.5, rel=1e-15)
    assert e.half_width == pytest.approx(0.979981992270027, rel=1e-14)
    assert e.rel_half_width == pytest.approx(0.0979981992270027, rel=1e-14)
    assert e.usable and e.n_total == 100


def test_estimate_from_moments_stderr():
    v = np.random.default_rng(4).normal(size=400)
    e = Moments.of(v).estimate()
    assert e.mean == pytest.approx(v.mean(), rel=1e-13)
    assert e.stderr == pytest.approx(v.std(ddof=1) / 20.0, rel=1e-12)
    assert e.ci95 == pytest.approx((v.mean() - Z95 * e.stderr, v.mean() + Z95 * e.stderr), rel=1e-13)


# --------------------------------------------------------------------------- the engine
class NormalKernel:
    """Tiny deterministic kernel (module level, so the process pool can pickle it)."""

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        x = rng.standard_normal(n)
        return {"x": x, "x2": x * x}


N_BLOCKS, BLOCK = 50, 64


def _job(seed: int = 2024, n_layouts: int = N_BLOCKS * BLOCK - 17, point: int = 3) -> Job:
    return Job(NormalKernel(), n_layouts, seed, point=point, block_size=BLOCK)


def _expected_draws(seed: int, point: int, n_layouts: int, block: int) -> np.ndarray:
    """The documented seeding: block b of point p uses the b-th child of the p-th child."""
    child = np.random.SeedSequence(seed).spawn(point + 1)[point]
    out = []
    for b, ss in enumerate(child.spawn(-(-n_layouts // block))):
        n = min(block, n_layouts - b * block)
        out.append(np.random.Generator(np.random.PCG64(ss)).standard_normal(n))
    return np.concatenate(out)


def test_run_jobs_follows_documented_seeding():
    job = _job()
    (m,) = run_jobs([job], SerialExecutor())
    x = _expected_draws(2024, 3, job.n_layouts, BLOCK)
    assert x.size == job.n_layouts
    _check_moments(m["x"], x)
    _check_moments(m["x2"], x * x)


def test_run_jobs_independent_of_chunking_bit_for_bit():
    ref = run_jobs([_job()], SerialExecutor(), chunk_blocks=1)[0]
    for cb in (2, 3, 7, 64):
        assert run_jobs([_job()], SerialExecutor(), chunk_blocks=cb)[0] == ref


def test_run_jobs_process_pool_equals_serial_bit_for_bit():
    jobs = [_job(point=0), _job(point=1, n_layouts=200)]
    ref = run_jobs(jobs, SerialExecutor(), chunk_blocks=3)
    with ProcessExecutor(2) as ex:
        # the work really runs in other processes
        pids = {pid for _, pid in ex.imap_unordered(os.getpid, [()] * 8)}
        assert os.getpid() not in pids
        for cb in (1, 7):
            assert run_jobs(jobs, ex, chunk_blocks=cb) == ref


def test_run_jobs_points_and_seeds_are_independent_streams():
    a = run_jobs([_job(point=0), _job(point=1), _job(seed=7, point=0)])
    assert a[0]["x"] != a[1]["x"]
    assert a[0]["x"] != a[2]["x"]
    assert a[0]["x"].mean != a[1]["x"].mean


def test_job_validation():
    for bad in (1, 0, -5, 2.5, True):
        with pytest.raises(ParameterError) as info:
            Job(NormalKernel(), bad, 0)
        assert info.value.name == "n_layouts"
    for bad in (-1, 1.5, "1", None):
        with pytest.raises(ParameterError) as info:
            Job(NormalKernel(), 10, bad)
        assert info.value.name == "seed"
    with pytest.raises(ParameterError) as info:
        Job(NormalKernel(), 10, 0, block_size=0)
    assert info.value.name == "block_size"
    with pytest.raises(ParameterError):
        run_jobs([_job()], chunk_blocks=0)


def test_job_blocks():
    job = Job(NormalKernel(), 130, 0, block_size=64)
    assert job.n_blocks == 3
    assert [job.block_layouts(b) for b in range(3)] == [64, 64, 2]


# --------------------------------------------------------------------------- song.monte_carlo
MC = {"n_layouts": 20_000, "block_size": 1024}


def _as_tuple(est: dict[str, Estimate]):
    return {k: (e.mean, e.stderr, e.n, e.n_posinf, e.n_neginf, e.n_nan) for k, e in est.items()}


def test_monte_carlo_same_seed_same_numbers_any_split():
    p = SongParams()
    ref = _as_tuple(song.monte_carlo(p, seed=5, chunk_blocks=1, **MC))
    assert set(ref) == set(song.QUANTITIES)
    assert all(v[2] == MC["n_layouts"] for v in ref.values())
    assert _as_tuple(song.monte_carlo(p, seed=5, chunk_blocks=5, **MC)) == ref
    assert _as_tuple(song.monte_carlo(p, seed=5, workers=2, chunk_blocks=5, **MC)) == ref
    assert _as_tuple(song.monte_carlo(p, seed=5, workers=2, chunk_blocks=1, **MC)) == ref


def test_monte_carlo_different_seeds_differ():
    p = SongParams()
    a = _as_tuple(song.monte_carlo(p, seed=5, **MC))
    b = _as_tuple(song.monte_carlo(p, seed=6, **MC))
    for q in song.QUANTITIES:
        assert a[q][0] != b[q][0]


def test_monte_carlo_rejects_bad_run_arguments():
    p = SongParams()
    with pytest.raises(ParameterError):
        song.monte_carlo(p, 1, seed=0)
    with pytest.raises(ParameterError):
        song.monte_carlo(p, 100, seed=-1)
    with pytest.raises(ParameterError) as info:
        song.monte_carlo(SongParams(gamma=2.0), 100, seed=0)
    assert info.value.name == "gamma"
