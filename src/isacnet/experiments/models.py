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
    closed_forms: Callable[[Any], dict[str, float]]
    mc_outputs: tuple[Output, ...]
    closed_outputs: tuple[Output, ...]
    plotted: tuple[str, ...]  # outputs drawn by default, MC and closed form
    agreement: tuple[tuple[str, str], ...] = ()  # (MC output, closed form) that must agree

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
        full = {k: d for k, (_, d) in self.options.items()}
        full.update({k: v for k, v in self.check_options(opts).items() if v is not None})
        return self.make_kernel(params, full)


def _song_kernel(params: SongParams, opts: Mapping[str, Any]):
    from ..simulation.song import SongKernel

    return SongKernel(params, k_nearest=opts["k_nearest"], window_radius=opts["window_radius"])


def _song_closed(params: SongParams) -> dict[str, float]:
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

MODELS: dict[str, Model] = {"song": SONG}


def get_model(name: str) -> Model:
    try:
        return MODELS[name]
    except KeyError:
        raise ParameterError("figure.model", name, f"one of {sorted(MODELS)}") from None
