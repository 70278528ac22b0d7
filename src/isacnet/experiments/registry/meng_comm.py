"""Figure models of the Meng & Masouros communication half: the CoMP rate (Fig. 4) and the
backhaul-constrained S&C tradeoff (Fig. 5)."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from ...params import MengParams, ParameterError, check_int, check_real
from ._model import BACKEND_OPTIONS, Model, Output, choice
from .meng_sensing import meng_derived

# --------------------------------------------------------------------------- Fig. 4: R_c vs L


def _rate_kernel(params: MengParams, opts: Mapping[str, Any]):
    from ...analysis.meng_sensing import kappa_c
    from ...simulation.kernels.meng_rate import MengRateKernel

    L = opts["n_comm"]
    return MengRateKernel(params, L, model=opts["sim_model"],
                          kappa_c=float(kappa_c(params.resource_blocks, params.mu_c, L)),
                          interference_shape=opts["interference"] if opts["sim_model"] == "paper" else None,
                          k_nearest=opts["k_nearest"], backend=opts["backend"], dtype=opts["dtype"])


_SHAPE_TO_CLOSED = {"exp": "paper", "matched": "matched"}


def _rate_closed(params: MengParams, opts: Mapping[str, Any]) -> dict[str, float]:
    from ...analysis.meng_rate import rate
    from ...analysis.meng_sensing import kappa_c

    L = opts["n_comm"]
    shape: Any = _SHAPE_TO_CLOSED.get(opts["interference"], "paper")  # a Literal of analysis.meng_rate.rate
    out = {f"rate_{v}": float(rate(L, params, variant=v, unit="nats", interference_shape=shape))
           for v in ("exact", "paper")}
    out["kappa_c"] = float(kappa_c(params.resource_blocks, params.mu_c, L))
    out["rate_exact_kappa_paper"] = float(rate(
        L, params, kappa_c=float(kappa_c(params.resource_blocks, params.mu_c, L, variant="paper")),
        variant="exact", unit="nats", interference_shape=shape))
    return out


def _rate_closed_batch(points: list[tuple[MengParams, Mapping[str, Any]]]) -> list[dict[str, float]]:
    """:func:`_rate_closed` at many points: one vectorised Theorem 2 call per network and
    interference shape (over the cluster sizes; the shared rule, issue 18)."""
    import numpy as np

    from ...analysis.meng_rate import rate
    from ...analysis.meng_sensing import kappa_c

    groups: dict[tuple, list[int]] = {}
    for i, (params, opts) in enumerate(points):
        groups.setdefault((params, _SHAPE_TO_CLOSED.get(opts["interference"], "paper")), []).append(i)
    out: list[dict[str, float]] = [{} for _ in points]
    for (params, shape), idx in groups.items():
        L = np.array([points[i][1]["n_comm"] for i in idx])
        kw: dict[str, Any] = dict(unit="nats", interference_shape=shape)
        cols = {f"rate_{v}": np.atleast_1d(rate(L, params, variant=v, **kw)) for v in ("exact", "paper")}
        cols["kappa_c"] = np.atleast_1d(kappa_c(params.resource_blocks, params.mu_c, L))
        kp = kappa_c(params.resource_blocks, params.mu_c, L, variant="paper")
        cols["rate_exact_kappa_paper"] = np.atleast_1d(rate(L, params, kappa_c=kp, variant="exact", **kw))
        for j, i in enumerate(idx):
            out[i] = {name: float(v[j]) for name, v in cols.items()}
    return out


def _rate_derived(ests: dict, kernel: Any) -> dict:
    """rate_cv: the regression control-variate estimate of E[ln(1 + SIR)] (issue 18; the control,
    :mod:`isacnet.simulation.kernels._rate_control`, has an elementary mean, so the agreement with
    Theorem 2 stays a check); the plain mean where the kernel has no control ("zf")."""
    from ...simulation.statistics import control_variate

    out = dict(ests)
    if "cv_x" in ests and "cv_rate_x" in ests:
        out["rate_cv"] = control_variate(ests["rate_nats"], ests["cv_x"], ests["cv_rate_x"])
    else:
        out["rate_cv"] = ests["rate_nats"]
    return out


def _check_k(name: str, v: Any):
    return None if v is None else check_int(name, v, ge=2)


RATE = Model(
    name="meng-rate",
    params_cls=MengParams,
    options={
        "n_comm": (lambda n, v: check_int(n, v, ge=1, le=1000), 1),
        "sim_model": (choice(("paper", "zf")), "paper"),
        "interference": (choice(("exp", "matched")), "exp"),
        "k_nearest": (_check_k, None),
        # numba computes sim_model "paper" only (MengRateKernel refuses "zf"); no jax rate kernel
        "backend": (choice(("numpy", "numba")), "numpy"),
        "dtype": BACKEND_OPTIONS["dtype"],
    },
    make_kernel=_rate_kernel,
    closed_forms=_rate_closed,
    closed_forms_batch=_rate_closed_batch,
    mc_outputs=(
        Output("rate_cv", "average rate E[ln(1 + SIR)], Monte Carlo of (8)-(9) with a control variate",
               "nats/s/Hz", "Meng (9)", "MC"),
        Output("rate_nats", "average rate E[ln(1 + SIR)] (Monte Carlo of (8)-(9), plain mean)", "nats/s/Hz",
               "Meng (9)", ""),
        Output("n_accepted", "cooperating BSs that accepted (Monte Carlo)", "", "", ""),
        Output("cv_x", "mean of the control X - E[X] (BS 1's log power against the first BS beyond L)",
               "1", "", ""),
        Output("cv_rate_x", "mean of ln(1 + SIR) times the control", "nats/s/Hz", "", ""),
    ),
    closed_outputs=(
        Output("rate_exact", "Theorem 2 re-derived (true joint law of r, r_L; binomial ring)",
               "nats/s/Hz", "Thm 2 exact", ""),
        Output("rate_paper", "Theorem 2 as printed (r independent of eta_L)", "nats/s/Hz",
               "Thm 2 printed", ""),
        Output("kappa_c", "acceptance probability of a cooperation request (negative-binomial law, errata M-34)",
               "", "kappa_c", ""),
        Output("rate_exact_kappa_paper", "Theorem 2 re-derived with kappa_c as printed (Section IV)",
               "nats/s/Hz", "Thm 2 exact, printed kappa_c", ""),
    ),
    plotted=("rate_cv", "rate_exact", "rate_paper"),
    agreement=(("rate_cv", "rate_exact"), ("rate_nats", "rate_exact")),
    sweep_options=("n_comm",),
    derived=_rate_derived,
)

# --------------------------------------------------------------------------- Fig. 5: tradeoff


@lru_cache(maxsize=32)
def _rate_grid(base: MengParams, L_max: int, variant: Any, n_grid: int):
    from ...analysis.optimize import Tradeoff

    return Tradeoff(base, L_max=L_max, N_max=1, N_min=1, rate_variant=variant, n_grid=n_grid).rate_grid


def tradeoff_for(params: MengParams, opts: Mapping[str, Any]):
    """The design space of a network. Theorem 2 on the (L, p^c) grid is computed once per
    network and shared between backhaul values: R_c depends on neither C nor e nor p^s."""
    base = dataclasses.replace(params, sensing_power_fraction=0.5, backhaul_capacity=6.0,
                               sensing_rate_demand=0.25)
    grid = _rate_grid(base, opts["L_max"], opts["rate_variant"], opts["n_grid"])
    return _shared_grid_tradeoff()(params, grid, L_max=opts["L_max"], N_max=opts["N_max"],
                                   rate_variant=opts["rate_variant"], n_grid=opts["n_grid"])


@lru_cache(maxsize=1)
def _shared_grid_tradeoff() -> type:
    """A Tradeoff whose Theorem 2 grid is given (shared between networks that differ only in
    C, e or p^s), instead of computed: an explicit override of ``rate_grid``, not a write into
    the instance's cached properties."""
    from ...analysis.optimize import Tradeoff

    class SharedGridTradeoff(Tradeoff):
        def __init__(self, params: MengParams, grid: Any, **kwargs: Any):
            super().__init__(params, **kwargs)
            self._shared_grid = grid

        @property  # type: ignore[override]
        def rate_grid(self) -> Any:
            return self._shared_grid

    return SharedGridTradeoff


