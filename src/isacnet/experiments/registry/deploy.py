"""Figure models for issue 17: localisation coverage and Poisson against regular networks.

``typical-crlb`` (``typical-crlb-geo``: the same, plotting the geometric means): Meng's CRLB
with the N nearest BSs of a typical target on a PPP, a hexagonal lattice, a perturbed lattice
and a Matern II hard-core network of the same density (torus deployments,
:class:`isacnet.typical.TypicalKernel`): the localisation coverage P(CRLB <= epsilon^2) of each,
the geometric-mean CRLB and its shift against the PPP [dB].

``typical-comp``: the CoMP power-sum rate (9) and coverage P(SIR > theta) of (8) of a typical user
on the same networks, beside the PPP analysis (Theorem 2 re-derived, exact variant).
``typical-comp-rate``: the same without the coverage (the same rates, in a third of the time).

``typical-song``: as ``typical-crlb`` for Song's CRLB (18) with the N nearest TXs and RXs (TX and
RX networks independent deployments of the same process, equal densities).

Merged into the registry by :mod:`isacnet.experiments.registry` (``MODELS`` below).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ...params import MengParams, SongParams, check_int, check_real
from ...typical import PPP_SAMPLERS, PROCESSES, SAMPLINGS, TypicalKernel, output_name
from ...typical_near import check_radii
from ._model import Model, Output, choice

_LABEL = {"ppp": "PPP", "hexagonal": "hexagonal lattice", "perturbed": "perturbed lattice",
          "matern-ii": "Matern II hard-core"}
_OPTIONS = {
    "n_bs": (lambda n, v: check_int(n, v, ge=1), 8),
    "epsilon": (lambda n, v: check_real(n, v, gt=0.0), 100.0),
    "threshold_db": (lambda n, v: check_real(n, v), 0.0),
    "points": (lambda n, v: check_int(n, v, ge=1), 32),
    "n_sites": (lambda n, v: check_int(n, v, ge=64), 400),
    "hardcore": (lambda n, v: check_real(n, v, gt=0.0, lt=1.0), 0.5),
    "sigma_rel": (lambda n, v: check_real(n, v, ge=0.0), 0.25),
    "sampling": (choice(SAMPLINGS), "stratified"),
    "ppp": (choice(PPP_SAMPLERS), "ordered"),
    "ppp_points": (lambda n, v: check_int(n, v, ge=0), 0),
    "exact_sites": (lambda n, v: check_int(n, v, ge=1), 64),
    "panels": (lambda n, v: check_int(n, v, ge=1, le=1024), 12),
    "near_points": (lambda n, v: check_int(n, v, ge=0), 0),
    "near_radius": (lambda n, v: check_radii(v, n), 0.1),
    "control_radius": (lambda n, v: check_real(n, v, ge=0.0, le=1.0), 0.0),
}


def _kernel(quantity: str, with_coverage: bool = True):
    """The kernel factory of ``quantity``; with ``values``, several thresholds on the same
    deployments (``TypicalKernel.thresholds``: the model's group kernel)."""
    def make(params: MengParams, opts: Mapping[str, Any], values: tuple = ()) -> TypicalKernel:
        return TypicalKernel(params, quantity, **{k: opts[k] for k in _OPTIONS}, thresholds=tuple(values),
                             with_coverage=with_coverage)

    return make


def _cov_cv(ests: dict, proc: str):
    """A torus process's coverage by the regression control variates it has (sitesx: Matern II's
    site count; wx: the mean importance weight minus 1 of a pool with near points); the plain mean
    without."""
    from ...simulation.statistics import control_variates
    from ...typical_near import product_name

    controls = [c for c in ("sitesx", "wx") if output_name(c, proc) in ests]
    y = ests[output_name("cov", proc)]
    if not controls:
        return y
    xs = [ests[output_name(c, proc)] for c in controls]
    yxs = [ests[output_name(product_name("cov", c), proc)] for c in controls]
    xx = {(0, 1): ests[output_name("".join(controls), proc)]} if len(controls) == 2 else {}
    return control_variates(y, xs, yxs, xx)


def _crlb_derived(ests: dict, kernel) -> dict:
    """Geometric means exp(E log CRLB) (delta-method CI), their shift against the PPP [dB], and
    each torus process's coverage by its control variates, ``covcv_P`` (:func:`_cov_cv`)."""
    from ...simulation.estimate import Estimate

    out = dict(ests)
    for proc in PROCESSES[1:]:
        if output_name("cov", proc) in ests:
            out[output_name("covcv", proc)] = _cov_cv(ests, proc)
    c = 10.0 / math.log(10.0)
    ref = ests[output_name("log", "ppp")]
    for proc in PROCESSES:
        lg = ests[output_name("log", proc)]
        g = math.exp(lg.mean) if lg.n else math.nan
        out[output_name("geo", proc)] = Estimate(g, g * lg.stderr, lg.n, lg.n_posinf, lg.n_neginf, lg.n_nan)
        if proc != "ppp":
            s = c * (lg.mean - ref.mean)
            se = c * math.hypot(lg.stderr, ref.stderr)  # independent deployments of each process
            out[output_name("shift_db", proc)] = Estimate(s, se, lg.n, 0, 0, 0)
    return out


def _comp_derived(ests: dict, kernel) -> dict:
    """``ratecv_P``: each process's rate by the regression control variate on the shot-noise control
    (:func:`isacnet.typical_near.shot_control_torus`, ``control_radius``); the plain mean without it."""
    from ...simulation.statistics import control_variate

    out = dict(ests)
    for proc in PROCESSES:
        y = ests[output_name("rate", proc)]
        x, yx = ests.get(output_name("shotx", proc)), ests.get(output_name("ratex", proc))
        out[output_name("ratecv", proc)] = y if x is None or yx is None else control_variate(y, x, yx)
    return out


def _comp_closed(params: MengParams, opts: Mapping[str, Any]) -> dict[str, float]:
    from ...analysis.meng_rate import rate

    return {"rate_ppp_theorem2": float(rate(opts["n_bs"], params, unit="nats"))}


_CRLB_OUT = tuple(
    o
    for proc in PROCESSES
    for o in (
        Output(output_name("cov", proc), f"P(CRLB <= epsilon^2), {_LABEL[proc]} (Monte Carlo"
               + (")" if proc == "ppp" else ", plain mean)"), "",
               _LABEL[proc], _LABEL[proc]),
        Output(output_name("geo", proc), f"geometric-mean CRLB, {_LABEL[proc]} (Monte Carlo)", "m^2",
               _LABEL[proc], _LABEL[proc]),
        Output(output_name("log", proc), f"E[ln CRLB / m^2], {_LABEL[proc]}", "", "", ""),
    )
) + tuple(
    Output(output_name("shift_db", p), f"geometric-mean CRLB of the {_LABEL[p]} over the PPP's", "dB", "", _LABEL[p])
    for p in PROCESSES[1:]
) + tuple(
    o
    for p in PROCESSES[1:]
    for o in (
        Output(output_name("covcv", p), f"P(CRLB <= epsilon^2), {_LABEL[p]} (Monte Carlo with its control "
               "variates: the mean importance weight with near points, the site count for Matern II)", "",
               _LABEL[p], _LABEL[p]),
        Output(output_name("wx", p), "mean importance weight of the pool minus 1 (mean 0; with near points)", "", "",
               ""),
        Output(output_name("covw", p), "coverage times wx (sample means)", "", "", ""),
    )
) + (
    Output(output_name("sitesx", "matern-ii"), "mean of the control X = n / E[n] - 1 (Matern II sites a torus)",
           "", "", ""),
    Output(output_name("covx", "matern-ii"), "coverage times sitesx (sample means)", "", "", ""),
    Output(output_name("sitesxwx", "matern-ii"), "sitesx times wx (sample means)", "", "", ""),
)

TYPICAL_CRLB = Model(
    name="typical-crlb",
    params_cls=MengParams,
    options=_OPTIONS,
    make_kernel=_kernel("crlb"),
    closed_forms=lambda params, opts: {},
    mc_outputs=_CRLB_OUT,
    closed_outputs=(),
    plotted=tuple(output_name("cov" if p == "ppp" else "covcv", p) for p in PROCESSES),
    sweep_options=("n_bs", "epsilon"),
    derived=_crlb_derived,
    shared_option="epsilon",  # a sweep over epsilon: one set of deployments for every epsilon
    make_group_kernel=_kernel("crlb"),
)

TYPICAL_CRLB_GEO = Model(**{**TYPICAL_CRLB.__dict__, "name": "typical-crlb-geo",
                            "plotted": tuple(output_name("geo", p) for p in PROCESSES)})

TYPICAL_COMP = Model(
    name="typical-comp",
    params_cls=MengParams,
    options=_OPTIONS,
    make_kernel=_kernel("comp"),
    closed_forms=_comp_closed,
    mc_outputs=tuple(
        o
        for proc in PROCESSES
        for o in (
            Output(output_name("rate", proc), f"CoMP rate E ln(1 + SIR), {_LABEL[proc]} (Monte Carlo)",
                   "nats/s/Hz", _LABEL[proc], _LABEL[proc]),
            Output(output_name("cov", proc), f"P(SIR > threshold), {_LABEL[proc]} (Monte Carlo)", "",
                   _LABEL[proc], _LABEL[proc]),
        )
    ) + tuple(
        o
        for proc in PROCESSES
        for o in (
            Output(output_name("ratecv", proc), f"CoMP rate E ln(1 + SIR), {_LABEL[proc]} (Monte Carlo with the "
                   "shot-noise control variate; the plain mean without control_radius)", "nats/s/Hz",
                   _LABEL[proc], _LABEL[proc]),
            Output(output_name("shotx", proc), "mean of the shot-noise control X (mean 0)", "", "", ""),
            Output(output_name("ratex", proc), "rate times X (sample means)", "nats/s/Hz", "", ""),
        )
    ),
    closed_outputs=(Output("rate_ppp_theorem2", "PPP analysis: Theorem 2 re-derived (exact)", "nats/s/Hz",
                           "PPP analysis, Theorem 2", "PPP analysis (Theorem 2)"),),
    plotted=tuple(output_name("ratecv", p) for p in PROCESSES) + ("rate_ppp_theorem2",),
    derived=_comp_derived,
    sweep_options=("n_bs", "threshold_db"),
    shared_option="threshold_db",
    make_group_kernel=_kernel("comp"),
)

# the rate alone (deploy-comp-vs-l plots nothing else): the per-location Gil-Pelaez coverage was
# two thirds of that figure's time; the rate is the same number (the coverage draws no random numbers)
TYPICAL_COMP_RATE = Model(**{**TYPICAL_COMP.__dict__, "name": "typical-comp-rate",
                             "make_kernel": _kernel("comp", with_coverage=False),
                             "mc_outputs": tuple(o for o in TYPICAL_COMP.mc_outputs if not o.name.startswith("cov_")),
                             "sweep_options": ("n_bs",), "shared_option": None, "make_group_kernel": None})

TYPICAL_SONG = Model(**{**TYPICAL_CRLB.__dict__, "name": "typical-song", "params_cls": SongParams,
                        "make_kernel": _kernel("song"), "make_group_kernel": _kernel("song")})

MODELS = DEPLOY_MODELS = {m.name: m for m in (TYPICAL_CRLB, TYPICAL_CRLB_GEO, TYPICAL_SONG, TYPICAL_COMP,
                                               TYPICAL_COMP_RATE)}
