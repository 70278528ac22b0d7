"""Plotting: return types, integer ticks, legends that never cover data, provenance in the file
metadata, the Song ratio panel, conditional statistics and the dense time-sharing line.

The Datasets are built here with the layout of ``runner.run_spec``'s output (no Monte Carlo), so
the tests are fast; the expected values come from the Datasets' own numbers, not the plot code.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from isacnet.params import ParameterError
from isacnet.plotting import figure, plot_dataset, save_figure, tex_units


def _mc(name, y, se, dims, posinf=None, n=1000):
    y = np.asarray(y, float)
    posinf = np.zeros(y.shape, int) if posinf is None else np.asarray(posinf)
    return {
        name: (dims, y, {"long_name": name, "units": "m^2", "equation": "MC"}),
        f"{name}_stderr": (dims, np.full(y.shape, se)),
        f"{name}_n": (dims, np.full(y.shape, n) - posinf),
        f"{name}_n_posinf": (dims, posinf),
        f"{name}_n_neginf": (dims, np.zeros(y.shape, int)),
        f"{name}_n_nan": (dims, np.zeros(y.shape, int)),
    }


def song_like(**plot) -> xr.Dataset:
    """A sweep over an integer axis (log), two MC outputs and one closed form."""
    m = np.array([1, 2, 4, 8, 16, 32, 64])
    cf = 1e-3 / m**2
    data = {**_mc("crlb", 1.07 * cf, 0.0, ("n_antennas",)), **_mc("jensen", cf, 0.0, ("n_antennas",)),
            "bound": ("n_antennas", cf, {"long_name": "closed form", "units": "m^2", "equation": "Song (26)"})}
    data["crlb_stderr"] = ("n_antennas", 0.01 * cf)
    data["jensen_stderr"] = ("n_antennas", 0.01 * cf)
    attrs = {"title": "test panel", "figure_id": "t-song", "model": "song", "seed": 123, "n_layouts": 1000,
             "isacnet_version": "9.9", "config_toml": "[figure]\nid = \"t-song\"\n", "plotted": "crlb,jensen,bound",
             "sweep_dim": "n_antennas", "plot_xscale": "log", "plot_yscale": "log", **plot}
    return xr.Dataset(data, coords={"n_antennas": ("n_antennas", m, {"long_name": "antennas", "units": ""})},
                      attrs=attrs)


def rate_like() -> xr.Dataset:
    """A series axis and an integer linear sweep (Fig. 4's layout)."""
    L = np.arange(1, 21)
    ps = np.array([0.1, 0.4, 0.7])
    curve = (1 - ps)[:, None] * (3.0 - 0.02 * (L[None, :] - 9.0) ** 2)  # peak at L = 9
    dims = ("p_s", "L")
    data = {**_mc("rate_nats", curve + 0.01, 0.005, dims),
            "rate_exact": (dims, curve, {"units": "nats/s/Hz", "equation": "exact"}),
            "rate_exact_kappa_paper": (dims, curve + 0.05 * (L[None, :] == 10), {"units": "nats/s/Hz"})}
    attrs = {"title": "rate", "figure_id": "t-rate", "model": "meng-rate", "seed": 7, "n_layouts": 10,
             "plotted": "rate_nats,rate_exact", "sweep_dim": "L", "series_dim": "p_s",
             "plot_mark_max": "rate_exact,rate_exact_kappa_paper", "config_toml": ""}
    return xr.Dataset(data, coords={"L": ("L", L, {"long_name": "L", "units": ""}),
                                    "p_s": ("p_s", ps, {"long_name": "p^s", "units": ""})}, attrs=attrs)


def _data_points_display(fig) -> np.ndarray:
    """Every drawn data point (lines, markers, error-bar ends) in display coordinates."""
    pts = []
    for ax in fig.axes:
        for line in ax.get_lines():
            xy = np.column_stack(line.get_data(orig=False)).astype(float)
            xy = xy[np.all(np.isfinite(xy), axis=1)]
            if len(xy):
                pts.append(ax.transData.transform(xy))
    return np.concatenate(pts)


def _legend_boxes(fig):
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    legs = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [lg.get_window_extent(r) for lg in legs]


def test_plot_dataset_returns_figure_and_axes():
    fig, ax = plot_dataset(song_like())
    assert isinstance(fig, Figure) and isinstance(ax, Axes)
    fig2, ax2 = plot_dataset(song_like(), ax=Figure().subplots())
    assert isinstance(fig2, Figure) and ax2.figure is fig2


@pytest.mark.parametrize("make", [song_like, rate_like])
def test_integer_axis_has_integer_ticks(make):
    fig, ax = plot_dataset(make())
    fig.canvas.draw()
    lo, hi = ax.get_xlim()
    ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
    assert len(ticks) >= 3
    assert all(float(t).is_integer() for t in ticks), ticks


@pytest.mark.parametrize("make", [lambda: [song_like(plot_ratio="bound")], lambda: [rate_like()] * 3,
                                  lambda: [song_like(plot_ratio="bound")] * 4])
def test_legend_never_covers_data(make):
    fig, _ = figure(make())
    boxes = _legend_boxes(fig)
    assert boxes
    pts = _data_points_display(fig)
    for b in boxes:
        inside = (pts[:, 0] >= b.x0) & (pts[:, 0] <= b.x1) & (pts[:, 1] >= b.y0) & (pts[:, 1] <= b.y1)
        assert not inside.any(), pts[inside]


def test_ratio_panel_is_mc_over_closed_form_with_band():
    ds = song_like(plot_ratio="bound")
    fig, axes = figure([ds])
    ratio_ax = [a for a in fig.axes if a not in axes and a.get_ylabel().startswith("MC /")]
    assert len(ratio_ax) == 1
    ys = [line.get_ydata() for line in ratio_ax[0].get_lines() if len(line.get_ydata()) == 7]
    want = {1.07, 1.0}
    assert {round(float(np.mean(y)), 6) for y in ys} == want
    assert len(ratio_ax[0].collections) == 2  # one CI band per Monte Carlo output
    assert "(26)" in ratio_ax[0].get_ylabel()


def test_x_variable_with_swept_coordinate_on_top():
    ds = song_like(plot_x_variable="rho_s", plot_x_transform="db", plot_xlabel="SNR [dB]")
    ds["rho_s"] = ("n_antennas", ds["n_antennas"].values * 1e12, {"long_name": "SNR", "units": "1"})
    ds["n_antennas"].attrs.update(long_name="transmit power", units="W")
    fig, ax = plot_dataset(ds)
    line = ax.get_lines()[-1]
    np.testing.assert_allclose(line.get_xdata(), 10 * np.log10(ds["rho_s"].values))
    tops = [c for c in ax.child_axes if "transmit power" in c.get_xlabel()]
    assert tops and "dBW" in tops[0].get_xlabel()
    assert ax.get_xlabel() == "SNR [dB]"


def test_conditional_geometric_mean_is_drawn_with_p_singular():
    n = np.array([2, 4, 6])
    geo = np.array([5.0, 3.0, 2.0])
    ds = xr.Dataset({**_mc("geo_mean", geo, 0.1, ("n_bs",), posinf=[3, 1, 0]),
                     **_mc("singular", [3e-3, 1e-3, 0.0], 1e-4, ("n_bs",))},
                    coords={"n_bs": ("n_bs", n, {"long_name": "N", "units": ""})},
                    attrs={"model": "meng-acceptance", "plotted": "geo_mean", "sweep_dim": "n_bs", "title": "t"})
    fig, ax = plot_dataset(ds)
    drawn = [line.get_ydata() for line in ax.get_lines() if len(line.get_ydata()) == 3]
    assert any(np.array_equal(np.asarray(y, float), geo) for y in drawn)  # no point hidden
    assert "0.003" in ax.get_title()  # the largest P(singular)
    # a plain mean with +inf samples is still hidden and counted
    ds2 = ds.rename({k: k.replace("geo_mean", "crlb") for k in ds.data_vars if k.startswith("geo_mean")})
    ds2.attrs["plotted"] = "crlb"
    fig2, _ = plot_dataset(ds2)
    texts = [t.get_text() for lg in fig2.legends for t in lg.get_texts()]
    assert any("2 points not drawn" in t for t in texts), texts


def test_estimate_without_ci_is_drawn_hollow_and_said():
    """A finite mean whose variance is infinite (stderr NaN, Meng's E[tr F^-1] at N = 4, 5) is drawn
    as a hollow marker and the legend says so; a point with a CI stays filled."""
    n = np.array([4, 5, 6])
    y = np.array([5.0e4, 3.0e4, 2.4e4])
    d = _mc("crlb", y, 0.0, ("n_bs",))
    d["crlb_stderr"] = ("n_bs", np.array([np.nan, np.nan, 300.0]))
    ds = xr.Dataset(d, coords={"n_bs": ("n_bs", n, {"long_name": "N", "units": ""})},
                    attrs={"model": "meng-sensing", "plotted": "crlb", "sweep_dim": "n_bs", "title": "t"})
    fig, ax = plot_dataset(ds)
    hollow = [ln for ln in ax.get_lines() if ln.get_markerfacecolor() == "none"]
    assert len(hollow) == 1
    np.testing.assert_array_equal(np.asarray(hollow[0].get_xdata(), float), [4.0, 5.0])
    filled_y = [np.asarray(ln.get_ydata(), float) for ln in ax.get_lines() if ln.get_markerfacecolor() != "none"]
    assert any(np.isfinite(v).sum() == 1 and np.nanmax(v) == y[2] for v in filled_y if len(v) == 3)
    texts = [t.get_text() for lg in fig.legends for t in lg.get_texts()]
    assert any("no CI, infinite variance" in t for t in texts), texts


def test_dense_time_sharing_line_over_its_whole_range():
    f = np.array([0.0, 0.5, 0.9])
    C = np.array([4.5])
    dims = ("C", "f")
    ds = xr.Dataset({"rate_cf": (dims, [[0.0, 2.0, 3.6]], {"units": "nats/s/Hz", "long_name": "R_c"}),
                     "crlb_cf": (dims, [[4e3, 5e3, 2e4]], {"units": "m^2", "long_name": "CRLB"}),
                     "crlb_ts": (dims, [[4.2e3, 8e3, 4e4]], {"units": "m^2"}),
                     "ts_rate_comm": (dims, [[4.43] * 3]), "ts_crlb_sensing": (dims, [[4.2e3] * 3])},
                    coords={"f": ("f", f), "C": ("C", C, {"long_name": "C", "units": "nats/s/Hz"})},
                    attrs={"model": "meng-tradeoff", "plotted": "rate_cf:crlb_cf,rate_cf:crlb_ts",
                           "sweep_dim": "f", "series_dim": "C", "title": "t"})
    fig, ax = plot_dataset(ds)
    xs = [np.asarray(line.get_xdata(), float) for line in ax.get_lines()]
    ts = max(xs, key=len)
    assert len(ts) == 200 and ts.min() == 0.0
    assert ts.max() == pytest.approx(0.99 * 4.43)  # beyond the best cooperative rate (3.6)
    y = max((np.asarray(line.get_ydata(), float) for line in ax.get_lines()), key=len)
    np.testing.assert_allclose(y, 4.2e3 / (1 - ts / 4.43))


def test_mark_max_reports_the_argmax_in_the_title():
    fig, ax = plot_dataset(rate_like())
    title = ax.get_title()
    assert "$L^*$ = 9 (" in title and ", 10 (same" in title  # one value: every series agrees
    lines = [line for line in ax.get_lines() if len(line.get_xdata()) == 2 and line.get_xdata()[0] == 9]
    assert lines  # the dotted line at the first variable's L*


def test_metadata_in_every_format(tmp_path):
    ds = song_like(plot_ratio="bound")
    other = song_like().assign_attrs(figure_id="t-other", seed=456)
    fig, _ = figure([ds, other], title="group")
    out = save_figure(fig, tmp_path / "g.png", formats=("png", "pdf", "svg"), dpi=100)
    assert out == tmp_path / "g.png"
    from PIL import Image

    with Image.open(tmp_path / "g.png") as im:
        text = im.text
        assert im.size[0] == pytest.approx(9.6 * 100, abs=2)  # two 4.8 in columns at 100 dpi
    assert "t-song: seed 123" in text["Source"] and "t-other: seed 456" in text["Source"]
    assert text["Software"] == "isacnet 9.9" and 'id = "t-song"' in text["Comment"]
    assert b"t-other: seed 456" in (tmp_path / "g.pdf").read_bytes()
    assert "t-song: seed 123" in (tmp_path / "g.svg").read_text()
    # nothing of the provenance is drawn in the figure itself
    drawn = [t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))]
    assert not any("seed" in t for t in drawn)


