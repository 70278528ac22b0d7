"""Requests and acceptance under psi resource blocks: a spatial simulation on a torus.

Model (Meng & Masouros, Section III-B and IV; docs/errata.md M-9 to M-12)
------------------------------------------------------------------------------
BSs and requesting points (targets or users) are independent PPPs on the square torus
[0, side)^2, so there are no edge effects. Every point sends one request to each of its
``n_request`` nearest BSs, skipping its ``skip_nearest`` nearest ones (0 for sensing; 1 for the
communication twin, where the nearest BS is the user's anchor and only the cooperation requests
to BSs 2..L compete). A BS holding more requests than its ``capacity`` accepts ``capacity`` of
them uniformly at random (all of them otherwise).

Nothing here assumes Lemma 1: the load of a BS is whatever the geometry makes it, including
the size bias of the load seen by a request and the dependence between the requests of
neighbouring points. The simulation returns, per torus realisation, the *counts* of requests
and of accepted requests (also per rank of the BS in the point's list), so that the acceptance
probability of a typical request, E[accepted] / E[requests] by Campbell-Mecke, is estimated by
a ratio of sums over independent realisations with a delta-method confidence interval
(:func:`isacnet.simulation.meng.ratio_estimate`).

Two cluster-formation rules for the CRLB with acceptance (:func:`form_clusters`):

``"shrink"``
    One round: each point keeps the BSs among its ``n_request`` nearest that accepted. This is
    the rule behind (16)'s independent thinning by kappa_s.
``"extend"``
    Rounds: each point short of ``n_request`` accepted BSs asks as many further BSs as it is
    short, next-nearest first, among its ``max_candidates`` nearest; BSs with blocks left accept
    the new requests uniformly at random up to their remaining capacity. Round 1 is "shrink".
    Our reading of the explanation of Fig. 3 ("clusters with BSs situated at a larger distance").

Vectorised: requests of one round are handled at once (a lexsort by (BS, random key) ranks
each BS's requests); the only Python loop is over rounds of the "extend" rule.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy.spatial import cKDTree

from .geometry import torus_delta, torus_ppp
from .params import ParameterError, check_int, check_real

Rule = Literal["shrink", "extend"]


def default_side(bs_density: float, n_max: int) -> float:
    """Torus side [m] holding max(400, 16 n_max) BSs on average.

    The n-th nearest BS is at about sqrt(n / (pi lam)); with lam side^2 >= 16 n the nearest
    ``n_max`` stay within a quarter of the side, so the torus wrap does not distort them.
    """
    return math.sqrt(max(400.0, 16.0 * n_max) / bs_density)


def check_torus(bs_density: float, side: float, n_max: int) -> float:
    """Validate ``side`` [m] against the number of BSs the points need (``n_max`` each)."""
    side = check_real("side", side, gt=0.0)
    need = 4.0 * n_max + 40.0
    if bs_density * side * side < need:
        lo = math.sqrt(need / bs_density)
        raise ParameterError("side", side, f">= {lo:.6g} m (at least {need:g} BSs on average)")
    return side


def nearest_bs(bs_xy: np.ndarray, pts_xy: np.ndarray, side: float, k: int):
    """The k nearest BSs of every point on the torus, nearest first.

    Returns
    -------
    idx : ndarray of int, shape (m, k)
        BS indices.
    delta : ndarray, shape (m, k, 2)
        Shortest torus displacement point -> BS [m] (:func:`isacnet.geometry.torus_delta`).
    dist : ndarray, shape (m, k)
        Its length [m].
    """
    bs_xy = np.asarray(bs_xy, dtype=float)
    pts_xy = np.asarray(pts_xy, dtype=float)
    if bs_xy.shape[0] < k:
        raise RuntimeError(
            f"only {bs_xy.shape[0]} BSs on the torus, {k} needed: enlarge the torus (side)"
        )
    m = pts_xy.shape[0]
    if m == 0:
        return np.zeros((0, k), dtype=np.intp), np.zeros((0, k, 2)), np.zeros((0, k))
    tree = cKDTree(bs_xy, boxsize=side)
    _, idx = tree.query(pts_xy, k=k)
    idx = np.asarray(idx, dtype=np.intp).reshape(m, k)
    delta = torus_delta(pts_xy[:, None, :], bs_xy[idx], side)
    return idx, delta, np.hypot(delta[..., 0], delta[..., 1])


def accept_uniform(
    rng: np.random.Generator, bs: np.ndarray, capacity: np.ndarray | int, n_bs: int
) -> np.ndarray:
    """Each BS accepts min(load, capacity) of its requests, chosen uniformly at random.

    Parameters
    ----------
    bs : ndarray of int, shape (r,)
        The BS each request goes to.
    capacity : int or ndarray of int, shape (n_bs,)
        Blocks left at each BS.

    Returns
    -------
    accepted : ndarray of bool, shape (r,)
    """
    bs = np.asarray(bs, dtype=np.intp)
    r = bs.size
    if r == 0:
        return np.zeros(0, dtype=bool)
    key = rng.random(r)
    order = np.lexsort((key, bs))  # by BS, then random key: a uniform random order per BS
    b = bs[order]
    start = np.searchsorted(b, b, side="left")
    rank = np.arange(r) - start  # position among the requests to the same BS
    cap = np.broadcast_to(np.asarray(capacity), (n_bs,))
    accepted = np.empty(r, dtype=bool)
    accepted[order] = rank < cap[b]
    return accepted


@dataclass(frozen=True)
class Clusters:
    """Outcome of cluster formation for the points of one torus.

    Attributes
    ----------
    idx : ndarray of int, shape (m, K)
        Candidate BSs of each point, nearest first (K = ``max_candidates``).
    delta : ndarray, shape (m, K, 2)
        Displacements point -> candidate BS [m].
    dist : ndarray, shape (m, K)
    accepted : ndarray of bool, shape (m, K)
        Whether the candidate serves the point at the end.
    first_round : ndarray of bool, shape (m, n_request)
        Acceptance of the first-round requests (the ``n_request`` nearest after skipping).
    rounds : int
        Rounds played (1 for "shrink").
    load : ndarray of int, shape (n_bs,)
        First-round requests received by each BS.
    """

    idx: np.ndarray
    delta: np.ndarray
    dist: np.ndarray
    accepted: np.ndarray
    first_round: np.ndarray
    rounds: int
    load: np.ndarray


def form_clusters(
    rng: np.random.Generator,
    bs_xy: np.ndarray,
    pts_xy: np.ndarray,
    side: float,
    n_request: int,
    capacity: int,
    *,
    rule: Rule = "shrink",
    skip_nearest: int = 0,
    max_candidates: int | None = None,
    max_rounds: int = 10_000,
) -> Clusters:
    """Requests, acceptance and (for "extend") re-requests for all points of one torus.

    Parameters
    ----------
    bs_xy, pts_xy : ndarray, shape (n_bs, 2), (m, 2)
        Positions on [0, side)^2 [m].
    n_request : int
        Requests per point in the first round (N for sensing, L - 1 for communication).
    capacity : int
        Blocks per BS (psi for sensing; psi - 1 for cooperation requests).
    rule : "shrink" or "extend"
        See the module docstring.
    skip_nearest : int
        Nearest BSs not asked (1: the anchor BS of the communication twin).
    max_candidates : int, optional
        Nearest BSs (after skipping) a point may ask in all ("extend"); default 2 n_request.
    """
    n_request = check_int("n_request", n_request, ge=1)
    capacity = check_int("capacity", capacity, ge=0)
    skip_nearest = check_int("skip_nearest", skip_nearest, ge=0)
    if rule not in ("shrink", "extend"):
        raise ParameterError("rule", rule, "'shrink' or 'extend'")
    if rule == "shrink":
        k = n_request
    else:
        k = 2 * n_request if max_candidates is None else max_candidates
        k = check_int("max_candidates", k, ge=n_request)
    bs_xy = np.asarray(bs_xy, dtype=float)
    n_bs = bs_xy.shape[0]
    idx, delta, dist = nearest_bs(bs_xy, pts_xy, side, k + skip_nearest)
    idx, delta, dist = idx[:, skip_nearest:], delta[:, skip_nearest:], dist[:, skip_nearest:]
    m = idx.shape[0]
    accepted = np.zeros((m, k), dtype=bool)
    # Round 1: every point asks its n_request nearest.
    b1 = idx[:, :n_request].ravel()
    acc1 = accept_uniform(rng, b1, capacity, n_bs)
    accepted[:, :n_request] = acc1.reshape(m, n_request)
    load = np.bincount(b1, minlength=n_bs)
    cap = capacity - np.bincount(b1[acc1], minlength=n_bs)
    rounds = 1
    if rule == "extend":
        n_acc = accepted.sum(axis=1)
        ptr = np.full(m, n_request)  # next candidate column to ask
        while rounds < max_rounds:
            ask = np.minimum(n_request - n_acc, k - ptr)
            ask[ask < 0] = 0
            total = int(ask.sum())
            if total == 0:
                break
            rows = np.repeat(np.arange(m), ask)
            offs = np.arange(total) - np.repeat(np.cumsum(ask) - ask, ask)
            cols = ptr[rows] + offs
            b = idx[rows, cols]
            acc = accept_uniform(rng, b, cap, n_bs)
            accepted[rows[acc], cols[acc]] = True
            cap = cap - np.bincount(b[acc], minlength=n_bs)
            n_acc = n_acc + np.bincount(rows[acc], minlength=m)
            ptr = ptr + ask
            rounds += 1
    return Clusters(
        idx=idx,
        delta=delta,
        dist=dist,
        accepted=accepted,
        first_round=acc1.reshape(m, n_request),
        rounds=rounds,
        load=load,
    )


@dataclass(frozen=True)
class AcceptanceCounts:
    """Per-realisation counts of the spatial acceptance simulation (first round only).

    Attributes (one entry per torus realisation unless stated)
    ----------
    requests, accepted : int arrays, shape (R,)
        Requests sent and accepted.
    points, bs : int arrays, shape (R,)
        Requesting points and BSs on the torus.
    requests_by_rank, accepted_by_rank : int arrays, shape (R, n_request)
        The same split by the rank of the BS in the point's list (column 0 = nearest asked).
    load_hist : int array, shape (max_load + 1,)
        Histogram, over all BSs of all realisations, of the number of requests a BS received.

    The acceptance of a typical request is E[accepted] / E[requests] (Campbell-Mecke); form it
    and its confidence interval with :func:`isacnet.simulation.meng.ratio_estimate`.
    """

    requests: np.ndarray
    accepted: np.ndarray
    points: np.ndarray
    bs: np.ndarray
    requests_by_rank: np.ndarray
    accepted_by_rank: np.ndarray
    load_hist: np.ndarray


def simulate_acceptance(
    rng: np.random.Generator,
    *,
    bs_density: float,
    point_density: float,
    n_request: int,
    capacity: int,
    n_realisations: int,
    side: float | None = None,
    skip_nearest: int = 0,
) -> AcceptanceCounts:
    """Spatial simulation of the first-round acceptance on a torus (no Lemma 1 inside).

    Parameters
    ----------
    rng : numpy.random.Generator
    bs_density, point_density : float
        lambda_b and lambda_s (or lambda_u) [m^-2].
    n_request : int
        Requests per point (N; L - 1 for communication with ``skip_nearest=1``).
    capacity : int
        Blocks per BS (psi; psi - 1 for cooperation requests).
    n_realisations : int
        Independent tori (>= 2).
    side : float, optional
        Torus side [m]; default :func:`default_side`.
    skip_nearest : int
        Nearest BSs not asked.

    Returns
    -------
    AcceptanceCounts
    """
    bs_density = check_real("bs_density", bs_density, gt=0.0)
    point_density = check_real("point_density", point_density, gt=0.0)
    n_request = check_int("n_request", n_request, ge=1)
    capacity = check_int("capacity", capacity, ge=0)
    skip_nearest = check_int("skip_nearest", skip_nearest, ge=0)
    n_realisations = check_int("n_realisations", n_realisations, ge=2)
    kmax = n_request + skip_nearest
    side = default_side(bs_density, kmax) if side is None else side
    side = check_torus(bs_density, side, kmax)
    R = n_realisations
    req = np.zeros(R, dtype=np.int64)
    acc = np.zeros(R, dtype=np.int64)
    pts = np.zeros(R, dtype=np.int64)
    nbs = np.zeros(R, dtype=np.int64)
    req_rank = np.zeros((R, n_request), dtype=np.int64)
    acc_rank = np.zeros((R, n_request), dtype=np.int64)
    hist = np.zeros(1, dtype=np.int64)
    for i in range(R):
        bs_xy = torus_ppp(rng, bs_density, side)
        p_xy = torus_ppp(rng, point_density, side)
        c = form_clusters(
            rng, bs_xy, p_xy, side, n_request, capacity, rule="shrink", skip_nearest=skip_nearest
        )
        m = p_xy.shape[0]
        pts[i], nbs[i] = m, bs_xy.shape[0]
        req[i] = m * n_request
        acc[i] = int(c.first_round.sum())
        req_rank[i] = m
        acc_rank[i] = c.first_round.sum(axis=0)
        h = np.bincount(c.load)
        if h.size > hist.size:
            hist = np.pad(hist, (0, h.size - hist.size))
        hist[: h.size] += h
    return AcceptanceCounts(req, acc, pts, nbs, req_rank, acc_rank, hist)
