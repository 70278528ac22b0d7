"""Result files: a plain CSV that pandas reads as it is, and a JSON sidecar with the attributes
(numbers as numbers) and every column's long_name and units."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from isacnet.experiments.store import load_dataset, save_dataset


def test_plain_csv_and_metadata_sidecar(tmp_path):
    L = np.arange(1, 4)
    ds = xr.Dataset({"rate": ("L", [1.0, 2.0, 3.0], {"long_name": "rate", "units": "nats/s/Hz",
                                                     "ancillary_variables": "rate_stderr"}),
                     "rate_stderr": ("L", [0.1, 0.1, 0.1], {"units": "nats/s/Hz"})},
                    coords={"L": ("L", L, {"long_name": "cluster size", "units": "1"})},
                    attrs={"figure_id": "t", "title": "a title, with commas; and # signs", "seed": np.int64(11),
                           "n_layouts": 100, "rel_ci": 0.0})
    paths = save_dataset(ds, tmp_path)
    df = pd.read_csv(paths["csv"])
    assert list(df.columns) == ["L", "rate", "rate_stderr"]
    np.testing.assert_array_equal(df["rate"].to_numpy(), [1.0, 2.0, 3.0])
    meta = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert meta["csv"] == "t.csv"
    assert meta["attributes"]["seed"] == 11 and isinstance(meta["attributes"]["seed"], int)
    assert meta["columns"]["rate"]["units"] == "nats/s/Hz"
    assert meta["columns"]["rate"]["ancillary_variables"] == "rate_stderr"
    assert meta["columns"]["L"] == {"long_name": "cluster size", "units": "1"}
    assert load_dataset(paths["nc"]).attrs["seed"] == 11


def test_summary_shows_dash_without_comparison_and_flags_large_z():
    from isacnet.experiments.report import Z_FLAG, metrics, summary_line, z_text

    base = {"figure_id": "f", "plotted": "q", "n_layouts": 10, "sweep_dim": "x"}
    q = {"q": ("x", [1.0, 2.0]), "q_stderr": ("x", [0.1, 0.1]), "c": ("x", [1.0, 2.0 + 5.5 * 0.1])}
    none = metrics(xr.Dataset(q, coords={"x": [0, 1]}, attrs=base))
    assert not np.isfinite(none.max_z) and summary_line(none).split()[-2] == "-"
    far = metrics(xr.Dataset(q, coords={"x": [0, 1]}, attrs={**base, "agreement_pairs": "q:c"}))
    assert far.max_z == pytest.approx(5.5) and z_text(far.max_z) == "5.50 !" and Z_FLAG == 4.0
    assert z_text(3.9) == "3.90"
