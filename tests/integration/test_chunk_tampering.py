"""Tampered, misplaced or hostile files in the chunk store are never used.

The state of a killed run (every chunk stored, no point finished) is made once through the store
itself; each case then changes it as a careless user, a bad disk or a hostile tester would, and
reruns the same command. In every case the run must end with exit status 0 and a Dataset equal,
bit for bit, to a clean run's (the bad chunks recomputed), print the one warning line
"N stored chunks failed validation and were recomputed", and count them in
``attrs["chunks_failed_validation"]``. A chunk folder that is a symbolic link is refused (or, with
``--fresh``, unlinked without touching its target), and a change of random stream reuses nothing.

"Re-sealed" cases recompute the file's checksum after the edit (the format is public, so the
checksum stops accidents, not forgers): the semantic checks must catch those.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from isacnet.cli import CHUNK_DIR, run_cli
from isacnet.experiments.chunkstore import ChunkStore
from isacnet.experiments.models import get_model
from isacnet.experiments.spec import parse_spec
from isacnet.experiments.store import load_dataset
from isacnet.simulation import engine
from isacnet.simulation.engine import Job, run_chunk

CONFIG = """\
[figure]
id = "tamper"
model = "song"

[params]
gamma = 3.0

[sweep]
parameters = ["n_rx_antennas"]
values = [1, 4]