@lru_cache(maxsize=64)
def _network(params: MengParams, opts_key: tuple):
    """The design space and its best cooperative rate, shared by every rate target of a network
    (neither depends on ``rate_fraction``; the ceiling is a search of its own)."""
    t = tradeoff_for(params, dict(opts_key))
    return t, t.rate_ceiling()


@lru_cache(maxsize=1024)
def _design(params: MengParams, opts_key: tuple):
    opts = dict(opts_key)
    t, c = _network(params, tuple((k, v) for k, v in opts_key if k != "rate_fraction"))
    if c is None:
        raise ParameterError("backhaul_capacity", params.backhaul_capacity,
                             "large enough for one sensing BS and some rate")
    target = opts["rate_fraction"] * c.rate
    d = t.min_crlb(target)
    return t, d, float(t.time_sharing(d.rate)) if d is not None else math.inf, c.rate


def _opts_key(opts: Mapping[str, Any]) -> tuple:
    return tuple(sorted((k, opts[k]) for k in ("rate_fraction", "L_max", "N_max", "rate_variant", "n_grid")))


def _tradeoff_kernel(params: MengParams, opts: Mapping[str, Any]):
    from ...simulation.kernels.meng_design import MengDesignKernel

    _, d, _, _ = _design(params, _opts_key(opts))
    if d is None:
        raise ParameterError("monte_carlo.rate_fraction", opts["rate_fraction"],
                             "a rate target some design meets under the backhaul constraint")
    from ...analysis.meng_sensing import kappa_c

    kc = float(kappa_c(params.resource_blocks, params.mu_c, d.L)) if d.p_c > 0 else None
    return MengDesignKernel(params, d.L, d.N, d.p_c, kappa_s=d.kappa_s if d.N else 1.0, kappa_c=kc)


