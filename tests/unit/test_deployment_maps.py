"""Deployments and maps: each map against a slow point-by-point twin, the processes against known laws."""

from __future__ import annotations

import math

import mpmath as mp
import numpy as np
import pytest
from scipy.integrate import quad

from isacnet import deployment as D
from isacnet import maps
from isacnet.comp_given import power_sum_coverage, power_sum_rate
from isacnet.meng import crlb_layout
from isacnet.params import MengParams, ParameterError, SongParams
from isacnet.sensing import song_crlb


def _grid_points(ds):
    X, Y = np.meshgrid(ds.x.values, ds.y.values)
    return np.stack([X, Y], -1)


def _min_image(sites, pt, torus):
    d = sites - pt
    if torus is not None:
        d -= np.asarray(torus) * np.round(d / np.asarray(torus))
    return d


# --------------------------------------------------------------------------- maps vs per-layout functions
@pytest.mark.parametrize("case", ["window", "torus", "large-torus", "large-window"])
def test_meng_map_equals_per_layout(case):
    """Also for deployments large enough (>= 512 sites) that Nearest narrows candidates per tile."""
    p = MengParams()
    dep = {"torus": lambda: D.ppp(2e-6, 3000.0, 5),
           "large-torus": lambda: D.ppp(1e-6, 40000.0, 6),
           "window": lambda: D.from_array(np.random.default_rng(3).uniform(0, 3000, (40, 2))),
           "large-window": lambda: D.from_array(np.random.default_rng(3).uniform(0, 30000, (900, 2)))}[case]()
    region = (-1500.0, 1500.0, -1000.0, 2000.0) if case.startswith("large") else None  # across the seam
    seen = []
    orig = maps.Nearest.query

    def spy(self, pts, k):
        seen.append(len(self.sites) >= self.LOCAL_MIN_SITES)
        return orig(self, pts, k)

    maps.Nearest.query = spy
    try:
        ds = maps.meng_crlb_map(dep, p, 5, (7, 6), region=region)
    finally:
        maps.Nearest.query = orig
    assert all(seen) == case.startswith("large")
    pts = _grid_points(ds)
    for j in range(pts.shape[0]):
        for i in range(pts.shape[1]):
            d = _min_image(dep.bs, pts[j, i], dep.torus)
            near = d[np.argsort(np.hypot(d[:, 0], d[:, 1]))[:5]]
            ref = crlb_layout(near + pts[j, i], pts[j, i], p)  # slow twin: the facade per point
            assert ds.crlb.values[j, i] == pytest.approx(float(ref), rel=1e-10)


def test_meng_map_expected_fim_and_sample():
    p = MengParams()
    dep = D.from_array(np.random.default_rng(4).uniform(0, 2000, (30, 2)))
    full = maps.meng_crlb_map(dep, p, 6, 5)
    one = maps.meng_crlb_map(dep, p, 6, 5, kappa=1.0, acceptance="expected-fim")
    np.testing.assert_allclose(one.crlb, full.crlb, rtol=1e-12)
    # expected FIM by brute force over all 2^6 acceptance patterns at one point
    kap = 0.6
    ef = maps.meng_crlb_map(dep, p, 6, 5, kappa=kap, acceptance="expected-fim")
    pt = _grid_points(ef)[2, 3]
    d = dep.bs - pt
    near = dep.bs[np.argsort(np.hypot(d[:, 0], d[:, 1]))[:6]]
    from isacnet.meng import fim_layout

    F = np.zeros((2, 2))
    for mask in range(1, 64):
        keep = np.array([(mask >> b) & 1 for b in range(6)], bool)
        F += kap ** keep.sum() * (1 - kap) ** (6 - keep.sum()) * fim_layout(near[keep], pt, p)
    assert ef.crlb.values[2, 3] == pytest.approx(np.trace(np.linalg.inv(F)), rel=1e-9)
    s = maps.meng_crlb_map(dep, p, 6, 5, kappa=kap, acceptance="sample", rng=1)
    assert np.all((s.crlb.values >= full.crlb.values * (1 - 1e-12)) | np.isinf(s.crlb.values))


