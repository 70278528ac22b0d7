"""Figure models for issue 8: estimators against the CRLB, and the AoA gain.

Declared with the Model/Output API of :mod:`isacnet.experiments.registry`; merged into the
registry by :mod:`isacnet.experiments.registry` (``MODELS`` below).

``estimator`` (figure estimator-vs-crlb): RMSE of the ML estimate (Levenberg-Marquardt from the
closed-form LS start) and of the LS start against sqrt(CRLB) of the same measurement model, for a
fixed layout (the CRLB is then a closed form of the layout) or PPP layouts.

``aoa-gain`` (figure aoa-gain): mean CRLB over infinite-plane PPP layouts without and with the
receive arrays' angle-of-arrival information and the mean per-layout ratio (plotted), and the
Jensen bounds: Theorem 2 (26) and its delay+AoA extension
(:func:`isacnet.analysis.aoa.jensen_bound_aoa`) with their ratio (plotted).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ...params import ParameterError, SongParams, check_int, check_real
from ._model import Model, Output, choice


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    raise ParameterError(name, value, "true or false (or 0 / 1)")


# --------------------------------------------------------------------------- estimator vs CRLB
def _estimator_kernel(params: SongParams, opts: Mapping[str, Any]):
    from ...simulation.kernels.localization import EstimatorKernel

    return EstimatorKernel(
        params,
        n_tx=opts["n_tx"],
        n_rx=opts["n_rx"],
        layout=opts["layout"],
        layout_seed=opts["layout_seed"],
        aoa=opts["aoa"],
        element_spacing=opts["element_spacing"],
        rx_orientation=opts["rx_orientation"],
        max_iter=opts["max_iter"],
        starts=opts["starts"],
    )


def _estimator_closed(params: SongParams, opts: Mapping[str, Any]) -> dict[str, float]:
    if opts["layout"] != "fixed":
        return {"crlb_fixed": math.nan, "crlb_rmse": math.nan}
    crlb = _estimator_kernel(params, opts).crlb_fixed()
    return {"crlb_fixed": crlb, "crlb_rmse": math.sqrt(crlb)}


def _sqrt_estimate(e):
    """sqrt of a mean with the delta-method standard error se / (2 sqrt(mean))."""
    from ...simulation.statistics import Estimate

    if not (e.n and math.isfinite(e.mean) and e.mean > 0.0):
        return Estimate(math.nan, math.nan, e.n, e.n_posinf, e.n_neginf, e.n_nan)
    r = math.sqrt(e.mean)
    return Estimate(r, e.stderr / (2.0 * r), e.n, e.n_posinf, e.n_neginf, e.n_nan)


def _estimator_derived(ests: dict, kernel) -> dict:
    """The RMSEs from the control-variate estimates of the mean squared errors (issue 18: at high
    SNR the ML error is its linearisation, so the ML RMSE costs almost no samples there)."""
    from ...simulation.statistics import control_variate

    out = dict(ests)
    for est in ("ml", "ls"):
        cv = control_variate(ests[f"{est}_sq_err"], ests[f"{est}_cv_x"], ests[f"{est}_cv_yx"])
        out[f"{est}_mse"] = cv
        out[f"rmse_{est}"] = _sqrt_estimate(cv)
    out["rmse_crlb"] = _sqrt_estimate(ests["crlb"])
    return out


ESTIMATOR = Model(
    name="estimator",
    params_cls=SongParams,
    options={
        "n_tx": (lambda n, v: check_int(n, v, ge=1), 4),
        "n_rx": (lambda n, v: check_int(n, v, ge=1), 4),
        "layout": (choice(("fixed", "ppp")), "fixed"),
        "layout_seed": (lambda n, v: check_int(n, v, ge=0), 7),
        "aoa": (_bool, False),
        "element_spacing": (lambda n, v: check_real(n, v, gt=0.0), 0.5),
        "rx_orientation": (choice(("aligned", "random")), "aligned"),
        "max_iter": (lambda n, v: check_int(n, v, ge=1), 100),
        "starts": (choice(("both", "auto")), "both"),
    },
    make_kernel=_estimator_kernel,
    closed_forms=_estimator_closed,
    mc_outputs=(
        Output("rmse_ml", "RMSE of the ML estimate (LM from the LS start): sqrt ml_mse", "m", "ML (LM from LS)", "ML"),
        Output("rmse_ls", "RMSE of the closed-form LS start, sqrt of ls_mse", "m", "LS start", "LS"),
        Output("ml_mse", "mean squared error of the ML estimate, control-variate estimate", "m^2", "ML MSE (CV)", ""),
        Output("ls_mse", "mean squared error of the LS start, control-variate estimate", "m^2", "LS MSE (CV)", ""),
        Output("rmse_crlb", "sqrt of the mean per-layout CRLB", "m", "sqrt E[CRLB]", "sqrt E[CRLB]"),
        Output("ml_sq_err", "mean squared error of the ML estimate (plain sample mean)", "m^2", "ML MSE", ""),
        Output("ls_sq_err", "mean squared error of the LS start (plain sample mean)", "m^2", "LS MSE", ""),
        Output("crlb", "mean per-layout CRLB tr(F^-1) of the measurement model", "m^2", "Song (18)", ""),
        Output("ml_ratio", "mean of |error|^2 / CRLB, ML estimate (1 = efficient)", "", "ML/CRLB", ""),
        Output("ls_ratio", "mean of |error|^2 / CRLB, LS start", "", "LS/CRLB", ""),
        Output("ml_err_x", "mean x error of the ML estimate (bias)", "m", "ML bias x", ""),
        Output("ml_err_y", "mean y error of the ML estimate (bias)", "m", "ML bias y", ""),
        Output("ml_nonconverged", "fraction of ML iterations ending neither converged nor on an anchor", "", "", ""),
        Output("ml_at_anchor", "fraction of ML estimates on a TX or RX (cusp of the cost)", "", "", ""),
        Output("ls_failed", "fraction of rank-deficient LS systems", "", "", ""),
        Output("ml_iterations", "mean Levenberg-Marquardt iterations", "", "", ""),
        Output("ml_cv_x", "mean of the ML control X - E[X] (X the squared linearised error)", "m^2", "", ""),
        Output("ml_cv_yx", "mean of the ML squared error times its control", "m^4", "", ""),
        Output("ls_cv_x", "mean of the LS control X - E[X] (0 for PPP layouts)", "m^2", "", ""),
        Output("ls_cv_yx", "mean of the LS squared error times its control", "m^4", "", ""),
    ),
    closed_outputs=(
        Output("crlb_fixed", "CRLB tr(F^-1) of the fixed layout", "m^2", "Song (18)", ""),
        Output("crlb_rmse", "sqrt(CRLB) of the fixed layout", "m", "sqrt CRLB", ""),
    ),
    plotted=("rmse_ml", "rmse_ls", "crlb_rmse"),
    sweep_options=("n_tx", "n_rx", "aoa", "element_spacing", "layout_seed"),
    derived=_estimator_derived,
)


# --------------------------------------------------------------------------- AoA gain
def _aoa_kernel(params: SongParams, opts: Mapping[str, Any]):
    from ...simulation.kernels.localization import AoaGainKernel

    return AoaGainKernel(
        params,
        k_nearest=opts["k_nearest"],
        element_spacing=opts["element_spacing"],
        rx_orientation=opts["rx_orientation"],
    )


def _aoa_closed(params: SongParams, opts: Mapping[str, Any]) -> dict[str, float]:
    from ...analysis.aoa import jensen_bound_aoa
    from ...analysis.song import scaling_bound

    if params.gamma <= 2.0:
        return {"bound_delay": math.nan, "jensen_aoa_cf": math.nan, "jensen_ratio": math.nan}
    b = scaling_bound(params)
    j, _ = jensen_bound_aoa(params, opts["element_spacing"], opts["rx_orientation"])
    return {"bound_delay": b, "jensen_aoa_cf": j, "jensen_ratio": j / b}


AOA_GAIN = Model(
    name="aoa-gain",
    params_cls=SongParams,
    options={
        "k_nearest": (lambda n, v: check_int(n, v, ge=1), 64),
        "element_spacing": (lambda n, v: check_real(n, v, gt=0.0), 0.5),
        "rx_orientation": (choice(("aligned", "random")), "aligned"),
    },
    make_kernel=_aoa_kernel,
    closed_forms=_aoa_closed,
    mc_outputs=(
        Output(
            "crlb_delay", "expected delay-only CRLB over PPP layouts (Monte Carlo)", "m^2", "Song (18)", "MC of (18)"
        ),
        Output(
            "crlb_aoa",
            "expected delay+AoA CRLB over PPP layouts (Monte Carlo)",
            "m^2",
            "(18) + AoA",
            "MC of (18) + AoA",
        ),
        Output("ratio", "mean per-layout CRLB ratio (Monte Carlo)", "", "E[CRLB(18)+AoA / CRLB(18)]", "MC ratio"),
        Output("jensen_delay", "Jensen bound without AoA (Monte Carlo)", "m^2", "Song (20)=(23)", ""),
        Output("jensen_aoa", "Jensen bound with AoA (Monte Carlo)", "m^2", "(23) + AoA", ""),
    ),
    closed_outputs=(
        Output("bound_delay", "scaling-law lower bound (closed form)", "m^2", "Song (26)", ""),
        Output("jensen_aoa_cf", "delay+AoA Jensen bound (closed form)", "m^2", "(26) + AoA", ""),
        Output("jensen_ratio", "Jensen-bound ratio (closed form)", "", "((26)+AoA) / (26)", "Jensen ratio"),
    ),
    plotted=("ratio", "jensen_ratio"),
    agreement=(("jensen_delay", "bound_delay"), ("jensen_aoa", "jensen_aoa_cf")),
    sweep_options=("element_spacing",),
)

MODELS: dict[str, Model] = {"estimator": ESTIMATOR, "aoa-gain": AOA_GAIN}
"""The models of this module, by name (merged by :mod:`isacnet.experiments.registry`)."""
ESTIMATION_MODELS = MODELS
