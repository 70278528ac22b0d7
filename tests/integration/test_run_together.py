"""Several figures run as one list of jobs (experiments.runner.run_together) give, bit for bit, the numbers
of each figure run alone: with and without early stopping, on one or two processes, and resumed
from a chunk store."""

from __future__ import annotations

import numpy as np
import pytest

from isacnet.experiments.chunkstore import ChunkStore
from isacnet.experiments.runner import run_spec, run_specs
from isacnet.experiments.spec import builtin_specs
from isacnet.simulation.executors import ProcessExecutor

_IDS = ("song-fig1a", "meng-fig2", "deploy-coverage-eps", "coverage-jt-vs-threshold")


def _specs():
    b = builtin_specs()
    sizes = {"song-fig1a": (2048, 256), "meng-fig2": (2048, 256), "deploy-coverage-eps": (32, 4),
             "coverage-jt-vs-threshold": (1024, 128)}
    return [b[i].with_overrides(n_layouts=n, block_size=bs) for i, (n, bs) in sizes.items()]


def _same(a, b):
    assert sorted(a.data_vars) == sorted(b.data_vars)
    for v in a.data_vars:
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=f"{a.attrs['figure_id']}: {v}")
    assert a.attrs["job_keys"] == b.attrs["job_keys"]


@pytest.mark.parametrize("rel_ci", [None, 0.05])
def test_figures_run_together_equal_each_run_alone(rel_ci):
    specs = _specs()
    alone = [run_spec(s, progress=False, rel_ci=rel_ci) for s in specs]
    seen = []
    with ProcessExecutor(2) as ex:
        together = run_specs(specs, ex, progress=False, rel_ci=rel_ci, on_result=lambda s, ds: seen.append(s.id))
    assert sorted(seen) == sorted(_IDS)  # each handed over once, as it finished
    for a, t in zip(alone, together, strict=True):
        _same(a, t)
        assert t.attrs["mc_run_figures"] == len(specs) and a.attrs["mc_run_figures"] == 1
    if rel_ci is not None:  # some points stopped early, others did not: the stages were per job
        used = np.concatenate([t["n_layouts_used"].values.ravel() for t in together])
        caps = np.concatenate([np.full(t["n_layouts_used"].size, s.n_layouts)
                               for s, t in zip(specs, together, strict=True)])
        assert np.any(used < caps) and np.any(used == caps)


def test_figures_run_together_resume_from_the_store(tmp_path):
    specs = _specs()
    first = run_specs(specs, progress=False, cache=ChunkStore(tmp_path))
    store = ChunkStore(tmp_path)
    again = run_specs(specs, progress=False, cache=store)  # every point from its stored record
    for a, b in zip(first, again, strict=True):
        _same(a, b)
        assert b.attrs["chunks_failed_validation"] == 0
    assert store.n_invalid == 0


def test_jobs_that_cannot_be_told_apart_run_one_by_one(monkeypatch):
    # one kernel object at the same point in two figures (a model that caches its kernels):
    # the shared run refuses, and run_specs runs the figures one by one
    from isacnet.experiments import runner

    spec = _specs()[0]
    sweep = runner.jobs_for(spec)
    monkeypatch.setattr(runner, "jobs_for", lambda s, quick=False, rel_ci=False: sweep)
    assert runner.run_together([spec, spec], None, quick=False, progress=False, cache=None, rel_ci=None,
                                 max_layouts=None) is None
    a, b = run_specs([spec, spec], progress=False)
    _same(a, b)
    assert a.attrs["mc_run_figures"] == 1  # the one-by-one path
