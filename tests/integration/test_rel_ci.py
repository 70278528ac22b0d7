"""Early stopping on precision through the runner and the command line."""

from __future__ import annotations

import numpy as np
import pytest

from isacnet.cli import run_cli
from isacnet.experiments.runner import run_spec
from isacnet.experiments.spec import builtin_specs
from isacnet.experiments.store import load_dataset
from isacnet.params import ParameterError
from isacnet.simulation.executors import ProcessExecutor

Z95 = 1.959963984540054


def _rel(ds, q):
    return Z95 * ds[f"{q}_stderr"].values / np.abs(ds[q].values)


def _song_spec(n_layouts=64 * 256):
    return builtin_specs()["song-fig1d"].with_overrides(n_layouts=n_layouts, block_size=256, seed=5)


def test_run_spec_stops_each_point_at_its_first_precise_stage():
    spec, rel = _song_spec(), 0.04
    ds = run_spec(spec, rel_ci=rel, progress=False)
    used = ds["n_layouts_used"].values
    cap = spec.n_layouts
    assert ds.attrs["rel_ci"] == rel and ds.attrs["rel_ci_targets"] == "crlb,jensen"
    assert ds.attrs["n_layouts"] == cap and np.all(used <= cap)
    assert np.any(used < cap)  # some points stopped early
    stages = [256 * s for s in (1, 2, 4, 8, 16, 32, 64)]  # ceil(64 / 2^k) blocks of 256
    assert set(used) <= set(stages)
    early = used < cap
    for q in ("crlb", "jensen"):  # the plotted Monte Carlo outputs met the target where it stopped
        assert np.all(_rel(ds, q)[early] < rel)
        assert np.all(ds[f"{q}_n"].values + ds[f"{q}_n_posinf"].values + ds[f"{q}_n_nan"].values == used)
    # ... and not one stage earlier: a plain run of the previous stage's layouts misses it
    later = np.flatnonzero(early & (used > stages[0]))
    assert later.size
    for i in later:
        prev = stages[stages.index(used[i]) - 1]
        plain = run_spec(spec.with_overrides(n_layouts=prev), progress=False)
        worst = max(_rel(plain, "crlb")[i], _rel(plain, "jensen")[i])
        assert worst >= rel, (i, prev, worst)
        # the plain run of exactly the used layouts gives the same numbers, bit for bit
        same = run_spec(spec.with_overrides(n_layouts=int(used[i])), progress=False)
        assert same["crlb"].values[i] == ds["crlb"].values[i]
        break  # one point is enough (each check is a full sweep)


def test_run_spec_rel_ci_independent_of_executor():
    spec = _song_spec(32 * 256)
    a = run_spec(spec, rel_ci=0.05, progress=False)
    with ProcessExecutor(2) as ex:
        b = run_spec(spec, ex, rel_ci=0.05, progress=False)
    for v in ("crlb", "crlb_stderr", "jensen", "n_layouts_used"):
        np.testing.assert_array_equal(a[v].values, b[v].values, err_msg=v)


def test_meng_points_without_a_ci_do_not_block_and_geo_mean_is_judged():
    spec = builtin_specs()["meng-fig2"].with_overrides(n_layouts=64 * 128, block_size=128, seed=9)
    ds = run_spec(spec, rel_ci=0.2, max_layouts=64 * 128, progress=False)
    n, used = ds["n_bs"].values, ds["n_layouts_used"].values
    assert set(ds.attrs["rel_ci_targets"].split(",")) == {"crlb", "geo_mean"}
    # no mean (N <= 3) or no variance (N = 4, 5): crlb has no CI there, geo_mean decides alone
    assert np.all(np.isnan(ds["crlb_stderr"].values[n <= 5]))
    assert np.all(used[n <= 5] < 64 * 128)
    early = used < 64 * 128
    assert np.all(_rel(ds, "geo_mean")[early] < 0.2)
    both = early & (n >= 6)
    assert np.all(_rel(ds, "crlb")[both] < 0.2)


# --------------------------------------------------------------------------- command line
@pytest.mark.parametrize("bad", ["0", "1", "-0.5", "2", "nan"])
def test_cli_rel_ci_validation(tmp_path, bad, capsys):
    rc = run_cli(["reproduce", "song-fig1a", "--rel-ci", bad, "--out", str(tmp_path), "--no-progress"])
    assert rc == 2 and "--rel-ci" in capsys.readouterr().err


