"""Maps over a region for a given :class:`~isacnet.deployment.Deployment`, vectorised over a grid.

Every map evaluates a per-layout quantity at each grid point, with the layout made of the sites
nearest that point (found by a KD-tree, :class:`scipy.spatial.cKDTree`, with periodic distances
on a torus): the cost per grid point is O(log n_sites + N), not O(n_sites). The grid is processed
in chunks of :data:`CHUNK_POINTS` points, so memory stays bounded whatever the resolution.

* :func:`meng_crlb_map` -- tr(F^-1) of Meng (5)-(6) with the N nearest BSs, optionally with
  acceptance (the expected FIM, or sampled acceptance);
* :func:`song_crlb_map` -- tr(S^-1) of Song (15)-(18) with the nearest TXs and RXs (or all), and
  with ``aoa=True`` the delay+AoA bound of :func:`isacnet.estimation.model.crlb_delay_aoa`;
* :func:`comp_map` -- the CoMP power-sum rate (9) and coverage P(SIR > theta) of (8) with the L
  nearest BSs, averaged over fading and acceptance in closed form (:mod:`isacnet.comp_given`).

Each returns an :class:`xarray.Dataset` with coordinates ``x``, ``y`` [m], the sites as
``site_x``, ``site_y``, units in the variables' attrs and the deployment in the Dataset's attrs.
Grid points closer than ``min_distance`` (default 1 m, the reference distance of the path-loss
laws) to a site are outside the models' far-field validity: they get NaN and are counted in
``attrs["n_excluded"]`` and marked by the variable ``excluded``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
import xarray as xr

from .deployment import Deployment
from .params import MengParams, ParameterError, SongParams, check_int, check_real
from .sensing import direction_sums, fim_from_direction_sums, song_crlb, trace_inverse_2x2

__all__ = [
    "MAX_GRID_POINTS", "Nearest", "comp_map", "make_grid", "meng_crlb_chunk", "meng_crlb_map",
    "outside_rectangle_integral", "song_crlb_map",
]

MAX_GRID_POINTS = 1 << 26
"""Largest grid (about 6.7e7 points, 8192 x 8192): every output variable is one float64 a point."""
CHUNK_POINTS = 1 << 14
"""Grid points per chunk: the (chunk, N) work arrays stay in cache."""


# --------------------------------------------------------------------------- grid
def make_grid(deployment: Deployment, resolution=256, region=None, margin: float | None = None):
    """Grid coordinates (x, y) [m] over ``region`` (xmin, xmax, ymin, ymax) or the deployment.

    Parameters
    ----------
    resolution : int or (int, int)
        Points along x and y (>= 2 each); at most :data:`MAX_GRID_POINTS` in all.
    region : (float, float, float, float), optional
        Default: the torus of a generated deployment, else the sites' bounding box plus ``margin``
        (default 10 % of its larger side).

    Returns
    -------
    x : ndarray, shape (nx,), y : ndarray, shape (ny,)
    """
    if isinstance(resolution, int | np.integer) and not isinstance(resolution, bool):
        res = (int(resolution), int(resolution))
    else:
        try:
            res = tuple(resolution)
        except TypeError:
            raise ParameterError("resolution", resolution, "an integer >= 2 or (nx, ny)") from None
    if len(res) != 2:
        raise ParameterError("resolution", resolution, "an integer >= 2 or (nx, ny)")
    nx, ny = (check_int(f"resolution[{i}]", v, ge=2) for i, v in enumerate(res))
    if nx * ny > MAX_GRID_POINTS:
        raise ParameterError("resolution", f"{nx} x {ny} = {nx * ny:.3g} points",
                             f"a grid of at most {MAX_GRID_POINTS} points (8192 x 8192)")
    if region is None:
        if deployment.torus is not None:
            lx, ly = deployment.torus
            # cell centres of the torus: every point once, none on the seam twice
            return (np.arange(nx) + 0.5) * lx / nx, (np.arange(ny) + 0.5) * ly / ny
        x0, x1, y0, y1 = deployment.bounds()
        mg = 0.1 * max(x1 - x0, y1 - y0, 1.0) if margin is None else check_real("margin", margin, ge=0.0)
        region = (x0 - mg, x1 + mg, y0 - mg, y1 + mg)
    try:
        r = [check_real(f"region[{i}]", v) for i, v in enumerate(region)]
    except TypeError:
        raise ParameterError("region", region, "(xmin, xmax, ymin, ymax) [m]") from None
    if len(r) != 4 or not (r[1] > r[0] and r[3] > r[2]):
        raise ParameterError("region", region, "(xmin, xmax, ymin, ymax) [m] with xmax > xmin and ymax > ymin")
    return np.linspace(r[0], r[1], nx), np.linspace(r[2], r[3], ny)


def _chunks(x: np.ndarray, y: np.ndarray, size: int = CHUNK_POINTS) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(flat indices, points (G, 2)) of the grid, in square tiles of about ``size`` points.

    Tiles (not rows) keep each chunk's points close together, so that :meth:`Nearest.query`
    needs only the few sites around the tile (flat index = iy * nx + ix).
    """
    side = max(1, int(math.isqrt(size)))
    for j0 in range(0, y.size, side):
        for i0 in range(0, x.size, side):
            jj, ii = np.meshgrid(np.arange(j0, min(j0 + side, y.size)), np.arange(i0, min(i0 + side, x.size)),
                                 indexing="ij")
            flat = (jj * x.size + ii).ravel()
            yield flat, np.stack([x[ii.ravel()], y[jj.ravel()]], axis=-1)


