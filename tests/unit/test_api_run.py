"""isacnet.run and isacnet.sweep (issue 15): the runner's engine from Python.

* ``run`` on a path, on the same config as a dict, and on the parsed spec gives the same
  Dataset, and that Dataset is the one ``isacnet run`` writes (benchmarks/compare_datasets.py:
  every variable bit for bit, attributes but the run's time and versions);
* a bad run option is a ParameterError naming it, raised before any Monte Carlo;
* ``sweep`` builds a spec of the right shape, coordinates and units; its point 0 is the facade
  function's Monte Carlo for the same seed (both are ``estimate`` of the same kernel with the
  stream of point 0), its closed forms are the analysis functions at each point;
* ``__all__`` of the public modules lists the public names and no imported helper.
"""

from __future__ import annotations

import importlib
import importlib.util
import math
import tomllib
import types
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

import isacnet
from isacnet import MengParams, ParameterError, SongParams, meng, song
from isacnet.analysis import song as song_closed
from isacnet.cli import run_cli
from isacnet.experiments.spec import load_spec
from isacnet.experiments.store import save_dataset

ROOT = Path(__file__).resolve().parents[2]

CONFIG = """\
[figure]
id = "api-quick"
model = "song"
title = "CRLB against antennas, gamma = 3"

[params]
gamma = 3.0

[sweep]
dim = "n_antennas"
parameters = ["n_tx_antennas", "n_rx_antennas"]
values = [1, 2, 4]
label = "antennas per TX and RX"

[monte_carlo]
n_layouts = 1500
seed = 7
block_size = 500
k_nearest = 12
"""


