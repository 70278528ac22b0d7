"""The chunk store's identity, safe reading, validation and point records (unit level)."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isacnet.experiments import _chunkfile as cf
from isacnet.experiments.chunkstore import ChunkStore, canonical, job_identity, job_key
from isacnet.simulation import engine
from isacnet.simulation.engine import Job, run_chunk, run_jobs, stage_ends
from isacnet.simulation.estimate import Moments

BLOCK = 64


@dataclasses.dataclass(frozen=True)
class Normal:
    """A kernel: normal layouts; ``hidden`` is left out of the repr (and so of 0.2.0's key)."""

    loc: float = 1.0
    hidden: int = dataclasses.field(default=0, repr=False)

    def __call__(self, rng, n):
        return {"x": rng.normal(self.loc + self.hidden, 1.0, n), "y": rng.exponential(1.0, n)}


@dataclasses.dataclass(frozen=True)
class Huge:
    """A kernel whose block mean overflows (sum of 1e308s): not a storable Moments."""

    def __call__(self, rng, n):
        return {"x": np.full(n, 1.7e308)}


def _job(kernel=None, n=10 * BLOCK, seed=3, point=0):
    return Job(kernel or Normal(), n, seed, point=point, block_size=BLOCK)


# --------------------------------------------------------------------------- identity
def test_key_covers_every_field_not_the_repr():
    a, b = _job(Normal(hidden=0)), _job(Normal(hidden=1))
    assert repr(a.kernel) == repr(b.kernel) and job_key(a) != job_key(b)


@pytest.mark.parametrize("change", [
    {"seed": 4}, {"point": 1}, {"n_layouts": 11 * BLOCK}, {"block_size": BLOCK // 2},
    {"kernel": Normal(loc=math.nextafter(1.0, 2.0))}, {"kernel": Normal(loc=1)},
])
def test_key_changes_with_every_input(change):
    a = _job()
    assert job_key(a) != job_key(dataclasses.replace(a, **change))


def test_identity_names_stream_backend_version_and_extra_identity():
    ident = job_identity(_job())
    assert ident["backend"] == "numpy" and ident["dtype"] == "float64"
    assert ident["rng_stream"] == f"numpy-{np.__version__}/PCG64" and ident["isacnet_version"]

    @dataclasses.dataclass(frozen=True)
    class WithIdentity(Job):  # an engine Job may carry its own identity: it is part of the key
        identity: str = ""

    j = _job()
    a, b = (WithIdentity(j.kernel, j.n_layouts, j.seed, block_size=BLOCK, identity=x) for x in "ab")
    assert job_key(a) != job_key(b)
    assert job_identity(a)["job_identity"] == "a"


def test_canonical_is_exact():
    assert canonical(0.1) != canonical(math.nextafter(0.1, 1.0))
    assert canonical(0.0) != canonical(-0.0) and canonical(1) != canonical(1.0)
    assert canonical(float("nan")) == {"float": "nan"}
    assert canonical(np.arange(3)) != canonical(np.arange(3.0))
    assert canonical({"b": 1, "a": 2}) == canonical({"a": 2, "b": 1})


def test_uncacheable_kernel_runs_without_cache(tmp_path):
    def kern(rng, n):  # a closure: no faithful identity, so nothing is stored or reused
        return {"x": rng.normal(size=n)}

    job = Job(kern, 4 * BLOCK, 1, block_size=BLOCK)
    (a,) = run_jobs([job], cache=ChunkStore(tmp_path))
    assert a == run_jobs([job])[0] and not list(tmp_path.iterdir())


# --------------------------------------------------------------------------- safe reading
def _depth_twin(text: str) -> int:
    depth = best = 0
    in_str = esc = False
    for c in text:
        if in_str:
            esc, in_str = (False, in_str) if esc else (c == "\\", c != '"')
        elif c == '"':
            in_str = True
        elif c in "[{":
            depth += 1
            best = max(best, depth)
        elif c in "]}":
            depth -= 1
    return best


json_values = st.recursive(
    st.none() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(alphabet='[]{}"\\', max_size=3), inner,
                                                                 max_size=3),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_json_depth_matches_a_char_by_char_twin(v):
    text = json.dumps(v)
    assert cf.json_depth(text.encode()) == _depth_twin(text)


def test_read_regular_refuses_fifo_link_folder_and_size(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "real").write_text("{}")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "dir").mkdir()
    (tmp_path / "big").write_bytes(b" " * 101)
    fd = os.open(tmp_path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        done = []
        t = threading.Thread(target=lambda: done.append(_reason(fd, "fifo")), daemon=True)
        t.start()
        t.join(10)
        assert done == ["not a regular file"]  # and it did not block
        assert _reason(fd, "link") == "a symbolic link, not a file"
        assert _reason(fd, "dir").startswith(("not a regular file", "cannot be"))
        assert "more than" in _reason(fd, "big", limit=100)
        assert cf.read_regular(fd, "real") == b"{}"
    finally:
        os.close(fd)


def _reason(fd, name, limit=cf.MAX_FILE_BYTES) -> str:
    with pytest.raises(cf.Invalid) as info:
        cf.read_regular(fd, name, limit)
    return str(info.value)


@pytest.mark.parametrize("text", [b"[" * 100_000, b'{"a":' * 40 + b"1" + b"}" * 40, b"\xff\xfe", b"[1, 2]",
                                  b'{"a": 1, "a": 2}', b'{"a": NaN}', b'{"a": Infinity}'])
def test_parse_refuses(text):
    with pytest.raises(cf.Invalid):
        cf.parse(text)


@pytest.mark.parametrize("row", [
    [5, 0.5, 1.0, 0, 0, 0, 9], [5, 0.5, 1.0, 0, 0], [6, 0.5, 1.0, 0, 0, 0], [4, 0.5, 1.0, 0, 0, 0],
    [10**12, 0.5, 1.0, 0, 0, 0], [8, 0.5, 1.0, -3, 0, 0], [5.0, 0.5, 1.0, 0, 0, 0], [True, 0.5, 1.0, 0, 4, 0],
    [5, 1, 1.0, 0, 0, 0], [5, 0.5, -1.0, 0, 0, 0], [0, 0.5, 0.0, 5, 0, 0], [1, 0.5, 0.1, 0, 4, 0],
    [5, "0.5", 1.0, 0, 0, 0], [5, 1e308 * 10, 1.0, 0, 0, 0], [5, 0.5, float("nan"), 0, 0, 0],
])
def test_moments_refused(row):
    with pytest.raises(cf.Invalid):
        cf.moments(row, 5, "test")


def test_moments_accepted():
    assert cf.moments([3, 0.5, 1.0, 1, 0, 1], 5, "t") == Moments(3, 0.5, 1.0, 1, 0, 1)
    assert cf.moments([0, 0.0, 0.0, 5, 0, 0], 5, "t") == Moments(0, 0.0, 0.0, 5, 0, 0)


# --------------------------------------------------------------------------- store and records
def test_unstorable_moments_are_not_stored(tmp_path):
    store = ChunkStore(tmp_path)
    job = _job(Huge(), n=3 * BLOCK)
    with np.errstate(over="ignore", invalid="ignore"):
        blocks = run_chunk(job, 0, 1)
    # Moments.of scales extreme samples, so their mean is finite now: make one that overflowed
    blocks = [{k: dataclasses.replace(m, mean=math.inf, m2=math.nan) for k, m in b.items()} for b in blocks]
    assert not math.isfinite(blocks[0]["x"].mean)
    store.save(job, 0, blocks)
    assert not list(tmp_path.rglob("chunk-*.json")) and store.load(job) == {}


def test_save_load_roundtrip_exact(tmp_path):
    store, job = ChunkStore(tmp_path), _job()
    blocks = run_chunk(job, 2, 3)
    store.save(job, 2, blocks)
    assert store.load(job) == {2 + i: b for i, b in enumerate(blocks)} and store.invalid == []


def _counting(monkeypatch) -> list[int]:
    computed: list[int] = []

    def counting(job, first, n):
        computed.extend(range(first, first + n))
        return run_chunk(job, first, n)

    monkeypatch.setattr(engine, "run_chunk", counting)
    return computed


def _targets_x(job, mom):
    return {"x": mom["x"].estimate()}


def test_record_of_an_early_stopped_run_is_continued_exactly(tmp_path, monkeypatch):
    job = _job(n=64 * BLOCK)
    store = ChunkStore(tmp_path)
    (early,) = run_jobs([job], rel_ci=0.2, targets=_targets_x, cache=store)
    assert early.n_blocks < job.n_blocks  # stopped early; its record holds the stage totals
    assert not list(tmp_path.rglob("chunk-*.json")) and len(list(tmp_path.glob("*.json"))) == 1
    computed = _counting(monkeypatch)
    (full,) = run_jobs([job], cache=store)  # continues from the record's last total
    assert sorted(computed) == list(range(early.n_blocks, job.n_blocks))
    monkeypatch.undo()
    assert full == run_jobs([job])[0]
    computed = _counting(monkeypatch)
    assert run_jobs([job], rel_ci=0.2, targets=_targets_x, cache=store)[0] == early and computed == []
    assert store.invalid == []


def test_record_stage_ends_are_checked(tmp_path):
    job = _job(n=20 * BLOCK)
    store = ChunkStore(tmp_path)
    run_jobs([job], cache=store)
    rec = tmp_path / f"{job_key(job)}.json"
    doc = json.loads(rec.read_text())
    assert [e for e, _ in doc["prefixes"]] == list(stage_ends(job.n_blocks))
    doc["prefixes"][0][0] += 1  # not a stage end any more (counts then also disagree)
    rec.write_text(json.dumps(doc))
    assert store.load_prefixes(job) == {} and len(store.invalid) == 1 and not rec.exists()


def test_disagreeing_duplicate_chunks_are_both_refused(tmp_path):
    store, job = ChunkStore(tmp_path, keep_chunks=True), _job()
    store.save(job, 0, run_chunk(job, 0, 2))
    other = run_chunk(dataclasses.replace(job, seed=99), 1, 1)
    store.save(job, 1, other)  # a forged chunk for block 1 (valid on its own)
    assert store.load(job) == {} and store.n_invalid == 2


def test_link_in_place_of_a_job_folder_is_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("x")
    job = _job()
    root = tmp_path / "store"
    root.mkdir()
    (root / job_key(job)).symlink_to(victim, target_is_directory=True)
    store = ChunkStore(root)
    assert store.load(job) == {} and store.n_invalid == 1
    run_jobs([job], cache=store)
    assert sorted(p.name for p in victim.iterdir()) == ["keep"]


def test_folder_named_like_a_chunk_is_removed_and_recomputed(tmp_path):
    store, job = ChunkStore(tmp_path), _job(n=3 * BLOCK)
    d = tmp_path / job_key(job) / "chunk-000000001-1.json"
    d.mkdir(parents=True)
    (d / "x").write_text("x")
    assert store.load(job) == {} and store.n_invalid == 1 and not d.exists()
    assert run_jobs([job], cache=store)[0] == run_jobs([job])[0]


class _Killed(Exception):
    pass


def test_run_killed_after_one_point_finished_resumes_exactly(tmp_path, monkeypatch):
    """Serial: point 0 is recorded (chunks removed) as soon as it is folded, before point 1
    starts; a run killed in point 1 resumes with point 0 from its record, point 1 from chunks."""
    jobs = [_job(point=0), _job(point=1)]
    ref = run_jobs(jobs)
    store = ChunkStore(tmp_path)
    real_save, saves = ChunkStore.save, []

    def dying_save(self, job, first, blocks):
        if job.point == 1 and sum(p == 1 for p, _ in saves) == 3:
            raise _Killed
        saves.append((job.point, first))
        real_save(self, job, first, blocks)

    monkeypatch.setattr(ChunkStore, "save", dying_save)
    with pytest.raises(_Killed):
        run_jobs(jobs, cache=store, chunk_blocks=2)
    monkeypatch.undo()
    assert (tmp_path / f"{job_key(jobs[0])}.json").is_file() and not (tmp_path / job_key(jobs[0])).exists()
    assert len(list((tmp_path / job_key(jobs[1])).glob("chunk-*.json"))) == 3
    computed = _counting(monkeypatch)
    assert run_jobs(jobs, cache=store, chunk_blocks=3) == ref
    assert sorted(computed) == list(range(6, 10))  # point 1's missing blocks only