def test_save_figure_from_datasets_and_bad_format(tmp_path):
    assert save_figure([song_like()], tmp_path / "a").read_bytes()[:4] == b"\x89PNG"
    with pytest.raises(ParameterError, match="formats"):
        save_figure([song_like()], tmp_path / "b", formats=("jpg",))


def test_fonts_are_readable():
    fig, _ = figure([song_like(plot_ratio="bound")] * 2)
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(lambda o: hasattr(o, "get_fontsize")) if t.get_text()]
    assert min(sizes) >= 8.0


@pytest.mark.parametrize("plain, tex", [("m^2", "m$^{2}$"), ("m^-2", "m$^{-2}$"), ("m^gamma", r"m$^{\gamma}$"),
                                        ("nats/s/Hz", "nats/s/Hz"), ("", "")])
def test_tex_units(plain, tex):
    assert tex_units(plain) == tex


def test_style_applies_while_drawing_and_is_restored():
    import matplotlib

    before = matplotlib.rcParams["axes.facecolor"]
    fig, ax = plot_dataset(song_like(), style="ggplot")
    assert matplotlib.colors.to_hex(ax.get_facecolor()) == "#e5e5e5"  # ggplot's axes colour
    assert matplotlib.rcParams["axes.facecolor"] == before
    fig2, _ = figure([song_like()], style={"axes.facecolor": "#123456"})
    assert matplotlib.colors.to_hex(fig2.axes[0].get_facecolor()) == "#123456"


def test_legend_on_a_callers_axes_does_not_cover_data():
    """Data filling the whole axes: "best" cannot avoid it, so the legend moves outside."""
    from isacnet.plotting import _covers_data

    ds = song_like(plot_xscale="linear", plot_yscale="linear")
    ds["bound"].values[:] = np.linspace(0, 1, 7)[::-1]  # a line corner to corner ...
    ds["crlb"].values[:] = np.linspace(0, 1, 7)  # ... and the other diagonal
    ds["jensen"].values[:] = 0.5
    ax = Figure(figsize=(3, 2)).subplots()
    plot_dataset(ds, ax=ax)
    assert not _covers_data(ax, ax.get_legend())
