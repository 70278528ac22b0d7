"""Early stopping on precision: stages, the rule, determinism, caps, odd outputs, resume.

Expected stopping points are computed here from the raw draws (numpy on the concatenated
samples of the first s blocks, seeded as documented in isacnet.rng), never from the engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pytest

from isacnet import ParameterError
from isacnet.experiments.chunkstore import ChunkStore
from isacnet.experiments.runner import estimate
from isacnet.rng import block_rng
from isacnet.simulation.engine import Job, precise_enough, run_chunk, run_jobs, stage_ends
from isacnet.simulation.estimate import Estimate
from isacnet.simulation.executors import ProcessExecutor, SerialExecutor

Z95 = 1.959963984540054


@dataclass(frozen=True)
class ShiftedNormal:
    """x ~ N(mu, 1), plus outputs that no precision rule can judge."""

    mu: float = 1.0

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        x = self.mu + rng.standard_normal(n)
        return {"x": x, "nan": np.full(n, np.nan), "inf": np.full(n, np.inf), "zero": np.zeros(n)}


@dataclass(frozen=True)
class OnlyUnjudgeable:
    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        rng.random(n)
        return {"nan": np.full(n, np.nan), "zero": np.zeros(n)}


@dataclass(frozen=True)
class Constant:
    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        return {"c": np.full(n, 3.0) + 0.0 * rng.random(n)}


BLOCK = 64
N_BLOCKS = 100


def _job(kernel=None, n_layouts=N_BLOCKS * BLOCK, point=2, seed=11) -> Job:
    return Job(kernel or ShiftedNormal(), n_layouts, seed, point=point, block_size=BLOCK)


def _draws(job: Job, n_blocks: int, name: str = "x") -> np.ndarray:
    """The samples of the first ``n_blocks`` blocks, drawn directly from the documented seeding."""
    out = []
    for b in range(n_blocks):
        n = min(job.block_size, job.n_layouts - b * job.block_size)
        out.append(job.kernel(block_rng(job.seed, job.point, b), n)[name])
    return np.concatenate(out)


def _expected_stop(job: Job, stages, rel_ci: float) -> int:
    """First stage whose 95% CI half-width of x (numpy) is below rel_ci * |mean|, else the cap."""
    for s in stages:
        x = _draws(job, s)
        if Z95 * x.std(ddof=1) / math.sqrt(x.size) < rel_ci * abs(x.mean()):
            return s
    return stages[-1]


def _targets_x(job, moments):
    return {"x": moments["x"].estimate()}


# --------------------------------------------------------------------------- stages and the rule
def test_stage_ends_hand_values():
    # ceil(B / 2^k) for k = 6..0
    assert stage_ends(100) == (2, 4, 7, 13, 25, 50, 100)
    assert stage_ends(128) == (2, 4, 8, 16, 32, 64, 128)
    assert stage_ends(5) == (1, 2, 3, 5)
    assert stage_ends(1) == (1,)
    assert stage_ends(1000) == (16, 32, 63, 125, 250, 500, 1000)


def test_precise_enough_rule():
    ok = Estimate(mean=10.0, stderr=0.1, n=100)  # half-width 0.196 < 0.05 * 10
    bad = Estimate(mean=10.0, stderr=1.0, n=100)  # 1.96 > 0.5
    nan = Estimate(mean=math.nan, stderr=math.nan, n=0)
    no_var = Estimate(mean=4.0, stderr=math.nan, n=100)
    zero = Estimate(mean=0.0, stderr=0.0, n=100)
    assert precise_enough({"a": ok}, 0.05)
    assert not precise_enough({"a": bad}, 0.05)
    assert not precise_enough({"a": ok, "b": bad}, 0.05)
    assert precise_enough({"a": ok, "n": nan, "v": no_var, "z": zero}, 0.05)
    assert not precise_enough({"n": nan, "v": no_var, "z": zero}, 0.05)  # nothing judged: go on
    assert not precise_enough({}, 0.05)
    # a zero mean with a spread never meets a relative target
    assert not precise_enough({"a": Estimate(mean=0.0, stderr=1e-9, n=100)}, 0.5)
    # strict inequality at the boundary: half-width == rel_ci * |mean| is not enough
    e = Estimate(mean=Z95, stderr=0.5, n=100)
    assert not precise_enough({"a": e}, 0.5)


# --------------------------------------------------------------------------- stopping
def test_stops_at_first_stage_meeting_the_target():
    job, rel = _job(), 0.1
    stages = (2, 4, 7, 13, 25, 50, 100)  # hand values for 100 blocks (see above)
    want = _expected_stop(job, stages, rel)
    assert stages[0] < want < stages[-1]  # this seed stops in the middle: the test has teeth
    (m,) = run_jobs([job], rel_ci=rel, targets=_targets_x)
    assert m.n_blocks == want and m.n_layouts == want * BLOCK and m.stopped_early and m.cap == job.n_layouts
    x = _draws(job, want)
    assert m["x"].n == x.size
    assert m["x"].mean == pytest.approx(x.mean(), rel=1e-13)
    assert m["x"].m2 / (x.size - 1) == pytest.approx(x.var(ddof=1), rel=1e-12)
    # identical, bit for bit, to a plain run of exactly those layouts
    (plain,) = run_jobs([_job(n_layouts=want * BLOCK)])
    assert m == plain and not plain.stopped_early


def test_unjudgeable_outputs_do_not_block_stopping():
    job, rel = _job(), 0.1
    (with_all,) = run_jobs([job], rel_ci=rel)  # default targets: every output, nan/inf/zero included
    (only_x,) = run_jobs([job], rel_ci=rel, targets=_targets_x)
    assert with_all.n_blocks == only_x.n_blocks < N_BLOCKS
    assert with_all["nan"].n_nan == with_all.n_layouts and with_all["inf"].n_posinf == with_all.n_layouts


def test_nothing_judgeable_runs_to_the_cap():
    job = _job(OnlyUnjudgeable(), n_layouts=10 * BLOCK - 5)
    (m,) = run_jobs([job], rel_ci=0.5)
    assert m.n_layouts == job.n_layouts and not m.stopped_early and m.n_blocks == 10
    assert m["nan"].n_nan == job.n_layouts


def test_exact_output_stops_at_the_first_stage():
    (m,) = run_jobs([_job(Constant())], rel_ci=0.01)
    assert m.n_blocks == 2  # first stage of 100 blocks: ceil(100 / 64)
    assert m["c"].mean == 3.0 and m["c"].m2 == 0.0


def test_unreachable_target_is_capped_and_max_layouts_replaces_n_layouts():
    job = _job(n_layouts=1000)
    (m,) = run_jobs([job], rel_ci=1e-6, max_layouts=37 * BLOCK + 3, targets=_targets_x)
    assert m.n_layouts == m.cap == 37 * BLOCK + 3 and m.n_blocks == 38
    (plain,) = run_jobs([_job(n_layouts=37 * BLOCK + 3)])
    assert m == plain


def test_without_rel_ci_nothing_changes():
    job = _job(n_layouts=20 * BLOCK - 1)
    (m,) = run_jobs([job], chunk_blocks=3)
    assert m.n_layouts == job.n_layouts and not m.stopped_early
    assert m["x"].n == job.n_layouts


def test_deterministic_across_chunking_and_executors():
    jobs = [_job(point=p) for p in range(3)] + [_job(n_layouts=37 * BLOCK + 3, point=7)]
    ref = run_jobs(jobs, SerialExecutor(), rel_ci=0.08, targets=_targets_x, chunk_blocks=1)
    used = [m.n_layouts for m in ref]
    assert any(u < jobs[0].n_layouts for u in used)
    for cb in (2, 5, 64, None):
        out = run_jobs(jobs, SerialExecutor(), rel_ci=0.08, targets=_targets_x, chunk_blocks=cb, progress=True)
        assert out == ref and [m.n_layouts for m in out] == used
    with ProcessExecutor(2) as ex:
        for cb in (1, 3):
            out = run_jobs(jobs, ex, rel_ci=0.08, targets=_targets_x, chunk_blocks=cb)
            assert out == ref and [m.n_layouts for m in out] == used
        assert ex._pool is not None  # run_jobs's own session did not close the caller's pool
    # outside a with-block the pool is started and stopped by run_jobs
    pe = ProcessExecutor(2)
    assert run_jobs(jobs, pe, rel_ci=0.08, targets=_targets_x) == ref
    assert pe._pool is None


def test_blocks_past_the_stop_are_never_computed():
    calls = []

    class Spy(SerialExecutor):
        def imap_unordered(self, fn, args):
            args = list(args)  # the engine hands over a generator (chunks made lazily)
            calls.extend(args)
            return super().imap_unordered(fn, args)

    job = _job()
    (m,) = run_jobs([job], Spy(), rel_ci=0.1, targets=_targets_x, chunk_blocks=4)
    computed = sorted(b for _, first, nb in calls for b in range(first, first + nb))
    assert computed == list(range(m.n_blocks))


# --------------------------------------------------------------------------- resume
def test_resume_with_rel_ci(tmp_path):
    job, rel = _job(), 0.1
    (ref,) = run_jobs([job], rel_ci=rel, targets=_targets_x)
    store = ChunkStore(tmp_path)
    # a killed run left blocks 0-1 and 4-30 (some far past the stopping stage)
    store.save(job, 0, run_chunk(job, 0, 2))
    store.save(job, 4, run_chunk(job, 4, 27))
    (resumed,) = run_jobs([job], rel_ci=rel, targets=_targets_x, cache=store, chunk_blocks=3)
    assert resumed == ref and resumed.n_layouts == ref.n_layouts
    # and an uninterrupted run with the cache stores every block it used and no other
    store2 = ChunkStore(tmp_path / "b", keep_chunks=True)
    (again,) = run_jobs([job], rel_ci=rel, targets=_targets_x, cache=store2)
    assert again == ref and sorted(store2.load(job)) == list(range(ref.n_blocks))


def test_full_run_cache_reused_by_rel_ci_run(tmp_path):
    job, rel = _job(), 0.1
    store = ChunkStore(tmp_path)
    (full,) = run_jobs([job], cache=store)
    assert full.n_layouts == job.n_layouts
    (early,) = run_jobs([job], rel_ci=rel, targets=_targets_x, cache=store)
    (fresh,) = run_jobs([job], rel_ci=rel, targets=_targets_x)
    assert early == fresh and early.n_layouts == fresh.n_layouts < job.n_layouts


# --------------------------------------------------------------------------- validation and facade
@pytest.mark.parametrize("bad", [0, 1, 1.5, -0.1, math.nan, math.inf, "0.1", True])
def test_rel_ci_validation(bad):
    with pytest.raises(ParameterError) as info:
        run_jobs([_job()], rel_ci=bad)
    assert info.value.name == "rel_ci"


def test_max_layouts_validation():
    with pytest.raises(ParameterError) as info:
        run_jobs([_job()], max_layouts=1000)  # without rel_ci
    assert info.value.name == "max_layouts"
    for bad in (1, 0, 2.5, "10"):
        with pytest.raises(ParameterError) as info:
            run_jobs([_job()], rel_ci=0.1, max_layouts=bad)
        assert info.value.name == "max_layouts"


def test_estimate_facade_with_targets():
    kernel = ShiftedNormal()
    est = estimate(kernel, N_BLOCKS * BLOCK, 11, block_size=BLOCK, rel_ci=0.1, targets=["x"])
    (m,) = run_jobs([Job(kernel, N_BLOCKS * BLOCK, 11, point=0, block_size=BLOCK)], rel_ci=0.1, targets=_targets_x)
    assert est["x"].n_total == m.n_layouts < N_BLOCKS * BLOCK
    assert est["x"].mean == m["x"].mean
