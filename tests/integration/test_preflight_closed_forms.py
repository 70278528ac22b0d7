"""Closed forms are checked before the Monte Carlo: those that do not apply at a point are skipped
with a note (printed once, kept in the Dataset), never an error after the work; config errors
name the file:line of the offending key."""

from __future__ import annotations

import math

import numpy as np
import pytest

from isacnet.cli import run_cli
from isacnet.experiments.preflight import preflight
from isacnet.experiments.registry import NotApplicable, applies
from isacnet.experiments.runner import closed_forms
from isacnet.experiments.spec import parse_spec
from isacnet.experiments.store import load_dataset
from isacnet.params import ParameterError

MENG_BETA3 = """[figure]
id = "beta3"
model = "{model}"

[params]
beta = 3.0

[sweep]
dim = "n_bs"
parameters = ["n_bs"]
values = [4, 8]

[monte_carlo]
n_layouts = 64
seed = 1
"""


def test_beta3_sensing_sweep_completes_with_a_note(tmp_path, capsys):
    cfg = tmp_path / "b3.toml"
    cfg.write_text(MENG_BETA3.format(model="meng-sensing"))
    assert run_cli(["run", str(cfg), "--workers", "1", "--out", str(tmp_path / "o"), "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert err.count("theorem1, theorem1_paper skipped at 2 of 2 points") == 1  # said once
    assert "must be 2 for Theorem 1" in err
    ds = load_dataset(tmp_path / "o" / "beta3.nc")
    assert "theorem1, theorem1_paper skipped at 2 of 2 points" in ds.attrs["closed_forms_skipped"]
    assert np.all(np.isnan(ds["theorem1"].values)) and np.all(np.isnan(ds["theorem1_paper"].values))
    assert np.all(np.isfinite(ds["eq13"].values)) and np.all(np.isfinite(ds["isotropic"].values))
    assert np.all(np.isfinite(ds["geo_mean"].values))
    assert (tmp_path / "o" / "beta3.png").exists()


def test_acceptance_model_keeps_the_mean_field_form_off_beta_2():
    spec = parse_spec(MENG_BETA3.format(model="meng-acceptance"))
    values, notes = closed_forms(spec)
    assert notes == [
        "crlb_a_corrected, crlb_a_paper skipped at 2 of 2 points (beta = 3.0 is invalid: must be 2 "
        "for Theorem 1 (the ln^2 N law needs beta = 2))"
    ]
    assert all(math.isfinite(v["crlb_a_mean_field"]) for v in values)


def test_preflight_returns_the_notes_before_any_monte_carlo(monkeypatch):
    """preflight evaluates every closed form; the run then reuses them (memoised)."""
    from isacnet.experiments import runner

    spec = parse_spec(MENG_BETA3.format(model="meng-sensing"), "b3.toml")
    notes = preflight([spec], quick=True)
    assert notes == [f"beta3: {n}" for n in closed_forms(spec)[1]] and len(notes) == 1
    monkeypatch.setattr(runner, "run_jobs", lambda *a, **k: pytest.fail("no Monte Carlo in this test"))
    with pytest.raises(BaseException, match="no Monte Carlo"):
        runner.run_spec(spec)  # the closed forms come first and do not fail


def test_beta2_has_no_note():
    spec = parse_spec(MENG_BETA3.format(model="meng-sensing").replace("beta = 3.0", "beta = 2.0"))
    assert closed_forms(spec)[1] == []


def test_song_gamma_2_skips_lemma3_and_the_bound():
    spec = parse_spec(
        '[figure]\nid = "g"\nmodel = "song"\n[params]\ngamma = 2.0\n'
        '[sweep]\nparameters = ["n_rx_antennas"]\nvalues = [1, 4]\n'
        "[monte_carlo]\nwindow_radius = 100.0\n"
    )
    values, notes = closed_forms(spec)
    assert notes == [
        "bound, lemma3_tx, lemma3_rx skipped at 2 of 2 points (gamma = 2: Lemma 3 and the bound (26) need gamma > 2)"
    ]
    assert all(math.isnan(v["bound"]) for v in values)


def test_applies_marks_a_refused_point():
    def f(x):
        if x < 0:
            raise ParameterError("x", x, ">= 0")
        return 2 * x

    assert applies(f, 2) == 4.0
    na = applies(f, -1)
    assert isinstance(na, NotApplicable) and math.isnan(na) and "x = -1" in na.reason


@pytest.mark.parametrize(
    ("params", "line"),
    [
        ("alpha = 4.0\nbeta = -1\n", 7),  # an invalid value: the key's line, not [params]'s (5)
        ("alpha = 4.0\n\nbta = 2.0\n", 8),  # an unknown key
        ("# comment\nalpha = 1.5\n", 7),
    ],
)
def test_params_errors_name_the_key_line(tmp_path, capsys, params, line):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        f'[figure]\nid = "x"\nmodel = "meng-sensing"\n\n[params]\n{params}\n'
        '[sweep]\nparameters = ["n_bs"]\nvalues = [4]\n'
    )
    assert run_cli(["run", str(cfg), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert f"{cfg}:{line})" in err and err.count("\n") == 1


def test_swept_value_error_names_the_values_line(tmp_path, capsys):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(
        '[figure]\nid = "x"\nmodel = "meng-sensing"\n[params]\nalpha = 4.0\n'
        '[sweep]\nparameters = ["alpha"]\n\nvalues = [4, 1.0]\n'
    )
    assert run_cli(["run", str(cfg), "--out", str(tmp_path / "o")]) == 2
    assert f"{cfg}:9" in capsys.readouterr().err


def test_python_run_warns_once_per_skipped_closed_form():
    """isacnet.run says what the command line prints: one ClosedFormSkipped warning per note."""
    import warnings

    import isacnet

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ds = isacnet.run(parse_spec(MENG_BETA3.format(model="meng-sensing")), workers=1, progress=False)
    skipped = [w for w in caught if issubclass(w.category, isacnet.ClosedFormSkipped)]
    assert len(skipped) == 1 and "theorem1, theorem1_paper skipped at 2 of 2 points" in str(skipped[0].message)
    assert skipped[0].filename == __file__  # points at the caller's line
    assert np.all(np.isnan(ds["theorem1"].values))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a spec whose closed forms all apply: no warning
        isacnet.run(parse_spec(MENG_BETA3.format(model="meng-sensing").replace("beta = 3.0", "beta = 2.0")),
                    workers=1, progress=False)


def _fork_only():
    import multiprocessing as mp

    if "fork" not in mp.get_all_start_methods():
        pytest.skip("the preflight's closed-form processes are forked; this platform cannot fork")


@pytest.fixture
def forked(monkeypatch):
    """The preflight's processes forked even where an earlier test loaded JAX."""
    import multiprocessing as mp

    _fork_only()
    monkeypatch.setattr("isacnet.simulation.executors._context", lambda: mp.get_context("fork"))


def test_preflight_in_processes_gives_the_same_notes_and_memo(forked):
    from isacnet.experiments import closed
    from isacnet.experiments.spec import builtin_specs

    specs = [parse_spec(MENG_BETA3.format(model="meng-sensing"), "b3.toml"), builtin_specs()["meng-fig3-mu1"],
             builtin_specs()["song-fig1d"]]
    closed._CLOSED_MEMO.clear()
    here = preflight(specs, quick=True)
    memo_here = dict(closed._CLOSED_MEMO)
    closed._CLOSED_MEMO.clear()
    there = preflight(specs, quick=True, processes=2)
    assert there == here and len(here) == 1  # beta3: theorem1 skipped
    assert closed._CLOSED_MEMO.keys() == memo_here.keys()
    for k, v in memo_here.items():
        got = closed._CLOSED_MEMO[k]
        assert got.keys() == v.keys()
        for name, x in v.items():
            assert (math.isnan(x) and math.isnan(got[name])) or got[name] == x, (k, name)
            assert isinstance(got[name], NotApplicable) == isinstance(x, NotApplicable)
            if isinstance(x, NotApplicable):
                assert got[name].reason == x.reason


def test_a_closed_form_error_in_a_preflight_process_reaches_the_caller_whole(forked, monkeypatch):
    from isacnet.experiments.spec import builtin_specs

    def broken(spec):
        raise ParameterError("alpha", 2.0, "> 2 (from a preflight process)", spec.id)

    monkeypatch.setattr("isacnet.experiments.closed.closed_forms", broken)
    specs = [builtin_specs()["meng-fig3-mu1"], builtin_specs()["song-fig1a"]]
    with pytest.raises(ParameterError) as err:
        preflight(specs, quick=True, processes=2)
    e = err.value
    assert (e.name, e.value, e.valid, e.where) == ("alpha", 2.0, "> 2 (from a preflight process)", "meng-fig3-mu1")


def test_parameter_error_pickles_with_its_fields():
    import pickle

    e = pickle.loads(pickle.dumps(ParameterError("n_bs", 0, ">= 1", "a.toml:3")))
    assert (e.name, e.value, e.valid, e.where) == ("n_bs", 0, ">= 1", "a.toml:3")
    assert str(e) == str(ParameterError("n_bs", 0, ">= 1", "a.toml:3"))
