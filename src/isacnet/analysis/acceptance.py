"""Acceptance of a request under psi resource blocks with the load a BS actually carries.

Model (the one of :mod:`isacnet.load`; docs/acceptance.md): BSs form a PPP of density lambda_b,
requesting points (targets or users) an independent PPP of density lambda_p = mu lambda_b.
Every point sends one request to each BS of rank skip+1 .. skip+n in its distance order (sensing:
skip = 0, n = N; communication: skip = 1, n = L - 1, the nearest BS being the user's anchor). A
BS holding D requests accepts min(D, c) of them uniformly at random (c = psi for sensing, psi - 1
for the cooperation requests).

Exact part
----------
Accepted over offered requests, by mass transport (Campbell-Mecke) and stationarity,

    kappa = E[min(D, c)] / E[D],                                                   (A1)

D the load of a typical BS. Given the BSs, D ~ Poisson(lambda_p |R|) *exactly*, R = {x : the BS
ranks skip+1 .. skip+n among the BSs nearest to x} (the points are a PPP independent of the BSs).
In units of 1/lambda_b, A = lambda_b |R| has mean E[A] = n (each x belongs to n such regions) and
variance v(n, skip) = int int Cov(1{x in R}, 1{y in R}) dx dy, where x in R iff the disk through
the BS centred at x holds between skip and skip+n-1 other BSs: a bivariate Poisson probability of
the lens of two disks through the BS (:func:`region_area_variance`, quadrature). At n = 1,
skip = 0 it is the variance of the Poisson-Voronoi cell area, 0.2802 (Gilbert 1962); for large n,
v = (1/2 - 2/pi^2) n + O(1) (the mean overlap of two equal disks through the BS).

Approximate part
----------------
A is taken Gamma-distributed with the exact mean n and variance v, so that D is negative
binomial, NB(a, a/(a+m)) with a = n^2/v and m = mu n, and (A1) has the closed form

    kappa = I_p(a+1, c) + (c/m) I_{1-p}(c+1, a),   p = a/(a+m),                     (A2)

I the regularised incomplete beta function (the NB cdf and tail). At n = 1, skip = 0 the shape
a = 1/v = 3.569 is the Gamma fit of the Voronoi cell area with the exact variance; the published
law (Ferenc and Neda 2007) rounds it to 3.5 (``shape`` argument). The load seen by a request, 1 +
K', is size-biased: K' ~ NB(a + 1, a/(a+m)) (:func:`nb_request_load_pmf`), and (A2) equals
E[min(1, c/(1+K'))].
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..params import ParameterError, real_array

#: Slope of the area variance for large n: the mean overlap fraction of two equal disks through
#: the BS at angle phi, (1/pi) int_0^pi (pi - phi - sin phi)/pi dphi = 1/2 - 2/pi^2.
VAR_SLOPE = 0.5 - 2.0 / math.pi**2

#: Largest integer accepted for psi, N, L: beyond 2**53 float64 no longer holds every integer.
MAX_INT = 2**53

#: v(n, skip) for n = 1 .. 20 from :func:`region_area_variance` at its default rule (20-point
#: Gauss-Legendre on 6 panels per area axis, 48 x 2 in the angle; the finer 24 x 8 / 64 x 2 rule
#: differs by 3e-5 to 6e-5 relative for skip 0, n <= 13, and 2e-4 for skip 1, n = 3).
#: Regenerate with docs/scripts/acceptance_area_variance.py;
#: the tests recompute entries. Beyond n = 20: v = VAR_SLOPE n + (v(20) - VAR_SLOPE 20); the
#: intercept still drifts by -0.0001 (skip 0) and -0.003 (skip 1) per unit of n at n = 20, so the
#: extrapolated v is within 0.5% (skip 0: 0.02%) at n = 40 (effect on kappa below 1e-4).
_VAR_TABLE: dict[int, tuple[float, ...]] = {
    0: (
        0.2802239185734165,
        0.5715675862211467,
        0.8658037193691035,
        1.1612251636252588,
        1.4572529320808991,
        1.7536351563601198,
        2.050244127952266,
        2.3470078829884145,
        2.643882565556639,
        2.9408397626850156,
        3.237860135092606,
        3.5349299769405333,
        3.832039248383163,
        4.129180395378449,
        4.426347611530646,
        4.723536358470018,
        5.020743042899237,
        5.317964791710888,
        5.615199290449908,
        5.912444663993492,
    ),
    1: (
        0.17679529625751914,
        0.4153412366019685,
        0.6763830556331528,
        0.9485175182956922,
        1.2270658575597553,
        1.50971187956211,
        1.7951618857774574,
        2.08262951299468,
        2.3716057632774947,
        2.661744732999609,
        2.9528020401401527,
        3.244599464048511,
        3.5370035634568113,
        3.8299121823149904,
        4.123245620579729,
        4.416940675613333,
        4.710946511316983,
        5.005221726097756,
        5.29973222804573,
        5.594449666452639,
    ),
}


# --------------------------------------------------------------------------- validation


def _int_array(value, name: str, ge: int) -> np.ndarray:
    valid = f"integer(s) in [{ge}, 2**53]"
    a = real_array(name, value, valid)
    shown = value if a.ndim == 0 or a.size > 8 else a.tolist()
    if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
        raise ParameterError(name, shown, valid)
    if np.any(a < ge) or np.any(a > MAX_INT):
        raise ParameterError(name, shown, valid)
    return a


def _pos_array(value, name: str, ge: float = 0.0, strict: bool = True) -> np.ndarray:
    valid = f"finite real(s) {'>' if strict else '>='} {ge:g}"
    a = real_array(name, value, valid)
    shown = value if a.ndim == 0 or a.size > 8 else a.tolist()
    if a.size == 0 or not np.all(np.isfinite(a)) or np.any(a < ge) or (strict and np.any(a == ge)):
        raise ParameterError(name, shown, valid)
    return a


def _out(a: np.ndarray):
    return a[()] if isinstance(a, np.ndarray) and a.ndim == 0 else a


# --------------------------------------------------------------------------- area variance


def _lens_area(s1: np.ndarray, s2: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Area of the intersection of two disks through the origin, of areas s1, s2, centres at
    angle phi apart (areas in any unit, the disks' radii sqrt(s / pi))."""
    r1, r2 = np.sqrt(s1 / math.pi), np.sqrt(s2 / math.pi)
    d2 = r1 * r1 + r2 * r2 - 2.0 * r1 * r2 * np.cos(phi)
    d = np.sqrt(np.maximum(d2, 0.0))
    dd = np.where(d > 0, d, 1.0)
    c1 = np.clip((d2 + r1 * r1 - r2 * r2) / (2.0 * dd * r1), -1.0, 1.0)
    c2 = np.clip((d2 + r2 * r2 - r1 * r1) / (2.0 * dd * r2), -1.0, 1.0)
    k = (r1 + r2 - d) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2)
    a = r1 * r1 * np.arccos(c1) + r2 * r2 * np.arccos(c2) - 0.5 * np.sqrt(np.maximum(k, 0.0))
    small = np.minimum(s1, s2)
    return np.where(d > 0, np.clip(a, 0.0, small), small)


