"""The NB acceptance law against the torus simulation of isacnet.load (no closed form inside).

- N = 1 (a request to its nearest BS): the NB law, NB(1 + a, a/(a + mu)) other requests with
  a = 1/v(1) = 3.569, within 4 standard errors, no allowance.
- N, L > 1: within 4 standard errors + MODEL_ERR, the NB law's measured worst error over the grid
  of docs/acceptance.md (the Gamma mixing matches two moments of the region's area, not its law).
- The second moment of a BS's load, E[D^2] = m + m^2 + mu^2 v(n, skip), checks the quadrature of
  the area variance v independently.
"""

from __future__ import annotations

import numpy as np
import pytest

from isacnet.analysis import acceptance as acc
from isacnet.analysis import meng_sensing as ms
from isacnet.load import simulate_acceptance
from isacnet.simulation.meng import ratio_estimate

MODEL_ERR = 0.006  # worst |NB - simulation| over the grid of docs/acceptance.md, rounded up


def _sim(fam, psi, mu, n, R, seed):
    rng = np.random.default_rng(seed)
    c = simulate_acceptance(rng, bs_density=1.0, point_density=mu, n_request=n if fam == "s" else n - 1,
                            capacity=psi if fam == "s" else psi - 1, n_realisations=R,
                            skip_nearest=0 if fam == "s" else 1)
    return ratio_estimate(c.accepted, c.requests)


def _closed(fam, psi, mu, n, variant="nb"):
    return float((ms.kappa_s if fam == "s" else ms.kappa_c)(psi, mu, n, variant))


@pytest.mark.parametrize(("psi", "mu", "R"), [(1, 1.0, 800), (5, 5.0, 300), (15, 15.0, 150)])
def test_nearest_bs_request_follows_the_nb_law(psi, mu, R):
    est = _sim("s", psi, mu, 1, R, seed=7000 + psi)
    nb = _closed("s", psi, mu, 1)
    assert abs(est.mean - nb) <= 4 * est.stderr, (est, nb)
    # the Poisson-load form is rejected (the test can fail)
    assert abs(est.mean - _closed("s", psi, mu, 1, "derived")) > 8 * est.stderr


@pytest.mark.parametrize(("fam", "psi", "mu", "n", "R"), [
    ("s", 15, 7.5, 2, 120), ("s", 15, 3.0, 5, 150), ("s", 5, 1.0, 5, 300),
    ("c", 15, 14.0, 2, 120), ("c", 15, 5.0, 4, 120), ("c", 5, 1.0, 5, 300),
])
def test_cluster_requests_fast_grid(fam, psi, mu, n, R):
    est = _sim(fam, psi, mu, n, R, seed=7100 + 100 * psi + 10 * n + int(mu) + 5 * (fam == "c"))
    nb = _closed(fam, psi, mu, n)
    assert abs(est.mean - nb) <= 4 * est.stderr + MODEL_ERR, (est, nb)


@pytest.mark.parametrize(("n", "skip", "mu"), [(1, 0, 10.0), (5, 0, 4.0), (1, 1, 10.0), (4, 1, 4.0)])
def test_load_second_moment_gives_the_area_variance(n, skip, mu):
    """Per torus: sum over BSs of D and D^2; E[D] = mu n exactly, E[D^2] = m + m^2 + mu^2 v."""
    rng = np.random.default_rng(8000 + 10 * n + skip)
    s1, s2, nb = [], [], []
    for _ in range(60):
        c = simulate_acceptance(rng, bs_density=1.0, point_density=mu, n_request=n, capacity=10**6,
                                n_realisations=2, skip_nearest=skip)
        k = np.arange(c.load_hist.size)
        s1.append(np.dot(k, c.load_hist))
        s2.append(np.dot(k * k, c.load_hist))
        nb.append(c.load_hist.sum())
    m = mu * n
    e1 = ratio_estimate(np.array(s1), np.array(nb))
    e2 = ratio_estimate(np.array(s2), np.array(nb))
    assert abs(e1.mean - m) <= 4 * e1.stderr
    want = m + m * m + mu * mu * float(acc.area_variance(n, skip))
    assert abs(e2.mean - want) <= 4 * e2.stderr, (e2, want)
    assert abs(e2.mean - (m + m * m)) > 4 * e2.stderr  # a Poisson load (v = 0) is rejected


PSI = (1, 5, 15)
MU = (0.5, 1.0, 2.0, 5.0, 10.0, 15.0)
SIZES = (1, 2, 3, 5, 10, 15, 20)
GRID = [(fam, psi, mu, n) for fam in ("s", "c") for psi in PSI for mu in MU if mu <= psi for n in SIZES
        if not (fam == "c" and (n == 1 or psi == 1))]


@pytest.mark.slow
@pytest.mark.parametrize(("fam", "psi", "mu", "n"), GRID)
def test_full_grid(fam, psi, mu, n):
    """The grid of docs/acceptance.md (other seeds): 4 se + MODEL_ERR everywhere."""
    req = n if fam == "s" else n - 1
    R = int(min(2000, max(100, 3e5 / (400 * mu * req))))
    est = _sim(fam, psi, mu, n, R, seed=9000 + 1000 * psi + 100 * n + int(10 * mu) + (fam == "c"))
    nb = _closed(fam, psi, mu, n)
    assert abs(est.mean - nb) <= 4 * est.stderr + MODEL_ERR, (est, nb)


def test_trivial_kappa_c_cells():
    """Exact without simulation: L = 1 sends nothing; psi = 1 leaves no block for cooperation."""
    assert ms.kappa_c(15, 3.0, 1) == 1.0
    assert np.all(ms.kappa_c(1, 3.0, np.array([2, 5, 20])) == 0.0)
