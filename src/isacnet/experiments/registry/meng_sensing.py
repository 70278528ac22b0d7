"""The Meng & Masouros sensing figure models (Figs. 2-3): the CRLB of the N nearest BSs, without
and with acceptance."""

from __future__ import annotations

from typing import Any

from ...params import check_int
from ._model import BACKEND_OPTIONS, Model, Output, applies, choice


def _meng_kernel(params: Any, opts: Any) -> Any:
    from ...analysis.meng_sensing import kappa_s
    from ...simulation.kernels.meng_crlb import MengCrlbKernel

    kappa = 1.0
    if opts["acceptance"] == "kappa_s":
        kappa = float(kappa_s(params.resource_blocks, params.mu_s, opts["n_bs"]))
    return MengCrlbKernel(params, opts["n_bs"], kappa=kappa, backend=opts["backend"], dtype=opts["dtype"])


def meng_derived(ests: dict, kernel: Any) -> dict:
    """Geometric mean exp(E[log CRLB]) (exists for every N), CI by the delta method; the mean
    "crlb" only where its variance is finite (else no normal CI holds, errata M-8): see
    :func:`isacnet.simulation.kernels.meng_crlb.crlb_derived`."""
    from ...simulation.kernels.meng_crlb import crlb_derived

    return crlb_derived(ests, kernel.variance_exists)


def _meng_closed(params: Any, opts: Any) -> dict[str, float]:
    from ...analysis import meng_sensing as a

    n = opts["n_bs"]
    if opts["acceptance"] == "kappa_s":
        return {
            "crlb_a_mean_field": float(a.crlb_a(n, params, variant="mean-field")),
            "crlb_a_corrected": applies(a.crlb_a, n, params, variant="corrected"),  # beta = 2 only
            "crlb_a_paper": applies(a.crlb_a, n, params, variant="paper"),
        }
    return {
        "eq13": float(a.crlb_eq13(n, params)),
        "theorem1": applies(a.crlb_theorem1, n, params, "corrected"),  # beta = 2 only
        "theorem1_paper": applies(a.crlb_theorem1, n, params, "paper"),
        "isotropic": float(a.crlb_isotropic(n, params)),
    }


def _meng_model(name: str, acceptance: str) -> Model:
    from ...params import MengParams

    mc = (
        Output("geo_mean", "geometric mean of the CRLB exp(E[log tr F^-1]) (Monte Carlo)", "m^2",
               "Meng (6), geometric mean", "MC geometric mean"),
        Output("crlb", "expected CRLB E[tr F^-1], where its variance is finite (Monte Carlo)", "m^2",
               "Meng (6), mean", "MC mean"),
        Output("singular", "probability that the cluster cannot localise (Monte Carlo)", "", "", ""),
        Output("cluster_size", "mean number of BSs in the cluster (Monte Carlo)", "", "", ""),
    )
    closed: tuple[Output, ...]
    plotted: tuple[str, ...]
    if acceptance == "kappa_s":
        closed = (
            Output("crlb_a_mean_field", "(16) re-derived: (12) with independent acceptance", "m^2",
                   "Meng (16) mean-field", ""),
            Output("crlb_a_corrected", "(16) with Theorem 1's corrected constant 2", "m^2",
                   "Meng (16) corrected", ""),
            Output("crlb_a_paper", "(16) as printed", "m^2", "Meng (16) printed", ""),
        )
        plotted = ("geo_mean", "crlb_a_mean_field", "crlb_a_corrected", "crlb_a_paper")
    else:
        closed = (
            Output("eq13", "approximation (13)", "m^2", "Meng (13)", ""),
            Output("theorem1", "Theorem 1, corrected constant 2", "m^2", "Meng (14) corrected", ""),
            Output("theorem1_paper", "Theorem 1 as printed", "m^2", "Meng (14) printed", ""),
            Output("isotropic", "exact E[2/(|zeta|^2 W^2)] (isotropic directions)", "m^2",
                   "isotropic (M-6)", ""),
        )
        plotted = ("crlb", "geo_mean", "eq13", "theorem1", "theorem1_paper", "isotropic")
    return Model(
        name=name,
        params_cls=MengParams,
        options={
            "n_bs": (lambda n, v: check_int(n, v, ge=1), 10),
            "acceptance": (choice(("none", "kappa_s")), acceptance),
            **BACKEND_OPTIONS,
        },
        make_kernel=_meng_kernel,
        closed_forms=_meng_closed,
        mc_outputs=mc,
        closed_outputs=closed,
        plotted=plotted,
        sweep_options=("n_bs",),
        derived=meng_derived,
    )


MODELS = {m.name: m for m in (_meng_model("meng-sensing", "none"), _meng_model("meng-acceptance", "kappa_s"))}