def _gauss_legendre(a: float, b: float, n: int, panels: int):
    x, w = np.polynomial.legendre.leggauss(n)
    e = np.linspace(a, b, panels + 1)
    h, mid = np.diff(e) / 2.0, (e[:-1] + e[1:]) / 2.0
    return (mid[:, None] + h[:, None] * x).ravel(), (h[:, None] * w).ravel()


def _poisson_cdf(k, m):
    k = np.asarray(k, dtype=float)
    return np.where(k < 0, 0.0, special.pdtr(np.maximum(k, 0.0), m))


def region_area_variance(n: int, skip: int = 0, *, nodes: int = 20, panels: int = 6, nphi: int = 48) -> float:
    """Variance of lambda_b |R|, R the region whose points rank a typical BS skip+1 .. skip+n.

    x (at Poisson mean s = lambda_b pi |x|^2 of its disk through the BS) is in R iff that disk holds
    skip .. skip+n-1 other BSs. For two points at means s1, s2 and angle phi the two counts share
    the lens I(s1, s2, phi), so P(x, y in R) = sum_c Poi(c; I) F(s1 - I) F(s2 - I) with F the
    Poisson band probabilities shifted by c, and, with dx = ds dphi / (2 pi),

        v = int_0^inf int_0^inf (1/pi) int_0^pi [P(x, y in R) - P(x in R) P(y in R)] dphi ds1 ds2.

    Composite Gauss-Legendre (``nodes`` x ``panels`` per area axis, over the band where
    P(x in R) is neither 0 nor 1 to 1e-16, ``nphi`` x 2 in the angle). Slow (seconds to a minute):
    :func:`area_variance` reads a table made with it.

    Parameters
    ----------
    n : int >= 1
        Ranks per point (N, or L - 1).
    skip : int >= 0
        Nearest BSs skipped (0 sensing, 1 communication).

    Returns
    -------
    float
        v(n, skip), dimensionless (area in units of 1/lambda_b).
    """
    lo, hi = skip, skip + n - 1
    a = max(0.0, lo - 9.0 * math.sqrt(lo + 1) - 12.0) if lo > 0 else max(0.0, hi + 1 - 9.0 * math.sqrt(hi + 1) - 12.0)
    b = hi + 1 + 9.0 * math.sqrt(hi + 1) + 15.0
    s, ws = _gauss_legendre(a, b, nodes, panels)
    ph, wp = _gauss_legendre(0.0, math.pi, nphi, 2)
    p1 = _poisson_cdf(hi, s) - _poisson_cdf(lo - 1, s)
    total = 0.0
    for i in range(s.size):  # one row of s1 at a time: bounded memory
        s1 = s[i]
        lens = _lens_area(np.full((s.size, ph.size), s1), s[:, None], ph[None, :])
        x, y = s1 - lens, s[:, None] - lens
        joint = np.zeros_like(lens)
        for c in range(hi + 1):
            pc = np.exp(-lens + special.xlogy(c, lens) - special.gammaln(c + 1.0))
            fx = _poisson_cdf(hi - c, x) - _poisson_cdf(lo - 1 - c, x)
            fy = _poisson_cdf(hi - c, y) - _poisson_cdf(lo - 1 - c, y)
            joint += pc * fx * fy
        cov = (joint - p1[i] * p1[:, None]) @ wp / math.pi
        total += ws[i] * float(ws @ cov)
    return total


