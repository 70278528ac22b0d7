"""Typical-target and typical-user statistics on generated networks: PPP against regular networks.

Ordered sampling (:mod:`isacnet.geometry`) exists for the PPP only. For the hexagonal lattice,
the perturbed lattice and the Matern type II hard-core process, :class:`TypicalKernel` draws whole
deployments on a torus (:func:`isacnet.deployment.generate`, about ``n_sites`` sites, minimum-image
distances: no edge) and evaluates the quantity at ``points`` independent uniform locations of each.
By stationarity a uniform location sees the network as the typical point does (Palm = uniform
location for a stationary process and an independent point), so one *sample* is the average over
the ``points`` locations of one deployment: samples are i.i.d. across deployments and the
standard errors of the Monte Carlo engine are valid.

The PPP needs no torus: by Slivnyak's theorem its typical point sees the PPP itself, and
:func:`isacnet.geometry.ordered_ppp` draws the nearest sites of ``points`` independent typical
points exactly (option ``ppp="ordered"``, the default; a sample is their mean, and the sites
beyond the K nearest of "comp" add their mean interference 2 pi lambda r_K^(2 - alpha) / (alpha - 2)
given r_K). ``ppp="torus"`` draws it like the other processes (0.3's way; the tests check the
two against each other). Independent points remove the PPP's between-deployment variance and its
KD-tree queries: it was the widest CI of most deployment figures.

Where the ``points`` of a deployment lie (option ``sampling``):

* ``"stratified"`` (default): a jittered grid, one uniform point in each cell of a g_x x g_y grid
  of the torus (g_x g_y = ``points``, the cells as square as the divisors of ``points`` allow).
  Each point is uniform on the torus, so the sample is an unbiased mean, and the points cover the
  torus evenly: proportional stratification never increases the variance of a mean. Here it
  gains little (1.2-1.7x for the lattices, nothing measurable for Matern II or the comp rate):
  the variance comes from the few points that fall next to a site.
  For ``"song"`` each point also sees the RX network from an independent uniform shift of its
  position (the RX deployment is stationary and independent of the TXs, so each point's TX-RX
  geometry has the right law), which removes the variance of the one TX-RX offset per sample
  (for two hexagonal lattices, the whole of it). Measured per figure in ``docs/performance.md``.
* ``"uniform"``: ``points`` i.i.d. uniform points, TXs and RXs queried at the same point (0.3's
  sampling; with ``ppp="torus"`` and ``exact_sites=64, panels=12``, 0.3's numbers bit for bit).

Points near the sites (``near_points`` > 0, "crlb" on torus deployments): a small localisation
coverage is decided next to the sites, where few of the grid's points fall. ``near_points`` more
points, each uniform in a disc of radius ``near_radius`` / sqrt(lambda_b) about a uniformly chosen
site, are pooled with the grid by multiple importance sampling (the balance heuristic): unbiased
for any radius, with weights at most (P + M) / P (:meth:`TypicalKernel._with_near_points`). The
E[log CRLB] keeps the grid's points alone. With several radii the points split into equal shares;
each share's offsets are stratified in its disc. The PPP then draws its typical points' first
arrival by stratified importance sampling into the same radii (:mod:`isacnet.typical_near`).
For "song" a point is a pair (target in the TX torus, its point in the RX torus): M / 2 pairs put
the target near a TX site, M / 2 the RX point near an RX site (:func:`typical_near.song_near_pairs`).
Measured per figure in ``docs/performance.md``.

The shot-noise control ("comp", ``control_radius`` > 0): X(x) = sum_i phi(|x - s_i|) minus its
mean, phi a bump of radius ``control_radius`` spacings, whose average over a uniform location is
exactly 0 for every deployment (for the PPP: Campbell, with the conditional mean beyond the K-th);
the kernel outputs its sample mean (``shotx_P``) and the rate times it (``ratex_P``), and the
model's derived step forms the control-variate rate ``ratecv_P``.

Controls of the coverage ("crlb", "song"; :meth:`TypicalKernel._controls`): a Matern II torus holds
a random number n of sites, and a sample's coverage moves with it: X = n / E[n] - 1 (E[n] =
intensity x area, exact on a torus; ``sitesx``). With near points, the pool's mean weight minus 1
(``wx``; mean 0, and a full coverage is 1 + wx). The kernel outputs the controls, each coverage
times each control (``covx``, ``covw``) and the controls' product (``sitesxwx``); the models'
derived step forms the regression control-variate coverages ``covcv_P``.

Quantities (option ``quantity``):

* ``"crlb"``: Meng's CRLB tr(F_N^-1) (5)-(6) with the N nearest BSs; outputs per process P
  ``cov_P`` = P(CRLB <= epsilon^2) (localisation coverage) and ``log_P`` = E[log CRLB]
  (geometric mean exp(E log) by the model's derived step);
* ``"song"``: Song's CRLB tr(S^-1) (18) with the N nearest TXs and the N nearest RXs of the
  target (TXs and RXs two independent deployments of the process, ``params`` a SongParams with
  tx_density = rx_density); outputs ``cov_P`` and ``log_P`` as for "crlb";
* ``"comp"``: the CoMP power-sum rate (9) [nats/s/Hz] and P(SIR > theta) of (8) with the L nearest
  BSs, fading and acceptance averaged in closed form (:mod:`isacnet.comp_given`); outputs
  ``rate_P`` and ``cov_P``.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .deployment import generate
from .geometry import ordered_arrivals, ordered_ppp, tail_power_mean, uniform_directions
from .maps import Nearest, _tail_interference, meng_crlb_chunk
from .params import MengParams, ParameterError, SongParams, check_choice, check_int, check_real
from .sensing import song_crlb
from .typical_near import (
    check_radii,
    control_products,
    near_counts,
    near_density,
    near_offsets,
    near_weights,
    ppp_first_arrival,
    product_name,
    shot_control_ppp,
    shot_control_torus,
    site_control,
    song_near_pairs,
    stratified_points,
)

__all__ = ["PPP_SAMPLERS", "PROCESSES", "SAMPLINGS", "TypicalKernel", "output_name", "ppp_tail_interference",
           "shift_db", "stratified_points"]

PROCESSES = ("ppp", "hexagonal", "perturbed", "matern-ii")
"""Processes compared, all at the same density ``params.bs_density``."""


PPP_SAMPLERS = ("ordered", "torus")
"""Values of :attr:`TypicalKernel.ppp`."""

SAMPLINGS = ("stratified", "uniform")
"""Values of :attr:`TypicalKernel.sampling`."""


def ppp_tail_interference(r_k: np.ndarray, density: float, alpha: float) -> np.ndarray:
    """E[sum of r^-alpha over the PPP points beyond r_K | r_K] = 2 pi lambda r_K^(2 - alpha) / (alpha - 2).

    Given the K-th nearest distance, the points beyond it are a PPP of ``density`` outside the disk
    of radius r_K (the strong Markov property of the radial process), so the mean is Campbell's
    lambda int_{r_K}^inf r^-alpha 2 pi r dr (alpha > 2; r_K clipped at 1e-9 m like the distances).
    """
    rk = np.maximum(np.asarray(r_k, dtype=float), 1e-9)
    g = math.pi * density  # in arrival-time units g = pi lambda r^2: (pi lambda)^(alpha/2) tail_power_mean
    return g ** (0.5 * alpha) * tail_power_mean(g * rk * rk, alpha)


def output_name(prefix: str, process: str) -> str:
    return f"{prefix}_{process.replace('-', '_')}"


@dataclass(frozen=True)
class TypicalKernel:
    """``kernel(rng, n) -> {name: (n,) array}``: n deployments of each process, ``points`` locations each.

    Parameters
    ----------
    params : MengParams (or SongParams for "song")
        bs_density, beta (sensing), alpha, M_t, p^c, psi, mu_c (communication).
    quantity : "crlb", "song" or "comp"
    n_bs : int
        N (crlb; song: nearest TXs and nearest RXs) or L (comp).
    epsilon : float
        crlb: accuracy epsilon [m] of the coverage P(CRLB <= epsilon^2).
    threshold_db : float
        comp: SIR threshold [dB] of the coverage.
    points, n_sites : int
        Locations per deployment, and sites per torus (about).
    hardcore, sigma_rel : float
        Matern II: lambda_b pi r^2; perturbed lattice: sigma / spacing.
    exact_sites, panels : int
        comp only: the interferers summed exactly, the max(``exact_sites``, 4 L) nearest sites
        (beyond them their mean interference, :func:`isacnet.maps._tail_interference`), and the
        Gauss-Legendre panels of the rate integral (:func:`isacnet.comp_given.power_sum_rate`).
        Accuracy against (128, 48): docs/performance.md ("Deployment figures").
    ppp : "ordered" or "torus"
        How the PPP is drawn (module docstring): ``ppp_points`` independent typical points by
        ordered sampling, or a torus deployment like the other processes.
    ppp_points : int
        Typical points of an ordered PPP sample (0: ``points``). They cost a tenth of a torus
        point (no deployment, no KD-tree), so more of them narrow the PPP's CI cheaply.
    sampling : "stratified" or "uniform"
        Where a deployment's points lie (module docstring): a jittered grid (and, for "song", an
        independent RX shift per point), or i.i.d. uniform points.
    thresholds : tuple of float
        Several coverage thresholds evaluated on the same deployments (epsilon [m] for crlb and
        song, threshold_db [dB] for comp): the outputs ``cov_P@k`` for the k-th threshold replace
        ``cov_P`` (whose ``epsilon`` / ``threshold_db`` is then unused). Empty (default): ``cov_P``
        alone. A sweep over the threshold is run this way (:attr:`Model.shared_option`): one set of
        deployments for every threshold, so a coverage curve is a non-increasing empirical CDF of
        the same samples, at the cost of one point.
    near_points, near_radius : int, float
        crlb and song: M points near the sites a deployment (0: none, the default) and the radius of
        their discs in units of 1 / sqrt(lambda_b) (in (0, 1]), or 1 to 4 increasing radii (equal
        shares of the M points); the coverages pool them with the ``points`` by importance weights
        (module docstring). The PPP by ordered sampling then draws its first arrival by stratified
        importance sampling with the share M / (P + M) in the discs of the same radii ("crlb";
        Song's PPP has none). For "song" half the M pairs are near a TX, half near an RX.
    control_radius : float
        comp only: the radius of the shot-noise control's bump in units of 1 / sqrt(lambda_b) (in
        [0, 1]; 0, the default: no control). Adds ``shotx_P`` and ``ratex_P`` (module docstring).
    with_coverage : bool
        comp only: False leaves out the coverage (the rate alone, ``rate_P``; the Gil-Pelaez
        integral per location is two thirds of the cost). The rate is the same number either way
        (the coverage draws no random numbers).
    """

    params: Any  # MengParams, or SongParams for quantity 'song'
    quantity: str = "crlb"
    n_bs: int = 8
    epsilon: float = 100.0
    threshold_db: float = 0.0
    points: int = 32
    n_sites: int = 400
    hardcore: float = 0.5
    sigma_rel: float = 0.25
    thresholds: tuple[float, ...] = ()
    with_coverage: bool = True
    sampling: str = "stratified"
    exact_sites: int = 64
    ppp: str = "ordered"
    ppp_points: int = 0
    panels: int = 12
    near_points: int = 0
    near_radius: float | tuple[float, ...] = 0.1
    control_radius: float = 0.0

    def __post_init__(self) -> None:
        s = object.__setattr__
        if self.quantity not in ("crlb", "song", "comp"):
            raise ParameterError("quantity", self.quantity, "'crlb', 'song' or 'comp'")
        if not self.with_coverage and self.quantity != "comp":
            raise ParameterError("with_coverage", self.with_coverage,
                                 "True (only 'comp' has an output beside the coverage)")
        want = SongParams if self.quantity == "song" else MengParams
        if not isinstance(self.params, want):
            raise ParameterError("params", type(self.params).__name__,
                                 f"a {want.__name__} for quantity {self.quantity!r}")
        sp: Any = self.params
        if self.quantity == "song" and sp.tx_density != sp.rx_density:
            raise ParameterError("rx_density", sp.rx_density,
                                 f"= tx_density = {sp.tx_density:g} m^-2 (TX and RX networks share a torus)")
        s(self, "n_bs", check_int("n_bs", self.n_bs, ge=1))
        s(self, "points", check_int("points", self.points, ge=1))
        s(self, "sampling", check_choice("sampling", self.sampling, SAMPLINGS))
        s(self, "ppp", check_choice("ppp", self.ppp, PPP_SAMPLERS))
        s(self, "ppp_points", check_int("ppp_points", self.ppp_points, ge=0) or self.points)
        s(self, "exact_sites", check_int("exact_sites", self.exact_sites, ge=1))
        s(self, "panels", check_int("panels", self.panels, ge=1, le=1024))
        s(self, "near_points", check_int("near_points", self.near_points, ge=0))
        s(self, "near_radius", check_radii(self.near_radius))
        s(self, "control_radius", check_real("control_radius", self.control_radius, ge=0.0, le=1.0))
        if self.control_radius and self.quantity != "comp":
            raise ParameterError("control_radius", self.control_radius, "0 for quantity 'crlb' and 'song' (comp only)")
        if self.near_points and self.quantity == "comp":
            raise ParameterError("near_points", self.near_points,
                                 "0 for quantity 'comp' (points near the sites: 'crlb' and 'song' only)")
        if self.near_points and self.quantity == "song" and self.sampling != "stratified":
            raise ParameterError("near_points", self.near_points,
                                 "0 with sampling 'uniform' for 'song' (its near points pair a TX and an RX torus)")
        s(self, "n_sites", check_int("n_sites", self.n_sites, ge=max(64, 8 * self.n_bs)))
        if self.quantity == "comp" and self._k_comp > self.n_sites:
            raise ParameterError("exact_sites", self.exact_sites,
                                 f"<= n_sites = {self.n_sites} (and 4 L <= n_sites): the sites summed exactly")
        s(self, "epsilon", check_real("epsilon", self.epsilon, gt=0.0))
        s(self, "threshold_db", check_real("threshold_db", self.threshold_db))
        name = "threshold_db" if self.quantity == "comp" else "epsilon"
        s(self, "thresholds", tuple(check_real(name, v, gt=0.0) if name == "epsilon" else check_real(name, v)
                                    for v in self.thresholds))

    @property
    def _cov_names(self) -> tuple[str, ...]:
        if not self.with_coverage:
            return ()
        return tuple(f"cov@{k}" for k in range(len(self.thresholds))) if self.thresholds else ("cov",)

    @property
    def quantities(self) -> tuple[str, ...]:
        pre = self._cov_names + (("rate",) if self.quantity == "comp" else ("log",))
        return tuple(_name(p, q) for q in PROCESSES for p in pre + self._control_names(q))

    def _controls(self, process: str) -> tuple[str, ...]:
        """The controls with mean exactly 0 of a process's sample (module docstring): ``shotx``
        (comp), ``sitesx`` (Matern II's site count), ``wx`` (the mean importance weight minus 1
        of a torus deployment's pool with near points)."""
        if self.quantity == "comp":
            return ("shotx",) if self.control_radius else ()
        c = ("sitesx",) if process == "matern-ii" else ()
        return c + (("wx",) if self.near_points and process != "ppp" else ())

    def _control_names(self, process: str) -> tuple[str, ...]:
        """The controls of :meth:`_controls` and their products (:func:`typical_near.control_products`)."""
        controls = self._controls(process)
        ys = ("rate",) if self.quantity == "comp" else self._cov_names
        names = controls + tuple(product_name(y, c) for c in controls for y in ys)
        return names + (("".join(controls),) if len(controls) == 2 else ())

    def _coverage(self, tr: np.ndarray) -> dict[str, np.ndarray]:
        """Per location, the indicator of CRLB <= epsilon^2 for the kernel's epsilon(s)."""
        eps = self.thresholds or (self.epsilon,)
        return {n: (tr <= e**2).astype(float) for n, e in zip(self._cov_names, eps, strict=True)}

    def probe_kernel(self) -> TypicalKernel:
        """The same kernel on at most 16 points of each kind (the preflight's probe,
        :func:`isacnet.experiments.preflight.probe`): every code path of a sample, a fraction of its cost."""
        return dataclasses.replace(self, points=min(self.points, 16), ppp_points=min(self.ppp_points, 16),
                                   near_points=min(self.near_points, 16))

    def describe(self) -> dict[str, object]:
        where = "uniform points" if self.sampling == "uniform" else "points on a jittered grid"
        return {"geometry": f"torus deployments of about {self.n_sites} sites, {self.points} {where} each",
                "sampling": self.sampling, "ppp": self.ppp, "near_points": self.near_points,
                "processes": list(PROCESSES), "quantity": self.quantity, "n_bs": self.n_bs,
                "sample": "mean over the points of one deployment (i.i.d. across deployments)"}

    def _points(self, rng: np.random.Generator, box: tuple[float, float]) -> np.ndarray:
        if self.sampling == "uniform":
            return rng.random((self.points, 2)) * box
        return stratified_points(rng, self.points, box)

    def _song(self, tx_dep, rx_dep, pts: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        k, P = self.n_bs, len(pts)
        tnear, rnear = Nearest(tx_dep.bs, tx_dep.torus), Nearest(rx_dep.bs, rx_dep.torus)
        # the RX network seen from an independent uniform shift of each point (stratified sampling)
        at = pts if self.sampling == "uniform" else pts + rng.random(pts.shape) * rx_dep.torus
        if self.near_points:
            radii = [r / math.sqrt(self.params.tx_density) for r in self._radii]  # type: ignore[union-attr]
            pts, at, counts = song_near_pairs(rng, tx_dep, rx_dep, pts, at, self.near_points, radii)
        tdx, tdy, tdist = tnear.query(pts, k)
        rdx, rdy, rdist = rnear.query(at, k)
        txp = pts[:, None, :] + np.stack([tdx, tdy], -1)
        rxp = pts[:, None, :] + np.stack([rdx, rdy], -1)
        values = self._song_values(txp, rxp, pts)
        if not self.near_points:
            return values
        dens = (near_density(tdist, pts, tnear.tree, tx_dep.torus, len(tx_dep.bs), counts[0], radii)
                + near_density(rdist, at, rnear.tree, rx_dep.torus, len(rx_dep.bs), counts[1], radii))
        w = (P + self.near_points) / (P + dens)
        return {**{name: (v * w if name != "log" else v[:P]) for name, v in values.items()},
                "wx": np.array([w.mean() - 1.0])}

    def _song_values(self, txp: np.ndarray, rxp: np.ndarray, target: np.ndarray) -> dict[str, np.ndarray]:
        tr = song_crlb(txp, rxp, target, self.params)  # type: ignore[arg-type]
        with np.errstate(divide="ignore"):
            return {**self._coverage(tr), "log": np.log(tr)}

    def _crlb_values(self, dx: np.ndarray, dy: np.ndarray, dist: np.ndarray) -> dict[str, np.ndarray]:
        tr = meng_crlb_chunk(dx, dy, np.maximum(dist, 1e-9), self.params)
        with np.errstate(divide="ignore"):
            return {**self._coverage(tr), "log": np.log(tr)}

    @property
    def _k_comp(self) -> int:
        return max(self.exact_sites, 4 * self.n_bs)

    def _comp_values(self, dist: np.ndarray, tail: np.ndarray) -> dict[str, np.ndarray]:
        """Rate (and coverage) of the L nearest BSs given the K nearest distances and the mean
        interference ``tail`` of the sites beyond them."""
        from .analysis.meng_sensing import kappa_c
        from .comp_given import power_sum_coverage, power_sum_rate

        p, L = self.params, self.n_bs
        kap = float(kappa_c(p.resource_blocks, p.mu_c, L))
        w = np.maximum(dist, 1e-9) ** (-p.alpha)
        m, pc = p.n_tx_antennas - 1, p.comm_power_fraction
        dbs = (self.thresholds or (self.threshold_db,)) if self.with_coverage else ()
        return {"rate": power_sum_rate(w, L, m, pc, kap, tail, panels=self.panels),
                **{n: power_sum_coverage(w, L, m, pc, kap, 10.0 ** (d / 10.0), tail)
                   for n, d in zip(self._cov_names, dbs, strict=True)}}

    def _values(self, dep, pts: np.ndarray, rng: np.random.Generator) -> dict[str, np.ndarray]:
        near = Nearest(dep.bs, dep.torus)
        if self.quantity == "crlb":
            dx, dy, dist = near.query(pts, self.n_bs)
            values = self._crlb_values(dx, dy, dist)
            return self._with_near_points(dep, near, pts, dist, values, rng) if self.near_points else values
        _, _, dist = near.query(pts, self._k_comp)
        values = self._comp_values(dist, _tail_interference(dep, pts, np.maximum(dist, 1e-9), self.params.alpha))
        if self.control_radius:
            values["shotx"] = shot_control_torus(dist, pts, dep.bs, dep.torus, self._shot_r)
        return values

    @property
    def _shot_r(self) -> float:
        """The shot-noise control's bump radius [m] (``control_radius`` spacings 1 / sqrt(lambda_b))."""
        return self.control_radius / math.sqrt(self.params.bs_density)

    def _with_near_points(self, dep, near: Nearest, pts: np.ndarray, dist: np.ndarray,
                          values: dict[str, np.ndarray], rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The coverages by multiple importance sampling (:mod:`isacnet.typical_near`):
        ``near_points`` more points near uniformly chosen sites, in discs of the ``near_radius``
        radii (equal shares, stratified offsets), pooled with the P grid points by the balance
        heuristic. ``log`` keeps the P points alone (it is not small anywhere)."""
        counts, radii = self._near_groups
        site = rng.integers(0, len(dep.bs), self.near_points)
        extra = np.mod(dep.bs[site] + near_offsets(rng, counts, radii), dep.torus)
        edx, edy, edist = near.query(extra, self.n_bs)
        cov_near = self._crlb_values(edx, edy, edist)
        w = near_weights(np.concatenate([dist, edist]), np.concatenate([pts, extra]), near.tree, dep.torus,
                         len(dep.bs), len(pts), counts, radii)
        return {**{k: (np.concatenate([v, cov_near[k]]) * w if k != "log" else v) for k, v in values.items()},
                "wx": np.array([w.mean() - 1.0])}

    @property
    def _radii(self) -> tuple[float, ...]:
        """``near_radius`` as the tuple that __post_init__ made of it."""
        r = self.near_radius
        return r if isinstance(r, tuple) else (r,)

    @property
    def _near_groups(self) -> tuple[list[int], list[float]]:
        """(M_k, R_k [m]): the near points' shares and disc radii."""
        radii = [r / math.sqrt(self.params.bs_density) for r in self._radii]
        return near_counts(self.near_points, len(radii)), radii

    def _ppp_ordered(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The PPP's values at ``ppp_points`` independent typical points (ordered sampling, no torus)."""
        p: Any = self.params
        if self.quantity == "song":
            _, tx = ordered_ppp(rng, self.ppp_points, self.n_bs, p.tx_density)
            _, rx = ordered_ppp(rng, self.ppp_points, self.n_bs, p.rx_density)
            return self._song_values(tx, rx, np.zeros(2))
        if self.quantity == "crlb" and self.near_points:
            return self._ppp_near(rng)
        if self.quantity == "crlb":
            r, xy = ordered_ppp(rng, self.ppp_points, self.n_bs, p.bs_density)
            return self._crlb_values(xy[..., 0], xy[..., 1], r)
        # comp: only distances, and the mean interference beyond the K-th
        r = np.sqrt(ordered_arrivals(rng, self.ppp_points, self._k_comp) / (math.pi * p.bs_density))
        values = self._comp_values(r, ppp_tail_interference(r[:, -1], p.bs_density, p.alpha))
        if self.control_radius:
            values["shotx"] = shot_control_ppp(r, p.bs_density, self._shot_r)
        return values

    def _ppp_near(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """The PPP's counterpart of the near points: the first arrival by stratified importance
        sampling (:func:`isacnet.typical_near.ppp_first_arrival`), share q = M / (P + M) in
        [0, pi lambda R_k^2] for the near radii R_k; every output (log too) weighted."""
        n, k, lam = self.ppp_points, self.n_bs, self.params.bs_density
        q = self.near_points / (self.points + self.near_points)
        t1, w = ppp_first_arrival(rng, n, q, [math.pi * r * r for r in self._radii])
        g = np.empty((n, k))
        g[:, 0] = t1
        if k > 1:
            g[:, 1:] = t1[:, None] + ordered_arrivals(rng, n, k - 1)
        cos, sin = uniform_directions(rng, (n, k))
        r = np.sqrt(g / (math.pi * lam))
        return {name: v * w for name, v in self._crlb_values(r * cos, r * sin, r).items()}

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        out = {q: np.empty(n) for q in self.quantities}
        song = self.quantity == "song"
        lam = self.params.tx_density if song else self.params.bs_density  # type: ignore[union-attr]
        for i in range(n):
            for proc in PROCESSES:
                if proc == "ppp" and self.ppp == "ordered":
                    values = self._ppp_ordered(rng)
                else:
                    def draw(proc=proc):
                        return generate(proc, lam, rng, n_sites=self.n_sites, hardcore=self.hardcore,
                                        sigma_rel=self.sigma_rel)

                    dep = draw()
                    pts = self._points(rng, dep.torus)
                    deps = (dep, draw()) if song else (dep,)
                    values = self._song(deps[0], deps[-1], pts, rng) if song else self._values(dep, pts, rng)
                    if "sitesx" in self._controls(proc):
                        values["sitesx"] = site_control(deps)
                for name, v in values.items():
                    out[_name(name, proc)][i] = v.mean()  # a non-finite value propagates, counted
                if self._controls(proc):  # products of the sample's means (control_variates' YX, XX)
                    means = {name: out[_name(name, proc)][i] for name in values}
                    ys = ("rate",) if self.quantity == "comp" else self._cov_names
                    for name, prod in control_products(means, self._controls(proc), ys).items():
                        out[_name(name, proc)][i] = prod
        return out


def _name(quantity: str, process: str) -> str:
    """``output_name``, keeping a threshold index last: ("cov@3", "ppp") -> "cov_ppp@3"."""
    base, at, k = quantity.partition("@")
    return output_name(base, process) + at + k


def shift_db(a: float, b: float) -> float:
    """10 log10(a / b) [dB]."""
    return 10.0 * math.log10(a / b) if a > 0 and b > 0 else math.nan
