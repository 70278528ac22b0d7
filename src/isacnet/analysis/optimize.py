"""Backhaul-constrained sensing/communication tradeoff of Meng & Masouros (Sections II-D and V).

A design is the communication cluster size L, the sensing cluster size N and the power split
p^c (p^s = 1 - p^c). It achieves

* the rate R_c(L, p^c) of Theorem 2 (nats/s/Hz; :func:`isacnet.analysis.meng_rate.rate`), and
* the sensing bound CRLB_a(N, p^s) of (16). Every form of (16) is |zeta|^-2 times a function of
  N, and |zeta|^2 is proportional to p^s, so CRLB_a(N, p^s) = CRLB_a(N, 1) / p^s exactly.

It is feasible when the backhaul constraint (10) holds: R_c + e N <= C_backhaul, with e the
backhaul rate of one sensing BS (``params.sensing_rate_demand``, our choice: errata M-30).

The search is exact in the integers (every L <= L_max, N <= N_max) and continuous in p^c: for
each L, R_c(L, .) is evaluated on a grid of p^c and interpolated by a cubic spline (its error is
below 1e-3 relative at 41 points; checked in the tests), the optimum over p^c is found
on the spline with the constraint boundaries solved as roots, and the chosen design is evaluated
exactly once more (rate and feasibility from Theorem 2 itself, not from the spline).

Objectives (:func:`optimize`):

* ``max_crlb=c``: the largest R_c with CRLB_a <= c;
* ``min_rate=r``: the smallest CRLB_a with R_c >= r;
* ``weight=w``: the largest w R_c + (1 - w) (1/2) ln(1 m^2 / CRLB_a): the rate against the
  sensing "information" (the log of the position-error bound per dimension, in nats like
  R_c). A weighted sum only reaches the convex part of the Pareto boundary; the two constrained
  forms reach all of it.

Time sharing (the paper's baseline) alternates two corner designs: all power and backhaul to
sensing (p^s = 1, the best N with e N <= C: CRLB_S) and all to communication (p^c = 1, the best
L with R_c <= C: R_C). A fraction t of the time on communication gives (t R_C, CRLB_S / (1 - t)):
the Fisher information of a sensing slot scales with its duration. Each slot meets (10) on its
own, so time sharing never needs more backhaul than C.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from functools import cached_property
from typing import Any, Literal

import numpy as np
from scipy import interpolate
from scipy import optimize as sopt

from ..params import (
    TRADEOFF_L_MAX,
    TRADEOFF_N_GRID,
    TRADEOFF_N_MAX,
    TRADEOFF_N_MIN,
    MengParams,
    ParameterError,
    check_int,
    check_real,
    real_array,
)
from .tradeoff_design import (  # noqa: F401 (their old import path: isacnet.analysis.optimize.*)
    _LOAD_RTOL,
    _MAX_FALLBACK,
    Design,
    RateFn,
    _objective,
    _repair_design,
    check_objective,
    pareto_front,
)

__all__ = ["Design", "Tradeoff", "optimize", "time_sharing"]


_GRID_ORDERS = {"n_eta": 21, "n_z": 129}
"""Quadrature of Theorem 2 on the search grid: at a quarter of the default rule's cost, within
4e-7 relative of it for p^c >= 0.05 and 6.2e-5 at p^c = 1e-3 (L = 2; measured over L <= 30). The
chosen design is then evaluated with the default rule (~1e-12), so the rate a Design reports is
Theorem 2's, not the grid's."""


def _default_rate_fn(params: MengParams, variant: str, orders: dict[str, int] | None = None) -> RateFn:
    from .meng_rate import rate

    variant_: Any = variant  # checked by rate()
    kw: dict[str, Any] = dict(orders or {})

    def fn(L, pc: np.ndarray) -> np.ndarray:  # L: an int or an array broadcasting with pc
        return np.asarray(rate(L, params, p_c=np.asarray(pc, dtype=float), variant=variant_, unit="nats", **kw),
                          dtype=float)

    return fn


class Tradeoff:
    """The design space of one network: rates, bounds and acceptance for every L, N, p^c.

    Parameters
    ----------
    params : MengParams
        The network; its ``sensing_power_fraction`` is ignored (p^c is the design variable),
        ``backhaul_capacity`` is C and ``sensing_rate_demand`` is e of (10).
    L_max, N_max : int
        Largest cluster sizes searched (all of 1..L_max and N_min..N_max are tried); defaults
        :data:`isacnet.params.TRADEOFF_L_MAX` = 20 and ``TRADEOFF_N_MAX`` = 30, the same for
        :func:`optimize` and ``isacnet optimize``.
    N_min : int
        Smallest sensing cluster (default 2: one BS alone has a rank-one FIM and cannot
        localise, although the mean-field form of (16) gives it a finite value).
    n_grid : int
        p^c grid points on [0, 1] at which Theorem 2 is evaluated per L (default 101).
    rate_variant : {"exact", "paper"}
        Theorem 2 with the true joint law of (r, r_L), or as printed (errata).
    crlb_variant : {"mean-field", "corrected", "paper"}
        The form of (16) (see :func:`isacnet.analysis.meng_sensing.crlb_a`).
    rate_fn : callable, optional
        ``rate_fn(L, p_c) -> R_c`` [nats/s/Hz] replacing Theorem 2 (tests, other rate models).
    """

    def __init__(
        self,
        params: MengParams,
        *,
        L_max: int = TRADEOFF_L_MAX,
        N_max: int = TRADEOFF_N_MAX,
        N_min: int = TRADEOFF_N_MIN,
        n_grid: int = TRADEOFF_N_GRID,
        rate_variant: Literal["exact", "paper"] = "exact",
        crlb_variant: Literal["mean-field", "corrected", "paper"] = "mean-field",
        rate_fn: RateFn | None = None,
    ):
        from .meng_sensing import crlb_a, kappa_c, kappa_s

        if not isinstance(params, MengParams):
            raise ParameterError("params", type(params).__name__, "a MengParams")
        self.params = params
        self.L_max = check_int("L_max", L_max, ge=1, le=200)
        self.N_max = check_int("N_max", N_max, ge=1, le=10_000)
        self.N_min = check_int("N_min", N_min, ge=1, le=self.N_max)
        self.n_grid = check_int("n_grid", n_grid, ge=5, le=100_001)
        if rate_variant not in ("exact", "paper"):
            raise ParameterError("rate_variant", rate_variant, "'exact' or 'paper'")
        self.rate_variant = rate_variant
        self.crlb_variant = crlb_variant
        self.C = params.backhaul_capacity
        self.e = params.sensing_rate_demand
        self._vectorised = rate_fn is None
        self.rate_fn = rate_fn or _default_rate_fn(params, rate_variant, _GRID_ORDERS)  # the search grid
        self._rate_design = rate_fn or _default_rate_fn(params, rate_variant)  # a chosen design: default rule
        self.Ls = np.arange(1, self.L_max + 1)
        self.Ns = np.arange(1, self.N_max + 1)
        full = dataclasses.replace(params, sensing_power_fraction=1.0)
        self.crlb_full = np.asarray(crlb_a(self.Ns, full, variant=crlb_variant), dtype=float)  # p^s = 1
        self.kappa_s = np.asarray(kappa_s(params.resource_blocks, params.mu_s, self.Ns), dtype=float)
        self.kappa_c = np.asarray(kappa_c(params.resource_blocks, params.mu_c, self.Ls), dtype=float)
        # R_c ~ (p^c)^(2/alpha) near p^c = 0 (the SIR's tail index is 2/alpha), so the grid and
        # the spline use u = (p^c)^(2/alpha), in which R_c is smooth near 0 (interpolation error
        # checked in the tests)
        self._q = 2.0 / params.alpha
        self.u_grid = np.linspace(0.0, 1.0, self.n_grid)
        self.pc_grid = self._pc(self.u_grid)

    # ------------------------------------------------------------------ the two metrics
    @cached_property
    def rate_grid(self) -> np.ndarray:
        """R_c[L - 1, k] at p^c = pc_grid[k] (Theorem 2, nats/s/Hz)."""
        if self._vectorised:  # Theorem 2 takes the whole (L, p^c) grid in one call (shared nodes)
            grid_fn: Any = self.rate_fn  # the default rate_fn broadcasts L; a user's RateFn need not
            return np.asarray(grid_fn(self.Ls[:, None], self.pc_grid[None, :]), dtype=float)
        return np.stack([np.asarray(self.rate_fn(int(L), self.pc_grid), dtype=float) for L in self.Ls])

    @cached_property
    def _splines(self) -> list[interpolate.CubicSpline]:
        return [interpolate.CubicSpline(self.u_grid, r) for r in self.rate_grid]

    def _u(self, pc):
        return np.asarray(pc, dtype=float) ** self._q

    def _pc(self, u):
        return np.asarray(u, dtype=float) ** (1.0 / self._q)

    def rate_interp(self, L: int, p_c) -> np.ndarray:
        """R_c(L, p^c) from the spline (what the search uses)."""
        return self._splines[L - 1](self._u(p_c))

    def rate(self, L: int, p_c) -> np.ndarray:
        """R_c(L, p^c) from Theorem 2 itself at its default quadrature (not the spline, not the
        grid's cheaper rule)."""
        return np.asarray(self._rate_design(int(L), np.atleast_1d(np.asarray(p_c, dtype=float))), dtype=float)

    def crlb(self, N: int, p_c) -> np.ndarray:
        """CRLB_a(N, p^s = 1 - p^c) = CRLB_a(N, 1) / p^s [m^2] (inf at p^c = 1)."""
        ps = 1.0 - np.asarray(p_c, dtype=float)
        with np.errstate(divide="ignore"):
            return np.where(ps > 0, self.crlb_full[N - 1] / np.where(ps > 0, ps, 1.0), np.inf)

    def design(
        self, L: int, N: int, p_c: float, *, max_crlb: float | None = None, min_rate: float | None = None
    ) -> Design:
        """Evaluate one design exactly (Theorem 2 and (16)), with the constraints to check."""
        L = check_int("L", L, ge=1, le=self.L_max)
        N = check_int("N", N, ge=0, le=self.N_max)
        p_c = check_real("p_c", p_c, ge=0.0, le=1.0)
        r = float(self.rate(L, p_c)[0])
        c = float(self.crlb(N, p_c)) if N >= 1 else math.inf
        return Design(
            L,
            N,
            p_c,
            r,
            c,
            float(self.kappa_s[N - 1]) if N >= 1 else 1.0,
            float(self.kappa_c[L - 1]),
            r + self.e * N,
            self.C,
            max_crlb,
            min_rate,
            self.L_max,
            self.N_max,
        )

    # ------------------------------------------------------------------ the search
    @cached_property
    def _fine_pc(self) -> np.ndarray:
        """The fine candidate grid of p^c (uniform in u), the same for every (L, N)."""
        return self._pc(np.linspace(0.0, 1.0, 8 * (self.n_grid - 1) + 1))

    @cached_property
    def _fine_rate(self) -> list[np.ndarray]:
        """The spline on the fine grid, per L (evaluated once, not once per N)."""
        return [self.rate_interp(int(L), self._fine_pc) for L in self.Ls]

    def _candidates(
        self, L: int, N: int, extra_levels: tuple[float, ...], pc_hi: float
    ) -> tuple[np.ndarray, np.ndarray]:
        """p^c values where the optimum over p^c can sit for this (L, N), and the spline's R_c
        there: the fine grid, the spline's crossings of the backhaul budget and of
        ``extra_levels`` (rate targets), and ``pc_hi`` (the p^c bound from a CRLB target)."""
        budget = self.C - self.e * N
        extra = [self._crossings(L, level) for level in (budget, *extra_levels)]
        extra.append(np.array([pc_hi]))
        e = np.concatenate(extra)
        c = np.concatenate([self._fine_pc, e])
        r = np.concatenate([self._fine_rate[L - 1], self.rate_interp(L, e)])
        keep = (c >= 0.0) & (c <= min(1.0, pc_hi))
        c, idx = np.unique(c[keep], return_index=True)
        return c, r[keep][idx]

    def _crossings(self, L: int, level: float) -> np.ndarray:
        """p^c in [0, 1] where the spline of R_c(L, .) crosses ``level`` (memoised per instance: the
        budget levels C - e N recur for every rate target, a rate target for every N)."""
        cache = self.__dict__.setdefault("_crossing_memo", {})
        key = (L, float(level))
        if key not in cache:
            roots = np.asarray(self._splines[L - 1].solve(level, extrapolate=False), dtype=float)
            cache[key] = self._pc(roots[(roots >= 0) & (roots <= 1)])
        return cache[key]

    def _best(
        self,
        score: Callable[[int, int, np.ndarray, np.ndarray], np.ndarray],
        levels: tuple[float, ...] = (),
        crlb_cap: float = math.inf,
        rate_floor: float = -math.inf,
    ) -> Design | None:
        cands: list[tuple[float, int, int, float]] = []  # the best p^c of every (L, N)
        for L in self.Ls:
            for N in self.Ns[self.N_min - 1 :]:
                budget = self.C - self.e * N
                if budget < 0:
                    break
                pc_hi = 1.0
                if math.isfinite(crlb_cap):
                    need = self.crlb_full[N - 1] / crlb_cap  # p^s needed for the CRLB target
                    if need > 1.0:
                        continue
                    pc_hi = 1.0 - need
                pc, r = self._candidates(int(L), int(N), levels, pc_hi)
                ok = (r <= budget * (1 + _LOAD_RTOL) + 1e-12) & (r >= rate_floor * (1 - _LOAD_RTOL) - 1e-12)
                if not ok.any():
                    continue
                s = score(int(L), int(N), pc[ok], r[ok])
                k = int(np.argmax(s))
                cands.append((float(s[k]), int(L), int(N), float(pc[ok][k])))
        if not cands:
            return None
        # The best (L, N) first; where its design cannot be made to meet every constraint exactly
        # (e.g. a rate target and the backhaul both binding leave no float p^c between them), the
        # next best (L, N) -- the neighbouring feasible design -- is tried (_MAX_FALLBACK at most).
        cands.sort(key=lambda c: -c[0])
        d = None
        for s0, Lc, Nc, pc0 in cands[:_MAX_FALLBACK]:
            pc1 = self._refine(score, Lc, Nc, pc0, s0, crlb_cap, rate_floor)
            d = self._repair(self._polish(Lc, Nc, pc1, crlb_cap, rate_floor))
            if d.feasible:
                return d
        return d

    def _refine(self, score, L: int, N: int, pc: float, s0: float, crlb_cap: float, rate_floor: float) -> float:
        """A bounded scalar search on the spline between the neighbouring candidates: an
        interior optimum is otherwise only located to the candidate spacing."""
        budget = self.C - self.e * N
        hi_cap = 1.0 if not math.isfinite(crlb_cap) else 1.0 - self.crlb_full[N - 1] / crlb_cap
        h = 1.0 / (8 * (self.n_grid - 1))  # the candidate spacing in u
        u = float(self._u(pc))
        lo, hi = float(self._pc(max(0.0, u - h))), min(hi_cap, float(self._pc(min(1.0, u + h))))

        def neg(p: float) -> float:
            r = float(self.rate_interp(L, p))
            if r > budget * (1 + _LOAD_RTOL) + 1e-12 or r < rate_floor * (1 - _LOAD_RTOL) - 1e-12:
                return 1e30  # infeasible (finite: Brent's parabolic steps need finite values)
            v = -float(score(L, N, np.array([p]), np.array([r]))[0])
            return v if math.isfinite(v) else 1e30

        if hi - lo <= 0:
            return pc
        res = sopt.minimize_scalar(neg, bounds=(lo, hi), method="bounded", options={"xatol": 1e-12})
        return float(res.x) if res.success and -res.fun > s0 else pc

    def _polish(self, L: int, N: int, pc: float, crlb_cap: float, rate_floor: float) -> Design:
        """Re-evaluate the chosen design with Theorem 2 itself; where the spline's answer sits on
        a constraint boundary, solve that boundary on the exact rate so the design is feasible."""
        cons = {
            "max_crlb": crlb_cap if math.isfinite(crlb_cap) else None,
            "min_rate": rate_floor if rate_floor > -math.inf else None,
        }
        d = self.design(L, N, pc, **cons)
        budget = self.C - self.e * N
        if d.rate > budget * (1 + _LOAD_RTOL) and pc > 0:
            f = lambda p: float(self.rate(L, p)[0]) - budget  # noqa: E731
            lo = float(self._pc(max(0.0, float(self._u(pc)) - 2.0 / (self.n_grid - 1))))
            if f(lo) < 0 < f(pc):
                d = self.design(L, N, sopt.brentq(f, lo, pc, xtol=1e-12) * (1 - 1e-12), **cons)
        pc = d.p_c  # the first fix may have moved it
        if d.rate < rate_floor and pc < 1:
            g = lambda p: float(self.rate(L, p)[0]) - rate_floor  # noqa: E731
            hi = float(self._pc(min(1.0, float(self._u(pc)) + 2.0 / (self.n_grid - 1))))
            if g(pc) < 0 < g(hi):  # else _repair searches (brentq needs a sign change)
                d = self.design(L, N, min(1.0, sopt.brentq(g, pc, hi, xtol=1e-12) * (1 + 1e-12)), **cons)
        return d

    def _repair(self, d: Design) -> Design:
        """See ``isacnet.analysis.tradeoff_design._repair_design``."""
        return _repair_design(self, d)

    def max_rate(self, max_crlb: float) -> Design | None:
        """The largest R_c [nats/s/Hz] with CRLB_a <= ``max_crlb`` [m^2] under (10); None if none
        is feasible."""
        cap = check_real("max_crlb", max_crlb, gt=0.0)
        return self._best(lambda L, N, pc, r: r, crlb_cap=cap)

    def rate_ceiling(self) -> Design | None:
        """The largest R_c of a design that still senses (N >= 1) under (10)."""
        return self._best(lambda L, N, pc, r: r)

    def min_crlb(self, min_rate: float) -> Design | None:
        """The smallest CRLB_a [m^2] with R_c >= ``min_rate`` under (10); None if none is feasible.

        ``min_rate`` is in nats/s/Hz (the unit of Theorem 2; 1 bit = ln 2 nats)."""
        floor = check_real("min_rate", min_rate, ge=0.0)

        def score(L, N, pc, r):
            with np.errstate(divide="ignore"):
                return -np.log(np.asarray(self.crlb(N, pc), dtype=float))

        return self._best(score, levels=(floor,), rate_floor=floor)

    def weighted(self, weight: float) -> Design | None:
        """The largest w R_c + (1 - w) (1/2) ln(1 m^2 / CRLB_a) under (10)."""
        w = check_real("weight", weight, ge=0.0, le=1.0)

        def score(L, N, pc, r):
            if w == 1.0:
                return r
            with np.errstate(divide="ignore"):
                info = 0.5 * -np.log(np.asarray(self.crlb(N, pc), dtype=float))
            return w * r + (1.0 - w) * info

        return self._best(score)

    def solve(
        self, *, weight: float | None = None, min_rate: float | None = None, max_crlb: float | None = None
    ) -> Design:
        """The best design for exactly one objective (``min_rate`` in nats/s/Hz, ``max_crlb`` in
        m^2); ParameterError if none is feasible, or if the best one found fails a constraint
        when re-evaluated (the message says which)."""
        name, value = _objective(weight, min_rate, max_crlb)
        d = {"weight": self.weighted, "min_rate": self.min_crlb, "max_crlb": self.max_rate}[name](value)
        box = f"L <= {self.L_max}, {self.N_min} <= N <= {self.N_max}"
        if d is None:
            raise ParameterError(
                name, value, f"a target some design meets with C_backhaul = {self.C} and e = {self.e} nats/s/Hz ({box})"
            )
        if not d.feasible:
            raise ParameterError(
                name,
                value,
                f"a target some design meets exactly: the best design found "
                f"(L = {d.L}, N = {d.N}, p^c = {d.p_c!r}) fails {'; '.join(d.violations)} "
                f"when re-evaluated, and no neighbouring p^c meets it",
            )
        return d

    # ------------------------------------------------------------------ corners and boundary
    def sensing_corner(self) -> Design | None:
        """All to sensing: p^c = 0 (R_c = 0), the N with the smallest CRLB_a and e N <= C."""
        ok = (self.e * self.Ns <= self.C) & (self.Ns >= self.N_min)
        if not ok.any():
            return None
        n = int(self.Ns[ok][np.argmin(self.crlb_full[ok])])
        return self.design(1, n, 0.0)  # p^c = 0: no data, L is moot

    def comm_corner(self) -> Design | None:
        """All to communication: p^c = 1 (no sensing, N = 0), the L with the largest R_c <= C."""
        r = self.rate_grid[:, -1]
        ok = r <= self.C
        if not ok.any():
            return None
        L = int(self.Ls[ok][np.argmax(r[ok])])
        return self.design(L, 0, 1.0)

    def time_sharing(self, rate) -> np.ndarray:
        """CRLB of time sharing between the corners at R_c = ``rate`` (t = rate / R_C)."""
        rate = real_array("rate", rate, "finite reals >= 0 [nats/s/Hz]")
        if rate.size == 0 or not np.all(np.isfinite(rate)) or np.any(rate < 0):
            raise ParameterError("rate", rate.tolist(), "finite reals >= 0 [nats/s/Hz]")
        s, c = self.sensing_corner(), self.comm_corner()
        if s is None or c is None:
            return np.full(rate.shape, np.inf)
        t = rate / c.rate
        with np.errstate(divide="ignore"):
            return np.where((t >= 0) & (t < 1), s.crlb / np.where(t < 1, 1.0 - t, 1.0), np.inf)

    def boundary(self, n_points: int = 25, crlb_span: float = 1e3) -> list[Design]:
        """The Pareto boundary: the best R_c for CRLB targets log-spaced from the sensing
        corner's CRLB to ``crlb_span`` times it, non-dominated points only."""
        s = self.sensing_corner()
        if s is None:
            return []
        targets = s.crlb * np.logspace(0.0, math.log10(crlb_span), check_int("n_points", n_points, ge=2))
        pts = [d for d in (self.max_rate(c) for c in targets) if d is not None]
        return pareto_front(pts)


def optimize(
    params: MengParams,
    *,
    weight: float | None = None,
    min_rate: float | None = None,
    max_crlb: float | None = None,
    L_max: int = TRADEOFF_L_MAX,
    N_max: int = TRADEOFF_N_MAX,
    **kwargs,
) -> Design:
    """The best feasible (L, N, p^c) for exactly one objective (see the module docstring).

    Parameters
    ----------
    params : MengParams
        The network (C and e of (10) in nats/s/Hz).
    weight : float, optional
        w in [0, 1]: maximise w R_c + (1 - w) (1/2) ln(1 m^2 / CRLB_a).
    min_rate : float, optional
        Rate target [nats/s/Hz] (Theorem 2 is in nats; bit/s/Hz = nats / ln 2): the smallest
        CRLB_a with R_c >= min_rate.
    max_crlb : float, optional
        CRLB target [m^2]: the largest R_c with CRLB_a <= max_crlb.
    L_max, N_max : int
        The search box (defaults :data:`isacnet.params.TRADEOFF_L_MAX` = 20 and
        ``TRADEOFF_N_MAX`` = 30, the same as ``isacnet optimize``).
    **kwargs
        Passed to :class:`Tradeoff` (``N_min``, ``n_grid``, ``rate_variant``, ...).

    Returns
    -------
    Design
        Feasible when re-evaluated (:attr:`Design.feasible`); :attr:`Design.on_edge` is
        non-empty when L = L_max or N = N_max (a larger box may hold a better design).

    Raises
    ------
    ParameterError
        No objective or more than one; or no design meets the target under the backhaul budget.
    """
    _objective(weight, min_rate, max_crlb)  # fail fast, before Theorem 2 is tabulated
    t = Tradeoff(params, L_max=L_max, N_max=N_max, **kwargs)
    return t.solve(weight=weight, min_rate=min_rate, max_crlb=max_crlb)


def time_sharing(params: MengParams, rate, **kwargs) -> np.ndarray:
    """CRLB_a of the time-sharing baseline at R_c = ``rate`` (nats/s/Hz)."""
    return Tradeoff(params, **kwargs).time_sharing(rate)
