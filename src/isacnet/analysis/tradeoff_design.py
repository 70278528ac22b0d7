"""The designs of the sensing/communication tradeoff (:mod:`isacnet.analysis.optimize`): what one
(L, N, p^c) achieves, its constraints, the Pareto front, the objective check, and the repair that
moves a design found on the spline onto the exact constraint boundary. Split out of ``optimize``
(issue 18); every name here is still importable from there.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..params import ParameterError

__all__ = ["Design", "pareto_front", "check_objective"]

RateFn = Callable[[int, np.ndarray], np.ndarray]
"""``rate_fn(L, p_c_array) -> R_c`` in nats/s/Hz (broadcast over p^c)."""

_LOAD_RTOL = 1e-9
_MAX_FALLBACK = 12
"""(L, N) pairs tried, best first, until one has a design that meets every constraint exactly."""


@dataclass(frozen=True)
class Design:
    """One (L, N, p^c) and what it achieves, with the constraints it was chosen under.

    ``rate`` in nats/s/Hz (Theorem 2 is in nats: errata M-22), ``crlb`` in m^2,
    ``backhaul_load`` = rate + e N and ``backhaul_capacity`` = C in nats/s/Hz. ``max_crlb`` [m^2]
    and ``min_rate`` [nats/s/Hz] are the objective's constraints (None when not part of it);
    ``L_max`` and ``N_max`` the search box (None for a design not found by a search).

    :attr:`feasible` re-evaluates every constraint on the numbers exactly as stored (no
    tolerance): load <= C, crlb <= max_crlb, rate >= min_rate. :attr:`on_edge` says when the
    design sits on the edge of the search box (L = L_max or N = N_max): a larger box might hold
    a better design.
    """

    L: int
    N: int
    p_c: float
    rate: float
    crlb: float
    kappa_s: float
    kappa_c: float
    backhaul_load: float
    backhaul_capacity: float
    max_crlb: float | None = None
    min_rate: float | None = None
    L_max: int | None = None
    N_max: int | None = None

    @property
    def p_s(self) -> float:
        return 1.0 - self.p_c

    @property
    def rate_bits(self) -> float:
        return self.rate / math.log(2.0)

    @property
    def violations(self) -> tuple[str, ...]:
        """The constraints this design breaks, in words (empty when feasible)."""
        v = []
        if not self.backhaul_load <= self.backhaul_capacity:
            v.append(f"backhaul R_c + e N = {self.backhaul_load!r} > C = {self.backhaul_capacity!r} nats/s/Hz")
        if self.max_crlb is not None and not self.crlb <= self.max_crlb:
            v.append(f"CRLB_a = {self.crlb!r} > max_crlb = {self.max_crlb!r} m^2")
        if self.min_rate is not None and not self.rate >= self.min_rate:
            v.append(f"R_c = {self.rate!r} < min_rate = {self.min_rate!r} nats/s/Hz")
        return tuple(v)

    @property
    def feasible(self) -> bool:
        return not self.violations

    @property
    def on_edge(self) -> tuple[str, ...]:
        """ "L = L_max" and/or "N = N_max" where the design is on the edge of the search box."""
        e = []
        if self.L_max is not None and self.L == self.L_max:
            e.append(f"L = L_max = {self.L_max}")
        if self.N_max is not None and self.N == self.N_max:
            e.append(f"N = N_max = {self.N_max}")
        return tuple(e)

    def as_dict(self) -> dict[str, float | int | bool | str | None | list[str]]:
        d: dict[str, float | int | bool | str | None | list[str]] = dataclasses.asdict(self)
        d.update(
            p_s=self.p_s,
            rate_bits=self.rate_bits,
            feasible=self.feasible,
            violations=list(self.violations),
            on_edge=list(self.on_edge),
            rate_unit="nats/s/Hz",
            crlb_unit="m^2",
        )
        return d


def pareto_front(designs: list[Design]) -> list[Design]:
    """The designs not dominated by another (higher or equal rate and lower or equal CRLB, one
    strictly), sorted by rate."""
    out: list[Design] = []
    for d in sorted(designs, key=lambda d: (-d.rate, d.crlb)):
        if not out or d.crlb < out[-1].crlb:
            out.append(d)
    return sorted(out, key=lambda d: d.rate)


def _objective(weight, min_rate, max_crlb) -> tuple[str, float]:
    given = {k: v for k, v in (("weight", weight), ("min_rate", min_rate), ("max_crlb", max_crlb)) if v is not None}
    if len(given) != 1:
        raise ParameterError("objective", sorted(given), "exactly one of weight, min_rate, max_crlb")
    ((name, value),) = given.items()
    return name, value


check_objective = _objective
"""Public name of the objective check (``cli.py`` validates ``--weight/--min-rate/--max-crlb`` with it)."""


def _repair_design(t, d: Design) -> Design:
    """The returned design must meet every constraint as re-evaluated (:attr:`Design.feasible`,
    no tolerance). The search works on a spline with a relative tolerance of 1e-9 and in
    p^c, whose rounding near 1 matters: p^s = 1 - p^c is at least 1.1e-16, so a CRLB target
    above CRLB_a(N, 1) / 1.1e-16 gave p^c = 1 (CRLB inf) or 1 - 1.1e-16 (CRLB 1.33e20 m^2
    against a target of 1e20). Here a violated design is moved to the nearest p^c that meets
    all constraints (R_c and CRLB_a both increase with p^c, so the upper constraints --
    backhaul, CRLB -- bound p^c from above and the rate target from below): a geometric
    search for a feasible p^c on the right side, then bisection to the boundary, every
    point evaluated exactly. If none exists the caller reports the design infeasible.

    ``t`` is the :class:`~isacnet.analysis.optimize.Tradeoff` that found ``d`` (its exact
    ``design`` and ``crlb`` are used)."""
    if d.feasible:
        return d
    cons = {"max_crlb": d.max_crlb, "min_rate": d.min_rate}
    upper = any("min_rate" not in v for v in d.violations)
    lower = any("min_rate" in v for v in d.violations)
    if upper and lower:
        return d
    sign = -1.0 if upper else 1.0
    bad, good = d.p_c, None
    if upper and d.max_crlb is not None and d.crlb > d.max_crlb and d.N >= 1:
        # the CRLB bound on p^c is known exactly: p^s >= CRLB_a(N, 1) / max_crlb
        p = 1.0 - float(t.crlb_full[d.N - 1]) / d.max_crlb
        for _ in range(8):
            if p < 0.0 or float(t.crlb(d.N, p)) <= d.max_crlb:
                break
            p = math.nextafter(p, -math.inf)
        if 0.0 <= p < bad:
            cand = t.design(d.L, d.N, p, **cons)
            if cand.feasible:
                return cand
            bad = p
    step = max(1e-15, 4.0 * abs(math.nextafter(bad, -sign) - bad))
    for _ in range(60):
        q = min(1.0, max(0.0, bad + sign * step))
        cand = t.design(d.L, d.N, q, **cons)
        if cand.feasible:
            good = cand
            break
        if q in (0.0, 1.0):
            return d
        bad, step = q, 4.0 * step
    if good is None:
        return d
    for _ in range(80):  # bisection between bad (violating) and good.p_c (feasible)
        mid = 0.5 * (bad + good.p_c)
        if mid in (bad, good.p_c):
            break
        cand = t.design(d.L, d.N, mid, **cons)
        if cand.feasible:
            good = cand
        else:
            bad = mid
    return good
