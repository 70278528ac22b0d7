"""Where a typical-point sample puts its points (isacnet.typical): the jittered grid, the RX shift of
"song", the PPP by ordered sampling, each against a slow twin or the law it claims."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from scipy.integrate import quad

from isacnet.comp_given import power_sum_rate
from isacnet.geometry import ordered_arrivals, ordered_ppp
from isacnet.meng import crlb_layout
from isacnet.params import MengParams, ParameterError, SongParams
from isacnet.sensing import song_fim
from isacnet.typical import PROCESSES, TypicalKernel, ppp_tail_interference, stratified_points


@pytest.mark.parametrize(("n", "box", "grid"), [(12, (3.0, 4.0), (3, 4)), (2048, (1.0, 1.0), (32, 64)),
                                               (7, (1.0, 1.0), (1, 7)), (1, (5.0, 2.0), (1, 1)),
                                               (18, (2.0, 1.0), (6, 3))])
def test_stratified_points_one_in_each_cell(n, box, grid):
    pts = stratified_points(np.random.default_rng(1), n, box)
    gx, gy = grid
    assert pts.shape == (n, 2)
    assert np.all((pts >= 0) & (pts < np.asarray(box)))
    cell = np.floor(pts / (box[0] / gx, box[1] / gy)).astype(int)
    assert sorted(map(tuple, cell)) == [(i, j) for i in range(gx) for j in range(gy)]  # each cell once


def test_stratified_points_are_uniform():
    """Pooled over draws, each coordinate of a point is uniform (KS), and so is its cell's offset."""
    rng = np.random.default_rng(2)
    pts = np.concatenate([stratified_points(rng, 12, (3.0, 4.0)) for _ in range(400)])
    assert stats.kstest(pts[:, 0] / 3.0, "uniform").pvalue > 1e-3
    assert stats.kstest(pts[:, 1] / 4.0, "uniform").pvalue > 1e-3
    assert stats.kstest(np.mod(pts[:, 0], 1.0), "uniform").pvalue > 1e-3


def test_ppp_tail_interference_is_the_integral():
    for rk, lam, alpha in ((50.0, 1e-5, 4.0), (3.0, 0.01, 2.5), (1000.0, 1e-6, 3.7)):
        ref = quad(lambda r: lam * 2 * math.pi * r * r ** -alpha, rk, math.inf, epsabs=0.0, epsrel=1e-12)[0]  # noqa: B023
        assert ppp_tail_interference(np.array([rk]), lam, alpha)[0] == pytest.approx(ref, rel=1e-9)


def test_ppp_tail_interference_against_a_disk_simulation():
    """E[sum of r^-alpha beyond the K-th nearest] of a PPP on a large disk (plus the analytic rest
    beyond the disk) against the mean of the conditional formula: the same expectation."""
    rng = np.random.default_rng(3)
    lam, alpha, K, R = 1.0, 4.0, 8, 40.0
    beyond, formula = [], []
    for _ in range(2000):
        m = rng.poisson(lam * math.pi * R * R)
        r = np.sort(R * np.sqrt(rng.random(m)))
        beyond.append((r[K:] ** -alpha).sum() + 2 * math.pi * lam * R ** (2 - alpha) / (alpha - 2))
        formula.append(ppp_tail_interference(r[K - 1:K], lam, alpha)[0])
    b, f = np.asarray(beyond), np.asarray(formula)
    se = math.hypot(b.std(ddof=1), f.std(ddof=1)) / math.sqrt(b.size)
    assert abs(b.mean() - f.mean()) <= 4 * se


def _first(kernel: TypicalKernel, seed: int) -> dict[str, float]:
    return {k: float(v[0]) for k, v in kernel(np.random.default_rng(seed), 1).items()}


def test_ordered_ppp_crlb_equals_per_point_twin():
    """The PPP is the first process drawn: its ppp_points typical layouts are the stream's first draws."""
    p = MengParams()
    k = TypicalKernel(p, "crlb", 5, points=8, ppp_points=12, n_sites=100, thresholds=(40.0, 90.0))
    got = _first(k, 4)
    _, xy = ordered_ppp(np.random.default_rng(4), 12, 5, p.bs_density)
    tr = np.array([float(crlb_layout(xy[i], np.zeros(2), p)) for i in range(12)])  # slow twin: per layout
    assert got["log_ppp"] == pytest.approx(np.log(tr).mean(), rel=1e-10)
    assert got["cov_ppp@0"] == np.mean(tr <= 40.0**2) and got["cov_ppp@1"] == np.mean(tr <= 90.0**2)


