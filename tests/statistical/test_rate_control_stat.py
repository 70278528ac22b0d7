"""The rate's control variate (issue 18) by Monte Carlo: its mean is 0, the control-variate rate
agrees with Theorem 2 (exact variant; an independent check, as the control's mean is elementary:
tests/unit/test_rate_control.py), and it removes most of the variance. numpy and numba backends.

Tolerances: |mc - exact| <= 4.5 stderr + the mean tail's bias budget (TAIL_BIAS of
tests/statistical/test_meng_rate_sim.py)."""

from __future__ import annotations

import importlib.util

import pytest

from isacnet.analysis.meng_rate import rate
from isacnet.experiments.runner import estimate
from isacnet.meng import rate_kernel
from isacnet.params import MengParams
from isacnet.simulation.statistics import control_variate

Z, TAIL_BIAS = 4.5, 1e-4
GRID = [(4, 0.4, 4.0, 1), (4, 0.1, 4.0, 8), (2, 0.7, 3.0, 3), (6, 0.4, 3.5, 20)]


def _check(p: MengParams, L: int, backend: str, seed: int) -> float:
    r = estimate(rate_kernel(p, L, backend=backend), 100_000, seed=seed)
    x = r["cv_x"]
    assert abs(x.mean) <= Z * x.stderr, x  # E[X - E X] = 0
    cv = control_variate(r["rate_nats"], x, r["cv_rate_x"])
    exact = float(rate(L, p, variant="exact", unit="nats"))
    assert abs(cv.mean - exact) <= Z * cv.stderr + TAIL_BIAS * exact, (cv, exact)
    return (cv.stderr / r["rate_nats"].stderr) ** 2


@pytest.mark.parametrize("mt,ps,alpha,L", GRID)
def test_control_variate_rate_against_theorem2(mt, ps, alpha, L):
    ratio = _check(MengParams(n_tx_antennas=mt, sensing_power_fraction=ps, alpha=alpha), L, "numpy", 71 + L)
    assert ratio < 0.5, ratio  # at least half the variance removed (measured 0.08-0.3 on Fig. 4's grid)


@pytest.mark.skipif(importlib.util.find_spec("numba") is None, reason="numba is not installed (optional backend)")
def test_numba_backend_control_variate():
    ratio = _check(MengParams(sensing_power_fraction=0.4), 5, "numba", 75)
    assert ratio < 0.5, ratio