def test_cli_max_layouts_validation(tmp_path, capsys):
    base = ["reproduce", "song-fig1a", "--out", str(tmp_path), "--no-progress"]
    assert run_cli([*base, "--max-layouts", "5000"]) == 2  # needs --rel-ci
    assert "--rel-ci" in capsys.readouterr().err
    assert run_cli([*base, "--rel-ci", "0.1", "--max-layouts", "1"]) == 2
    assert "--max-layouts" in capsys.readouterr().err
    assert run_cli([*base, "--rel-ci", "0.1", "--max-layouts", "5000", "--n-layouts", "100"]) == 2
    assert "--n-layouts" in capsys.readouterr().err


def test_cli_scheduler_validation(tmp_path, capsys):
    pytest.importorskip("distributed")
    base = ["reproduce", "song-fig1a", "--out", str(tmp_path), "--no-progress"]
    assert run_cli([*base, "--scheduler", "nonsense"]) == 2
    assert "scheduler" in capsys.readouterr().err
    assert run_cli([*base, "--scheduler", "tcp://127.0.0.1:9", "--workers", "2"]) == 2
    assert "workers" in capsys.readouterr().err


def test_cli_rel_ci_end_to_end(tmp_path):
    cfg = tmp_path / "sweep.toml"
    cfg.write_text(
        '[figure]\nid = "stop-early"\nmodel = "song"\n'
        "[params]\ngamma = 3.0\n"
        '[sweep]\nparameters = ["n_rx_antennas"]\nvalues = [1, 8]\n'
        "[monte_carlo]\nn_layouts = 2000\nseed = 7\nblock_size = 128\nk_nearest = 16\n"
    )
    args = ["run", str(cfg), "--workers", "1", "--no-progress", "--rel-ci", "0.08", "--max-layouts", "8192"]
    assert run_cli([*args, "--out", str(tmp_path / "a")]) == 0
    ds = load_dataset(tmp_path / "a" / "stop-early.nc")
    assert ds.attrs["n_layouts"] == 8192 and ds.attrs["rel_ci"] == 0.08
    used = ds["n_layouts_used"].values
    assert np.all(used <= 8192) and np.all(used % 128 == 0)
    # resumed from its chunks (same command again): identical numbers
    assert run_cli([*args, "--out", str(tmp_path / "a")]) == 0
    again = load_dataset(tmp_path / "a" / "stop-early.nc")
    for v in ("crlb", "jensen", "n_layouts_used"):
        np.testing.assert_array_equal(ds[v].values, again[v].values)


# --------------------------------------------------------------------------- the spec's cap

def test_spec_max_layouts_is_the_cap_of_an_early_stopping_run_only():
    """[monte_carlo] max_layouts: the cap with rel_ci; a plain run keeps n_layouts (so the README's
    main job is unchanged by a higher cap)."""
    from isacnet.experiments.runner import jobs_for

    spec = builtin_specs()["song-fig1d"]
    assert (spec.n_layouts, spec.max_layouts, spec.rel_ci_cap) == (200_000, 400_000, 400_000)
    assert {j.n_layouts for j in jobs_for(spec).jobs} == {200_000}
    assert {j.n_layouts for j in jobs_for(spec, rel_ci=True).jobs} == {400_000}
    assert {j.n_layouts for j in jobs_for(spec, quick=True, rel_ci=True).jobs} == {spec.quick_n_layouts}
    # a new n_layouts is the cap too; a cap below n_layouts is refused by name
    assert spec.with_overrides(n_layouts=1000).rel_ci_cap == 1000
    assert spec.with_overrides(max_layouts=500_000).rel_ci_cap == 500_000
    with pytest.raises(ParameterError, match="max_layouts"):
        spec.with_overrides(max_layouts=100)


def test_spec_max_layouts_parsed_checked_and_kept_in_the_stored_toml():
    from isacnet.experiments.spec import parse_spec

    text = builtin_specs()["song-fig1d"].to_toml()
    assert "max_layouts = 400000" in text
    assert parse_spec(text).max_layouts == 400_000
    bad = text.replace("max_layouts = 400000", "max_layouts = 1000")
    with pytest.raises(ParameterError, match="monte_carlo.max_layouts"):
        parse_spec(bad)
    assert parse_spec(text.replace("max_layouts = 400000\n", "")).max_layouts is None


def test_run_spec_runs_up_to_the_spec_cap_with_rel_ci():
    spec = builtin_specs()["song-fig1d"].with_overrides(n_layouts=2 * 256, block_size=256, seed=5)
    spec = spec.with_overrides(max_layouts=32 * 256)
    ds = run_spec(spec, rel_ci=0.02, progress=False)
    used = ds["n_layouts_used"].values
    assert ds.attrs["n_layouts"] == 32 * 256 and np.all(used <= 32 * 256) and np.any(used > 2 * 256)
    plain = run_spec(spec, progress=False)
    assert np.all(plain["n_layouts_used"].values == 2 * 256)
