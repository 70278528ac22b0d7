"""Typical-target and typical-user statistics on generated networks: PPP against regular networks.

Ordered sampling (:mod:`isacnet.geometry`) exists for the PPP only. For the hexagonal lattice,
the perturbed lattice and the Matern type II hard-core process, :class:`TypicalKernel` draws whole
deployments on a torus (:func:`isacnet.deployment.generate`, about ``n_sites`` sites, minimum-image
distances: no edge) and evaluates the quantity at ``points`` independent uniform locations of each.
By stationarity a uniform location sees the network as the typical point does (Palm = uniform
location for a stationary process and an independent point), so one *sample* is the average over
the ``points`` locations of one deployment: samples are i.i.d. across deployments and the
standard errors of the Monte Carlo engine are valid. The PPP is drawn the same way (on a torus),
so its curve is comparable and is also checked against ordered sampling (tests).

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

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .deployment import generate
from .maps import Nearest, _tail_interference, meng_crlb_chunk
from .params import MengParams, ParameterError, SongParams, check_int, check_real
from .sensing import song_crlb

__all__ = ["PROCESSES", "TypicalKernel", "output_name", "shift_db"]

PROCESSES = ("ppp", "hexagonal", "perturbed", "matern-ii")
"""Processes compared, all at the same density ``params.bs_density``."""


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
    thresholds : tuple of float
        Several coverage thresholds evaluated on the same deployments (epsilon [m] for crlb and
        song, threshold_db [dB] for comp): the outputs ``cov_P@k`` for the k-th threshold replace
        ``cov_P`` (whose ``epsilon`` / ``threshold_db`` is then unused). Empty (default): ``cov_P``
        alone. A sweep over the threshold is run this way (:attr:`Model.shared_option`): one set of
        deployments for every threshold, so a coverage curve is a non-increasing empirical CDF of
        the same samples, at the cost of one point.
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
        s(self, "n_sites", check_int("n_sites", self.n_sites, ge=max(64, 8 * self.n_bs)))
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
        return tuple(_name(p, q) for q in PROCESSES for p in pre)

    def _coverage(self, tr: np.ndarray) -> dict[str, np.ndarray]:
        """Per location, the indicator of CRLB <= epsilon^2 for the kernel's epsilon(s)."""
        eps = self.thresholds or (self.epsilon,)
        return {n: (tr <= e**2).astype(float) for n, e in zip(self._cov_names, eps, strict=True)}

    def describe(self) -> dict[str, object]:
        return {"geometry": f"torus deployments of about {self.n_sites} sites, {self.points} uniform points each",
                "processes": list(PROCESSES), "quantity": self.quantity, "n_bs": self.n_bs,
                "sample": "mean over the points of one deployment (i.i.d. across deployments)"}

    def _song(self, tx_dep, rx_dep, pts: np.ndarray) -> dict[str, np.ndarray]:
        k = self.n_bs
        tdx, tdy, _ = Nearest(tx_dep.bs, tx_dep.torus).query(pts, k)
        rdx, rdy, _ = Nearest(rx_dep.bs, rx_dep.torus).query(pts, k)
        txp = pts[:, None, :] + np.stack([tdx, tdy], -1)
        rxp = pts[:, None, :] + np.stack([rdx, rdy], -1)
        tr = song_crlb(txp, rxp, pts, self.params)  # type: ignore[arg-type]
        with np.errstate(divide="ignore"):
            return {**self._coverage(tr), "log": np.log(tr)}

    def _values(self, dep, pts: np.ndarray) -> dict[str, np.ndarray]:
        p = self.params
        near = Nearest(dep.bs, dep.torus)
        if self.quantity == "crlb":
            dx, dy, dist = near.query(pts, self.n_bs)
            dist = np.maximum(dist, 1e-9)
            tr = meng_crlb_chunk(dx, dy, dist, p)
            with np.errstate(divide="ignore"):
                return {**self._coverage(tr), "log": np.log(tr)}
        from .analysis.meng_sensing import kappa_c
        from .comp_given import power_sum_coverage, power_sum_rate

        L = self.n_bs
        kap = float(kappa_c(p.resource_blocks, p.mu_c, L))
        K = max(64, 4 * L)
        _, _, dist = near.query(pts, K)
        dist = np.maximum(dist, 1e-9)
        w = dist ** (-p.alpha)
        T = _tail_interference(dep, pts, dist, p.alpha)
        m, pc = p.n_tx_antennas - 1, p.comm_power_fraction
        dbs = (self.thresholds or (self.threshold_db,)) if self.with_coverage else ()
        return {"rate": power_sum_rate(w, L, m, pc, kap, T),
                **{n: power_sum_coverage(w, L, m, pc, kap, 10.0 ** (d / 10.0), T)
                   for n, d in zip(self._cov_names, dbs, strict=True)}}

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        out = {q: np.empty(n) for q in self.quantities}
        song = self.quantity == "song"
        lam = self.params.tx_density if song else self.params.bs_density  # type: ignore[union-attr]
        for i in range(n):
            for proc in PROCESSES:
                def draw(proc=proc):
                    return generate(proc, lam, rng, n_sites=self.n_sites, hardcore=self.hardcore,
                                    sigma_rel=self.sigma_rel)

                dep = draw()
                pts = rng.random((self.points, 2)) * dep.torus
                values = self._song(dep, draw(), pts) if song else self._values(dep, pts)
                for name, v in values.items():
                    out[_name(name, proc)][i] = v.mean()  # a non-finite value propagates, counted
        return out


def _name(quantity: str, process: str) -> str:
    """``output_name``, keeping a threshold index last: ("cov@3", "ppp") -> "cov_ppp@3"."""
    base, at, k = quantity.partition("@")
    return output_name(base, process) + at + k


def shift_db(a: float, b: float) -> float:
    """10 log10(a / b) [dB]."""
    return 10.0 * math.log10(a / b) if a > 0 and b > 0 else math.nan
