"""Meng Figs. 2-3 through the command line: robust statistics where the mean does not exist."""

from __future__ import annotations

import numpy as np

from isacnet import MengParams
from isacnet.analysis import meng_sensing as a
from isacnet.cli import run_cli
from isacnet.experiments.store import load_dataset


def test_meng_fig2_hides_means_that_do_not_exist(tmp_path):
    assert run_cli(["reproduce", "meng-fig2", "--n-layouts", "3000", "--workers", "1",
                    "--out", str(tmp_path), "--no-progress"]) == 0
    ds = load_dataset(tmp_path / "meng-fig2.nc")
    n = ds["n_bs"].values
    assert list(n[:4]) == [2, 3, 4, 5]
    # E[CRLB] = inf for N <= 3 (errata M-8): no mean is reported there.
    assert np.all(np.isnan(ds["crlb"].values[n <= 3])) and np.all(ds["crlb_n"].values[n <= 3] == 0)
    # N = 4, 5: the mean exists but its variance does not: no standard error, no CI.
    assert np.all(np.isnan(ds["crlb_stderr"].values[(n >= 4) & (n <= 5)]))
    assert np.all(np.isfinite(ds["crlb_stderr"].values[n >= 6]))
    # The geometric mean exists everywhere and lies below the mean (AM-GM), above 0.
    g = ds["geo_mean"].values
    assert np.all(np.isfinite(g)) and np.all(g > 0)
    assert np.all(g[n >= 6] < ds["crlb"].values[n >= 6])
    # Closed forms are evaluated independently of the Monte Carlo.
    p = MengParams()
    np.testing.assert_allclose(ds["eq13"].values, a.crlb_eq13(n, p), rtol=1e-12)
    np.testing.assert_allclose(ds["theorem1"].values, 2 * ds["theorem1_paper"].values, rtol=1e-12)


def test_meng_fig3_uses_acceptance_and_its_parameters(tmp_path):
    assert run_cli(["reproduce", "meng-fig3-mu2", "--n-layouts", "2000", "--workers", "1",
                    "--out", str(tmp_path), "--no-progress"]) == 0
    ds = load_dataset(tmp_path / "meng-fig3-mu2.nc")
    p = MengParams(target_density=2e-6)
    n = ds["n_bs"].values
    kappa = a.kappa_s(p.resource_blocks, p.mu_s, n)
    # the simulated mean cluster size is Binomial(N, kappa_s) on average: within 5 of its
    # analytic standard errors sqrt(N kappa (1 - kappa) / n_layouts)
    cs = ds["cluster_size"].values
    sd = np.sqrt(n * kappa * (1 - kappa) / ds.attrs["n_layouts"])
    assert np.all(np.abs(cs - n * kappa) <= 5 * sd + 1e-12)
    np.testing.assert_allclose(ds["crlb_a_mean_field"].values, a.crlb_a(n, p, variant="mean-field"))
    assert "crlb" not in ds or np.all(np.isnan(ds["crlb"].values))  # mean never exists with acceptance