def _compare():
    spec = importlib.util.spec_from_file_location("compare_datasets", ROOT / "benchmarks" / "compare_datasets.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def config(tmp_path) -> Path:
    p = tmp_path / "api-quick.toml"
    p.write_text(CONFIG)
    return p


def _same_numbers(a: xr.Dataset, b: xr.Dataset) -> None:
    assert set(a.data_vars) == set(b.data_vars) and set(a.coords) == set(b.coords)
    for name in (*a.data_vars, *a.coords):
        x, y = a[name].values, b[name].values
        assert x.dtype == y.dtype and x.tobytes() == y.tobytes(), name
        assert a[name].attrs == b[name].attrs, name
    ignored = _compare().IGNORED_ATTRS
    assert {k: v for k, v in a.attrs.items() if k not in ignored} == \
        {k: v for k, v in b.attrs.items() if k not in ignored}


# --------------------------------------------------------------------------- run
def test_run_of_a_path_is_what_the_cli_writes(config, tmp_path):
    ds = isacnet.run(config)
    assert run_cli(["run", str(config), "--out", str(tmp_path / "cli"), "--workers", "1", "--no-progress"]) == 0
    (tmp_path / "api").mkdir()
    save_dataset(ds.copy(), tmp_path / "api", "api-quick")
    assert _compare().compare(tmp_path / "cli" / "api-quick.nc", tmp_path / "api" / "api-quick.nc") == []
    with xr.open_dataset(tmp_path / "cli" / "api-quick.nc") as f:
        xr.testing.assert_equal(ds, f.load())  # values, dims and coordinates of the file, in memory


def test_run_of_a_dict_a_spec_and_a_str_path_are_the_same(config):
    ref = isacnet.run(config)
    _same_numbers(ref, isacnet.run(tomllib.loads(CONFIG)))
    _same_numbers(ref, isacnet.run(load_spec(config)))
    _same_numbers(ref, isacnet.run(str(config)))


def test_run_options_do_not_change_the_numbers_and_overrides_do(config, tmp_path):
    ref = isacnet.run(config)
    _same_numbers(ref, isacnet.run(config, workers=2, out=tmp_path / "o"))
    assert (tmp_path / "o" / "api-quick.nc").is_file() and (tmp_path / "o" / ".isacnet-chunks").is_dir()
    _same_numbers(ref, isacnet.run(config, out=tmp_path / "o"))  # resumed from the kept chunks
    other = isacnet.run(config, seed=8)
    assert other.attrs["seed"] == 8 and not np.array_equal(other["crlb"].values, ref["crlb"].values)
    assert int(isacnet.run(config, n_layouts=600)["crlb_n"][0]) == 600


def test_run_stops_early_on_rel_ci(config):
    ds = isacnet.run(config, rel_ci=0.5, max_layouts=1500)
    assert ds.attrs["rel_ci"] == 0.5
    assert np.all(ds["n_layouts_used"].values < 1500)  # a 50% CI is reached at the first stage


def test_the_config_of_a_sweep_reruns_it():
    ds = isacnet.sweep("meng-rate", {"n_comm": [1, 3]}, params={"alpha": 3.5}, n_layouts=300, seed=9,
                       block_size=150)
    _same_numbers(ds, isacnet.run(tomllib.loads(ds.attrs["config_toml"])))


def test_run_of_a_figure_id():
    ds = isacnet.run("meng-fig4-mu1", n_layouts=200)
    assert ds.attrs["figure_id"] == "meng-fig4-mu1" and int(ds["rate_nats_n"].min()) == 200
    assert ds["rate_nats"].attrs["units"] == "nats/s/Hz" and ds["rate_exact"].attrs["units"] == "nats/s/Hz"


@pytest.mark.parametrize(("options", "name"), [
    ({"workers": 0}, "workers"),
    ({"workers": "2"}, "workers"),
    ({"worker": 2}, "worker"),
    ({"rel_ci": 1.5}, "rel_ci"),
    ({"rel_ci": float("nan")}, "rel_ci"),
    ({"max_layouts": 1000}, "max_layouts"),
    ({"rel_ci": 0.1, "max_layouts": 1}, "max_layouts"),
    ({"rel_ci": 0.1, "max_layouts": 1000, "n_layouts": 500}, "max_layouts"),
    ({"seed": -1}, "seed"),
    ({"n_layouts": 1}, "n_layouts"),
    ({"block_size": 0}, "block_size"),
    ({"quick": "yes"}, "quick"),
    ({"progress": "no"}, "progress"),
    ({"backend": "cuda"}, "backend"),
    ({"dtype": "float16"}, "dtype"),
    ({"cache": 42}, "cache"),
    ({"scheduler": 3}, "scheduler"),
    ({"executor": object()}, "executor"),
])
def test_bad_run_options_are_named(config, monkeypatch, options, name):
    import isacnet.experiments.runner as runner

    def no_work(*a, **k):
        raise AssertionError("a Monte Carlo started before the options were checked")

    monkeypatch.setattr(runner, "run_jobs", no_work)
    with pytest.raises(ParameterError) as exc:
        isacnet.run(config, **options)
    assert exc.value.name == name


def test_bad_specs_are_named(tmp_path):
    with pytest.raises(ParameterError) as exc:
        isacnet.run(42)
    assert exc.value.name == "spec"
    with pytest.raises(ParameterError) as exc:
        isacnet.run("no-such-figure")
    assert exc.value.name == "figure"
    with pytest.raises(ParameterError) as exc:
        isacnet.run("song-fig1")  # a group of four panels
    assert exc.value.name == "spec"
    with pytest.raises(ParameterError) as exc:
        isacnet.run(tmp_path / "missing.toml")
    assert exc.value.name == "config"
    doc = tomllib.loads(CONFIG)
    doc["params"]["gamma"] = None
    with pytest.raises(ParameterError) as exc:
        isacnet.run(doc)
    assert exc.value.name == "params.gamma"
    doc = tomllib.loads(CONFIG)
    doc["params"]["gama"] = 3.0
    with pytest.raises(ParameterError, match="gama") as exc:
        isacnet.run(doc)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ParameterError) as exc:
        isacnet.run(tomllib.loads(CONFIG), out=tmp_path / "file")
    assert exc.value.name == "out"


def test_backend_for_a_model_without_compiled_kernels_is_refused():
    with pytest.raises(ParameterError) as exc:
        isacnet.sweep("meng-tradeoff", {"rate_fraction": [0.5]}, n_layouts=100, backend="numba")
    assert exc.value.name == "backend" and "no compiled kernel" in exc.value.valid
    with pytest.raises(ParameterError) as exc:
        isacnet.sweep("meng-rate", {"n_comm": [2]}, n_layouts=100, backend="jax")  # numba only
    assert exc.value.name == "backend"


