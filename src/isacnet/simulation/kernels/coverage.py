"""Monte Carlo of the CoMP link's SINR: rate, coverage indicators and per-layout success
probabilities (meta distribution) from the *same* layouts. numpy only (no numba/jax core yet).

Kernel protocol: ``kernel(rng, n) -> {quantity: array (n,)}``; :func:`isacnet.simulation.engine`
turns the per-layout values into means with standard errors (a coverage probability is the mean
of an indicator, the rate CDF at ln(1 + T) is one minus it).

Model (the "paper" model of :mod:`isacnet.simulation.meng_rate`, generalised): the K nearest
BSs by ordered sampling (arrival times T_k = pi lambda_b d_k^2 of a unit-rate Poisson process),
BSs 2..L asked, each accepting independently with probability kappa_c; desired gains Gamma(m
(M_t - 1), p^c / m) (Nakagami-m per degree of freedom; m = 1: the paper's Gamma(M_t - 1, p^c)),
interference gains Gamma(m, 1/m), the JT model of :mod:`isacnet.comm`, noise nu
(:func:`isacnet.analysis.coverage.noise_level`). The BSs beyond the K-th enter through their
conditional mean (as in meng_rate; K = max(128, 4 L) by default, which moves coverage by < 1e-4
at the thresholds tested), except in the per-layout success probabilities, where their Laplace
transform is exact (:func:`isacnet.comm.tail_log_laplace`).

Per-layout success probability P_s(theta | layout) (outputs ``ps_<j>``, needs m = 1): available in
closed form given the layout for jt = "noncoherent" with M_t = 2 (S ~ Exp(p^c sum_served w_i)) and
for L = 1 (power-sum = any JT with one BS; integer M_t - 1 via derivatives of the Laplace
transform). Its mean is the coverage, its moments M_b = E[P_s^b] are the meta distribution's, and
indicators ``meta_<j>_<i>`` = 1{P_s(theta_j) > x_i} give the fraction of users with success
probability above x (Haenggi 2016).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ... import comm
from ...geometry import ordered_arrivals, tail_power_mean
from ...params import MengParams, ParameterError, check_int, check_real

__all__ = ["CoverageKernel", "JTCompareKernel", "JT_SHORT"]

_LN2 = math.log(2.0)
_MAX_ELEMENTS = 1 << 20


def _noise_level(params: MengParams, noise) -> float:
    # the same definition as analysis.coverage.noise_level (kept here: simulation does not import
    # analysis); tests check both agree.
    if noise is None:
        return 0.0
    if isinstance(noise, str):
        if noise != "params":
            raise ParameterError("noise", noise, "None, 'params' or a noise power >= 0 [W]")
        s2 = params.noise_power
    else:
        s2 = check_real("noise", noise, ge=0.0)
    return s2 / (params.tx_power * (math.pi * params.bs_density) ** (0.5 * params.alpha))


@dataclass(frozen=True)
class CoverageKernel:
    """SINR Monte Carlo of the CoMP link: ``kernel(rng, n) -> {name: (n,) array}``.

    Parameters
    ----------
    params : MengParams
    L : int
        Cluster size >= 1.
    thresholds : tuple of float
        Linear SINR thresholds T_j (> 0); outputs ``cov_<j>`` = 1{SINR > T_j}.
    jt : {"power-sum", "noncoherent", "coherent"}
        :mod:`isacnet.comm`.
    kappa_c : float, optional
        Acceptance probability (default kappa_c(psi, mu_c, L), derived variant); resolved and stored.
    m : float
        Nakagami parameter (>= 0.5), 1 = Rayleigh.
    noise : None, "params" or float
        As :func:`isacnet.analysis.coverage.noise_level`.
    k_nearest : int, optional
        BSs sampled exactly (>= max(L, 2)); default max(128, 4 L).
    meta_x : tuple of float
        x values in (0, 1) for the meta-distribution indicators (empty: none). Per-layout success
        probabilities ``ps_<j>`` are output whenever they have a closed form (``has_meta``).

    Outputs (each (n,))
    -------------------
    rate_nats = ln(1 + SINR) [nats/s/Hz], rate_bits = log2(1 + SINR) [bits/s/Hz], cov_<j>,
    and when ``has_meta``: ps_<j>, ps2_<j> (its square, for M_2) and meta_<j>_<i>.
    """

    params: MengParams
    L: int
    thresholds: tuple[float, ...] = (1.0,)
    jt: str = "power-sum"
    kappa_c: float | None = None
    m: float = 1.0
    noise: object = None
    k_nearest: int | None = None
    meta_x: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        s = object.__setattr__
        if not isinstance(self.params, MengParams):
            raise ParameterError("params", self.params, "a MengParams")
        L = check_int("L", self.L, ge=1)
        s(self, "L", L)
        th = tuple(check_real("thresholds", t, gt=0.0) for t in np.atleast_1d(np.asarray(self.thresholds, dtype=float)))
        if not th:
            raise ParameterError("thresholds", self.thresholds, "at least one linear threshold > 0")
        s(self, "thresholds", th)
        if self.jt not in comm.JT_MODELS:
            raise ParameterError("jt", self.jt, f"one of {comm.JT_MODELS}")
        s(self, "m", check_real("m", self.m, ge=0.5))
        if self.kappa_c is None:  # the closed-form default is the caller's (simulation imports no analysis)
            raise ParameterError(
                "kappa_c",
                None,
                "a probability in [0, 1] (isacnet.meng.simulate_coverage "
                "fills in the acceptance law kappa_c(psi, mu_c, L))",
            )
        s(self, "kappa_c", check_real("kappa_c", self.kappa_c, ge=0.0, le=1.0))
        _noise_level(self.params, self.noise)  # validates
        k = max(128, 4 * L) if self.k_nearest is None else self.k_nearest
        s(self, "k_nearest", check_int("k_nearest", k, ge=max(L, 2)))
        mx = tuple(check_real("meta_x", x, gt=0.0, lt=1.0) for x in self.meta_x)
        s(self, "meta_x", mx)
        if mx and not self.has_meta:
            raise ParameterError("meta_x", mx, "empty unless m = 1 and (L = 1, or jt = 'noncoherent' with M_t = 2)")

    @property
    def nu(self) -> float:
        """Normalised noise sigma^2 / (P_t (pi lambda_b)^(alpha/2)) (0: interference-limited)."""
        return _noise_level(self.params, self.noise)

    @property
    def has_meta(self) -> bool:
        """Whether P_s(theta | layout) has a closed form (m = 1; L = 1, or NC-JT with M_t = 2)."""
        if self.m != 1.0 or self.params.comm_power_fraction <= 0.0:
            return False
        return self.L == 1 or (self.jt == "noncoherent" and self.params.n_tx_antennas == 2)

    @property
    def quantities(self) -> tuple[str, ...]:
        q = ["rate_nats", "rate_bits"] + [f"cov_{j}" for j in range(len(self.thresholds))]
        if self.has_meta:
            for j in range(len(self.thresholds)):
                q += [f"ps_{j}", f"ps2_{j}"] + [f"meta_{j}_{i}" for i in range(len(self.meta_x))]
        return tuple(q)

    def describe(self) -> dict[str, object]:
        return {
            "L": self.L,
            "jt": self.jt,
            "kappa_c": self.kappa_c,
            "m": self.m,
            "noise_nu": self.nu,
            "k_nearest": self.k_nearest,
            "thresholds": list(self.thresholds),
            "meta_x": list(self.meta_x),
            "tail": "conditional mean beyond the K-th BS in the SINR; exact Laplace transform in P_s",
            "backend": "numpy",
        }

    def draw_evaluate(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Outputs of n layouts (one sub-batch)."""
        p, L, K, m = self.params, self.L, self.k_nearest, self.m
        alpha, pc = p.alpha, p.comm_power_fraction
        T = ordered_arrivals(rng, n, K)  # type: ignore[arg-type]
        w = comm.path_gains(T, alpha)
        gi = rng.gamma(m, 1.0 / m, (n, K - 1))  # type: ignore[operator]
        gd = rng.gamma(m * (p.n_tx_antennas - 1), pc / m, (n, L)) if pc > 0 else np.zeros((n, L))
        acc = rng.random((n, L - 1)) < float(self.kappa_c)  # type: ignore[arg-type]  # set in __post_init__
        phases = 2.0 * math.pi * rng.random((n, L)) if self.jt == "noncoherent" else None
        served = np.concatenate([np.ones((n, 1), dtype=bool), acc], axis=1)
        S = comm.served_signal(w[:, :L], gd, served, self.jt, phases)
        w_int = np.concatenate([np.where(acc, 0.0, w[:, 1:L]), w[:, L:]], axis=1)  # (n, K - 1)
        tail = tail_power_mean(T[:, -1], alpha)
        interf = (gi * w_int).sum(axis=1) + tail
        sinr = comm.sinr(S, interf, self.nu)
        out = {"rate_nats": np.log1p(sinr)}
        out["rate_bits"] = out["rate_nats"] / _LN2
        for j, t in enumerate(self.thresholds):
            out[f"cov_{j}"] = (sinr > t).astype(float)
        if self.has_meta:
            out.update(self._meta(T, w, served, w_int))
        return out

    def _meta(self, T, w, served, w_int) -> dict[str, np.ndarray]:
        p, L = self.params, self.L
        alpha, pc, nu = p.alpha, p.comm_power_fraction, self.nu
        tk = T[:, -1]

        if L == 1:
            k = p.n_tx_antennas - 1
            ps = comm.success_single(
                self.thresholds,
                w[:, 0],
                w_int,
                k,
                pc,
                nu,  # type: ignore[arg-type]
                tail_log=lambda s, n: comm.tail_log_laplace(s, tk, alpha, n),
            )
        else:
            mu = np.where(served, w[:, :L], 0.0).sum(axis=1)
            ps = comm.success_nc(
                self.thresholds,
                mu,
                w_int,
                pc,
                nu,  # type: ignore[arg-type]
                tail=lambda s: np.exp(comm.tail_log_laplace(s, tk, alpha, 0)),
            )
        out = {}
        for j in range(len(self.thresholds)):
            out[f"ps_{j}"] = ps[:, j]
            out[f"ps2_{j}"] = ps[:, j] ** 2
            for i, x in enumerate(self.meta_x):
                out[f"meta_{j}_{i}"] = (ps[:, j] > x).astype(float)
        return out

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        step = max(1, _MAX_ELEMENTS // (self.k_nearest * (1 + 3 * len(self.thresholds) * self.has_meta)))  # type: ignore[operator]
        parts = [self.draw_evaluate(rng, min(step, n - i)) for i in range(0, n, step)]
        if len(parts) == 1:
            return parts[0]
        return {q: np.concatenate([d[q] for d in parts]) for q in parts[0]}


JT_SHORT = {"power-sum": "ps", "noncoherent": "nc", "coherent": "coh"}
"""Short output-name tag of each joint-transmission model (outputs ``cov_<tag>``, ``rate_<tag>``)."""


@dataclass(frozen=True)
class JTCompareKernel:
    """The three joint-transmission models of :mod:`isacnet.comm` from the *same* layouts, gains,
    acceptances and phases: ``kernel(rng, n) -> {name: (n,) array}``.

    Per layout the served set, the desired gains g_i ~ Gamma(M_t - 1, p^c) and the interference
    are drawn once; the desired power is sum g_i w_i (power-sum, eq. (8)), |sum sqrt(g_i w_i)
    e^(j phi_i)|^2 (non-coherent) and (sum sqrt(g_i w_i))^2 (coherent), so the three differ only
    by the JT model (common random numbers: their differences have a small standard error).
    Rayleigh (m = 1), the BSs beyond the K-th by their conditional mean (as :class:`CoverageKernel`).

    Parameters
    ----------
    params : MengParams
    L : int
        Cluster size >= 1.
    threshold : float
        Linear SINR threshold T > 0.
    kappa_c : float
        Acceptance probability in [0, 1].
    noise : None, "params" or float
        As :func:`isacnet.analysis.coverage.noise_level`.
    k_nearest : int, optional
        BSs sampled exactly (>= max(L, 2)); default max(128, 4 L).
    thresholds : tuple of float
        Several linear thresholds on the same layouts: outputs ``cov_<tag>@k`` = 1{SINR > thresholds[k]}
        replace ``cov_<tag>`` (``threshold`` then unused). Empty (default): ``cov_<tag>`` alone.

    Notes
    -----
    Outputs, each (n,): ``cov_<tag>`` = 1{SINR > T} and ``rate_<tag>`` = ln(1 + SINR) [nats/s/Hz] for tag in
    ``JT_SHORT`` values (ps, nc, coh).
    """

    params: MengParams
    L: int
    threshold: float = 1.0
    kappa_c: float = 1.0
    noise: object = None
    k_nearest: int | None = None
    thresholds: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        s = object.__setattr__
        if not isinstance(self.params, MengParams):
            raise ParameterError("params", self.params, "a MengParams")
        L = check_int("L", self.L, ge=1)
        s(self, "L", L)
        s(self, "threshold", check_real("threshold", self.threshold, gt=0.0))
        s(self, "thresholds", tuple(check_real("threshold", t, gt=0.0) for t in self.thresholds))
        s(self, "kappa_c", check_real("kappa_c", self.kappa_c, ge=0.0, le=1.0))
        _noise_level(self.params, self.noise)  # validates
        k = max(128, 4 * L) if self.k_nearest is None else self.k_nearest
        s(self, "k_nearest", check_int("k_nearest", k, ge=max(L, 2)))

    @property
    def _covs(self) -> tuple[tuple[str, float], ...]:
        """(suffix, threshold) of each coverage output."""
        if not self.thresholds:
            return (("", self.threshold),)
        return tuple((f"@{k}", t) for k, t in enumerate(self.thresholds))

    @property
    def quantities(self) -> tuple[str, ...]:
        return tuple(n for t in JT_SHORT.values()
                     for n in (*(f"cov_{t}{sfx}" for sfx, _ in self._covs), f"rate_{t}"))

    def describe(self) -> dict[str, object]:
        return {
            "L": self.L,
            "threshold": self.threshold,
            "kappa_c": self.kappa_c,
            "noise_nu": _noise_level(self.params, self.noise),
            "k_nearest": self.k_nearest,
            "jt": list(JT_SHORT),
            "common_random_numbers": True,
            "backend": "numpy",
        }

    def draw_evaluate(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Outputs of n layouts (one sub-batch)."""
        p, L, K = self.params, self.L, int(self.k_nearest)  # type: ignore[arg-type]
        alpha, pc = p.alpha, p.comm_power_fraction
        T = ordered_arrivals(rng, n, K)
        w = comm.path_gains(T, alpha)
        gi = rng.gamma(1.0, 1.0, (n, K - 1))
        gd = rng.gamma(p.n_tx_antennas - 1, pc, (n, L)) if pc > 0 else np.zeros((n, L))
        acc = rng.random((n, L - 1)) < self.kappa_c
        phases = 2.0 * math.pi * rng.random((n, L))
        served = np.concatenate([np.ones((n, 1), dtype=bool), acc], axis=1)
        w_int = np.concatenate([np.where(acc, 0.0, w[:, 1:L]), w[:, L:]], axis=1)
        interf = (gi * w_int).sum(axis=1) + tail_power_mean(T[:, -1], alpha)
        nu = _noise_level(p, self.noise)
        out = {}
        for jt, tag in JT_SHORT.items():
            sinr = comm.sinr(comm.served_signal(w[:, :L], gd, served, jt, phases), interf, nu)
            for sfx, th in self._covs:
                out[f"cov_{tag}{sfx}"] = (sinr > th).astype(float)
            out[f"rate_{tag}"] = np.log1p(sinr)
        return out

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        step = max(1, _MAX_ELEMENTS // int(self.k_nearest))  # type: ignore[arg-type]
        parts = [self.draw_evaluate(rng, min(step, n - i)) for i in range(0, n, step)]
        if len(parts) == 1:
            return parts[0]
        return {q: np.concatenate([d[q] for d in parts]) for q in parts[0]}