def area_variance(n, skip: int = 0) -> np.ndarray:
    """v(n, skip) of :func:`region_area_variance`, vectorised: the stored table for n <= 20,
    the linear law VAR_SLOPE n + const beyond (see _VAR_TABLE for its error).

    Parameters
    ----------
    n : array_like of int >= 1
    skip : 0 or 1

    Returns
    -------
    ndarray, shape of ``n``
    """
    if skip not in _VAR_TABLE:
        raise ParameterError("skip", skip, "0 or 1")
    tab = np.asarray(_VAR_TABLE[skip])
    n = np.asarray(n, dtype=float)
    top = tab.size
    idx = np.clip(n, 1, top).astype(np.int64) - 1
    return np.where(n <= top, tab[idx], VAR_SLOPE * n + (tab[-1] - VAR_SLOPE * top))


# --------------------------------------------------------------------------- NB law


def nb_logpmf(k, shape, mean) -> np.ndarray:
    """log P(D = k), D ~ NB(shape, p = shape/(shape + mean)) (mean ``mean``, variance
    mean (1 + mean/shape)); shape = inf gives Poisson(mean). Log domain, vectorised."""
    k = np.asarray(k, dtype=float)
    a = np.asarray(shape, dtype=float)
    m = np.asarray(mean, dtype=float)
    k, a, m = np.broadcast_arrays(k, a, m)
    fin = np.isfinite(a)
    af = np.where(fin, a, 1.0)
    with np.errstate(divide="ignore"):
        lnb = (
            special.gammaln(k + af) - special.gammaln(af) - special.gammaln(k + 1.0)
            + af * (np.log(af) - np.log(af + m)) + special.xlogy(k, m) - k * np.log(af + m)
        )
        lpo = -m + special.xlogy(k, m) - special.gammaln(k + 1.0)
    return _out(np.where(fin, lnb, lpo))


