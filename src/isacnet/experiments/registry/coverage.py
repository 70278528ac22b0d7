"""Figure models of the coverage issue (16): the three joint-transmission models and the meta
distribution of the CoMP link.

``coverage-jt``: from the *same* per-layout SINR samples
(:class:`isacnet.simulation.kernels.coverage.JTCompareKernel`), coverage P(SINR > T) and the mean
rate E[ln(1 + SINR)] of power-sum (the paper's eq. (8)), non-coherent (Nigam-Minero-Haenggi) and
coherent joint transmission, against the cluster size L (option ``n_comm``) or the threshold
(option ``threshold_db``). Closed forms beside them where they exist
(:func:`isacnet.analysis.coverage.coverage`): power-sum coverage, non-coherent coverage (needs
M_t = 2) and the power-sum rate (Theorem 2 re-derived, exact variant).

``meta-coop``: the meta distribution (Haenggi 2016): the fraction of users whose per-layout
success probability P_s(theta | layout) exceeds x, non-cooperative (L = 1) against cooperative
(non-coherent JT with ``n_comm`` BSs; M_t = 2, Rayleigh), Monte Carlo of the per-layout success
probability (:class:`isacnet.simulation.kernels.coverage.CoverageKernel`), with the beta
approximation from the closed-form moments at L = 1 (:mod:`isacnet.analysis.meta`).

Merged into the registry by :mod:`isacnet.experiments.registry` (``MODELS`` below).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...params import MengParams, ParameterError, check_int, check_real
from ._model import Model, Output, choice

_JT = {"ps": "power-sum", "nc": "non-coherent", "coh": "coherent"}
_OPTIONS = {
    "n_comm": (lambda n, v: check_int(n, v, ge=1, le=100), 2),
    "threshold_db": (lambda n, v: check_real(n, v, ge=-60.0, le=60.0), 0.0),
    "noise": (choice(("none", "params")), "none"),
}


def _kappa(params: MengParams, L: int) -> float:
    from ...analysis.meng_sensing import kappa_c

    return float(kappa_c(params.resource_blocks, params.mu_c, L))


def _noise(opts: Mapping[str, Any]):
    return None if opts["noise"] == "none" else "params"


def _jt_kernel(params: MengParams, opts: Mapping[str, Any]):
    from ...simulation.kernels.coverage import JTCompareKernel

    L = opts["n_comm"]
    return JTCompareKernel(
        params, L, 10.0 ** (opts["threshold_db"] / 10.0), kappa_c=_kappa(params, L), noise=_noise(opts)
    )


def _jt_group_kernel(params: MengParams, opts: Mapping[str, Any], values: tuple):
    """The coverage of every threshold (``values`` [dB]) on the same layouts."""
    from dataclasses import replace

    return replace(_jt_kernel(params, opts), thresholds=tuple(10.0 ** (v / 10.0) for v in values))


def _jt_closed(params: MengParams, opts: Mapping[str, Any]) -> dict[str, float]:
    import math

    from ...analysis.coverage import coverage

    L, kap, noise = opts["n_comm"], _kappa(params, opts["n_comm"]), _noise(opts)
    T = 10.0 ** (opts["threshold_db"] / 10.0)
    out = {"cov_ps_closed": float(coverage(T, L, params, kappa_c=kap, noise=noise)), "cov_nc_closed": math.nan}
    if params.n_tx_antennas == 2:
        # lighter nodes than the defaults: 4x faster, within 5e-6 of them (T in 0.1 .. 100, L <= 10)
        out["cov_nc_closed"] = float(
            coverage(T, L, params, kappa_c=kap, noise=noise, jt="noncoherent", n_v=241, n_eta=41, n_t=16)
        )
    return out


def _jt_out(q: str, tag: str) -> Output:
    if q == "cov":
        return Output(
            f"cov_{tag}", f"P(SINR > T), {_JT[tag]} JT (Monte Carlo)", "", f"{_JT[tag]} (MC)", f"{_JT[tag]} JT"
        )
    return Output(
        f"rate_{tag}",
        f"mean rate E[ln(1 + SINR)], {_JT[tag]} JT (Monte Carlo)",
        "nats/s/Hz",
        f"{_JT[tag]} (MC)",
        f"{_JT[tag]} JT",
    )


_JT_MC = tuple(_jt_out(q, t) for t in _JT for q in ("cov", "rate"))
_JT_CLOSED = (  # the coverage-jt model has the first two, coverage-jt-rate the last
    Output(
        "cov_ps_closed",
        "P(SINR > T), power-sum JT (closed form, Gil-Pelaez)",
        "",
        "power-sum (closed form)",
        "power-sum, closed form",
    ),
    Output(
        "cov_nc_closed",
        "P(SINR > T), non-coherent JT (closed form, M_t = 2; NaN otherwise)",
        "",
        "non-coherent (closed form)",
        "non-coherent, closed form",
    ),
    Output(
        "rate_ps_closed",
        "mean rate, power-sum JT (Theorem 2 re-derived; NaN with noise)",
        "nats/s/Hz",
        "power-sum (Theorem 2)",
        "power-sum, Theorem 2",
    ),
)

COVERAGE_JT = Model(
    name="coverage-jt",
    params_cls=MengParams,
    options=_OPTIONS,
    make_kernel=_jt_kernel,
    closed_forms=_jt_closed,
    mc_outputs=_JT_MC,
    closed_outputs=_JT_CLOSED[:2],
    plotted=("cov_ps", "cov_nc", "cov_coh", "cov_ps_closed", "cov_nc_closed"),
    agreement=(("cov_ps", "cov_ps_closed"), ("cov_nc", "cov_nc_closed")),
    sweep_options=("n_comm", "threshold_db"),
    shared_option="threshold_db",  # a sweep over the threshold: the same layouts at every threshold
    make_group_kernel=_jt_group_kernel,
)


def _jt_rate_closed(params: MengParams, opts: Mapping[str, Any]) -> dict[str, float]:
    import math

    from ...analysis.meng_rate import rate

    L = opts["n_comm"]
    if _noise(opts) is not None:
        return {"rate_ps_closed": math.nan}
    return {"rate_ps_closed": float(rate(L, params, kappa_c=_kappa(params, L), variant="exact", unit="nats"))}


COVERAGE_JT_RATE = Model(
    **{
        **COVERAGE_JT.__dict__,
        "name": "coverage-jt-rate",
        "closed_forms": _jt_rate_closed,
        "closed_outputs": _JT_CLOSED[2:],
        "plotted": ("rate_ps", "rate_nc", "rate_coh", "rate_ps_closed"),
        "agreement": (("rate_ps", "rate_ps_closed"),),
    }
)

# --------------------------------------------------------------------------- meta distribution

_META_OPTIONS = {
    "n_comm": (lambda n, v: check_int(n, v, ge=2, le=100), 2),
    "threshold_db": (lambda n, v: check_real(n, v, ge=-60.0, le=60.0), 0.0),
    "x": (lambda n, v: check_real(n, v, gt=0.0, lt=1.0), 0.5),
}


class _MetaKernel:
    """L = 1 and L = ``n_comm`` (non-coherent JT) CoverageKernels drawn in turn from one stream.
    ``xs``: several reliabilities x on the same layouts (outputs ``meta_*@k``; a sweep over x)."""

    def __init__(self, params: MengParams, opts: Mapping[str, Any], xs: tuple | None = None) -> None:
        from ...simulation.kernels.coverage import CoverageKernel

        if params.n_tx_antennas != 2:
            raise ParameterError(
                "n_tx_antennas",
                params.n_tx_antennas,
                "2 (per-layout success probabilities of cooperative JT need M_t = 2)",
            )
        th = (10.0 ** (opts["threshold_db"] / 10.0),)
        L = opts["n_comm"]
        self.sfx = ("",) if xs is None else tuple(f"@{k}" for k in range(len(xs)))
        mx = (opts["x"],) if xs is None else tuple(xs)
        self.one = CoverageKernel(params, 1, th, kappa_c=1.0, meta_x=mx)
        self.coop = CoverageKernel(params, L, th, jt="noncoherent", kappa_c=_kappa(params, L), meta_x=mx)
        self.quantities = (*(f"meta_{w}{s}" for w in ("noncoop", "coop") for s in self.sfx), "ps_noncoop", "ps_coop")

    def describe(self) -> dict[str, object]:
        return {"noncoop": self.one.describe(), "coop": self.coop.describe()}

    def __call__(self, rng, n: int) -> dict:
        a, b = self.one(rng, n), self.coop(rng, n)
        out = {"ps_noncoop": a["ps_0"], "ps_coop": b["ps_0"]}
        for i, s in enumerate(self.sfx):
            out[f"meta_noncoop{s}"], out[f"meta_coop{s}"] = a[f"meta_0_{i}"], b[f"meta_0_{i}"]
        return out


def _meta_closed(params: MengParams, opts: Mapping[str, Any]) -> dict[str, float]:
    from ...analysis.meta import beta_fraction_above, meta_moment

    th = 10.0 ** (opts["threshold_db"] / 10.0)
    m1, m2 = (float(meta_moment(th, b, params)) for b in (1.0, 2.0))
    return {"meta_noncoop_beta": float(beta_fraction_above(opts["x"], m1, m2))}


META_COOP = Model(
    name="meta-coop",
    params_cls=MengParams,
    options=_META_OPTIONS,
    make_kernel=_MetaKernel,
    closed_forms=_meta_closed,
    mc_outputs=(
        Output(
            "meta_noncoop",
            "fraction of users with P_s(theta) > x, L = 1 (Monte Carlo)",
            "",
            "non-cooperative (MC)",
            "non-cooperative, L = 1",
        ),
        Output(
            "meta_coop",
            "fraction of users with P_s(theta) > x, non-coherent JT (Monte Carlo)",
            "",
            "cooperative (MC)",
            "cooperative, non-coherent JT",
        ),
        Output("ps_noncoop", "coverage E[P_s(theta)], L = 1 (Monte Carlo)", "", "", ""),
        Output("ps_coop", "coverage E[P_s(theta)], non-coherent JT (Monte Carlo)", "", "", ""),
    ),
    closed_outputs=(
        Output(
            "meta_noncoop_beta",
            "beta approximation from the closed-form moments M_1, M_2 (L = 1)",
            "",
            "non-cooperative, beta approximation",
            "L = 1, beta approximation",
        ),
    ),
    plotted=("meta_noncoop", "meta_coop", "meta_noncoop_beta"),
    sweep_options=("x", "threshold_db", "n_comm"),
    shared_option="x",  # a sweep over x: one set of layouts, so the curve is an empirical CCDF
    make_group_kernel=lambda params, opts, values: _MetaKernel(params, opts, values),
)

MODELS = COVERAGE_MODELS = {m.name: m for m in (COVERAGE_JT, COVERAGE_JT_RATE, META_COOP)}
