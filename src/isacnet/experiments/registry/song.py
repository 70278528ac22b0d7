"""The Song et al. figure model (Fig. 1): the CRLB (18), its Jensen bound (23) and Lemma 3."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...params import SongParams, check_int, check_real
from ._model import BACKEND_OPTIONS, Model, NotApplicable, Output


def _song_kernel(params: SongParams, opts: Mapping[str, Any]):
    from ...simulation.kernels.song import SongKernel

    return SongKernel(params, k_nearest=opts["k_nearest"], window_radius=opts["window_radius"],
                      backend=opts["backend"], dtype=opts["dtype"])


def _song_closed(params: SongParams, opts: Mapping[str, Any]) -> dict[str, float]:
    from ...analysis import song as a

    if params.gamma <= 2.0:
        why = NotApplicable(f"gamma = {params.gamma:g}: Lemma 3 and the bound (26) need gamma > 2")
        return {"bound": why, "lemma3_tx": why, "lemma3_rx": why, "rho_s": params.rho_s}
    return {
        "rho_s": params.rho_s,
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
        Output("rho_s", "normalised SNR rho_s = P_t T / N_0 (T = 1/B unless obs_time)", "1", "Song (21)",
               ""),
    ),
    plotted=("crlb", "jensen", "bound"),
    agreement=(("jensen", "bound"), ("inv_sum_tx", "lemma3_tx"), ("inv_sum_rx", "lemma3_rx")),
)

MODELS = {SONG.name: SONG}