def nb_request_load_pmf(k, shape, mean) -> np.ndarray:
    """P(K' = k): the other requests at the BS of a typical request, the size-biased NB(shape)
    load minus one, NB(shape + 1, shape/(shape + mean)). At skip = 0, n = 1 with shape 3.5 this is
    the published NB(4.5, 3.5/(3.5 + mu)) law."""
    a = np.asarray(shape, dtype=float)
    m = np.asarray(mean, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mp = np.where(np.isfinite(a), m * (a + 1.0) / np.where(np.isfinite(a), a, 1.0), m)
    return _out(np.exp(nb_logpmf(k, a + 1.0, mp)))


def nb_request_acceptance(capacity, mean, shape) -> np.ndarray:
    """E[min(D, c)] / E[D], D ~ NB(shape, shape/(shape + mean)): (A2) of the module docstring.

    Parameters
    ----------
    capacity : array_like of int >= 0
        c, blocks per BS for these requests.
    mean : array_like of float >= 0
        m = E[D], requests per BS.
    shape : array_like of float > 0 (inf: Poisson load)
        a = n^2 / v.

    Returns
    -------
    ndarray, broadcast shape; 1 at m = 0, 0 at c = 0 < m.
    """
    c = _int_array(capacity, "capacity", 0)
    m = _pos_array(mean, "mean", strict=False)
    a = real_array("shape", shape, "real(s) > 0 (inf allowed)")
    if a.size == 0 or np.any(~(a > 0)):
        raise ParameterError("shape", shape, "real(s) > 0 (inf allowed)")
    c, m, a = np.broadcast_arrays(c, m, a)
    mm = np.where(m > 0, m, 1.0)
    cc = np.where(c > 0, c, 1.0)
    fin = np.isfinite(a)
    af = np.where(fin, a, 1.0)
    with np.errstate(under="ignore"):
        val = _poisson_kappa(cc, mm)
        nb = fin & (af <= _A_SWITCH)
        if np.any(nb):  # (A2); scipy's betainc is accurate to 3e-10 up to a = 1e5 (tests)
            an, mn, cn = af[nb], mm[nb], cc[nb]
            p, q = an / (an + mn), mn / (an + mn)
            val[nb] = special.betainc(an + 1.0, cn, p) + (cn / mn) * special.betainc(cn + 1.0, an, q)
        big = fin & (af > _A_SWITCH)
        if np.any(big):
            val[big] = _gamma_mixed(cc[big], mm[big], af[big])
    val = np.where(c == 0, 0.0, val)
    return _out(np.clip(np.where(m == 0, 1.0, val), 0.0, 1.0))


_A_SWITCH = 1e5


def _poisson_kappa(c: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[min(K, c)] / m, K ~ Poisson(m): Q(c, m) + (c/m) P(c + 1, m) (c >= 1, m > 0)."""
    return np.asarray(special.gammaincc(c, m) + c * (special.gammainc(c + 1.0, m) / m), dtype=float)


def _gamma_mixed(c: np.ndarray, m: np.ndarray, a: np.ndarray) -> np.ndarray:
    """(A1) for a > 1e5 as the Gamma mixture it is: E[Lam kappa_Poisson(c, m Lam)],
    Lam ~ Gamma(a, 1/a), by Gauss-Legendre (16 panels of 16 nodes) over 1 +- 13/sqrt(a)
    (mass outside below 1e-37), the density in the log domain relative to Lam = 1 and normalised
    by the same rule (the betainc route loses 1e-8 at a = 1e7, 1e-5 at a = 1e10)."""
    x, w = np.polynomial.legendre.leggauss(16)
    e = np.linspace(-1.0, 1.0, 17)
    t = ((e[:-1] + e[1:]) / 2.0)[:, None] + (np.diff(e) / 2.0)[:, None] * x
    wt = ((np.diff(e) / 2.0)[:, None] * w).ravel()
    u = (13.0 / np.sqrt(a))[:, None] * t.ravel()[None, :]  # Lam - 1
    logf = -a[:, None] * (u - np.log1p(u)) - np.log1p(u)
    f = wt * np.exp(logf - logf.max(axis=1, keepdims=True))
    lam = 1.0 + u
    with np.errstate(over="ignore"):  # m near the largest double: kappa = c/(m lam) ~ 0 either way
        x = np.minimum(m[:, None] * lam, np.finfo(float).max)
    g = lam * _poisson_kappa(c[:, None], x)
    return np.sum(f * g, axis=1) / np.sum(f, axis=1)


# --------------------------------------------------------------------------- kappa


def _product(mu: np.ndarray, n: np.ndarray) -> np.ndarray:
    """mu n, the mean load, clipped to the largest double (where it overflows, kappa = c/(mu n)
    is below 1e-292 and rounds to 0 either way)."""
    with np.errstate(over="ignore"):
        return np.minimum(mu * n, np.finfo(float).max)


def kappa_s_nb(psi, mu_s, N, shape=None) -> np.ndarray:
    """Acceptance of a sensing request, NB load law (docs/acceptance.md, (A2) with c = psi,
    m = mu_s N, a = N^2 / v(N, 0)); ``shape`` overrides a (e.g. 3.5 at N = 1, the published
    law). Shapes broadcast; see :func:`isacnet.meng.kappa_s`."""
    psi = _int_array(psi, "psi", 1)
    mu_s = _pos_array(mu_s, "mu_s")
    n = _int_array(N, "N", 1)
    psi, mu_s, n = np.broadcast_arrays(psi, mu_s, n)
    a = n * n / area_variance(n, 0) if shape is None else shape
    return nb_request_acceptance(psi, _product(mu_s, n), a)


def kappa_c_nb(psi, mu_c, L, shape=None) -> np.ndarray:
    """Acceptance of a communication cooperation request, NB load law: (A2) with c = psi - 1,
    m = mu_c (L - 1), a = (L - 1)^2 / v(L - 1, 1) (ranks 2..L); 1 at L = 1. See
    :func:`isacnet.meng.kappa_c`."""
    psi = _int_array(psi, "psi", 1)
    mu_c = _pos_array(mu_c, "mu_c")
    L = _int_array(L, "L", 1)
    psi, mu_c, L = np.broadcast_arrays(psi, mu_c, L)
    n = np.maximum(L - 1.0, 1.0)
    a = n * n / area_variance(n, 1) if shape is None else shape
    val = np.asarray(nb_request_acceptance(psi - 1.0, _product(mu_c, L - 1.0), a), dtype=float)
    return _out(np.where(L == 1, 1.0, val))