def test_ordered_ppp_song_equals_per_point_twin():
    p = SongParams(tx_density=1 / 900, rx_density=1 / 900)
    k = TypicalKernel(p, "song", 3, points=8, ppp_points=10, n_sites=100, epsilon=0.05)
    got = _first(k, 5)
    rng = np.random.default_rng(5)
    _, tx = ordered_ppp(rng, 10, 3, p.tx_density)
    _, rx = ordered_ppp(rng, 10, 3, p.rx_density)
    tr = np.array([np.trace(np.linalg.inv(song_fim(tx[i], rx[i], np.zeros(2), p))) for i in range(10)])
    assert got["log_ppp"] == pytest.approx(np.log(tr).mean(), rel=1e-9)
    assert got["cov_ppp"] == np.mean(tr <= 0.05**2)


def test_ordered_ppp_comp_equals_per_point_twin():
    from isacnet.analysis.meng_sensing import kappa_c

    p = MengParams()
    L, K = 2, 16
    k = TypicalKernel(p, "comp", L, points=4, ppp_points=6, n_sites=100, exact_sites=K, panels=10,
                      with_coverage=False)
    got = _first(k, 6)
    r = np.sqrt(ordered_arrivals(np.random.default_rng(6), 6, K) / (math.pi * p.bs_density))
    kap = float(kappa_c(p.resource_blocks, p.mu_c, L))
    rates = []
    for ri in r:
        tail = quad(lambda x: p.bs_density * 2 * math.pi * x ** (1 - p.alpha), ri[-1], math.inf,  # noqa: B023
                    epsabs=0.0, epsrel=1e-12)[0]
        rates.append(power_sum_rate(ri[None] ** -p.alpha, L, p.n_tx_antennas - 1, p.comm_power_fraction, kap,
                                    tail, panels=10)[0])
    assert got["rate_ppp"] == pytest.approx(np.mean(rates), rel=1e-9)


def test_stratified_points_narrow_a_smooth_mean():
    """The point of a jittered grid: for a smooth f the mean's variance falls far below 1/n's."""
    f = lambda xy: np.cos(2 * np.pi * xy[:, 0]) * np.sin(2 * np.pi * xy[:, 1]) + xy[:, 0] ** 2  # noqa: E731
    rng = np.random.default_rng(8)
    strat = [f(stratified_points(rng, 256, (1.0, 1.0))).mean() for _ in range(300)]
    plain = [f(rng.random((256, 2))).mean() for _ in range(300)]
    assert np.mean(strat) == pytest.approx(1 / 3, abs=4 * np.std(strat) / math.sqrt(300))
    assert np.var(plain) > 20 * np.var(strat)  # about 50 measured (a 16 x 16 grid)


def test_song_rx_shift_narrows_the_hexagonal_lattice():
    """Two hexagonal lattices: a sample's only randomness beside the points is the TX-RX offset,
    which the per-point RX shift of "stratified" sampling averages over (measured: 30-70x)."""
    p = SongParams(tx_density=1 / 900, rx_density=1 / 900)
    var = {}
    for s in ("stratified", "uniform"):
        t = TypicalKernel(p, "song", 2, epsilon=0.03, points=256, n_sites=100, sampling=s, ppp_points=1)
        var[s] = t(np.random.default_rng(7), 40)["log_hexagonal"].var(ddof=1)
    assert var["uniform"] > 5 * var["stratified"], var


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"sampling": "sobol"}, "sampling"), ({"ppp": "disk"}, "ppp"), ({"ppp_points": -1}, "ppp_points"),
    ({"quantity": "comp", "exact_sites": 101, "n_sites": 100}, "exact_sites"), ({"panels": 0}, "panels"),
    ({"near_points": -1}, "near_points"), ({"near_radius": 0.0}, "near_radius"), ({"near_radius": 1.5}, "near_radius"),
    ({"quantity": "comp", "near_points": 8}, "near_points"),
    ({"quantity": "song", "near_points": 8, "sampling": "uniform"}, "near_points"),
])
def test_bad_sampling_options_are_named(kwargs, name):
    params = SongParams(tx_density=1e-3, rx_density=1e-3) if kwargs.get("quantity") == "song" else MengParams()
    with pytest.raises(ParameterError, match=name):
        TypicalKernel(params, **{"quantity": "crlb", **kwargs})


