"""What a reviewer checks in a figure (issue 15): a combined figure of panels of different kinds
gets a legend per panel (one colour never means two things) outside the data; integer log axes
are ticked at the integers swept; a short log axis has readable, non-overlapping tick labels;
series values in legends are mathtext, not 0.001111."""

from __future__ import annotations

import numpy as np
import xarray as xr
from test_plotting import _data_points_display, _legend_boxes, rate_like, song_like

from isacnet.cli._main import plain_text
from isacnet.plotting import figure, plot_dataset
from isacnet.plotting._labels import _number


def _short_log(x0: float = 3e-7, x1: float = 3e-6) -> xr.Dataset:
    x = np.geomspace(x0, x1, 5)
    return xr.Dataset(
        {"p": ("d", np.linspace(0.1, 0.9, 5), {"units": "1"})},
        coords={"d": ("d", x, {"long_name": r"BS density $\lambda_b$", "units": "m^-2"})},
        attrs={
            "title": "short",
            "figure_id": "s",
            "model": "custom",
            "plotted": "p",
            "sweep_dim": "d",
            "plot_xscale": "log",
        },
    )


def test_panels_of_different_kinds_get_a_legend_each_outside_the_data():
    fig, axes = figure([song_like(), rate_like(), song_like()])
    assert not fig.legends  # no shared legend
    assert all(ax.get_legend() is not None for ax in axes)
    boxes = _legend_boxes(fig)
    pts = _data_points_display(fig)
    for b in boxes:
        inside = (pts[:, 0] >= b.x0) & (pts[:, 0] <= b.x1) & (pts[:, 1] >= b.y0) & (pts[:, 1] <= b.y1)
        assert not inside.any()
    for ax in axes:  # and outside the panel
        r = fig.canvas.get_renderer()
        assert ax.get_legend().get_window_extent(r).x0 >= ax.get_window_extent(r).x1


def test_panels_of_one_kind_share_one_legend():
    fig, axes = figure([song_like()] * 3)
    assert len(fig.legends) + sum(ax.get_legend() is not None for ax in fig.axes) == 1


def test_integer_log_axis_is_ticked_at_the_swept_values():
    ds = song_like()
    ds = ds.isel(n_antennas=slice(1, 6))  # 2 .. 32
    ds = ds.assign_coords(n_antennas=("n_antennas", np.array([3, 4, 6, 8, 12]), {"long_name": "N", "units": ""}))
    fig, ax = plot_dataset(ds)
    fig.canvas.draw()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels == ["3", "4", "6", "8", "12"]


def test_short_log_axis_has_compact_major_labels_and_no_minor_labels():
    fig, ax = plot_dataset(_short_log())
    fig.canvas.draw()
    majors = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    minors = [t.get_text() for t in ax.get_xticklabels(minor=True) if t.get_text()]
    assert minors == [] and len(majors) >= 2
    assert r"$5\times10^{-7}$" in majors and "$10^{-6}$" in majors
    fig, ax = plot_dataset(_short_log(0.015, 0.065))
    fig.canvas.draw()
    lo, hi = ax.get_xlim()
    shown = [t.get_text() for t, v in zip(ax.get_xticklabels(), ax.get_xticks(), strict=True) if lo <= v <= hi]
    assert shown == ["0.02", "0.05"]


def test_legend_numbers_are_mathtext():
    assert _number(1 / 900) == r"$1.11\times10^{-3}$" and _number(0.25) == "0.25" and _number(1e-6) == "$10^{-6}$"


def test_list_titles_are_plain_text():
    assert (
        plain_text(r"Localisation coverage $P(\mathrm{CRLB} \leq \epsilon^2)$")
        == "Localisation coverage P(CRLB <= eps^2)"
    )
    assert (
        plain_text(r"Meng Fig. 3: CRLB$_a$ vs $N$, $\lambda_s/\lambda_b = 2$")
        == "Meng Fig. 3: CRLB_a vs N, lambda_s/lambda_b = 2"
    )


def test_every_deployment_curve_has_a_short_legend():
    """The deployment models plot control-variate estimates (covcv_matern_ii, ratecv_*): each plotted
    name has its own legend text, not the variable's long description."""
    from isacnet.experiments.registry import MODELS
    from isacnet.plotting._labels import _LEGEND

    for name, model in MODELS.items():
        if not name.startswith("typical-"):
            continue
        for out in model.plotted:
            assert (name, out) in _LEGEND, (name, out)
            assert len(_LEGEND[(name, out)]) <= 60
