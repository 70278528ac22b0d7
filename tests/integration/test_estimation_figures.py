"""Issue 8 figures through the command line: estimator-vs-crlb and aoa-gain (TOML -> Dataset -> PNG).

The two models live in isacnet.experiments.registry.estimation; they are registered here for the
test (monkeypatch) so that the test does not depend on MODELS' contents. The specs are read from
the package's figure folder.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from isacnet import ParameterError, SongParams
from isacnet.analysis.song import scaling_bound
from isacnet.cli import run_cli
from isacnet.experiments import registry as models
from isacnet.experiments.registry.estimation import ESTIMATION_MODELS
from isacnet.experiments.spec import FIGURES_DIR, load_spec, parse_spec
from isacnet.experiments.store import load_dataset
from isacnet.simulation.estimation import EstimatorKernel


def _toml(name: str) -> Path:
    return FIGURES_DIR / name


def test_models_are_registered():
    for name, model in ESTIMATION_MODELS.items():
        assert models.MODELS[name] is model


def test_estimator_vs_crlb_figure(tmp_path):
    assert (
        run_cli(
            [
                "run",
                str(_toml("estimator-vs-crlb.toml")),
                "--n-layouts",
                "400",
                "--workers",
                "1",
                "--out",
                str(tmp_path),
                "--no-progress",
            ]
        )
        == 0
    )
    ds = load_dataset(tmp_path / "estimator-vs-crlb.nc")
    assert (tmp_path / "estimator-vs-crlb.png").stat().st_size > 10_000
    P = ds["tx_power"].values
    crlb = ds["crlb_fixed"].values
    # the FIM is proportional to rho_s, i.e. to P_t: CRLB * P_t is constant
    assert np.allclose(crlb * P, crlb[-1] * P[-1], rtol=1e-12)
    assert crlb[-1] == pytest.approx(EstimatorKernel(SongParams(tx_power=P[-1]), layout_seed=7).crlb_fixed(), rel=1e-14)
    np.testing.assert_allclose(ds["crlb_rmse"].values, np.sqrt(crlb), rtol=1e-14)
    # high SNR: the ML RMSE sits on sqrt(CRLB) within its CI (delta-method stderr)
    hi = P >= 1e-2
    z = (ds["rmse_ml"].values[hi] - np.sqrt(crlb[hi])) / ds["rmse_ml_stderr"].values[hi]
    assert np.all(np.abs(z) < 4.5), z
    # the LS start is above the bound everywhere, by a significant margin at high SNR
    assert np.all(ds["rmse_ls"].values[hi] > ds["rmse_ml"].values[hi] + 5 * ds["rmse_ls_stderr"].values[hi])
    assert "layout_seed = 7" in ds.attrs["config_toml"] and ds.attrs["mc_aoa"] == 0


def test_aoa_gain_figure(tmp_path):
    assert (
        run_cli(
            [
                "run",
                str(_toml("aoa-gain.toml")),
                "--n-layouts",
                "3000",
                "--workers",
                "1",
                "--out",
                str(tmp_path),
                "--no-progress",
            ]
        )
        == 0
    )
    ds = load_dataset(tmp_path / "aoa-gain.nc")
    assert ds["ratio"].dims == ("density", "n_rx_antennas")
    m = ds["n_rx_antennas"].values
    assert m[0] == 1
    assert np.all(ds["ratio"].values[:, 0] == 1.0)  # M_r = 1: no angle information at all
    np.testing.assert_allclose(ds["jensen_ratio"].values[:, 0], 1.0, rtol=1e-12)  # quadrature vs (26)
    jr = ds["jensen_ratio"].values
    assert np.all(np.diff(jr, axis=1) < 0)  # more antennas, more angle information
    assert np.all(jr[1] <= jr[0])  # denser network: closer nodes, more angle information
    assert np.all(ds["ratio"].values[:, -1] < 1 - 10 * ds["ratio_stderr"].values[:, -1])
    for j, lam in enumerate(ds["density"].values):
        for i, mr in enumerate(m):
            p = SongParams(n_rx_antennas=int(mr), tx_density=float(lam), rx_density=float(lam))
            assert ds["bound_delay"].values[j, i] == pytest.approx(scaling_bound(p), rel=1e-12)
    for mc, cf in (("jensen_delay", "bound_delay"), ("jensen_aoa", "jensen_aoa_cf")):
        z = np.abs(ds[mc].values - ds[cf].values) / (ds[f"{mc}_stderr"].values + 5e-4 * ds[cf].values / 4.5)
        assert np.all(z < 4.5), (mc, z)


def test_specs_validate_and_reject_bad_options():
    for name in ("estimator-vs-crlb.toml", "aoa-gain.toml"):
        spec = load_spec(_toml(name))
        assert spec.model in ESTIMATION_MODELS
    text = _toml("estimator-vs-crlb.toml").read_text()
    with pytest.raises(ParameterError, match="monte_carlo.layout"):
        parse_spec(text.replace('layout = "fixed"', 'layout = "grid"'))
    with pytest.raises(ParameterError, match="monte_carlo.aoa"):
        parse_spec(text.replace("aoa = false", 'aoa = "yes"'))
    assert math.isfinite(load_spec(_toml("estimator-vs-crlb.toml")).sweep.values[0])
