"""A sweep over a coverage threshold runs as one job on the same samples (Model.shared_option).

The group kernel's output ``name@k`` must be, bit for bit, what the point's own kernel gives on
the same random numbers (the slow twin: one kernel per threshold, each fed the same stream), and
the runner must hand each point its own moments, so that the first point of a group is unchanged
and every point equals a lone run of its kernel on the first point's stream.
"""

from __future__ import annotations

import numpy as np
import pytest

from isacnet.experiments.chunkstore import ChunkStore
from isacnet.experiments.registry import get_model
from isacnet.experiments.runner import jobs_for, member_moments, run_spec
from isacnet.experiments.spec import builtin_specs
from isacnet.params import MengParams, ParameterError, SongParams
from isacnet.simulation.engine import Job, run_jobs
from isacnet.simulation.executors import ProcessExecutor
from isacnet.typical import PROCESSES, TypicalKernel, output_name


@pytest.mark.parametrize(("quantity", "params", "values"), [
    ("crlb", MengParams(), (20.0, 60.0, 150.0)),
    ("song", SongParams(), (0.02, 0.04, 0.1)),
    ("comp", MengParams(), (-5.0, 0.0, 7.5)),
])
def test_group_kernel_equals_one_kernel_per_threshold(quantity, params, values):
    n_bs = 3 if quantity == "comp" else 4
    group = TypicalKernel(params, quantity, n_bs, points=4, n_sites=100, thresholds=values)
    g = group(np.random.default_rng(11), 3)
    for k, v in enumerate(values):
        opt = {"threshold_db": v} if quantity == "comp" else {"epsilon": v}
        alone = TypicalKernel(params, quantity, n_bs, points=4, n_sites=100, **opt)(np.random.default_rng(11), 3)
        for proc in PROCESSES:
            name = output_name("cov", proc)
            np.testing.assert_array_equal(g[f"{name}@{k}"], alone[name], err_msg=f"{name} at {v}")
            other = output_name("rate" if quantity == "comp" else "log", proc)
            np.testing.assert_array_equal(g[other], alone[other])
    assert not any(output_name("cov", p) in g for p in PROCESSES)  # only the suffixed ones


def test_group_kernel_refuses_a_bad_threshold_by_name():
    with pytest.raises(ParameterError, match="epsilon"):
        TypicalKernel(MengParams(), "crlb", 4, thresholds=(10.0, -1.0))


def _spec(n_layouts=16):
    return builtin_specs()["deploy-coverage-eps"].with_overrides(n_layouts=n_layouts, block_size=4, seed=7)


def test_a_sweep_over_epsilon_is_one_job_per_series():
    sweep = jobs_for(_spec())
    n_eps = len(sweep.spec.sweep.values)
    assert len(sweep.points) == 2 * n_eps and len(sweep.jobs) == 2  # series n_bs = 4, 8
    assert sweep.members == [tuple(range(n_eps)), tuple(range(n_eps, 2 * n_eps))]
    assert [j.point for j in sweep.jobs] == [0, n_eps]  # seeded as the first point of each
    assert sweep.jobs[0].kernel.thresholds == tuple(sweep.spec.sweep.values)


def test_each_point_equals_its_own_kernel_on_the_groups_stream():
    spec = _spec()
    ds = run_spec(spec, progress=False)
    sweep = jobs_for(spec)
    n_eps = len(spec.sweep.values)
    cov = ds["cov_ppp"].values  # (n_bs, epsilon)
    for s, first in enumerate((0, n_eps)):
        for i in (first, first + 3, first + n_eps - 1):
            lone = Job(sweep.kernels[i], spec.n_layouts, spec.seed, point=first, block_size=spec.block_size)
            (mom,) = run_jobs([lone], progress=False)
            assert mom["cov_ppp"].mean == cov[s, i - first]
            assert mom["log_ppp"].mean == ds["log_ppp"].values[s, i - first]
    assert np.all(np.diff(cov, axis=1) >= 0)  # an empirical CDF of the same samples
    keys = ds.attrs["job_keys"].split(",")
    assert len(keys) == 2 * n_eps and len(set(keys)) == 2


def test_group_jobs_resume_from_the_chunk_store_and_match_across_executors(tmp_path):
    spec = _spec(32)
    a = run_spec(spec, progress=False, cache=ChunkStore(tmp_path))
    with ProcessExecutor(2) as ex:
        b = run_spec(spec, ex, progress=False, cache=ChunkStore(tmp_path))  # all from the store
        c = run_spec(spec, ex, progress=False)
    for v in ("cov_ppp", "cov_matern_ii_stderr", "geo_hexagonal", "n_layouts_used"):
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)
        np.testing.assert_array_equal(a[v].values, c[v].values, err_msg=v)