def test_song_map_equals_per_layout():
    ps = SongParams()
    rng = np.random.default_rng(7)
    dep = D.from_array(rng.uniform(0, 300, (20, 2)), tx=rng.uniform(0, 300, (12, 2)), rx=rng.uniform(0, 300, (9, 2)))
    ds = maps.song_crlb_map(dep, ps, (5, 4), n_tx=6, n_rx=None)
    assert ds.tx_x.size == 12 and ds.rx_y.size == 9
    pts = _grid_points(ds)
    for j in range(pts.shape[0]):
        for i in range(pts.shape[1]):
            pt = pts[j, i]
            tx = dep.tx[np.argsort(np.hypot(*(dep.tx - pt).T))[:6]]
            assert ds.crlb.values[j, i] == pytest.approx(float(song_crlb(tx, dep.rx, pt, ps)), rel=1e-10)


def test_excluded_points_are_counted():
    dep = D.from_array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0]])
    ds = maps.meng_crlb_map(dep, MengParams(), 3, 11, region=(0, 10, 0, 10))
    assert ds.attrs["n_excluded"] == 3 and int(ds.excluded.sum()) == 3
    assert np.isnan(ds.crlb.values[0, 0]) and np.isfinite(ds.crlb.values[5, 5])


# --------------------------------------------------------------------------- CoMP closed forms
def _mc_comp(w, L, m, pc, kap, T, thetas, n, seed):
    rng = np.random.default_rng(seed)
    G = rng.gamma(m, pc, (n, L))
    E = rng.standard_exponential((n, w.size))
    acc = rng.random((n, L - 1)) < kap
    S = G[:, 0] * w[0] + np.where(acc, G[:, 1:] * w[1:L], 0).sum(1)
    I_ = np.where(acc, 0, E[:, 1:L] * w[1:L]).sum(1) + (E[:, L:] * w[L:]).sum(1) + T
    return np.log1p(S / I_), [(S > t * I_) for t in thetas]


def test_comp_closed_forms_against_monte_carlo():
    rng = np.random.default_rng(1)
    w = np.sort(rng.uniform(1, 10, 12))[::-1] ** 2.0 * 1e-3
    w = (np.sort(rng.uniform(1, 10, 12)) ** -4.0)
    L, m, pc, kap, T = 3, 3, 0.5, 0.6, 0.002
    n = 200_000
    r, covs = _mc_comp(w, L, m, pc, kap, T, (0.1, 1.0, 10.0), n, 2)
    rc = power_sum_rate(w[None], L, m, pc, kap, T)[0]
    assert abs(rc - r.mean()) <= 4 * r.std() / math.sqrt(n)
    for th, c in zip((0.1, 1.0, 10.0), covs, strict=True):
        cc = power_sum_coverage(w[None], L, m, pc, kap, th, T)[0]
        assert abs(cc - c.mean()) <= 4 * c.std() / math.sqrt(n) + 1e-6


def test_comp_single_bs_exact():
    """L = 1: P(G w_1 > theta I) = sum_{n<m} (-s)^n / n! L_I^(n)(s), s = theta / (p^c w_1) (mpmath)."""
    w = np.array([1.0, 0.3, 0.2, 0.05, 0.01])
    m, pc, T = 3, 0.5, 0.004
    LI = lambda z: mp.exp(-z * T) * mp.fprod([1 / (1 + z * x) for x in w[1:]])  # noqa: E731
    for th in (0.2, 1.0, 5.0):
        s = th / (pc * w[0])
        exact = sum((-s) ** k / mp.factorial(k) * mp.diff(LI, s, k) for k in range(m))
        assert power_sum_coverage(w[None], 1, m, pc, 0.5, th, T)[0] == pytest.approx(float(exact), abs=1e-8)
    rate = mp.quad(lambda z: LI(z) * (1 - (1 + z * pc * w[0]) ** (-m)) / z, [0, 1, 10, 100, mp.inf])
    assert power_sum_rate(w[None], 1, m, pc, 0.5, T)[0] == pytest.approx(float(rate), rel=1e-7)


