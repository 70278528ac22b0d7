"""Labels, units, legend texts and the small helpers that read a result Dataset (no drawing)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
import xarray as xr

FIGSIZE = (6.4, 4.8)
"""Size of a one-panel figure [in]; panels of a combined figure are 4.8 x 3.6 in each."""
DPI = 200
FONT = 9.0  # labels, titles [pt]
SMALL = 8.0  # ticks, legends [pt]
Z95 = 1.959963984540054

_COLOURS = ["tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown"]
_LINESTYLES = ["-", "--", ":", "-."]
_MARKERS = ["o", "s", "^", "D", "v"]

# Legend text per (model, variable): what the curve is, in words and mathtext. A Dataset variable's
# ``plot_label`` attr, if present, wins; for other models its ``long_name`` (then ``equation``).
_TR_S = r"$\mathrm{E}[\mathrm{tr}\,\mathbf{S}^{-1}]$"
_TR_F = r"$\mathrm{tr}\,\mathbf{F}^{-1}$"
_LEGEND = {
    ("song", "crlb"): "Monte Carlo of the CRLB (18), " + _TR_S,
    ("song", "jensen"): "Monte Carlo of the Jensen bound (20) = (23)",
    ("song", "bound"): "closed form (26), Theorem 2",
    ("meng-sensing", "crlb"): "Monte Carlo mean " + r"$\mathrm{E}[\mathrm{tr}\,\mathbf{F}^{-1}]$"
                              + r" (exists for $N \geq 4$)",
    ("meng-sensing", "geo_mean"): "Monte Carlo geometric mean " + r"$\exp\mathrm{E}[\ln\mathrm{tr}\,\mathbf{F}^{-1}]$",
    ("meng-sensing", "eq13"): "approximation (13)",
    ("meng-sensing", "theorem1"): r"Theorem 1 (14) with constant 2 (corrected)",
    ("meng-sensing", "theorem1_paper"): r"Theorem 1 (14) as printed (constant 1)",
    ("meng-sensing", "isotropic"): r"exact mean of (12)'s large-$N$ form, $\mathrm{E}[2/(|\zeta|^2W^2)]$",
    ("meng-acceptance", "geo_mean"): "Monte Carlo geometric mean of the CRLB of localisable targets",
    ("meng-acceptance", "crlb_a_mean_field"): "(16) re-derived: (12) with independent acceptance",
    ("meng-acceptance", "crlb_a_corrected"): "(16) with Theorem 1's constant 2",
    ("meng-acceptance", "crlb_a_paper"): "(16) as printed",
    ("meng-rate", "rate_nats"): r"Monte Carlo of (9), $\mathrm{E}[\ln(1+\mathrm{SIR})]$",
    ("meng-rate", "rate_cv"): r"Monte Carlo of (9), $\mathrm{E}[\ln(1+\mathrm{SIR})]$ (control variate)",
    ("meng-rate", "rate_exact"): "Theorem 2 re-derived (exact)",
    ("meng-rate", "rate_paper"): "Theorem 2 as printed",
    ("meng-rate", "rate_exact_kappa_paper"): r"Theorem 2 re-derived, printed $\kappa_c$",
    ("meng-tradeoff", "crlb_cf"): r"best cooperative design ($N \geq 2$): Theorem 2, (16)",
    ("meng-tradeoff", "crlb_ts"): "time sharing between the corners",
    ("meng-tradeoff", "geo_mean"): "Monte Carlo of the chosen design (mean rate, geometric-mean CRLB)",
    ("aoa-gain", "ratio"): "Monte Carlo mean of CRLB(delay + AoA) / CRLB(delay)",
    ("aoa-gain", "jensen_ratio"): "ratio of the Jensen bounds (closed form)",
    ("estimator", "rmse_ml"): "ML estimate (Levenberg-Marquardt from LS)",
    ("estimator", "rmse_ls"): "closed-form LS estimate",
    ("estimator", "crlb_rmse"): r"$\sqrt{\mathrm{CRLB}}$ of the layout",
}
# Networks compared by the deployment models (isacnet.typical): one marker per process.
_PROCESS_LABELS = {"ppp": "PPP", "hexagonal": "hexagonal lattice", "perturbed": "perturbed lattice",
                   "matern_ii": "Matérn II hard-core"}
for _q, _models in (("cov", ("typical-crlb", "typical-song", "typical-comp")), ("geo", ("typical-crlb-geo",)),
                    ("rate", ("typical-comp", "typical-comp-rate"))):
    for _m in _models:
        for _proc, _text in _PROCESS_LABELS.items():
            _LEGEND[(_m, f"{_q}_{_proc}")] = f"{_text} (Monte Carlo)"
for _m in ("typical-crlb", "typical-song"):  # the plotted torus coverages: their control variates
    for _proc, _text in list(_PROCESS_LABELS.items())[1:]:
        _LEGEND[(_m, f"covcv_{_proc}")] = f"{_text} (Monte Carlo, control variate)"
for _m in ("typical-comp", "typical-comp-rate"):
    _LEGEND[(_m, "rate_ppp_theorem2")] = "PPP analysis: Theorem 2 re-derived"
    for _proc, _text in _PROCESS_LABELS.items():  # the plotted rates: the shot-noise control variate
        _LEGEND[(_m, f"ratecv_{_proc}")] = f"{_text} (Monte Carlo, control variate)"
# The joint-transmission comparison (the y axis says coverage or rate; the legend says which model)
for _m, _q in (("coverage-jt", "cov"), ("coverage-jt-rate", "rate")):
    _LEGEND[(_m, f"{_q}_ps")] = "power-sum JT, (8) (Monte Carlo)"
    _LEGEND[(_m, f"{_q}_nc")] = "non-coherent JT (Monte Carlo)"
    _LEGEND[(_m, f"{_q}_coh")] = "coherent JT (Monte Carlo)"
_LEGEND[("coverage-jt", "cov_ps_closed")] = "power-sum JT, closed form (Gil-Pelaez)"
_LEGEND[("coverage-jt", "cov_nc_closed")] = r"non-coherent JT, closed form ($M_t = 2$)"
_LEGEND[("coverage-jt-rate", "rate_ps_closed")] = "power-sum JT, Theorem 2 re-derived"
_LEGEND[("meta-coop", "meta_noncoop")] = r"no cooperation, $L = 1$ (Monte Carlo)"
_LEGEND[("meta-coop", "meta_coop")] = "non-coherent JT (Monte Carlo)"
_LEGEND[("meta-coop", "meta_noncoop_beta")] = r"$L = 1$, beta approximation"
# Short names in the panel notes of ``mark_max`` (the argmax of each variable along the sweep).
_MARK = {
    ("meng-rate", "rate_exact"): r"Theorem 2 re-derived, NB $\kappa_c$ (M-34)",
    ("meng-rate", "rate_exact_kappa_paper"): r"same, $\kappa_c$ as printed",
    ("meng-rate", "rate_paper"): "Theorem 2 as printed",
}
_SYMBOLS = {"gamma": r"\gamma", "beta": r"\beta", "alpha": r"\alpha"}


def tex_units(units: str) -> str:
    """Plain units ("m^2", "m^-2", "m^gamma") as mathtext ("m$^{2}$", ...); "" stays ""."""
    return re.sub(r"\^\(?(-?[0-9.]+|gamma|beta|alpha)\)?",
                  lambda m: "$^{" + _SYMBOLS.get(m.group(1), m.group(1)) + "}$", str(units or ""))


def _axis_label(label: str, units: str) -> str:
    return f"{label} [{tex_units(units)}]" if units and units != "1" else label  # "1": dimensionless (CF)


def _legend_text(ds: xr.Dataset, name: str) -> str:
    da = ds[name]
    return str(da.attrs.get("plot_label") or _LEGEND.get((str(ds.attrs.get("model")), name))
               or da.attrs.get("long_name") or da.attrs.get("equation") or name)


def _x(ds: xr.Dataset) -> tuple[str, np.ndarray, str]:
    """The swept dimension, the x values drawn (``x_variable`` and the dB transform applied) and
    the x label."""
    dim = str(ds.attrs.get("sweep_dim", next(iter(ds.sizes))))
    xv = str(ds.attrs.get("plot_x_variable", "") or dim)
    da = ds[xv] if xv in ds.variables else ds[dim]
    sdim = ds.attrs.get("series_dim")
    x = np.asarray((da.isel({sdim: 0}) if sdim in da.dims else da).values, dtype=float)
    label, units = str(da.attrs.get("long_name", xv)), str(da.attrs.get("units", ""))
    if ds.attrs.get("plot_x_transform") == "db":
        x = 10.0 * np.log10(x)
        units = "dBW" if units == "W" else ("dB" if units in ("", "1") else f"dB({units})")
    return dim, x, str(ds.attrs.get("plot_xlabel", "")) or _axis_label(label, units)


_TEX_PLAIN = {r"\leq": "<=", r"\geq": ">=", r"\times": "x", r"\,": " ", r"\epsilon": "eps"}


def plain_text(text: str) -> str:
    """Mathtext as plain text (file metadata, terminals):
    ``$P(\\mathrm{CRLB} \\leq \\epsilon^2)$`` -> ``P(CRLB <= eps^2)``, ``$\\lambda_b$`` -> ``lambda_b``."""
    out = re.sub(r"\\math(?:rm|bf|it)\{([^}]*)\}", r"\1", text)
    for tex, plain in _TEX_PLAIN.items():
        out = out.replace(tex, plain)
    out = re.sub(r"\\([A-Za-z]+)", r"\1", out)
    return out.replace("$", "").replace("{", "").replace("}", "")


def _number(v: float) -> str:
    """A value in a legend: plain between 0.01 and 1e4 (4 digits), else mathtext a x 10^b."""
    if v == 0 or not np.isfinite(v) or 1e-2 <= abs(v) < 1e4:
        return f"{v:.4g}"
    exp = int(np.floor(np.log10(abs(v))))
    mant = f"{v / 10.0**exp:.3g}"
    head = "" if mant == "1" else mant + r"\times"
    return rf"${head}10^{{{exp}}}$"


def _series(ds: xr.Dataset) -> list[tuple[dict | None, str, str | None]]:
    """(selection, series label, colour) per series value; one row without a series axis."""
    sdim = ds.attrs.get("series_dim")
    if not sdim:
        return [(None, "", None)]
    c = ds[sdim]
    rows: list[tuple[dict | None, str, str | None]] = []
    for j in range(ds.sizes[sdim]):
        v = c.values[j]
        val = _number(float(v)) if isinstance(v, float | np.floating) else str(v)
        u = str(c.attrs.get("units", ""))
        unit = "" if u in ("", "1") else tex_units(u)
        rows.append(({sdim: j}, f"{c.attrs.get('long_name', sdim)} = {val}" + (f" {unit}" if unit else ""),
                     _COLOURS[j % len(_COLOURS)]))
    return rows


def _bad(sub: xr.Dataset, names: Sequence[str]) -> np.ndarray:
    """Points where an output has +inf, -inf or NaN samples (its mean is not usable)."""
    bad = np.zeros(sub[names[0]].shape, bool)
    for v in names:
        for k in (f"{v}_n_posinf", f"{v}_n_neginf", f"{v}_n_nan"):
            if k in sub:
                bad |= np.asarray(sub[k].values) > 0
    return bad


def _no_finite(sub: xr.Dataset, name: str) -> np.ndarray:
    """Points where a conditional statistic has no finite sample (nothing to condition on)."""
    n = f"{name}_n"
    return (np.asarray(sub[n].values) == 0) if n in sub else ~np.isfinite(np.asarray(sub[name].values, float))


def _conditional(name: str) -> bool:
    """A geometric mean is exp of the mean of ln(CRLB) over the finite samples: with +inf samples
    (targets that cannot be localised) it is the statistic conditional on localisation."""
    return name == "geo_mean"


def _singular_note(ds: xr.Dataset) -> str:
    """The panel note of a conditional statistic: the largest P(singular) over the points."""
    if "singular" not in ds:
        return ""
    p = np.asarray(ds["singular"].values, dtype=float)
    p = p[np.isfinite(p)]
    if not p.size or p.max() <= 0:
        return ""
    return f"targets that cannot be localised: P $\\leq$ {p.max():.1g} (geometric mean over the others)"
