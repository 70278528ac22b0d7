"""A spec with a [series] table: a second axis, one curve per value."""

from __future__ import annotations

import numpy as np
import pytest

from isacnet import SongParams
from isacnet.analysis.song import scaling_bound
from isacnet.experiments.runner import run_spec
from isacnet.experiments.spec import parse_spec
from isacnet.params import ParameterError
from isacnet.plotting import save_figure

TEXT = """
[figure]
id = "series-test"
model = "song"
[sweep]
dim = "n_antennas"
parameters = ["n_tx_antennas", "n_rx_antennas"]
values = [1, 4, 8]
[series]
dim = "gamma"
parameters = ["gamma"]
values = [2.5, 3.0]
label = "path-loss exponent"
[monte_carlo]
n_layouts = 600
block_size = 200
seed = 5
"""


def test_series_gives_a_two_dimensional_dataset(tmp_path):
    spec = parse_spec(TEXT)
    assert spec.shape == (2, 3) and spec.dims == ("gamma", "n_antennas")
    pts = spec.points()
    assert [(p.gamma, p.n_tx_antennas) for p, _ in pts] == [
        (2.5, 1), (2.5, 4), (2.5, 8), (3.0, 1), (3.0, 4), (3.0, 8)]
    ds = run_spec(spec)
    assert ds["crlb"].dims == ("gamma", "n_antennas") and ds["crlb"].shape == (2, 3)
    for j, g in enumerate((2.5, 3.0)):
        for k, m in enumerate((1, 4, 8)):
            expect = scaling_bound(SongParams(gamma=g, n_tx_antennas=m, n_rx_antennas=m))
            assert ds["bound"].values[j, k] == pytest.approx(float(expect), rel=1e-12)
    assert np.all(ds["crlb_n"].values == 600)
    # the effective config round-trips, series included
    again = parse_spec(ds.attrs["config_toml"])
    assert again.series == spec.series and again.sweep == spec.sweep
    assert save_figure([ds], tmp_path / "s.png").stat().st_size > 0
    assert ds.to_dataframe().shape[0] == 6


@pytest.mark.parametrize(
    ("series", "needle"),
    [
        ('dim = "n_antennas"\nparameters = ["gamma"]\nvalues = [3.0]\n', "series.dim"),
        ('parameters = ["n_tx_antennas"]\nvalues = [2]\n', "series.parameters"),
        ('parameters = ["nope"]\nvalues = [2]\n', "series.parameters"),
        ('parameters = ["gamma"]\n', "series"),
    ],
)
def test_bad_series_is_a_clear_error(series, needle):
    text = TEXT.split("[series]")[0] + "[series]\n" + series
    with pytest.raises(ParameterError, match=needle):
        parse_spec(text)