def test_comp_map_tail_and_pointwise():
    p = MengParams()
    dep = D.from_array(np.random.default_rng(9).uniform(0, 5000, (30, 2)))
    ds = maps.comp_map(dep, p, 2, 3, k_nearest=8, kappa_c=0.7, thresholds_db=(3.0,))
    pts = _grid_points(ds)
    pt = pts[1, 2]
    d = np.sort(np.hypot(*(dep.bs - pt).T))
    w = d ** -p.alpha
    T = w[8:].sum()
    assert ds.rate_nats.values[1, 2] == pytest.approx(power_sum_rate(w[None, :8], 2, 3, p.comm_power_fraction,
                                                                      0.7, T)[0], rel=1e-9)
    cov = power_sum_coverage(w[None, :8], 2, 3, p.comm_power_fraction, 0.7, 10 ** 0.3, T)[0]
    assert ds.coverage.values[0, 1, 2] == pytest.approx(cov, rel=1e-9)


def test_outside_rectangle_integral():
    # square: the closed form of simulation.meng_rate.outside_square_integral (its own derivation)
    from isacnet.simulation.meng_rate import outside_square_integral

    assert maps.outside_rectangle_integral(300.0, 300.0, 4.0) == pytest.approx(outside_square_integral(300.0, 4.0),
                                                                               rel=1e-10)


# --------------------------------------------------------------------------- processes
def test_hexagonal_lattice_distances():
    lam = 1e-6
    dep = D.hexagonal(lam, 12)
    a = D.hex_spacing(lam)
    assert dep.n_sites / (dep.torus[0] * dep.torus[1]) == pytest.approx(lam, rel=1e-12)
    near = maps.Nearest(dep.bs, dep.torus)
    _, _, dist = near.query(dep.bs, 7)  # itself and its six neighbours at distance a
    np.testing.assert_allclose(dist[:, 0], 0.0, atol=1e-6)
    np.testing.assert_allclose(dist[:, 1:], a, rtol=1e-9)
    # contact distance of a uniform point: E[r] = (1/|H|) int_H r dA over the Voronoi hexagon (apothem a/2)
    h = a / 2
    er = 12 * quad(lambda f: (h / math.cos(f)) ** 3 / 3, 0, math.pi / 6)[0] / (2 * math.sqrt(3) * h * h)
    pts = np.random.default_rng(0).random((200_000, 2)) * dep.torus
    _, _, r = near.query(pts, 1)
    assert abs(r.mean() - er) <= 4 * r.std() / math.sqrt(len(r))
    assert er == pytest.approx((a / math.sqrt(3)) * (1 / 3 + math.log(3) / 4), rel=1e-12)


def test_matern_ii_intensity():
    lam_p, r, side = 4e-6, 300.0, 6000.0
    counts = [D.matern_ii(lam_p, r, side, np.random.default_rng(s)).n_sites for s in range(60)]
    dens = np.array(counts) / side**2
    expected = (1 - math.exp(-lam_p * math.pi * r * r)) / (math.pi * r * r)
    assert abs(dens.mean() - expected) <= 4 * dens.std(ddof=1) / math.sqrt(len(dens))
    dep = D.matern_ii(lam_p, r, side, 1)
    _, _, d = maps.Nearest(dep.bs, dep.torus).query(dep.bs, 2)
    assert d[:, 1].min() >= r  # hard core
    assert D.matern_ii_parent_density(expected, r) == pytest.approx(lam_p, rel=1e-12)


def test_generators_are_seeded():
    for proc in D.GENERATORS:
        a, b = D.generate(proc, 1e-6, 11), D.generate(proc, 1e-6, 11)
        np.testing.assert_array_equal(a.bs, b.bs)
        assert a.torus is not None and a.density == pytest.approx(1e-6, rel=0.05)