# --------------------------------------------------------------------------- sweep
def test_sweep_shape_coordinates_and_units():
    p = MengParams(n_tx_antennas=6)
    ds = isacnet.sweep("meng-rate", {"n_comm": [1, 2, 3], "alpha": [3.0, 4.5]}, params=p, n_layouts=400, seed=3,
                       block_size=200)
    assert ds["rate_nats"].dims == ("n_comm", "alpha")
    assert ds["rate_nats"].shape == (3, 2)
    assert ds["n_comm"].values.tolist() == [1, 2, 3] and ds["alpha"].values.tolist() == [3.0, 4.5]
    for name in ("rate_nats", "rate_nats_stderr", "rate_nats_ci_low", "rate_nats_ci_high", "rate_exact",
                 "rate_paper"):
        assert ds[name].attrs["units"] == "nats/s/Hz", name
    assert "nats/s/Hz" in repr(ds["rate_nats"])  # xarray shows it
    assert np.all(ds["rate_nats_ci_low"] < ds["rate_nats"]) and np.all(ds["rate_nats"] < ds["rate_nats_ci_high"])
    assert ds.attrs["model"] == "meng-rate" and "n_tx_antennas = 6" in ds.attrs["config_toml"]
    # the closed forms are Theorem 2 of the facade (nats by default) at every point
    # the figure's closed forms come from one vectorised call per network (the registry's
    # closed_forms_batch): the numbers of meng.rate point by point, to rounding
    for i, L in enumerate([1, 2, 3]):
        for j, a in enumerate([3.0, 4.5]):
            q = MengParams(n_tx_antennas=6, alpha=a)
            assert float(ds["rate_exact"][i, j]) == pytest.approx(float(meng.rate(L, q, variant="exact")), rel=1e-13)
            assert float(ds["rate_paper"][i, j]) == pytest.approx(float(meng.rate(L, q, variant="paper")), rel=1e-13)
            assert float(ds["kappa_c"][i, j]) == float(meng.kappa_c(q.resource_blocks, q.mu_c, L))
    # a params object and the dict of its non-default fields are the same sweep
    again = isacnet.sweep("meng-rate", {"n_comm": [1, 2, 3], "alpha": [3.0, 4.5]}, params={"n_tx_antennas": 6},
                          n_layouts=400, seed=3, block_size=200)
    _same_numbers(ds, again)


@pytest.mark.parametrize("gamma", [2.5, 4.0])
def test_sweep_point_zero_is_the_facade_monte_carlo(gamma):
    """Point 0 of a sweep uses the stream (seed, point 0, block) of the facade's estimate."""
    ds = isacnet.sweep("song", {"gamma": [gamma]}, options={"k_nearest": 10}, n_layouts=900, seed=11,
                       block_size=300)
    ests = song.monte_carlo(SongParams(gamma=gamma), 900, 11, k_nearest=10, block_size=300)
    for q in ("crlb", "jensen", "inv_sum_tx", "inv_sum_rx"):
        e = ests[q]
        assert float(ds[q][0]) == e.mean and float(ds[f"{q}_stderr"][0]) == e.stderr, q
        assert (float(ds[f"{q}_ci_low"][0]), float(ds[f"{q}_ci_high"][0])) == e.ci95, q
        assert int(ds[f"{q}_n"][0]) == e.n
    p = SongParams(gamma=gamma)
    assert float(ds["bound"][0]) == song.scaling_bound(p) == song_closed.scaling_bound(p)
    assert float(ds["lemma3_tx"][0]) == float(song_closed.lemma3(p.tx_density, gamma))


@pytest.mark.parametrize("backend", ["numpy", "numba", "jax"])
def test_sweep_on_every_backend_is_the_facade_monte_carlo(backend):
    if backend != "numpy":
        pytest.importorskip(backend)
    ds = isacnet.sweep("meng-sensing", {"n_bs": [6]}, n_layouts=600, seed=4, block_size=300, backend=backend)
    assert ds.attrs.get("mc_backend", "numpy") == backend  # numpy, the default, is not named
    ests = meng.monte_carlo(6, MengParams(), 600, 4, backend=backend, block_size=300)
    for q in ("crlb", "singular", "cluster_size"):
        assert float(ds[q][0]) == ests[q].mean, q
    assert float(ds["eq13"][0]) == float(meng.crlb_eq13(6, MengParams()))
    assert ds["geo_mean"].attrs["units"] == "m^2"


