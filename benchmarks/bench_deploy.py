"""Deployment figures: CPU seconds to a 1% CI with the new sampling against 0.3's, in one process.

For the first (hardest) job of each ``deploy-*`` figure, the kernel of its config (points on a
jittered grid, Song's per-point RX shift, the PPP by ordered sampling, comp with 32 exact
interferers and 8 panels) against the same job with 0.3's options (32 uniform points of a
400-site torus, 16 for comp, the PPP on the torus, 64 exact interferers, 12 panels). Per kernel:
the cost of a sample, and for the widest plotted output the samples a 1% CI needs,
(1.96 sd / (0.01 |mean|))^2 (a geometric mean: (1.96 sd(log) / 0.01)^2), times that cost; where the
figure plots a control-variate estimate (Matern II's coverage, the comp rates), sd is the residual
standard deviation of the regression on the control.

Run: python benchmarks/bench_deploy.py [--samples-new 64] [--samples-old 256]   (about 30 s)
"""

from __future__ import annotations

import argparse
import dataclasses
import time

import numpy as np

from isacnet.experiments.runner import jobs_for
from isacnet.experiments.spec import builtin_specs

FIGURES = ("deploy-coverage-density", "deploy-coverage-eps", "deploy-crlb-vs-n", "deploy-song-coverage-eps",
           "deploy-comp-vs-l")
OLD = {"sampling": "uniform", "ppp": "torus", "ppp_points": 0, "n_sites": 400, "exact_sites": 64, "panels": 12,
       "near_points": 0, "control_radius": 0.0}


def _cost_to_1pct(kernel, n: int, geo: bool) -> tuple[float, float, str]:
    """(ms a sample, CPU seconds to 1% for the widest plotted output, that output)."""
    t = time.perf_counter()
    out = kernel(np.random.default_rng(1), n)
    ms = (time.perf_counter() - t) / n * 1e3
    worst, name = 0.0, ""
    for q, v in out.items():
        first = q.partition("@")[2] in ("", "0")  # of a threshold sweep, its first (hardest) threshold
        plotted = q.startswith("log_") if geo else (q.startswith(("cov_", "rate_")) and first)
        if not plotted or np.all(v == v[0]):
            continue
        proc = q.partition("@")[0].split("_", 1)[1]
        x = out.get(f"sitesx_{proc}" if q.startswith("cov") else f"shotx_{proc}")
        if x is not None and not geo and x.std() > 0:  # the figure plots the control-variate estimate
            v = v - np.cov(v, x)[0, 1] / x.var(ddof=1) * x  # its residual variance (1 - corr^2) var
        rel = 1.96 * v.std(ddof=1) / (1.0 if geo else abs(v.mean()))
        need = (rel / 0.01) ** 2
        if need > worst:
            worst, name = need, q
    return ms, worst * ms / 1e3, name


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples-new", type=int, default=64)
    ap.add_argument("--samples-old", type=int, default=256)
    a = ap.parse_args()
    head = ("figure", "old ms", "old s to 1%", "new ms", "new s to 1%", "gain")
    print(f"{head[0]:26s} {head[1]:>8s} {head[2]:>12s} {head[3]:>8s} {head[4]:>12s} {head[5]:>6s}  widest (new)")
    for fid in FIGURES:
        spec = builtin_specs()[fid]
        new = jobs_for(spec).jobs[0].kernel
        old = dataclasses.replace(new, points=16 if new.quantity == "comp" else 32, **OLD)
        geo = spec.model == "typical-crlb-geo"
        ms_o, s_o, _ = _cost_to_1pct(old, a.samples_old, geo)
        ms_n, s_n, name = _cost_to_1pct(new, a.samples_new, geo)
        print(f"{fid:26s} {ms_o:8.1f} {s_o:12.1f} {ms_n:8.1f} {s_n:12.1f} {s_o / s_n:6.1f}  {name}")


if __name__ == "__main__":
    main()