# --------------------------------------------------------------------------- files and bad inputs
def test_csv_and_geojson(tmp_path):
    f = tmp_path / "s.csv"
    f.write_text("# sites\nx,y,role\n0,0,bs\n100,0,tx\n0,100,rx\n50,50\n")
    dep = D.load_sites(f)
    assert dep.n_sites == 2 and dep.tx.shape == (1, 2) and dep.rx.shape == (1, 2)
    pytest.importorskip("pyproj", reason="lon/lat files need the geo extra (pyproj)")
    g = tmp_path / "s.geojson"
    g.write_text('{"type": "FeatureCollection", "features": ['
                 '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.35, 48.85]}},'
                 '{"type": "Feature", "geometry": {"type": "Point", "coordinates": [2.36, 48.85]}}]}')
    dep = D.load_sites(g)
    # 0.01 deg of longitude at 48.85 N: 111.32 km * cos(48.85 deg) * 0.01 ~ 733 m
    assert np.hypot(*(dep.bs[0] - dep.bs[1])) == pytest.approx(733.0, rel=5e-3)


@pytest.mark.parametrize(
    "text, match",
    [("x,y\n0,0\nnan,1\n", "line 3"), ("x,y\n0,0\n0,0\n", "duplicate"), ("a,b\n0,0\n", "header"),
     ("x,y,role\n0,0,foo\n", "role"), ("x,y\n0,zero\n", "line 2"),
     ("# c\nx,y\n# c\n1,2\n3,4\n1,2\n", "lines 4 and 6"), ("x,y\n1,2\n\n# c\n5,inf\n", "line 5")],
)
def test_bad_site_files(tmp_path, text, match):
    f = tmp_path / "bad.csv"
    f.write_text(text)
    with pytest.raises(ParameterError, match=match) as e:
        D.load_sites(f)
    assert str(f) in str(e.value) and "\n" not in str(e.value)


def test_bad_map_inputs(tmp_path):
    f = tmp_path / "few.csv"
    f.write_text("x,y\n0,0\n10,0\n0,10\n")
    dep = D.load_sites(f)
    with pytest.raises(ParameterError, match=f"N = 8 is invalid: must be <= 3, the number of BSs in {f}"):
        maps.meng_crlb_map(dep, MengParams(), 8, 16)
    with pytest.raises(ParameterError, match="resolution"):
        maps.meng_crlb_map(dep, MengParams(), 3, 31623)  # 1e9 points
    with pytest.raises(ParameterError, match="sites"):
        D.load_sites(tmp_path / "missing.csv")
    with pytest.raises(ParameterError, match="acceptance"):
        maps.meng_crlb_map(dep, MengParams(), 3, 4, acceptance="all")
    with pytest.raises(ParameterError, match="jt"):
        power_sum_rate(np.ones((1, 3)), 1, 3, 0.5, 1.0, jt="coherent")
    with pytest.raises(ParameterError, match="radius"):
        D.matern_ii_parent_density(1e-6, 1000.0)


# --------------------------------------------------------------------------- PPP maps against ordered sampling
def test_ppp_maps_average_to_the_ppp_monte_carlo():
    """Maps of torus PPP deployments, averaged over deployments, against the ordered-sampling kernel.

    One sample per deployment (the mean over a 4 x 4 grid of its map), so samples are i.i.d.
    """
    from isacnet.simulation.meng import MengCrlbKernel

    p, N, t = MengParams(), 4, 1.2e4
    k = MengCrlbKernel(p, N, thresholds=(t,))(np.random.default_rng(1), 200_000)
    cov_ref, log_ref = k["cdf_0"], k["log_crlb"]
    cov, logc = [], []
    for s in range(300):
        ds = maps.meng_crlb_map(D.ppp(p.bs_density, 20000.0, 1000 + s), p, N, 4)
        cov.append(float((ds.crlb <= t).mean()))
        logc.append(float(np.log(ds.crlb).mean()))
    for a, b in ((np.array(cov), cov_ref), (np.array(logc), log_ref)):
        se = math.hypot(a.std(ddof=1) / math.sqrt(a.size), b.std() / math.sqrt(b.size))
        assert abs(a.mean() - b.mean()) <= 4 * se, (a.mean(), b.mean(), se)