def test_sweep_point_zero_is_simulate_rate():
    q = MengParams(n_tx_antennas=3)
    ds = isacnet.sweep("meng-rate", {"n_comm": [3]}, params=q, n_layouts=500, seed=2, block_size=250)
    e = meng.simulate_rate(3, q, 500, seed=2, block_size=250)["rate_nats"]
    assert float(ds["rate_nats"][0]) == e.mean and float(ds["rate_nats_stderr"][0]) == e.stderr


def test_sweep_of_several_parameters_at_once():
    ds = isacnet.sweep("song", {"n_antennas": {"parameters": ["n_tx_antennas", "n_rx_antennas"],
                                               "values": [1, 4]}},
                       params={"gamma": 3.0}, options={"k_nearest": 8}, n_layouts=200, block_size=100)
    assert ds["crlb"].dims == ("n_antennas",)
    assert ds["n_tx_antennas"].values.tolist() == [1, 4] == ds["n_rx_antennas"].values.tolist()
    assert ds["crlb"].attrs["units"] == "m^2"


@pytest.mark.parametrize(("call", "name"), [
    (lambda: isacnet.sweep("song", {"gamma": [3], "alpha": [1], "beta": [2]}), "dims"),
    (lambda: isacnet.sweep("song", {}), "dims"),
    (lambda: isacnet.sweep("song", {"gama": [3.0]}), "sweep.parameters"),
    (lambda: isacnet.sweep("song", {"gamma": ["a"]}), "dims.gamma"),
    (lambda: isacnet.sweep("song", {"gamma": [[3.0]]}), "dims.gamma"),
    (lambda: isacnet.sweep("song", {"gamma": [-1.0]}), "gamma"),
    (lambda: isacnet.sweep("sonng", {"gamma": [3.0]}), "figure.model"),
    (lambda: isacnet.sweep("song", {"gamma": [3.0]}, options={"seed": 1}), "options.seed"),
    (lambda: isacnet.sweep("song", {"gamma": [3.0]}, options={"k_neerest": 1}), "monte_carlo.k_neerest"),
    (lambda: isacnet.sweep("song", {"gamma": [3.0]}, params=MengParams()), "params"),
    (lambda: isacnet.sweep("song", {"gamma": [3.0]}, quick=True), "quick"),
    (lambda: isacnet.sweep("song", {"gamma": [3.0]}, worker=2), "worker"),
    (lambda: isacnet.sweep("song", {"gamma": [3.0]}, n_layouts=1), "monte_carlo.n_layouts"),
])
def test_bad_sweeps_are_named(call, name):
    with pytest.raises(ParameterError) as exc:
        call()
    assert exc.value.name == name


# --------------------------------------------------------------------------- __all__
PUBLIC_MODULES = ("isacnet", "isacnet.song", "isacnet.meng", "isacnet.api", "isacnet.maps", "isacnet.typical",
                  "isacnet.deployment", "isacnet.params")
HELPERS = {"np", "math", "dataclass", "dataclasses", "field", "Any", "Literal", "annotations", "xr", "Path",
           "Mapping", "Sequence", "TypeVar", "json", "csv", "os"}


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_all_lists_public_names_and_no_helpers(name):
    mod = importlib.import_module(name)
    names = mod.__all__
    assert len(names) == len(set(names))
    assert not set(names) & HELPERS
    for n in names:
        obj = getattr(mod, n)  # every listed name exists
        assert not n.startswith("_") or n == "__version__"
        assert not isinstance(obj, types.ModuleType) or name == "isacnet"  # the package lists song, meng
    own = {n for n, v in vars(mod).items() if not n.startswith("_") and callable(v)
           and getattr(v, "__module__", None) == name}
    assert own <= set(names) | {"P"}, sorted(own - set(names))  # every public function and class


def test_meng_rate_units_in_docstrings():
    for f in (meng.rate, meng.rate_conditional, meng.rate_from_coverage, meng.optimize, meng.time_sharing):
        assert "nats/s/Hz" in f.__doc__, f.__name__
    assert math.isfinite(float(meng.rate(2, MengParams())))