def _tradeoff_closed(params: MengParams, opts: Mapping[str, Any]) -> dict[str, float]:
    t, d, ts, top = _design(params, _opts_key(opts))
    s, c = t.sensing_corner(), t.comm_corner()  # time sharing's corners (cheap: no search)
    return {"ts_crlb_sensing": s.crlb if s is not None else math.nan,
            "ts_rate_comm": c.rate if c is not None else math.nan, "rate_coop_max": top,
            "rate_cf": d.rate, "crlb_cf": d.crlb, "crlb_ts": ts, "design_L": float(d.L),
            "design_N": float(d.N), "design_p_c": d.p_c, "kappa_s": d.kappa_s, "kappa_c": d.kappa_c,
            "backhaul_load": d.backhaul_load}


def _tradeoff_derived(ests: dict, kernel: Any) -> dict:
    """The geometric-mean CRLB (:func:`meng_derived`) and the control-variate rate (:func:`_rate_derived`)."""
    return _rate_derived(meng_derived(ests, kernel), kernel)


def _tradeoff_check(params: MengParams, opts: Mapping[str, Any]) -> None:
    """Parse-time check: the options are validated by their validators already; the search (and
    so whether a design meets the target) is deferred to when the figure is computed."""


TRADEOFF = Model(
    name="meng-tradeoff",
    params_cls=MengParams,
    options={
        "rate_fraction": (lambda n, v: check_real(n, v, ge=0.0, lt=1.0), 0.5),
        "L_max": (lambda n, v: check_int(n, v, ge=1, le=200), 20),
        "N_max": (lambda n, v: check_int(n, v, ge=1, le=1000), 30),
        "rate_variant": (choice(("exact", "paper")), "exact"),
        "n_grid": (lambda n, v: check_int(n, v, ge=5, le=2001), 41),
    },
    make_kernel=_tradeoff_kernel,
    closed_forms=_tradeoff_closed,
    mc_outputs=(
        Output("rate_cv", "rate of the chosen design (Monte Carlo of (9) with a control variate)", "nats/s/Hz",
               "MC: mean rate, geometric-mean CRLB", ""),
        Output("rate_nats", "rate of the chosen design (Monte Carlo of (9), plain mean)", "nats/s/Hz",
               "MC: mean rate (plain), geometric-mean CRLB", ""),
        Output("cv_x", "mean of the rate's control X - E[X]", "1", "", ""),
        Output("cv_rate_x", "mean of ln(1 + SIR) times the control", "nats/s/Hz", "", ""),
        Output("geo_mean", "geometric mean of the CRLB of the chosen design (Monte Carlo)", "m^2",
               "MC: mean rate, geometric-mean CRLB", ""),
        Output("singular", "probability that a target's cluster cannot localise (Monte Carlo)", "", "", ""),
    ),
    closed_outputs=(
        Output("rate_cf", "R_c of the best design for this rate target (Theorem 2, exact)", "nats/s/Hz",
               "cooperative", ""),
        Output("crlb_cf", "CRLB_a of the best design ((16), mean-field)", "m^2", "cooperative", ""),
        Output("crlb_ts", "CRLB of time sharing between the corners at the same rate", "m^2",
               "time sharing", ""),
        Output("design_L", "communication cluster size L of the design", "", "L", ""),
        Output("design_N", "sensing cluster size N of the design", "", "N", ""),
        Output("design_p_c", "communication power share p^c of the design", "", "p^c", ""),
        Output("kappa_s", "sensing acceptance probability of the design", "", "kappa_s", ""),
        Output("kappa_c", "communication acceptance probability of the design", "", "kappa_c", ""),
        Output("backhaul_load", "R_c + e N of the design", "nats/s/Hz", "(10)", ""),
        Output("ts_crlb_sensing", "CRLB_a of time sharing's sensing corner (p^c = 0)", "m^2", "CRLB_S", ""),
        Output("ts_rate_comm", "R_c of time sharing's communication corner (p^c = 1, N = 0)", "nats/s/Hz",
               "R_C", ""),
        Output("rate_coop_max", "largest R_c of a cooperative design with N >= 2 under (10)", "nats/s/Hz",
               "R_coop", ""),
    ),
    plotted=("rate_cf:crlb_cf", "rate_cf:crlb_ts", "rate_cv:geo_mean"),
    agreement=(("rate_cv", "rate_cf"), ("rate_nats", "rate_cf")),
    sweep_options=("rate_fraction",),
    derived=_tradeoff_derived,
    check_point=_tradeoff_check,
)


MODELS = {m.name: m for m in (RATE, TRADEOFF)}