def test_early_stopping_judges_every_point_of_a_group():
    spec = _spec(64)
    ds = run_spec(spec, rel_ci=0.5, progress=False)
    used = ds["n_layouts_used"].values
    assert np.all(used == used[:, :1])  # a group stops as one
    rel = 1.959963984540054 * ds["cov_ppp_stderr"].values / np.abs(ds["cov_ppp"].values)
    early = used < spec.n_layouts
    assert early.any() and np.all(rel[early] < 0.5)


def test_member_moments_takes_the_suffixed_output_and_the_shared_ones():
    m = {"cov_ppp@0": 1, "cov_ppp@1": 2, "log_ppp": 3, "cov_ppp@10": 4}
    assert member_moments(m, 1) == {"cov_ppp": 2, "log_ppp": 3}
    assert member_moments(m, 10) == {"cov_ppp": 4, "log_ppp": 3}


def test_models_without_a_shared_option_run_point_by_point():
    assert get_model("meng-rate").shared_option is None
    sweep = jobs_for(builtin_specs()["song-fig1d"])
    assert sweep.members == [(i,) for i in range(len(sweep.points))]
    assert all(j.kernel is k for j, k in zip(sweep.jobs, sweep.kernels, strict=True))


def test_jt_group_kernel_equals_one_kernel_per_threshold():
    from isacnet.simulation.kernels.coverage import JTCompareKernel

    p, values = MengParams(), (0.1, 1.0, 31.6)
    g = JTCompareKernel(p, 3, kappa_c=0.8, k_nearest=16, thresholds=values)(np.random.default_rng(2), 500)
    for k, t in enumerate(values):
        alone = JTCompareKernel(p, 3, t, kappa_c=0.8, k_nearest=16)(np.random.default_rng(2), 500)
        for tag in ("ps", "nc", "coh"):
            np.testing.assert_array_equal(g[f"cov_{tag}@{k}"], alone[f"cov_{tag}"])
            np.testing.assert_array_equal(g[f"rate_{tag}"], alone[f"rate_{tag}"])
    assert sorted(g) == sorted(JTCompareKernel(p, 3, kappa_c=0.8, k_nearest=16, thresholds=values).quantities)


def test_coverage_jt_threshold_sweep_is_one_job_per_cluster_size():
    spec = builtin_specs()["coverage-jt-vs-threshold"].with_overrides(n_layouts=64, block_size=32, seed=3)
    sweep = jobs_for(spec)
    assert len(sweep.jobs) == len(spec.series.values)
    ds = run_spec(spec, progress=False)
    for v in ("cov_ps", "cov_nc", "cov_coh"):
        assert np.all(np.diff(ds[v].values, axis=ds[v].dims.index(spec.sweep.dim)) <= 0)  # P(SINR > T) falls


def test_meta_group_kernel_equals_one_kernel_per_reliability():
    model = get_model("meta-coop")
    p, xs = MengParams(n_tx_antennas=2), (0.1, 0.5, 0.9)
    opts = {"n_comm": 3, "threshold_db": 0.0}
    g = model.group_kernel(p, opts, xs)(np.random.default_rng(4), 300)
    for k, x in enumerate(xs):
        alone = model.kernel(p, {**opts, "x": x})(np.random.default_rng(4), 300)
        for name in ("meta_noncoop", "meta_coop"):
            np.testing.assert_array_equal(g[f"{name}@{k}"], alone[name], err_msg=f"{name} at x = {x}")
        for name in ("ps_noncoop", "ps_coop"):
            np.testing.assert_array_equal(g[name], alone[name])


def test_meta_coop_is_one_job_and_an_empirical_ccdf():
    spec = builtin_specs()["meta-coop"].with_overrides(n_layouts=256, block_size=64, seed=2)
    assert len(jobs_for(spec).jobs) == 1
    ds = run_spec(spec, progress=False)
    for v in ("meta_noncoop", "meta_coop"):
        assert np.all(np.diff(ds[v].values) <= 0)  # the fraction with P_s > x falls with x


def test_rate_only_comp_kernel_gives_the_same_rates_and_no_coverage():
    """typical-comp-rate (deploy-comp-vs-l) leaves out the Gil-Pelaez coverage, which draws no
    random numbers: the rates are bit for bit those of typical-comp on the same stream."""
    both = TypicalKernel(MengParams(), "comp", 3, points=4, n_sites=100)(np.random.default_rng(5), 3)
    k = TypicalKernel(MengParams(), "comp", 3, points=4, n_sites=100, with_coverage=False)
    rate = k(np.random.default_rng(5), 3)
    assert sorted(rate) == sorted(output_name("rate", p) for p in PROCESSES) == sorted(k.quantities)
    for name, v in rate.items():
        np.testing.assert_array_equal(v, both[name])
    with pytest.raises(ParameterError, match="with_coverage"):
        TypicalKernel(MengParams(), "crlb", 3, with_coverage=False)
    m = get_model("typical-comp-rate")
    assert {o.name for o in m.mc_outputs} == {output_name(q, p) for p in PROCESSES
                                              for q in ("rate", "ratecv", "shotx", "ratex")}
    assert builtin_specs()["deploy-comp-vs-l"].model == "typical-comp-rate"