def test_map_command_writes_files(tmp_path):
    from importlib.resources import files

    from isacnet.cli import run_cli

    sites = str(files("isacnet") / "data" / "example_sites.csv")
    assert run_cli(["map", "--sites", sites, "-n", "6", "--resolution", "40", "--out", str(tmp_path)]) == 0
    import xarray as xr

    with xr.open_dataset(tmp_path / "map-crlb.nc", engine="h5netcdf") as ds:
        assert ds.crlb.shape == (40, 40) and ds.x.attrs["units"] == "m" and ds.attrs["n_sites"] == 36
    assert (tmp_path / "map-crlb.png").stat().st_size > 0
    assert run_cli(["map", "--sites", sites, "-n", "99", "--out", str(tmp_path)]) == 2


@pytest.mark.parametrize("doc", ['{"type": "FeatureCollection", "features": [1, 2]}',
                                 '{"type": "FeatureCollection", "features": []}',
                                 '{"features": [{"geometry": {"type": "Point", "coordinates": [null, 1]}}]}',
                                 '[1, 2', '{"type": "FeatureCollection", "features": '
                                 '[{"geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}}]}'])
def test_bad_geojson(tmp_path, doc):
    f = tmp_path / "bad.geojson"
    f.write_text(doc)
    with pytest.raises(ParameterError) as e:
        D.load_sites(f)
    assert str(f) in str(e.value)


def test_delay_aoa_map_equals_per_layout():
    from isacnet.estimation.model import crlb_delay_aoa

    ps = SongParams()
    rng = np.random.default_rng(8)
    dep = D.from_array(rng.uniform(0, 200, (15, 2)))
    ds = maps.song_crlb_map(dep, ps, (4, 3), n_tx=5, n_rx=5, aoa=True)
    pts = _grid_points(ds)
    for j, i in ((0, 0), (1, 2), (2, 3)):
        pt = pts[j, i]
        near = dep.bs[np.argsort(np.hypot(*(dep.bs - pt).T))[:5]]
        assert ds.crlb_delay_aoa.values[j, i] == pytest.approx(float(crlb_delay_aoa(near, near, pt, ps)), rel=1e-10)
        assert ds.crlb_delay_aoa.values[j, i] <= ds.crlb.values[j, i]  # more information, lower bound


def test_maps_invariant_under_translation_and_quarter_turn():
    p = MengParams()
    bs = np.random.default_rng(12).uniform(0, 3000, (25, 2))
    region = (500.0, 2500.0, 400.0, 2400.0)
    a = maps.meng_crlb_map(D.from_array(bs), p, 4, 9, region)
    shift = np.array([1e4, -2e4])
    b = maps.meng_crlb_map(D.from_array(bs + shift), p, 4, 9,
                           (region[0] + shift[0], region[1] + shift[0], region[2] + shift[1], region[3] + shift[1]))
    np.testing.assert_allclose(b.crlb, a.crlb, rtol=1e-9)
    # (x, y) -> (y, x) is a reflection: the CRLB's trace is unchanged, the map transposed
    c = maps.meng_crlb_map(D.from_array(bs[:, ::-1]), p, 4, 9, (region[2], region[3], region[0], region[1]))
    np.testing.assert_allclose(c.crlb.values.T, a.crlb.values, rtol=1e-9)


def test_heatmaps_of_every_map(tmp_path):
    from isacnet.plotting_maps import save_map

    p = MengParams()
    dep = D.generate("hexagonal", 1e-6, 3, n_sites=64)
    for ds, name in ((maps.meng_crlb_map(dep, p, 4, 24), "crlb"),
                     (maps.comp_map(dep, p, 2, 12, thresholds_db=(0.0, 5.0), k_nearest=16), "comp"),
                     (maps.song_crlb_map(dep, SongParams(), 12, n_tx=4, n_rx=4, aoa=True), "song"),
                     (maps.song_crlb_map(D.from_array(dep.bs, tx=dep.bs[::2], rx=dep.bs[1::2]), SongParams(), 12,
                                         n_tx=4, n_rx=4), "song-sets")):
        out = save_map(ds, tmp_path / f"{name}.png")
        assert out.stat().st_size > 1000