class Nearest:
    """The k nearest sites of query points, by a KD-tree (periodic on a torus).

    ``query(pts, k)`` returns the displacements point -> site (dx, dy) and distances, each of
    shape (G, k), nearest first (minimum-image displacements on a torus). For a compact set of
    points (a tile) of a large deployment, the candidates are first narrowed to the sites within
    d_k(c) + 2 max |p - c| of the tile's centre c (the k nearest of p lie within
    d_k(p) <= d_k(c) + |p - c| of p, so within d_k(c) + 2 |p - c| of c), and the query runs on
    a small tree of those: the cost per point does not grow with the number of sites.
    """

    LOCAL_MIN_SITES = 512

    def __init__(self, sites: np.ndarray, torus: tuple[float, float] | None = None):
        from scipy.spatial import cKDTree

        self.sites, self.torus = np.asarray(sites, float), torus
        self.tree = cKDTree(self.sites, boxsize=None if torus is None else torus)

    def _wrap(self, d: np.ndarray) -> np.ndarray:
        if self.torus is not None:
            box = np.asarray(self.torus)
            d = d - box * np.round(d / box)
        return d

    def query(self, pts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        from scipy.spatial import cKDTree

        q = pts if self.torus is None else np.mod(pts, self.torus)
        cand = None
        if len(self.sites) >= self.LOCAL_MIN_SITES and len(pts) > 1:
            c = q[0] + self._wrap(q - q[0]).mean(axis=0)
            reach = np.hypot(*self._wrap(q - c).T).max()
            dk = self.tree.query(c if self.torus is None else np.mod(c, self.torus), k=k)[0]
            idx_c = np.asarray(self.tree.query_ball_point(c if self.torus is None else np.mod(c, self.torus),
                                                          float(np.max(dk)) + 2.0 * reach * (1 + 1e-9) + 1e-6))
            if idx_c.size >= k and idx_c.size < len(self.sites) // 2:
                cand = idx_c
        if cand is None:
            dist, idx = self.tree.query(q, k=k)
            dist, idx = np.reshape(dist, (len(pts), k)), np.reshape(idx, (len(pts), k))
            d = self._wrap(self.sites[idx] - q[:, None, :])
            return d[..., 0], d[..., 1], dist
        # local frame around the tile's first point: unwrapped candidates and points
        base = q[0]
        local_sites = self._wrap(self.sites[cand] - base)
        local_pts = self._wrap(q - base)
        dist, idx = cKDTree(local_sites).query(local_pts, k=k)
        dist, idx = np.reshape(dist, (len(pts), k)), np.reshape(idx, (len(pts), k))
        d = local_sites[idx] - local_pts[:, None, :]
        return d[..., 0], d[..., 1], dist


def _check_count(k: int, available: int, name: str, dep: Deployment, what: str = "sites") -> int:
    k = check_int(name, k, ge=1)
    if k > available:
        raise ParameterError(name, k, f"<= {available}, the number of {what} in {dep.source}")
    return k


def _dataset(x, y, values: dict, dep: Deployment, attrs: dict, excluded: np.ndarray) -> xr.Dataset:
    shape = (y.size, x.size)
    data = {name: (("y", "x"), np.reshape(v, shape), a) for name, (v, a) in values.items()}
    data["excluded"] = (("y", "x"), np.reshape(excluded, shape),
                        {"long_name": "grid point within min_distance of a site (values NaN)"})
    ds = xr.Dataset(data, coords={"x": ("x", x, {"units": "m"}), "y": ("y", y, {"units": "m"})})
    ds["site_x"] = ("site", dep.bs[:, 0], {"units": "m"})
    ds["site_y"] = ("site", dep.bs[:, 1], {"units": "m"})
    for role in ("tx", "rx"):  # Song's TX and RX sets, where given apart from the BSs
        a = getattr(dep, role)
        if a is not None:
            ds[f"{role}_x"] = (role, a[:, 0], {"units": "m"})
            ds[f"{role}_y"] = (role, a[:, 1], {"units": "m"})
    ds.attrs.update(dep.attrs() | attrs | {"n_excluded": int(np.count_nonzero(excluded))})
    return ds


def _min_distance(value) -> float:
    return check_real("min_distance", value, gt=0.0)


# --------------------------------------------------------------------------- Meng CRLB
ACCEPTANCE = (None, "expected-fim", "sample")


def meng_crlb_chunk(dx, dy, dist, params: MengParams, kappa: float = 1.0, acceptance=None, rng=None):
    """tr(F^-1) [m^2] of Meng (5) for one chunk of targets with given BS displacements.

    Parameters
    ----------
    dx, dy, dist : ndarray, shape (G, N)
        Target -> BS displacements and distances [m] (> 0).
    kappa, acceptance, rng
        As in :func:`meng_crlb_map`.

    Returns
    -------
    crlb : ndarray, shape (G,), inf where F is singular.
    """
    w = dist ** (-params.beta)
    ex, ey = dx / dist, dy / dist
    if acceptance == "sample":
        w = w * (rng.random(w.shape) < kappa)
    a = direction_sums(w, ex, ey)
    sxx, sxy, syy = fim_from_direction_sums(a, a)  # = 2 (W A + a a^T), the FIM over |zeta|^2
    if acceptance == "expected-fim" and kappa < 1.0:
        # E[keep_i keep_j] = kappa^2 (i != j), kappa (i = j): E F = kappa^2 F + (kappa - kappa^2) sum 4 w^2 e e^T
        w2 = w * w
        c = kappa - kappa * kappa
        sxx = kappa * kappa * sxx + 4.0 * c * np.einsum("gn,gn->g", w2 * ex, ex)
        sxy = kappa * kappa * sxy + 4.0 * c * np.einsum("gn,gn->g", w2 * ex, ey)
        syy = kappa * kappa * syy + 4.0 * c * np.einsum("gn,gn->g", w2 * ey, ey)
    tr, _ = trace_inverse_2x2(sxx, sxy, syy)
    with np.errstate(divide="ignore"):
        return tr / params.zeta2 if params.zeta2 > 0 else np.full(tr.shape, np.inf)


def meng_crlb_map(deployment: Deployment, params: MengParams, N: int, resolution=256, region=None, *,
                  kappa: float = 1.0, acceptance: str | None = None, rng=None,
                  min_distance: float = 1.0) -> xr.Dataset:
    """Map of the Meng CRLB tr(F_N^-1) (eqs. 5-6) [m^2] with the N nearest BSs of each point.

    Parameters
    ----------
    deployment : Deployment
        BS sites ``deployment.bs``.
    params : MengParams
    N : int
        Cluster size, 1 <= N <= number of BSs.
    resolution, region
        As in :func:`make_grid`.
    kappa : float
        Probability that a BS accepts (used with ``acceptance``).
    acceptance : None, "expected-fim" or "sample"
        None: all N accept. "expected-fim": tr(E[F]^-1) with each BS kept independently with
        probability kappa (a lower bound on E[tr F^-1] by Jensen). "sample": one independent
        acceptance draw per grid point and BS (needs ``rng``).
    min_distance : float
        Grid points nearer a BS [m] are excluded (NaN, counted).

    Returns
    -------
    Dataset with ``crlb`` (y, x) [m^2], ``rmse_bound`` = sqrt(crlb) [m], ``excluded``.
    """
    if acceptance not in ACCEPTANCE:
        raise ParameterError("acceptance", acceptance, f"one of {ACCEPTANCE}")
    kap = check_real("kappa", kappa, gt=0.0, le=1.0)
    if acceptance == "sample":
        from .deployment import _gen

        if rng is None:
            raise ParameterError("rng", None, "a seed or Generator for acceptance='sample'")
        rng = _gen(rng)
    N = _check_count(N, deployment.n_sites, "N", deployment, "BSs")
    dmin = _min_distance(min_distance)
    x, y = make_grid(deployment, resolution, region)
    near = Nearest(deployment.bs, deployment.torus)
    out = np.empty(x.size * y.size)
    excl = np.zeros(out.size, dtype=bool)
    for sl, pts in _chunks(x, y):
        dx, dy, dist = near.query(pts, N)
        bad = dist[:, 0] < dmin
        dist = np.where(bad[:, None], 1.0, dist)
        out[sl] = np.where(bad, np.nan, meng_crlb_chunk(dx, dy, dist, params, kap, acceptance, rng))
        excl[sl] = bad
    attrs = {"model": "meng", "N": N, "kappa": kap, "acceptance": str(acceptance),
             "equation": "Meng (5)-(6)", "min_distance_m": dmin}
    return _dataset(x, y, {"crlb": (out, {"units": "m^2", "long_name": f"CRLB tr(F^-1), N = {N} nearest BSs"}),
                           "rmse_bound": (np.sqrt(out), {"units": "m", "long_name": "sqrt(CRLB)"})},
                    deployment, attrs, excl)


# --------------------------------------------------------------------------- Song CRLB
def song_crlb_map(deployment: Deployment, params: SongParams, resolution=256, region=None, *,
                  n_tx: int | None = 64, n_rx: int | None = 64, aoa: bool = False,
                  min_distance: float = 1.0) -> xr.Dataset:
    """Map of the Song CRLB tr(S^-1) (eq. 18) [m^2] with the nearest TXs and RXs of each point.

    Parameters
    ----------
    deployment : Deployment
        TXs ``deployment.tx_sites``, RXs ``deployment.rx_sites`` (the BSs when not given).
    n_tx, n_rx : int or None
        The n nearest TXs / RXs of each point enter (min(64, available) by default; None: all).
    aoa : bool
        Also map the delay+AoA bound (:func:`isacnet.estimation.model.crlb_delay_aoa`,
        half-wavelength RX ULAs along x) as ``crlb_delay_aoa``.

    Returns
    -------
    Dataset with ``crlb`` (y, x) [m^2] (and ``crlb_delay_aoa``), ``excluded``.
    """
    tx, rx = deployment.tx_sites, deployment.rx_sites
    kt = len(tx) if n_tx is None else min(check_int("n_tx", n_tx, ge=1), len(tx))
    kr = len(rx) if n_rx is None else min(check_int("n_rx", n_rx, ge=1), len(rx))
    dmin = _min_distance(min_distance)
    x, y = make_grid(deployment, resolution, region)
    nt, nr = Nearest(tx, deployment.torus), Nearest(rx, deployment.torus)
    out = np.full(x.size * y.size, np.nan)
    out_aoa = np.full(out.size, np.nan) if aoa else None
    excl = np.zeros(out.size, dtype=bool)
    for sl, pts in _chunks(x, y, CHUNK_POINTS // 4):
        tdx, tdy, tdist = nt.query(pts, kt)
        rdx, rdy, rdist = nr.query(pts, kr)
        bad = (tdist[:, 0] < dmin) | (rdist[:, 0] < dmin)
        ok = ~bad
        txp = pts[ok, None, :] + np.stack([tdx[ok], tdy[ok]], -1)
        rxp = pts[ok, None, :] + np.stack([rdx[ok], rdy[ok]], -1)
        vals = np.full(len(pts), np.nan)
        vals[ok] = song_crlb(txp, rxp, pts[ok], params)
        out[sl] = vals
        if out_aoa is not None:
            from .estimation.model import crlb_delay_aoa

            va = np.full(len(pts), np.nan)
            va[ok] = crlb_delay_aoa(txp, rxp, pts[ok], params)
            out_aoa[sl] = va
        excl[sl] = bad
    values = {"crlb": (out, {"units": "m^2", "long_name": f"CRLB tr(S^-1), {kt} TXs x {kr} RXs nearest"})}
    if out_aoa is not None:
        values["crlb_delay_aoa"] = (out_aoa, {"units": "m^2", "long_name": "delay+AoA CRLB"})
    attrs = {"model": "song", "n_tx": kt, "n_rx": kr, "equation": "Song (15)-(18)", "min_distance_m": dmin}
    return _dataset(x, y, values, deployment, attrs, excl)


# --------------------------------------------------------------------------- CoMP
def _tail_interference(dep: Deployment, pts: np.ndarray, dist_k: np.ndarray, alpha: float) -> np.ndarray:
    """Mean interference (mean gain 1) of all sites beyond the K nearest of each point.

    All sites (minimum image on a torus) farther than the K-th: sum d^-alpha minus the K nearest's
    (exact, O(n_sites) a point); on a torus of known density also the plane outside the
    minimum-image rectangle, lambda int_{outside} |x|^-alpha dx (:func:`outside_rectangle_integral`).
    """
    allsum = np.zeros(len(pts))
    step = max(1, (1 << 20) // max(1, len(pts)))  # sites per block: about 2^20 pairs in memory at once
    for j in range(0, dep.n_sites, step):
        d = dep.bs[None, j:j + step, :] - pts[:, None, :]
        if dep.torus is not None:
            box = np.asarray(dep.torus)
            d -= box * np.round(d / box)
        r2 = np.einsum("gsk,gsk->gs", d, d)
        allsum += (np.maximum(r2, 1e-300) ** (-0.5 * alpha)).sum(axis=1)
    t = allsum - (dist_k ** (-alpha)).sum(axis=1)
    t = np.maximum(t, 0.0)  # rounding of the difference
    if dep.torus is not None and dep.density is not None:
        t = t + dep.density * outside_rectangle_integral(dep.torus[0], dep.torus[1], alpha)
    return t


def outside_rectangle_integral(lx: float, ly: float, alpha: float) -> float:
    """int over the plane outside [-lx/2, lx/2] x [-ly/2, ly/2] of |x|^-alpha dx [m^(2 - alpha)].

    Polar coordinates: int_0^{2 pi} rho(phi)^(2 - alpha) / (alpha - 2) dphi, rho the distance to the
    rectangle's boundary; 4 x the first quadrant, split at the corner's angle.
    """
    from scipy.integrate import quad

    c = math.atan2(ly, lx)
    f1 = quad(lambda p: (0.5 * lx / math.cos(p)) ** (2.0 - alpha), 0.0, c, epsabs=0, epsrel=1e-12)[0]
    f2 = quad(lambda p: (0.5 * ly / math.sin(p)) ** (2.0 - alpha), c, 0.5 * math.pi, epsabs=0, epsrel=1e-12)[0]
    return 4.0 * (f1 + f2) / (alpha - 2.0)


def _fading(jt: str, m: int, n_fading, seed) -> tuple[bool, dict, str]:
    """Whether the model is averaged over fading by Monte Carlo, the keywords of its functions and
    the route in words (attrs ``fading_average``)."""
    mc = jt == "coherent" or (jt == "noncoherent" and m != 1)
    nf = check_int("n_fading", n_fading, ge=2)
    fkw = {"jt": jt, "rng": np.random.default_rng(check_int("seed", seed, ge=0)), "n_fading": nf}
    how = (f"Monte Carlo, {nf} draws a point, seed {seed}" if mc else
           "closed form (1-D Gauss-Legendre in log z)" if jt == "power-sum" else
           "closed form (sum over the acceptance patterns)")
    return mc, fkw, how


def _mean_signal(w: np.ndarray, L: int, m: int, pc: float, kap: float, jt: str) -> np.ndarray:
    """E[S] over fading and acceptance: p^c m sum_k q_k w_k (q_1 = 1, q_k = kappa) for power-sum and
    non-coherent JT; coherent adds the cross terms sum_{i != j} q_i q_j E[sqrt(G)]^2 sqrt(w_i w_j),
    E[sqrt(G)] = sqrt(p^c) Gamma(m + 1/2) / Gamma(m)."""
    q = np.full(L, kap)
    q[0] = 1.0
    ws = w[:, :L]
    es = pc * m * (ws * q).sum(axis=1)
    if jt == "coherent":
        c = math.exp(math.lgamma(m + 0.5) - math.lgamma(m))
        amp = c * math.sqrt(pc) * q * np.sqrt(ws)
        es = es + amp.sum(axis=1) ** 2 - (amp**2).sum(axis=1)
    return es


def comp_map(deployment: Deployment, params: MengParams, L: int, resolution=128, region=None, *,
             thresholds_db=(0.0,), kappa_c: float | None = None, k_nearest: int | None = None,
             jt: str = "power-sum", min_distance: float = 1.0, n_fading: int | None = None,
             seed: int = 0) -> xr.Dataset:
    """Map of the CoMP rate (9) and coverage P(SIR > theta) of (8) with the L nearest BSs.

    The user at each grid point is served by its nearest BS; BSs 2..L accept with probability
    ``kappa_c``; the K nearest BSs enter with the paper's fading laws (desired Gamma(M_t - 1, p^c),
    interferers Exp(1)), every further site by its mean; averaged over fading and acceptance in
    closed form where one exists (:mod:`isacnet.comp_given`: power-sum, a 1-D integral a point;
    non-coherent with M_t = 2, a sum over the acceptance patterns), by Monte Carlo over fading
    otherwise (coherent; non-coherent with M_t > 2: ``n_fading`` draws a point).

    Parameters
    ----------
    L : int
        Cluster size (1 <= L <= number of BSs).
    thresholds_db : sequence of float
        SIR thresholds [dB] of the coverage maps.
    kappa_c : float, optional
        Default: the derived kappa_c(psi, mu_c, L) of the paper's Lemma 1 analogue (errata M-12).
    k_nearest : int, optional
        BSs with fading (default min(max(64, 4 L), n_sites)); the others by their mean.
    jt : {"power-sum", "noncoherent", "coherent"}
        Joint-transmission model, a key of :data:`isacnet.comp_given.JT_MODELS` (docs/coverage.md):
        "power-sum" is the paper's (8).
    n_fading : int, optional
        Fading draws a point of the Monte Carlo models (default
        :data:`isacnet.comp_given.N_FADING`); ignored where the closed form is used.
    seed : int
        Seed of that Monte Carlo (one stream for the whole map).

    Returns
    -------
    Dataset with ``rate_nats`` [nats/s/Hz, the package's rate unit], ``rate_bits`` [bits/s/Hz],
    ``coverage`` (threshold, y, x), ``sir_mean_db`` = 10 log10(E[S] / E[I]) [dB] (E[S] of the JT
    model), ``excluded``; attrs ``fading_average`` ("closed form" or "Monte Carlo ..."),
    ``coverage_quad_err_max`` (largest estimated quadrature error, or the largest Monte Carlo
    standard error) and ``coverage_unconverged`` (points above the tolerance
    :data:`isacnet.comp_given.COVERAGE_TOL` after the most panels; closed forms only).
    """
    from .comp_given import COVERAGE_TOL, JT_MODELS, N_FADING

    if jt not in JT_MODELS:
        raise ParameterError("jt", jt, f"one of {sorted(JT_MODELS)}")
    rate_fn, cov_fn = JT_MODELS[jt]
    L = _check_count(L, deployment.n_sites, "L", deployment, "BSs")
    if kappa_c is None:
        from .analysis.meng_sensing import kappa_c as _kc

        kappa_c = float(_kc(params.resource_blocks, params.mu_c, L))
    kap = check_real("kappa_c", kappa_c, ge=0.0, le=1.0)
    K = min(max(64, 4 * L), deployment.n_sites) if k_nearest is None else \
        _check_count(k_nearest, deployment.n_sites, "k_nearest", deployment, "BSs")
    K = max(K, L)
    ths = tuple(check_real(f"thresholds_db[{i}]", t) for i, t in enumerate(thresholds_db))
    dmin = _min_distance(min_distance)
    x, y = make_grid(deployment, resolution, region)
    near = Nearest(deployment.bs, deployment.torus)
    n = x.size * y.size
    rate, sir = np.full(n, np.nan), np.full(n, np.nan)
    cov = np.full((len(ths), n), np.nan)
    excl = np.zeros(n, dtype=bool)
    m, pc, a = params.n_tx_antennas - 1, params.comm_power_fraction, params.alpha
    mc, fkw, how = _fading(jt, m, N_FADING if n_fading is None else n_fading, seed)
    qerr, unconverged = 0.0, 0
    for sl, pts in _chunks(x, y, 1024):
        _, _, dist = near.query(pts, K)
        bad = dist[:, 0] < dmin
        ok = ~bad
        w = dist[ok] ** (-a)
        T = _tail_interference(deployment, pts[ok], dist[ok], a)
        r = np.full(len(pts), np.nan)
        r[ok] = rate_fn(w, L, m, pc, kap, T, **fkw)
        rate[sl] = r
        s = np.full(len(pts), np.nan)
        es = _mean_signal(w, L, m, pc, kap, jt)
        ei = (1 - kap) * w[:, 1:L].sum(axis=1) + w[:, L:].sum(axis=1) + T
        with np.errstate(divide="ignore"):
            s[ok] = 10.0 * np.log10(es / ei)
        sir[sl] = s
        for j, t in enumerate(ths):
            c = np.full(len(pts), np.nan)
            c[ok], e = cov_fn(w, L, m, pc, kap, 10.0 ** (t / 10.0), T, return_error=True, **fkw)
            cov[j, sl] = c
            qerr = max(qerr, float(e.max(initial=0.0)))
            unconverged += 0 if mc else int(np.count_nonzero(e > COVERAGE_TOL))
        excl[sl] = bad
    shape = (len(ths), y.size, x.size)
    ds = _dataset(x, y, {
        "rate_nats": (rate, {"units": "nats/s/Hz", "long_name": f"CoMP rate E ln(1 + SIR), L = {L}"}),
        "rate_bits": (rate / math.log(2.0), {"units": "bits/s/Hz", "long_name": f"CoMP rate, L = {L}"}),
        "sir_mean_db": (sir, {"units": "dB", "long_name": "E[S] / E[I]"}),
    }, deployment, {"model": "meng-comp", "L": L, "kappa_c": kap, "k_nearest": K, "jt": jt,
                    "equation": "Meng (8)-(9), paper's gain laws", "min_distance_m": dmin,
                    "fading_average": how,
                    "coverage_quad_err_max": qerr, "coverage_unconverged": unconverged}, excl)
    ds["coverage"] = (("threshold_db", "y", "x"), cov.reshape(shape),
                      {"units": "", "long_name": "P(SIR > threshold)"})
    ds = ds.assign_coords(threshold_db=("threshold_db", np.array(ths), {"units": "dB"}))
    return ds
