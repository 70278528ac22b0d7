"""The model registry: what a sweep spec's ``figure.model`` names.

A model ties together a parameter class, a Monte Carlo kernel factory (with its validated
options), the closed forms evaluated at every sweep point, and the metadata of each output
(long name, units, equation) used by the Dataset and the plots.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..params import ParameterError, SongParams, check_int, check_real, from_mapping


@dataclass(frozen=True)
class Output:
    name: str
    long_name: str
    units: str
    equation: str
    plot_label: str


@dataclass(frozen=True)
class Model:
    name: str
    params_cls: type
    options: Mapping[str, tuple[Callable[[str, Any], Any], Any]]  # name -> (validator, default)
    make_kernel: Callable[[Any, Mapping[str, Any]], Any]
    closed_forms: Callable[[Any, Mapping[str, Any]], dict[str, float]]
    mc_outputs: tuple[Output, ...]
    closed_outputs: tuple[Output, ...]
    plotted: tuple[str, ...]  # outputs drawn by default, MC and closed form
    agreement: tuple[tuple[str, str], ...] = ()  # (MC output, closed form) that must agree
    sweep_options: tuple[str, ...] = ()  # options that a sweep may vary per point
    derived: Callable[[dict, Any], dict] | None = None  # estimates, kernel -> more estimates
    check_point: Callable[[Any, Mapping[str, Any]], None] | None = None  # cheap parse-time check

    def validate_point(self, params: Any, opts: Mapping[str, Any]) -> None:
        """Check one sweep point when a spec is parsed: ``check_point`` where the model has one
        (its kernel is expensive to build), else build the kernel."""
        if self.check_point is not None:
            self.check_point(params, self.full_options(opts))
        else:
            self.kernel(params, opts)

    def derive(self, ests: dict, kernel: Any) -> dict:
        return self.derived(ests, kernel) if self.derived is not None else ests

    def full_options(self, opts: Mapping[str, Any]) -> dict[str, Any]:
        full = {k: d for k, (_, d) in self.options.items()}
        full.update({k: v for k, v in self.check_options(opts).items() if v is not None})
        return full

    def make_params(self, mapping: Mapping[str, Any], where: str | None = None):
        return from_mapping(self.params_cls, mapping, where=where)

    def check_options(self, opts: Mapping[str, Any], where: str | None = None) -> dict[str, Any]:
        out = {}
        for k, v in opts.items():
            if k not in self.options:
                raise ParameterError(f"monte_carlo.{k}", v, f"one of {sorted(self.options)} or "
                                     "n_layouts, seed, quick_n_layouts, block_size", where)
            out[k] = None if v is None else self.options[k][0](f"monte_carlo.{k}", v)
        return out

    def kernel(self, params: Any, opts: Mapping[str, Any]):
        return self.make_kernel(params, self.full_options(opts))


BACKEND_OPTIONS = {
    # who computes the layouts (isacnet.backends): same law, each backend its own random stream
    "backend": (lambda n, v: _choice(n, v, ("numpy", "numba", "jax")), "numpy"),
    "dtype": (lambda n, v: _choice(n, v, ("float64", "float32")), "float64"),
}


def _song_kernel(params: SongParams, opts: Mapping[str, Any]):
    from ..simulation.song import SongKernel

    return SongKernel(params, k_nearest=opts["k_nearest"], window_radius=opts["window_radius"],
                      backend=opts["backend"], dtype=opts["dtype"])


def _song_closed(params: SongParams, opts: Mapping[str, Any]) -> dict[str, float]:
    from ..analysis import song as a

    if params.gamma <= 2.0:
        nan = float("nan")
        return {"bound": nan, "lemma3_tx": nan, "lemma3_rx": nan}
    return {
        "bound": a.scaling_bound(params),
        "lemma3_tx": float(a.lemma3(params.tx_density, params.gamma)),
        "lemma3_rx": float(a.lemma3(params.rx_density, params.gamma)),
    }


SONG = Model(
    name="song",
    params_cls=SongParams,
    options={
        "k_nearest": (lambda n, v: check_int(n, v, ge=1), 64),
        "window_radius": (lambda n, v: check_real(n, v, gt=0.0), None),
        **BACKEND_OPTIONS,
    },
    make_kernel=_song_kernel,
    closed_forms=_song_closed,
    mc_outputs=(
        Output("crlb", "expected CRLB tr(S^-1) over PPP layouts (Monte Carlo)", "m^2", "Song (18)",
               "MC of (18): E[tr S⁻¹]"),
        Output("jensen", "Jensen bound E[tr((E_theta S)^-1)] (Monte Carlo)", "m^2", "Song (20)=(23)",
               "MC of (23)"),
        Output("inv_sum_tx", "E[1/sum_k L_k^t] (Monte Carlo)", "m^gamma", "Song (24)", "MC of 1/ΣL_t"),
        Output("inv_sum_rx", "E[1/sum_l L_l^r] (Monte Carlo)", "m^gamma", "Song (25)", "MC of 1/ΣL_r"),
    ),
    closed_outputs=(
        Output("bound", "scaling-law lower bound (closed form)", "m^2", "Song (26)",
               "closed form (26)"),
        Output("lemma3_tx", "Lemma 3 for the TXs (closed form)", "m^gamma", "Song (24)", "(24)"),
        Output("lemma3_rx", "Lemma 3 for the RXs (closed form)", "m^gamma", "Song (25)", "(25)"),
    ),
    plotted=("crlb", "jensen", "bound"),
    agreement=(("jensen", "bound"), ("inv_sum_tx", "lemma3_tx"), ("inv_sum_rx", "lemma3_rx")),
)

# --------------------------------------------------------------------------- Meng & Masouros
def _meng_kernel(params, opts):
    from ..analysis.meng_sensing import kappa_s
    from ..simulation.meng import MengCrlbKernel

    kappa = 1.0
    if opts["acceptance"] == "kappa_s":
        kappa = float(kappa_s(params.resource_blocks, params.mu_s, opts["n_bs"]))
    return MengCrlbKernel(params, opts["n_bs"], kappa=kappa, backend=opts["backend"], dtype=opts["dtype"])


def _meng_derived(ests: dict, kernel) -> dict:
    """Geometric mean exp(E[log CRLB]) (exists for every N), CI by the delta method; the mean
    "crlb" only where its variance is finite (else no normal CI holds: dropped, errata M-8)."""
    import math
    from dataclasses import replace

    from ..simulation.estimate import Estimate

    out = dict(ests)
    lg = ests["log_crlb"]
    g = math.exp(lg.mean) if lg.n else float("nan")
    out["geo_mean"] = Estimate(g, g * lg.stderr, lg.n, lg.n_posinf, lg.n_neginf, lg.n_nan)
    if "crlb" in out and not kernel.variance_exists:
        out["crlb"] = replace(out["crlb"], stderr=float("nan"))
    return out


def _meng_closed(params, opts) -> dict[str, float]:
    from ..analysis import meng_sensing as a

    n = opts["n_bs"]
    if opts["acceptance"] == "kappa_s":
        return {
            "crlb_a_mean_field": float(a.crlb_a(n, params, variant="mean-field")),
            "crlb_a_corrected": float(a.crlb_a(n, params, variant="corrected")),
            "crlb_a_paper": float(a.crlb_a(n, params, variant="paper")),
        }
    return {
        "eq13": float(a.crlb_eq13(n, params)),
        "theorem1": float(a.crlb_theorem1(n, params, "corrected")),
        "theorem1_paper": float(a.crlb_theorem1(n, params, "paper")),
        "isotropic": float(a.crlb_isotropic(n, params)),
    }


def _meng_model(name: str, acceptance: str) -> Model:
    from ..params import MengParams

    mc = (
        Output("geo_mean", "geometric mean of the CRLB exp(E[log tr F^-1]) (Monte Carlo)", "m^2",
               "Meng (6), geometric mean", "MC geometric mean"),
        Output("crlb", "expected CRLB E[tr F^-1], where its variance is finite (Monte Carlo)", "m^2",
               "Meng (6), mean", "MC mean"),
        Output("singular", "probability that the cluster cannot localise (Monte Carlo)", "", "", ""),
        Output("cluster_size", "mean number of BSs in the cluster (Monte Carlo)", "", "", ""),
    )
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
            "acceptance": (lambda n, v: _choice(n, v, ("none", "kappa_s")), acceptance),
            **BACKEND_OPTIONS,
        },
        make_kernel=_meng_kernel,
        closed_forms=_meng_closed,
        mc_outputs=mc,
        closed_outputs=closed,
        plotted=plotted,
        sweep_options=("n_bs",),
        derived=_meng_derived,
    )


def _choice(name: str, value: Any, allowed: tuple[str, ...]) -> str:
    if value not in allowed:
        raise ParameterError(name, value, f"one of {allowed}")
    return value


MODELS: dict[str, Model] = {
    "song": SONG,
    "meng-sensing": _meng_model("meng-sensing", "none"),
    "meng-acceptance": _meng_model("meng-acceptance", "kappa_s"),
}


# Models defined in other modules register themselves in MODELS when imported (importing them
# here, last, works whichever module is imported first).
from . import models_meng_comm  # noqa: E402, F401
from .models_estimation import ESTIMATION_MODELS  # noqa: E402

MODELS.update(ESTIMATION_MODELS)
from .models_deploy import DEPLOY_MODELS  # noqa: E402

MODELS.update(DEPLOY_MODELS)


def get_model(name: str) -> Model:
    try:
        return MODELS[name]
    except KeyError:
        raise ParameterError("figure.model", name, f"one of {sorted(MODELS)}") from None