[monte_carlo]
n_layouts = 600
seed = 5
block_size = 100
k_nearest = 4
"""
N_POINTS, N_BLOCKS, Q = 2, 6, "crlb"
LINE = re.compile(r"(\d+) stored chunks? failed validation and (?:were|was) recomputed")


def _args(cfg: Path, out: Path, *extra: str) -> list[str]:
    return ["run", str(cfg), "--out", str(out), "--workers", "1", "--no-progress", *extra]


def _killed_state(folder: Path, text: str) -> None:
    """What a run killed after its last chunk and before finishing a point leaves: every block
    stored, one chunk per block (the serial run's chunking), no point record."""
    spec = parse_spec(text)
    model = get_model(spec.model)
    store = ChunkStore(folder)
    for i, (p, o) in enumerate(spec.points()):
        job = Job(model.kernel(p, o), spec.n_layouts, spec.seed, point=i, block_size=spec.block_size)
        for b in range(job.n_blocks):
            store.save(job, b, run_chunk(job, b, 1))


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("tamper-base")
    (d / "tamper.toml").write_text(CONFIG)
    assert run_cli(_args(d / "tamper.toml", d / "ref")) == 0
    _killed_state(d / "chunks", CONFIG)
    _killed_state(d / "seed6", CONFIG.replace("seed = 5", "seed = 6"))
    _killed_state(d / "gamma35", CONFIG.replace("gamma = 3.0", "gamma = 3.5"))
    return d


# --------------------------------------------------------------------------- file helpers
def _point_of(doc: dict) -> int:
    if "identity" in doc:
        return doc["identity"]["job"]["fields"]["point"]
    return doc["point"]  # (the 0.2.0 format, so that the cases also run against it)


def _chunk(folder: Path, point: int, block: int) -> Path:
    for d in sorted(p for p in folder.iterdir() if p.is_dir()):
        files = sorted(d.glob("chunk-*.json"))
        if files and _point_of(json.loads(files[0].read_text())) == point:
            return files[block]
    raise AssertionError(f"no chunks of point {point} in {folder}")


def _entry(doc: dict, q: str = Q, i: int = 0) -> list:
    blk = doc["blocks"][i]
    return blk[q] if isinstance(blk, dict) else blk[doc["quantities"].index(q)]


def _reseal(doc: dict) -> dict:
    """Recompute the checksum as documented: sha256 of the canonical JSON without it."""
    if "sha256" in doc:
        body = {k: v for k, v in doc.items() if k != "sha256"}
        text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
        doc["sha256"] = hashlib.sha256(text.encode()).hexdigest()
    return doc


def _edit(f: Path, change, reseal: bool = False) -> None:
    doc = json.loads(f.read_text())
    change(doc)
    f.write_text(json.dumps(_reseal(doc) if reseal else doc))


def _set(q_index: int, value):
    def change(doc):
        _entry(doc)[q_index] = value
    return change


# --------------------------------------------------------------------------- the cases
def _nan(folder, base):
    _edit(_chunk(folder, 0, 2), _set(1, float("nan")))  # written as NaN


def _other_point(folder, base):
    shutil.copyfile(_chunk(folder, 1, 3), _chunk(folder, 0, 3))


def _other_seed(folder, base):
    shutil.copyfile(_chunk(base / "seed6", 0, 1), _chunk(folder, 0, 1))


def _other_run(folder, base):
    src = _chunk(base / "gamma35", 0, 0).parent
    dst = _chunk(folder, 0, 0).parent
    for f in src.glob("chunk-*.json"):  # a whole other run's chunks, under this run's names
        shutil.copyfile(f, dst / f.name)


def _inflated(folder, base):
    _edit(_chunk(folder, 0, 4), _set(0, 10**12), reseal=True)


def _inflated_stale(folder, base):
    _edit(_chunk(folder, 1, 4), _set(0, 10**12))


def _negative(folder, base):
    def change(doc):
        e = _entry(doc)
        e[0], e[5] = e[0] + 3, -3  # the total stays the block size
    _edit(_chunk(folder, 0, 5), change, reseal=True)


def _shifted(folder, base):
    _edit(_chunk(folder, 0, 2), lambda d: d.update(first_block=d["first_block"] + 1), reseal=True)


def _missing_quantity(folder, base):
    def change(doc):
        if "quantities" in doc:
            k = doc["quantities"].index(Q)
            del doc["quantities"][k]
            for blk in doc["blocks"]:
                del blk[k]
        else:
            for blk in doc["blocks"]:
                del blk[Q]
    _edit(_chunk(folder, 0, 1), change, reseal=True)


def _nested(folder, base):
    _chunk(folder, 0, 3).write_text("[" * 200_000 + "]" * 200_000)


def _truncated(folder, base):
    f = _chunk(folder, 0, 0)
    f.write_bytes(f.read_bytes()[: f.stat().st_size // 2])


def _garbage(folder, base):
    _chunk(folder, 1, 2).write_bytes(np.random.default_rng(0).bytes(3000))


def _checksum(folder, base):
    f = _chunk(folder, 0, 3)

    def change(doc):  # a plausible value: only the checksum can tell
        _entry(doc)[1] = _entry(doc)[1] * (1 + 2**-40)
    _edit(f, change)


def _stream_moved(folder, base):
    """Chunks of another random stream moved under this job's name."""
    def change(doc):
        if "identity" in doc:
            doc["identity"]["rng_stream"] = "another-stream/PCG64"
        else:
            doc["job"] = doc["job"].replace("SongKernel", "SongKernel ")
    _edit(_chunk(folder, 0, 0), change, reseal=True)


CASES = {
    "nan-mean": _nan,
    "other-point": _other_point,
    "other-seed": _other_seed,
    "other-run-folder": _other_run,
    "counts-1e12-resealed": _inflated,
    "counts-1e12": _inflated_stale,
    "negative-count-resealed": _negative,
    "shifted-first-block-resealed": _shifted,
    "missing-quantity-resealed": _missing_quantity,
    "nested-json": _nested,
    "truncated": _truncated,
    "garbage": _garbage,
    "checksum-mismatch": _checksum,
    "other-stream-resealed": _stream_moved,
}


def _same(a, b) -> None:
    assert set(a.data_vars) == set(b.data_vars)
    for v in list(a.data_vars) + list(a.coords):
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)


def _rerun(base: Path, out: Path, capsys, *extra: str):
    rc = run_cli(_args(base / "tamper.toml", out, *extra))
    err = capsys.readouterr().err
    assert rc == 0, err
    return load_dataset(out / "tamper.nc"), err


@pytest.mark.parametrize("case", list(CASES))
def test_tampered_chunk_is_recomputed(case, base, tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(base / "chunks", out / CHUNK_DIR)
    CASES[case](out / CHUNK_DIR, base)
    ds, err = _rerun(base, out, capsys)
    _same(ds, load_dataset(base / "ref" / "tamper.nc"))  # recomputed, never used
    m = LINE.search(err)
    assert m and int(m[1]) >= 1, err
    assert len([ln for ln in err.splitlines() if LINE.search(ln)]) == 1  # one line
    assert ds.attrs["chunks_failed_validation"] == int(m[1])
    left = sorted(p.name for p in (out / CHUNK_DIR).rglob("*"))  # the bad files are gone, too
    assert len(left) == N_POINTS and all(n.endswith(".json") for n in left), left


def test_fifo_named_like_a_chunk_does_not_hang(base, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(base / "chunks", out / CHUNK_DIR)
    f = _chunk(out / CHUNK_DIR, 0, 2)
    f.unlink()
    os.mkfifo(f)
    cmd = [sys.executable, "-m", "isacnet.cli", *_args(base / "tamper.toml", out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)  # 0.2.0 blocks forever
    assert proc.returncode == 0, proc.stderr
    assert LINE.search(proc.stderr), proc.stderr
    _same(load_dataset(out / "tamper.nc"), load_dataset(base / "ref" / "tamper.nc"))


@pytest.mark.parametrize("kind", ["nan", "inflated-resealed", "other-point", "truncated"])
def test_tampered_point_record_is_recomputed(kind, base, tmp_path, capsys):
    """A finished point's record (its merged moments) is checked like a chunk."""
    out = tmp_path / "out"
    assert run_cli(_args(base / "tamper.toml", out)) == 0
    records = sorted((out / CHUNK_DIR).glob("*.json"))
    assert len(records) == N_POINTS and not list((out / CHUNK_DIR).glob("*/chunk-*.json"))
    f = next(r for r in records if _point_of(json.loads(r.read_text())) == 0)
    other = next(r for r in records if r != f)

    def prefix_last(doc):
        return doc["prefixes"][-1][1][doc["quantities"].index(Q)]

    if kind == "nan":
        _edit(f, lambda d: prefix_last(d).__setitem__(1, float("nan")))
    elif kind == "inflated-resealed":
        _edit(f, lambda d: prefix_last(d).__setitem__(0, 10**12), reseal=True)
    elif kind == "other-point":
        shutil.copyfile(other, f)
    else:
        f.write_bytes(f.read_bytes()[:100])
    capsys.readouterr()
    ds, err = _rerun(base, out, capsys)
    _same(ds, load_dataset(base / "ref" / "tamper.nc"))
    assert LINE.search(err) and ds.attrs["chunks_failed_validation"] == 1, err


def test_fresh_with_symlinked_chunk_dir_removes_the_link_only(base, tmp_path, capsys):
    elsewhere = tmp_path / "someone-elses"
    shutil.copytree(base / "chunks", elsewhere)
    for p in range(N_POINTS):  # chunks of another seed under this run's names: must not be used
        for b in range(N_BLOCKS):
            shutil.copyfile(_chunk(base / "seed6", p, b), _chunk(elsewhere, p, b))
    (elsewhere / "keep.txt").write_text("not yours")
    out = tmp_path / "out"
    out.mkdir()
    (out / CHUNK_DIR).symlink_to(elsewhere, target_is_directory=True)
    before = sorted(str(p.relative_to(elsewhere)) for p in elsewhere.rglob("*"))
    ds, err = _rerun(base, out, capsys, "--fresh")
    assert "symbolic link" in err and "removed the link only" in err, err
    assert (out / CHUNK_DIR).is_dir() and not (out / CHUNK_DIR).is_symlink()
    assert sorted(str(p.relative_to(elsewhere)) for p in elsewhere.rglob("*")) == before
    _same(ds, load_dataset(base / "ref" / "tamper.nc"))


def test_symlinked_chunk_dir_without_fresh_is_refused(base, tmp_path, capsys):
    elsewhere = tmp_path / "someone-elses"
    shutil.copytree(base / "chunks", elsewhere)
    out = tmp_path / "out"
    out.mkdir()
    (out / CHUNK_DIR).symlink_to(elsewhere, target_is_directory=True)
    rc = run_cli(_args(base / "tamper.toml", out))
    err = capsys.readouterr().err
    assert rc == 2 and "symbolic link" in err and "--fresh" in err, err
    assert len(err.strip().splitlines()) == 1
    assert not (out / "tamper.nc").exists()


def _count_computed(monkeypatch) -> list[int]:
    computed: list[int] = []

    def counting(job, first, n):
        computed.append(n)
        return run_chunk(job, first, n)

    monkeypatch.setattr(engine, "run_chunk", counting)
    return computed


def test_random_stream_change_reuses_nothing(base, tmp_path, capsys, monkeypatch):
    """numpy's Generator algorithms are the numpy backend's stream: another numpy version
    (simulated) must not reuse the chunks of this one."""
    out = tmp_path / "out"
    shutil.copytree(base / "chunks", out / CHUNK_DIR)
    computed = _count_computed(monkeypatch)
    monkeypatch.setattr(np, "__version__", np.__version__ + ".post999")
    ds, _ = _rerun(base, out, capsys)
    assert sum(computed) == N_POINTS * N_BLOCKS  # all recomputed (0.2.0: none)
    _same(ds, load_dataset(base / "ref" / "tamper.nc"))


def test_a_kernel_with_another_output_list_reuses_nothing(base, tmp_path, capsys, monkeypatch):
    """Code that adds an output to a kernel (same fields, same version string) must not load the
    chunks of the old code, which lack it (the estimator kernel's control variates: a KeyError
    after the work, before the output list was part of the key)."""
    from isacnet.simulation.kernels.song import SongKernel

    out = tmp_path / "out"
    shutil.copytree(base / "chunks", out / CHUNK_DIR)
    computed = _count_computed(monkeypatch)
    monkeypatch.setattr(SongKernel, "quantities", property(lambda self: ("crlb", "a new output")), raising=False)
    ds, _ = _rerun(base, out, capsys)
    assert sum(computed) == N_POINTS * N_BLOCKS
    _same(ds, load_dataset(base / "ref" / "tamper.nc"))


def test_finished_run_leaves_one_record_per_point_and_rerun_computes_nothing(base, tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    ds, err = _rerun(base, out, capsys)
    assert not LINE.search(err) and ds.attrs["chunks_failed_validation"] == 0
    files = sorted(p.name for p in (out / CHUNK_DIR).rglob("*"))
    assert len(files) == N_POINTS and all(n.endswith(".json") for n in files)  # no chunk, no folder
    computed = _count_computed(monkeypatch)
    _same(_rerun(base, out, capsys)[0], ds)
    assert computed == []
    kept = tmp_path / "kept"
    _rerun(base, kept, capsys, "--keep-chunks")
    assert len(list((kept / CHUNK_DIR).glob("*/chunk-*.json"))) == N_POINTS * N_BLOCKS