def test_describe_names_the_sampling():
    d = TypicalKernel(MengParams(), "crlb", 4).describe()
    assert d["sampling"] == "stratified" and d["ppp"] == "ordered" and "jittered grid" in str(d["geometry"])
    assert set(PROCESSES) == set(d["processes"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- points near the sites


def _min_image_counts(x: np.ndarray, sites: np.ndarray, torus, r0: float) -> np.ndarray:
    """Slow twin of c(x): the sites within r0 of each point, every pair's minimum-image distance."""
    d = x[:, None, :] - sites[None, :, :]
    d -= np.asarray(torus) * np.round(d / np.asarray(torus))
    return (np.hypot(d[..., 0], d[..., 1]) <= r0).sum(axis=1)


def _slow_jittered(u: np.ndarray, rows: int) -> tuple[np.ndarray, np.ndarray]:
    """The stratified unit square of m points, rows x (m / rows) cells, row-major, from its uniforms."""
    m = len(u)
    i, j = np.arange(m) // (m // rows), np.arange(m) % (m // rows)
    return (i + u[:, 0]) / rows, (j + u[:, 1]) / (m // rows)


# (2, 1.0): both nearest within R0 at many points, c(x) by the ball query; (4, (0.1, 0.3)): two discs
@pytest.mark.parametrize(("n_bs", "rad", "rows"), [(4, 0.3, (8,)), (2, 1.0, (8,)), (4, (0.1, 0.3), (6, 6))])
def test_near_points_estimator_equals_its_slow_twin(n_bs, rad, rows):
    """One hexagonal sample with near points, recomputed point by point from the same random stream:
    the P grid points, the M points near uniformly chosen sites (offsets stratified in each disc:
    one uniform point in each equal-area cell of (rho^2 / R^2, angle / 2 pi)), c_k(x) by brute force,
    the weights (P + M) / (P + sum_k M_k c_k(x) |A| / (n pi R_k^2)), the coverage as the weighted
    mean, log from the grid."""
    from isacnet.deployment import generate

    p = MengParams(bs_density=1e-6)
    P, M, eps = 64, 96, 300.0
    radii = (rad,) if isinstance(rad, float) else rad
    k = TypicalKernel(p, "crlb", n_bs, epsilon=eps, points=P, near_points=M, near_radius=rad, n_sites=100,
                      ppp_points=4)
    rng = np.random.default_rng(21)
    # the PPP's draws come first: 4 stratified first arrivals, the later arrivals, the directions
    rng.random(4)
    rng.standard_exponential((4, n_bs - 1))
    rng.random((4, n_bs))
    dep = generate("hexagonal", p.bs_density, rng, n_sites=100)
    pts = stratified_points(rng, P, dep.torus)
    r0 = [r / math.sqrt(p.bs_density) for r in radii]
    mk = [M // len(radii)] * len(radii)
    site = rng.integers(0, len(dep.bs), M)
    offs = []
    for m, r, g in zip(mk, r0, rows, strict=True):
        u_r, u_t = _slow_jittered(rng.random((m, 2)), g)
        rho, phi = r * np.sqrt(u_r), 2 * math.pi * u_t
        offs.append(np.stack([rho * np.cos(phi), rho * np.sin(phi)], -1))
    extra = np.mod(dep.bs[site] + np.concatenate(offs), dep.torus)
    allp = np.concatenate([pts, extra])
    area = dep.torus[0] * dep.torus[1]
    dens = sum(m * _min_image_counts(allp, dep.bs, dep.torus, r) * area / (len(dep.bs) * math.pi * r**2)
               for m, r in zip(mk, r0, strict=True))
    assert np.all(dens[P:] > 0) and (n_bs == 4 or np.any(_min_image_counts(allp, dep.bs, dep.torus, r0[-1]) > n_bs))
    w = (P + M) / (P + dens)
    tr = []
    for x in allp:  # per point: the n_bs nearest sites by brute force, Meng's CRLB of that layout
        d = dep.bs - x
        d -= np.asarray(dep.torus) * np.round(d / np.asarray(dep.torus))
        near = d[np.argsort(np.hypot(d[:, 0], d[:, 1]))[:n_bs]]
        tr.append(float(crlb_layout(near, np.zeros(2), p)))
    tr = np.array(tr)
    got = _first(k, 21)
    assert 0 < got["cov_hexagonal"] < 1
    assert got["cov_hexagonal"] == pytest.approx(np.mean((tr <= eps**2) * w), rel=1e-12, abs=1e-15)
    assert got["log_hexagonal"] == pytest.approx(np.log(tr[:P]).mean(), rel=1e-10)
    assert got["wx_hexagonal"] == pytest.approx(w.mean() - 1.0, rel=1e-12, abs=1e-15)
    assert got["covw_hexagonal"] == pytest.approx(got["cov_hexagonal"] * got["wx_hexagonal"], rel=1e-15)


def _nearest_slow(x: np.ndarray, sites: np.ndarray, torus, k: int) -> np.ndarray:
    """The k nearest sites' minimum-image displacements from x, nearest first (brute force)."""
    d = sites - x
    d -= np.asarray(torus) * np.round(d / np.asarray(torus))
    return d[np.argsort(np.hypot(d[:, 0], d[:, 1]))[:k]]


def _disc_slow(rng, m: int, rows: int, r: float) -> np.ndarray:
    u_r, u_t = _slow_jittered(rng.random((m, 2)), rows)
    return np.stack([r * np.sqrt(u_r) * np.cos(2 * math.pi * u_t), r * np.sqrt(u_r) * np.sin(2 * math.pi * u_t)], -1)


def test_song_near_points_estimator_equals_its_slow_twin():
    """One hexagonal Song sample with near points, recomputed pair by pair from the same stream: P
    grid targets with their RX points at independent shifts; M_t targets near TX sites (two discs,
    stratified offsets) paired with jittered-grid RX points; M_r jittered-grid targets paired with RX
    points near RX sites; the weights (P + M) / (P + |A| sum_k (M_tk c_tk(x_t) + M_rk c_rk(x_r)) /
    (n pi R_k^2)) with the counts by brute force; log from the P grid targets."""
    from isacnet.deployment import generate

    p = SongParams(tx_density=1 / 900, rx_density=1 / 900)
    P, M, k_n, eps = 32, 48, 2, 0.03
    k = TypicalKernel(p, "song", k_n, epsilon=eps, points=P, near_points=M, near_radius=(0.1, 0.3), n_sites=100,
                      ppp_points=3)
    rng = np.random.default_rng(8)
    ordered_ppp(rng, 3, k_n, p.tx_density)  # the PPP's TXs and RXs come first
    ordered_ppp(rng, 3, k_n, p.rx_density)
    tx = generate("hexagonal", p.tx_density, rng, n_sites=100)
    pts = stratified_points(rng, P, tx.torus)
    rx = generate("hexagonal", p.rx_density, rng, n_sites=100)
    at = pts + rng.random(pts.shape) * rx.torus
    r0 = [0.1 * 30.0, 0.3 * 30.0]
    site = rng.integers(0, len(tx.bs), 24)
    t_near = np.mod(tx.bs[site] + np.concatenate([_disc_slow(rng, 12, 3, r0[0]), _disc_slow(rng, 12, 3, r0[1])]),
                    tx.torus)
    r_grid = stratified_points(rng, 24, rx.torus)
    t_grid = stratified_points(rng, 24, tx.torus)
    site = rng.integers(0, len(rx.bs), 24)
    r_near = np.mod(rx.bs[site] + np.concatenate([_disc_slow(rng, 12, 3, r0[0]), _disc_slow(rng, 12, 3, r0[1])]),
                    rx.torus)
    xt, xr = np.concatenate([pts, t_near, t_grid]), np.concatenate([at, r_grid, r_near])
    area = tx.torus[0] * tx.torus[1]
    dens = sum(12 * (_min_image_counts(xt, tx.bs, tx.torus, r) + _min_image_counts(xr, rx.bs, rx.torus, r))
               * area / (len(tx.bs) * math.pi * r**2) for r in r0)
    w = (P + M) / (P + dens)
    tr = np.array([np.trace(np.linalg.inv(song_fim(a + _nearest_slow(a, tx.bs, tx.torus, k_n),
                                                   a + _nearest_slow(b, rx.bs, rx.torus, k_n), a, p)))
                   for a, b in zip(xt, xr, strict=True)])
    got = _first(k, 8)
    assert 0 < got["cov_hexagonal"] < 1 and np.all(dens[P:] > 0)
    assert got["cov_hexagonal"] == pytest.approx(np.mean((tr <= eps**2) * w), rel=1e-10)
    assert got["log_hexagonal"] == pytest.approx(np.log(tr[:P]).mean(), rel=1e-10)
    assert got["wx_hexagonal"] == pytest.approx(w.mean() - 1.0, rel=1e-10, abs=1e-14)


def test_probe_kernel_is_the_same_computation_on_fewer_points():
    """The preflight tries a deployment kernel through probe_kernel(): every option kept, at most
    16 points of each kind, and outputs of the same names."""
    from isacnet.experiments.preflight import probe

    k = TypicalKernel(MengParams(), "crlb", 4, points=2048, near_points=1024, ppp_points=8192, n_sites=200,
                      thresholds=(30.0, 60.0))
    small = k.probe_kernel()
    assert (small.points, small.near_points, small.ppp_points) == (16, 16, 16)
    assert small.thresholds == k.thresholds and small.n_sites == 200 and small.near_radius == k.near_radius
    assert set(small(np.random.default_rng(0), 1)) == set(k.quantities)
    probe(k, MengParams(), {}, "here")  # runs the small one (fast) without error
