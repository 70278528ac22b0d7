"""What ``isacnet map`` does: load or generate a deployment, compute one map, save .nc and .png."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .params import MengParams, ParameterError, SongParams, from_mapping

METRICS = ("crlb", "song-crlb", "rate", "coverage")


def run_map(sites: str | None, metric: str, out: Path, *, n: int = 8, resolution: int = 256,
            sets: dict | None = None, process: str | None = None, seed: int = 0, thresholds_db=(0.0,),
            kappa: float = 1.0, acceptance: str | None = None, formats=("png",), dpi: int = 200,
            style: str | None = None, jt: str = "power-sum", n_fading: int | None = None) -> tuple[Path, list[Path]]:
    """Compute a map and write ``OUT/map-<metric>.nc`` and the figure in each of ``formats``
    (png, pdf, svg; ``dpi`` for PNG, a matplotlib ``style``); returns the .nc path and the
    figure paths.

    ``sites``: a CSV/GeoJSON site file; else ``process`` (one of
    :data:`isacnet.deployment.GENERATORS`) at the model's BS density, seeded by ``seed``.
    ``n``: N (crlb: nearest BSs), L (rate, coverage), nearest TXs and RXs (song-crlb).
    ``jt``, ``n_fading``: the joint-transmission model of the rate and coverage maps and the fading
    draws a point where it has no closed form (:func:`isacnet.maps.comp_map`).
    """
    from . import deployment as D
    from . import maps
    from .experiments.store import atomic_write
    from .plotting_maps import save_map

    if metric not in METRICS:
        raise ParameterError("--metric", metric, f"one of {METRICS}")
    from .comp_given import JT_MODELS

    if jt not in JT_MODELS:
        raise ParameterError("--jt", jt, f"one of {tuple(JT_MODELS)}")
    if jt != "power-sum" and metric not in ("rate", "coverage"):
        raise ParameterError("--jt", jt, "'power-sum' (the default) unless --metric is rate or coverage")
    cls = SongParams if metric == "song-crlb" else MengParams
    params: Any = from_mapping(cls, sets or {}, where="--set")
    if sites is not None:
        dep = D.load_sites(sites)
    elif process is not None:
        dens = params.bs_density if isinstance(params, MengParams) else params.tx_density
        dep = D.generate(process, dens, seed)
    else:
        raise ParameterError("--sites", None, "a site file (or --process to generate a network)")
    if metric == "crlb":
        ds = maps.meng_crlb_map(dep, params, n, resolution, kappa=kappa, acceptance=acceptance, rng=seed)
    elif metric == "song-crlb":
        ds = maps.song_crlb_map(dep, params, resolution, n_tx=n, n_rx=n)
    else:
        ds = maps.comp_map(dep, params, n, resolution, thresholds_db=thresholds_db, jt=jt, n_fading=n_fading,
                           seed=seed)
    out.mkdir(parents=True, exist_ok=True)
    nc = atomic_write(out / f"map-{metric}.nc", lambda t: ds.to_netcdf(t, engine="h5netcdf"))
    variables = {"crlb": ("crlb",), "song-crlb": ("crlb",), "rate": ("rate_nats",), "coverage": ("coverage",)}[metric]
    save_map(ds, out / f"map-{metric}.png", variables, formats=formats, dpi=dpi, style=style)
    return nc, [out / f"map-{metric}.{f}" for f in formats]