@pytest.mark.parametrize("metric, var", [("song-crlb", "crlb"), ("coverage", "coverage"), ("rate", "rate_bits")])
def test_map_command_generated_networks(tmp_path, metric, var):
    from isacnet.cli import run_cli

    args = ["map", "--process", "hexagonal", "--metric", metric, "-n", "2", "--resolution", "8",
            "--threshold-db", "3", "--out", str(tmp_path)]
    assert run_cli(args) == 0
    import xarray as xr

    with xr.open_dataset(tmp_path / f"map-{metric}.nc", engine="h5netcdf") as ds:
        assert var in ds and np.isfinite(ds[var].values).all()


def test_coverage_quadrature_converges_for_heavy_tails():
    """alpha = 2.5 (slowly decaying interference): the adaptive rule against a 512-panel reference."""
    from isacnet.geometry import ordered_arrivals

    g = ordered_arrivals(np.random.default_rng(3), 12, 64)
    alpha = 2.5
    w, T = g ** (-alpha / 2), 2 * g[:, -1] ** (1 - alpha / 2) / (alpha - 2)
    for L, kap, th in ((1, 0.5, 1.0), (10, 1.0, 100.0)):
        c, e = power_sum_coverage(w, L, 3, 0.5, kap, th, T, return_error=True)
        ref = power_sum_coverage(w, L, 3, 0.5, kap, th, T, panels=512, tol=1.0)
        assert np.all(e <= 1e-6)
        np.testing.assert_allclose(c, ref, atol=1e-6)


def test_map_command_jt_models(tmp_path):
    """--jt reaches the CoMP map (its attrs say which model and how fading was averaged); a JT
    model on a sensing map, or an unknown one, is one clear line before any work."""
    import xarray as xr

    from isacnet.cli import run_cli

    base = ["map", "--process", "hexagonal", "-n", "2", "--resolution", "6", "--threshold-db", "3",
            "--out", str(tmp_path)]
    assert run_cli([*base, "--metric", "coverage", "--jt", "coherent", "--n-fading", "64"]) == 0
    with xr.open_dataset(tmp_path / "map-coverage.nc", engine="h5netcdf") as ds:
        assert ds.attrs["jt"] == "coherent" and "Monte Carlo" in ds.attrs["fading_average"]
        assert np.isfinite(ds["coverage"].values).any()
    assert run_cli([*base, "--metric", "crlb", "--jt", "coherent"]) == 2
    assert run_cli([*base, "--metric", "rate", "--jt", "phase-locked"]) == 2


def test_duplicate_sites_found_like_a_pairwise_comparison():
    """check_sites' sort-based duplicate test against the obvious O(n^2) twin: same verdict and
    the same rows named, on random sets with and without planted duplicates (-0.0 == 0.0 too)."""
    from isacnet.deployment import check_sites

    rng = np.random.default_rng(11)
    for trial in range(60):
        n = int(rng.integers(1, 40))
        a = np.round(rng.uniform(-5, 5, (n, 2)), int(rng.integers(0, 3)))  # coarse grids: natural duplicates
        if trial % 3 == 0 and n > 1:
            a[rng.integers(n)] = a[rng.integers(n)]
        if trial == 1:
            a = np.array([[0.0, 1.0], [-0.0, 1.0]])
        pairs = [(i, j) for i in range(len(a)) for j in range(i + 1, len(a)) if np.all(a[i] == a[j])]
        if not pairs:
            np.testing.assert_array_equal(check_sites(a, "bs"), a)
            continue
        with pytest.raises(ParameterError, match="duplicate position") as exc:
            check_sites(a, "bs")
        dup_rows = [int(r) for r in str(exc.value).split("at rows [")[1].split("]")[0].split(",")]
        assert len(dup_rows) >= 2 and all(np.all(a[r] == a[dup_rows[0]]) for r in dup_rows)
        assert any(i in dup_rows and j in dup_rows for i, j in pairs)
