"""Given deployments: BS (and Song TX/RX) positions from arrays, site files or point processes.

A :class:`Deployment` is a frozen set of site positions in a local metric frame [m] that every
map (:mod:`isacnet.maps`) and the network comparisons take. It comes from

* an array (:func:`from_array`),
* a CSV or GeoJSON file (:func:`load_sites`): columns ``x, y`` in metres, or ``lon, lat`` in
  degrees (WGS 84) projected with pyproj (``pip install "isacnet[geo]"``) to an azimuthal
  equidistant frame centred on the sites' mean position, or
* a generator, seeded by an ``rng`` argument like everything else: :func:`ppp`,
  :func:`hexagonal`, :func:`square`, :func:`perturbed_lattice`, :func:`matern_ii`.

Generated deployments live on a rectangular torus ``[0, Lx) x [0, Ly)`` (``Deployment.torus``)
so that a map or a typical-point statistic has no edge effect: distances are minimum-image
distances, and the lattices are periodic on it by construction (a hexagonal lattice needs an
aspect ratio of sqrt(3) k / m, so its torus is rectangular). Files and arrays have no torus.

No Ginibre process is offered: no maintained Python library provides a sampler (checked:
neither scipy, nor spatstat-like packages on PyPI with releases in the last two years), and a
home-made one would need its own validation.
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .params import ParameterError, check_int, check_real, real_array

__all__ = [
    "GENERATORS", "MAX_GENERATED_SITES", "ROLES", "Deployment", "check_sites", "from_array", "generate",
    "hex_spacing", "hexagonal", "load_sites", "matern_ii", "matern_ii_parent_density", "perturbed_lattice", "ppp",
    "square",
]

ROLES = ("bs", "tx", "rx")
"""Values of the optional ``role`` column / property of a site file."""


def _frozen(a: np.ndarray | None) -> np.ndarray | None:
    if a is None:
        return None
    a = np.array(a, dtype=float)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class Deployment:
    """Site positions in a local metric frame [m] (read-only arrays).

    Attributes
    ----------
    bs : ndarray, shape (n, 2)
        Base stations (Meng: every BS transmits and receives; the CoMP maps).
    tx, rx : ndarray, shape (n_t, 2) / (n_r, 2), or None
        Song TX and RX sets (None: the BSs are used for both).
    torus : (float, float) or None
        Periodic box [0, Lx) x [0, Ly) [m] of a generated deployment; None for a plain window.
    process : str
        "array", "file", "ppp", "hexagonal", "square", "perturbed", "matern-ii".
    source : str
        File path or a description of the generator and its parameters.
    density : float or None
        Intended BS density [m^-2] of a generated deployment (n / area for a torus).
    """

    bs: np.ndarray
    tx: np.ndarray | None = None
    rx: np.ndarray | None = None
    torus: tuple[float, float] | None = None
    process: str = "array"
    source: str = "array"
    density: float | None = None
    origin_lonlat: tuple[float, float] | None = field(default=None)

    def __post_init__(self) -> None:
        s = object.__setattr__
        for name in ("bs", "tx", "rx"):
            v = getattr(self, name)
            if v is None and name != "bs":
                continue
            s(self, name, _frozen(check_sites(v, name, self.source)))
        if self.torus is not None:
            t = tuple(check_real(f"torus[{i}]", v, gt=0.0) for i, v in enumerate(self.torus))
            if len(t) != 2:
                raise ParameterError("torus", self.torus, "(Lx, Ly) in metres")
            s(self, "torus", t)

    @classmethod
    def _generated(cls, bs: np.ndarray, torus: tuple[float, float], process: str, source: str,
                   density: float | None) -> Deployment:
        """A deployment made by one of this module's generators, without ``__post_init__``'s site
        check: their positions are finite and distinct by construction (uniform draws, lattices
        and their Gaussian moves, a Matern II subset), and the check cost a quarter of a Song
        typical-kernel sample, which draws eight deployments (the tests run every generator's
        output through the check: ``tests/unit/test_deployment_generated.py``)."""
        d = object.__new__(cls)
        values = {"bs": _frozen(bs), "tx": None, "rx": None, "torus": (float(torus[0]), float(torus[1])),
                  "process": process, "source": source, "density": density, "origin_lonlat": None}
        for name, v in values.items():
            object.__setattr__(d, name, v)
        return d

    @property
    def n_sites(self) -> int:
        return int(self.bs.shape[0])

    @property
    def tx_sites(self) -> np.ndarray:
        return self.bs if self.tx is None else self.tx

    @property
    def rx_sites(self) -> np.ndarray:
        return self.bs if self.rx is None else self.rx

    def bounds(self, margin: float = 0.0) -> tuple[float, float, float, float]:
        """(xmin, xmax, ymin, ymax) [m]: the torus, or the box around all sites plus ``margin``."""
        if self.torus is not None:
            return 0.0, self.torus[0], 0.0, self.torus[1]
        pts = np.concatenate([a for a in (self.bs, self.tx, self.rx) if a is not None])
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        return lo[0] - margin, hi[0] + margin, lo[1] - margin, hi[1] + margin

    def attrs(self) -> dict[str, object]:
        """Metadata for a result Dataset (no arrays)."""
        d: dict[str, object] = {"deployment_process": self.process, "deployment_source": self.source,
                                "n_sites": self.n_sites}
        if self.torus is not None:
            d["torus_m"] = list(self.torus)
        if self.density is not None:
            d["deployment_density_m-2"] = self.density
        if self.origin_lonlat is not None:
            d["frame_origin_lonlat"] = list(self.origin_lonlat)
        return d


def check_sites(value, name: str, source: str = "array") -> np.ndarray:
    """``value`` as an (n, 2) float array of finite, distinct positions, else ParameterError."""
    valid = "finite, distinct site positions [m], an array of shape (n, 2) with n >= 1"
    a = real_array(name, value, valid)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 1:
        raise ParameterError(name, f"array of shape {a.shape}", valid, source)
    bad = np.flatnonzero(~np.all(np.isfinite(a), axis=1))
    if bad.size:
        raise ParameterError(name, f"non-finite position at row {int(bad[0])}", valid, source)
    # duplicates: sort x + iy (numpy sorts complex numbers by real, then imaginary part) and compare
    # neighbours; 10x faster than np.unique(axis=0), which matters for the deployments drawn per
    # Monte Carlo sample (isacnet.typical)
    c = np.sort(a[:, 0] + 1j * a[:, 1])
    same = np.flatnonzero(c[1:] == c[:-1])
    if same.size:
        dup = np.array([c[same[0]].real, c[same[0]].imag])
        rows = np.flatnonzero(np.all(a == dup, axis=1))
        raise ParameterError(name, f"duplicate position {dup.tolist()} at rows {rows.tolist()}", valid, source)
    return a


def from_array(bs, tx=None, rx=None, source: str = "array") -> Deployment:
    """A deployment from arrays of positions [m] (shape (n, 2) each)."""
    return Deployment(bs, tx, rx, process="array", source=source)


# --------------------------------------------------------------------------- site files
def _project(lon: np.ndarray, lat: np.ndarray, where: str) -> tuple[np.ndarray, tuple[float, float]]:
    """lon/lat [deg, WGS 84] -> (n, 2) metres in an azimuthal equidistant frame at their mean."""
    try:
        import pyproj
    except ImportError as exc:  # pragma: no cover - pyproj is in the geo extra
        raise ImportError('lon/lat site files need pyproj: pip install "isacnet[geo]"') from exc
    if np.any(np.abs(lat) > 90.0) or np.any(np.abs(lon) > 180.0):
        raise ParameterError("lon/lat", "out of range", "degrees with |lat| <= 90 and |lon| <= 180", where)
    lon0, lat0 = float(np.mean(lon)), float(np.mean(lat))
    crs = pyproj.CRS.from_proj4(f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m")
    tr = pyproj.Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    x, y = tr.transform(lon, lat)
    return np.stack([np.asarray(x), np.asarray(y)], axis=-1), (lon0, lat0)


def _split_roles(xy: np.ndarray, roles: list[str], where: str):
    """(bs, tx, rx) from positions and a role per row; a file without roles is all BSs."""
    roles_a = np.array([r.strip().lower() or "bs" for r in roles])
    bad = [i for i, r in enumerate(roles_a) if r not in ROLES]
    if bad:
        raise ParameterError("role", f"{roles[bad[0]]!r} in row {bad[0] + 1}", f"one of {ROLES}", where)
    parts = {r: xy[roles_a == r] for r in ROLES}
    tx = parts["tx"] if len(parts["tx"]) else None
    rx = parts["rx"] if len(parts["rx"]) else None
    bs = parts["bs"]
    if not len(bs):  # a Song file with TXs and RXs only: the BS set is their union
        bs = np.concatenate([a for a in (tx, rx) if a is not None])
    return bs, tx, rx


def _read_csv(path: Path) -> tuple[np.ndarray, list[str], str, list[int]]:
    """Positions (n, 2), roles, the coordinate kind ("xy" or "lonlat") and the file line of each site."""
    where = str(path)
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            numbered = [(i, line) for i, line in enumerate(f, start=1)
                        if line.strip() and not line.lstrip().startswith("#")]
    except UnicodeDecodeError:
        raise ParameterError("sites", "undecodable bytes", "a UTF-8 text CSV file", where) from None
    rows = list(csv.reader(line for _, line in numbered))
    lines = [i for i, _ in numbered]
    if not rows:
        raise ParameterError("sites", "an empty file", "a CSV with a header row x,y or lon,lat", where)
    head = [h.strip().lower() for h in rows[0]]
    kind = "xy" if {"x", "y"} <= set(head) else "lonlat" if {"lon", "lat"} <= set(head) else None
    if kind is None:
        raise ParameterError("sites", f"header {rows[0]}", "a header with columns x,y [m] or lon,lat [deg]", where)
    cols = [head.index(c) for c in (("x", "y") if kind == "xy" else ("lon", "lat"))]
    role_col = head.index("role") if "role" in head else None
    xy, roles = [], []
    for i, row in zip(lines[1:], rows[1:], strict=True):
        try:
            vals = [float(row[c]) for c in cols]
        except (ValueError, IndexError):
            raise ParameterError("sites", f"row {row}", "two numbers per row", f"{where}, line {i}") from None
        if not all(math.isfinite(v) for v in vals):
            raise ParameterError("sites", f"non-finite value in row {row}", "finite coordinates", f"{where}, line {i}")
        xy.append(vals)
        roles.append(row[role_col] if role_col is not None and role_col < len(row) else "bs")
    if not xy:
        raise ParameterError("sites", "no site rows", "at least one site", where)
    return np.array(xy, dtype=float), roles, kind, lines[1:]


def _read_geojson(path: Path) -> tuple[np.ndarray, list[str], str, list[int]]:
    """Point features of a GeoJSON FeatureCollection (lon/lat, RFC 7946) and their "role"."""
    where = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ParameterError("sites", "undecodable bytes", "a UTF-8 GeoJSON file", where) from None
    except json.JSONDecodeError as exc:
        raise ParameterError("sites", f"invalid JSON ({exc.msg}, line {exc.lineno})", "a GeoJSON file", where) from None
    feats = doc.get("features", [doc] if doc.get("type") == "Feature" else None) if isinstance(doc, dict) else None
    if not feats:
        raise ParameterError("sites", "no features", "a GeoJSON FeatureCollection of Point features", where)
    xy, roles = [], []
    for i, f in enumerate(feats):
        g = f.get("geometry") if isinstance(f, dict) else None
        g = g if isinstance(g, dict) else {}
        c = g.get("coordinates")
        ok = g.get("type") == "Point" and isinstance(c, list) and len(c) >= 2
        vals = [float(v) if isinstance(v, int | float) and not isinstance(v, bool) else math.nan
                for v in (c[:2] if isinstance(c, list) else [])]
        if not ok or not all(math.isfinite(v) for v in vals):
            raise ParameterError("sites", f"feature {i}: {g}", "a Point with finite [lon, lat]", where)
        xy.append(vals)
        props = f.get("properties") if isinstance(f, dict) else None
        roles.append(str((props if isinstance(props, dict) else {}).get("role") or "bs"))
    return np.array(xy, dtype=float), roles, "lonlat", list(range(len(xy)))


def _check_duplicates(xy: np.ndarray, roles: list[str], lines: list[int], unit: str, where: str) -> None:
    """One error naming the file lines of the first site given twice with the same role."""
    seen: dict[tuple, int] = {}
    for (x, y), r, ln in zip(xy.tolist(), roles, lines, strict=True):
        key = (x, y, r.strip().lower() or "bs")
        if key in seen:
            raise ParameterError("sites", f"duplicate site ({x:g}, {y:g}) at {unit}s {seen[key]} and {ln}",
                                 "distinct positions for each role", where)
        seen[key] = ln


def load_sites(path: str | Path, coordinates: str = "auto") -> Deployment:
    """A deployment from a CSV or GeoJSON site file.

    CSV: a header row with ``x,y`` (metres, used as they are) or ``lon,lat`` (degrees, WGS 84),
    and optionally ``role`` (``bs``, ``tx`` or ``rx``; default ``bs``); lines starting with
    ``#`` are comments. GeoJSON: a FeatureCollection of Point features ([lon, lat]) with an
    optional ``role`` property. Lon/lat are projected with pyproj to an azimuthal equidistant
    frame centred on the mean site (distances within ~0.01 % up to 100 km from it).

    Parameters
    ----------
    path : str or Path
    coordinates : "auto", "xy" or "lonlat"
        "auto" follows the header (CSV) or RFC 7946 (GeoJSON: lon/lat).

    Raises
    ------
    ParameterError
        Naming the file (and line): a missing or unreadable file, a bad header, a non-numeric or
        non-finite coordinate, a duplicate site, an unknown role.
    """
    p = Path(path)
    if not p.is_file():
        raise ParameterError("sites", str(path), "an existing CSV or GeoJSON file")
    if coordinates not in ("auto", "xy", "lonlat"):
        raise ParameterError("coordinates", coordinates, "'auto', 'xy' or 'lonlat'")
    suffix = p.suffix.lower()
    geo = suffix in (".geojson", ".json")
    xy, roles, kind, lines = _read_geojson(p) if geo else _read_csv(p)
    _check_duplicates(xy, roles, lines, "feature" if geo else "line", str(p))
    if coordinates != "auto":
        kind = coordinates
    origin = None
    if kind == "lonlat":
        xy, origin = _project(xy[:, 0], xy[:, 1], str(p))
    bs, tx, rx = _split_roles(xy, roles, str(p))
    return Deployment(bs, tx, rx, process="file", source=str(p), origin_lonlat=origin)


# --------------------------------------------------------------------------- generated
def _gen(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, np.random.SeedSequence):
        return np.random.Generator(np.random.PCG64(rng))
    from .rng import check_seed

    return np.random.Generator(np.random.PCG64(check_seed(rng)))


def _side(name: str, value) -> float:
    return check_real(name, value, gt=0.0)


MAX_GENERATED_SITES = 10_000_000
"""Largest expected number of generated sites (memory: 16 bytes a site, more while generating)."""


def _check_count(expected: float, what: str) -> None:
    if not expected <= MAX_GENERATED_SITES:
        raise ParameterError(what, f"{expected:.3g} expected sites", f"at most {MAX_GENERATED_SITES:.0e} sites")


def ppp(density: float, side: float, rng, side_y: float | None = None) -> Deployment:
    """A PPP of ``density`` [m^-2] on the torus [0, side) x [0, side_y) [m] (side_y: side)."""
    lam = _side("density", density)
    lx = _side("side", side)
    ly = lx if side_y is None else _side("side_y", side_y)
    _check_count(lam * lx * ly, "density * area")
    g = _gen(rng)
    m = int(g.poisson(lam * lx * ly))
    while m == 0:  # an empty network has no map; condition on at least one site (documented)
        m = int(g.poisson(lam * lx * ly))
    xy = g.random((m, 2)) * (lx, ly)
    return Deployment._generated(xy, torus=(lx, ly), process="ppp",
                                 source=f"ppp(density={lam:g}, side=({lx:g}, {ly:g}))", density=lam)


def hex_spacing(density: float) -> float:
    """Nearest-neighbour distance a of the hexagonal lattice of ``density``: a^2 sqrt(3)/2 = 1/density."""
    return math.sqrt(2.0 / (math.sqrt(3.0) * _side("density", density)))


def _lattice(basis: np.ndarray, nx: int, ny: int, shift: np.ndarray) -> np.ndarray:
    i, j = np.meshgrid(np.arange(nx), np.arange(ny), indexing="ij")
    return (i.reshape(-1, 1) * basis[0] + j.reshape(-1, 1) * basis[1] + shift)


def hexagonal(density: float, n_cells: int = 20, rng=None) -> Deployment:
    """The hexagonal (triangular) lattice of ``density`` on a torus that it tiles exactly.

    Spacing a = sqrt(2 / (sqrt(3) density)) (:func:`hex_spacing`); the torus is
    n_x a by n_y a sqrt(3) with 2 n_x n_y sites, n_y = round(n_x / sqrt(3)), n_x = ``n_cells``.
    With ``rng`` the lattice is shifted uniformly (a stationary lattice); else a site is at 0.
    """
    a = hex_spacing(density)
    nx = check_int("n_cells", n_cells, ge=2)
    ny = max(1, round(nx / math.sqrt(3.0)))
    _check_count(2.0 * nx * ny, "n_cells")
    lx, ly = nx * a, ny * a * math.sqrt(3.0)
    rows = np.concatenate([_lattice(np.array([[a, 0.0], [0.0, a * math.sqrt(3.0)]]), nx, ny, np.zeros(2)),
                           _lattice(np.array([[a, 0.0], [0.0, a * math.sqrt(3.0)]]), nx, ny,
                                    np.array([0.5 * a, 0.5 * a * math.sqrt(3.0)]))])
    if rng is not None:
        rows = np.mod(rows + _gen(rng).random(2) * (lx, ly), (lx, ly))
    return Deployment._generated(rows, torus=(lx, ly), process="hexagonal",
                                 source=f"hexagonal(density={density:g}, spacing={a:g} m)",
                                 density=len(rows) / (lx * ly))


def square(density: float, n_cells: int = 20, rng=None) -> Deployment:
    """The square lattice of ``density`` (spacing 1/sqrt(density)) on an n_cells x n_cells torus."""
    a = 1.0 / math.sqrt(_side("density", density))
    n = check_int("n_cells", n_cells, ge=2)
    _check_count(float(n * n), "n_cells")
    pts = _lattice(np.array([[a, 0.0], [0.0, a]]), n, n, np.zeros(2))
    if rng is not None:
        pts = np.mod(pts + _gen(rng).random(2) * a, n * a)
    return Deployment._generated(pts, torus=(n * a, n * a), process="square",
                                 source=f"square(density={density:g}, spacing={a:g} m)", density=float(density))


def perturbed_lattice(density: float, sigma: float, rng, n_cells: int = 20, lattice: str = "hexagonal") -> Deployment:
    """A lattice with each site moved by an i.i.d. isotropic Gaussian of std ``sigma`` [m] per axis."""
    if lattice not in ("hexagonal", "square"):
        raise ParameterError("lattice", lattice, "'hexagonal' or 'square'")
    sig = check_real("sigma", sigma, ge=0.0)
    g = _gen(rng)
    base = (hexagonal if lattice == "hexagonal" else square)(density, n_cells, g)
    lx, ly = base.torus  # type: ignore[misc]
    pts = np.mod(base.bs + sig * g.standard_normal(base.bs.shape), (lx, ly))
    return Deployment._generated(pts, torus=(lx, ly), process="perturbed",
                                 source=f"perturbed {lattice}(density={density:g}, sigma={sig:g} m)",
                                 density=base.density)


def matern_ii_parent_density(density: float, radius: float) -> float:
    """lambda_p giving a Matern II density lambda_b = (1 - exp(-lambda_p pi r^2)) / (pi r^2).

    Needs lambda_b pi r^2 < 1 (the densest Matern II packing); lambda_p = -ln(1 - lambda_b pi r^2) / (pi r^2).
    """
    lam = _side("density", density)
    r = _side("radius", radius)
    c = lam * math.pi * r * r
    if not c < 1.0:
        rmax = 1.0 / math.sqrt(math.pi * lam)
        raise ParameterError("radius", r, f"< {rmax:.6g} m (density pi r^2 < 1 for Matern II)")
    return -math.log1p(-c) / (math.pi * r * r)


def matern_ii(parent_density: float, radius: float, side: float, rng) -> Deployment:
    """Matern hard-core type II on the torus [0, side)^2.

    Parents: a PPP of ``parent_density`` [m^-2]; each gets a uniform mark, and is kept when no
    other parent within ``radius`` [m] (minimum-image distance) has a smaller mark. Intensity
    (1 - exp(-lambda_p pi r^2)) / (pi r^2) (needs side > 2 radius). Use
    :func:`matern_ii_parent_density` to choose lambda_p for a given BS density.
    """
    from scipy.spatial import cKDTree

    lam_p = _side("parent_density", parent_density)
    r = _side("radius", radius)
    s = _side("side", side)
    if not s > 2.0 * r:
        raise ParameterError("side", s, f"> 2 radius = {2 * r:g} m")
    g = _gen(rng)
    parents = ppp(lam_p, s, g)
    xy = parents.bs
    marks = g.random(len(xy))
    tree = cKDTree(xy, boxsize=(s, s))
    pairs = tree.query_pairs(r, output_type="ndarray")
    keep = np.ones(len(xy), dtype=bool)
    if len(pairs):
        i, j = pairs[:, 0], pairs[:, 1]
        # the larger mark of each close pair is removed (whether or not the other is kept: type II)
        loser = np.where(marks[i] > marks[j], i, j)
        keep[loser] = False
    pts = xy[keep]
    if len(pts) == 0:  # pragma: no cover - needs a parent-free torus, conditioned away in ppp()
        raise ParameterError("parent_density", lam_p, "large enough for at least one kept site")
    dens = (1.0 - math.exp(-lam_p * math.pi * r * r)) / (math.pi * r * r)
    return Deployment._generated(pts, torus=(s, s), process="matern-ii",
                                 source=f"matern_ii(parent_density={lam_p:g}, radius={r:g} m, side={s:g} m)",
                                 density=dens)


GENERATORS = ("ppp", "hexagonal", "square", "perturbed", "matern-ii")


def generate(process: str, density: float, rng, *, n_sites: int = 400, hardcore: float = 0.5,
             sigma_rel: float = 0.25) -> Deployment:
    """A deployment of ``process`` at BS ``density`` [m^-2] with about ``n_sites`` sites on a torus.

    ``hardcore``: for "matern-ii", lambda_b pi r^2 (in (0, 1); 0.5 by default, r ~ 0.4 / sqrt(lambda_b)).
    ``sigma_rel``: for "perturbed", sigma / a with a the hexagonal spacing.
    """
    lam = _side("density", density)
    n = check_int("n_sites", n_sites, ge=4)
    if process == "ppp":
        return ppp(lam, math.sqrt(n / lam), rng)
    if process in ("hexagonal", "square", "perturbed"):
        k = max(2, round(math.sqrt(n * math.sqrt(3.0) / 2.0))) if process != "square" else max(2, round(math.sqrt(n)))
        if process == "hexagonal":
            return hexagonal(lam, k, rng)
        if process == "square":
            return square(lam, k, rng)
        return perturbed_lattice(lam, check_real("sigma_rel", sigma_rel, ge=0.0) * hex_spacing(lam), rng, k)
    if process == "matern-ii":
        c = check_real("hardcore", hardcore, gt=0.0, lt=1.0)
        r = math.sqrt(c / (math.pi * lam))
        return matern_ii(matern_ii_parent_density(lam, r), r, math.sqrt(n / lam), rng)
    raise ParameterError("process", process, f"one of {GENERATORS}")
