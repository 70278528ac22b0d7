"""Monte Carlo kernels of Meng & Masouros: the cooperative-sensing CRLB of the typical target.

Two families, both picklable ``kernel(rng, n) -> {quantity: (n,) array}`` like SongKernel:

:class:`MengCrlbKernel` -- ordered sampling, one layout per sample
    The N nearest BSs of the typical target (arrival times g_k = pi lambda_b d_k^2 of a
    unit-rate process, uniform bearings), every BS transmitting and receiving: the FIM (5) is
    ``separable_fim`` with the same BS set as TX and RX, which covers the monostatic i = j and
    the bistatic i != j terms of the double sum in O(N). With one set it reads 2 (W A + a a^T),
    a sum of PSD terms, so it has none of the forward-scatter cancellation that makes
    ``fisher_sums(method="auto")`` fall back to pair sums for TX/RX splits (checked against the
    literal pair sum in tests/unit/test_meng_layout.py). ``kappa < 1`` keeps each BS
    independently with probability kappa: the independent-thinning model behind (16).

:class:`MengClusterKernel` -- a torus per sample
    BSs and targets as PPPs on a torus; requests, uniform acceptance under psi blocks and the
    "shrink" / "extend" cluster rules of :mod:`isacnet.load`; the CRLB of every target from the
    BSs that serve it. A sample is one torus; its outputs are Palm (typical-target) estimates.

Heavy tails (docs/errata.md M-8). P(tr F^-1 > t) ~ t^-(N-1)/2: the mean exists for N >= 4
only, the variance for N >= 6; with acceptance a target can keep 0 to 3 BSs, so the mean of the
CRLB never exists. The kernels therefore output, besides "crlb" (only where its mean exists):

* ``log_crlb`` -- log tr(F^-1) [log m^2] on localisable layouts (finite mean and variance for
  N >= 2): exp(E[log_crlb]) is the geometric-mean CRLB, with a CLT confidence interval;
* ``singular`` -- indicator of a singular FIM (CRLB = inf);
* ``cdf_i``    -- indicator of tr(F^-1) <= thresholds[i]: the CDF at fixed points, from which
  the facade gets the median (or any quantile) by interpolation and its confidence interval by
  inverting the CDF's;
* ``isotropic`` = 2/(|zeta|^2 W^2) and ``jensen`` = 2/(|zeta|^2 (W^2 + sum w_k^2)) [m^2]
  (no thinning only): the large-N form whose mean is :func:`crlb_isotropic`, and
  tr(E_theta[F])^-1, a lower bound on E_theta[tr F^-1] (Jensen, matrix convexity). Both have
  finite means for every N.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field

import numpy as np

from ... import backends
from ...backends import check_backend
from ...geometry import torus_ppp
from ...load import check_torus, default_side, form_clusters
from ...params import MengParams, ParameterError, check_int, check_real
from ...sensing import ordered_direction_sums, separable_fim, trace_inverse_2x2
from ..statistics import Estimate

MAX_ELEMENTS = 1 << 20
"""Ordered-sampling layouts are drawn in sub-batches of at most this many BSs in all."""


MC_SCALE_DECADES = 100.0
"""As :data:`isacnet.simulation.song.MC_SCALE_DECADES`: the CRLB samples' scale
1/(|zeta|^2 (pi lam_b)^beta) must be within 10^+-100 for their moments to fit in float64."""

MC_BETA_MAX = 20.0
"""Largest beta the Monte Carlo accepts: the path gain of the nearest BS, g_1^(-beta/2) in
arrival-time units with g_1 ~ Exp(1), reaches 10^(6 beta) in 10^12 layouts and enters the FIM
squared, so at beta = 20 the sums stay below 1e240, below float64's 1e308."""


def _crlb_const(p: MengParams) -> float:
    """|zeta|^2 (pi lambda_b)^beta: the plain product where every factor is a normal float64
    (bit-identical to 0.2), else from logarithms (a factor that overflows, or a subnormal power
    that has lost its precision: (pi 1e-106)^3 = 3e-318 keeps 8 significant digits)."""
    tiny, huge = sys.float_info.min, sys.float_info.max
    try:
        z2 = p.zeta2
        power = (math.pi * p.bs_density) ** p.beta
        const = z2 * power
        if all(tiny <= abs(v) <= huge for v in (z2, power, const)):
            return const
    except (OverflowError, ParameterError):
        pass
    return math.exp(p.log_zeta2 + p.beta * math.log(math.pi * p.bs_density))


def check_output_scale(params: MengParams) -> None:
    """Refuse, before any work, parameters whose CRLB samples cannot be averaged in float64:
    p^s = 0 (no sensing power: every CRLB is inf, nothing to estimate), a scale
    1/(|zeta|^2 (pi lam_b)^beta) beyond 10^+-100, or beta > 20 (:data:`MC_BETA_MAX`). The closed
    forms (isacnet.meng.crlb_*) work in logs and have no such limit."""
    if params.sensing_power_fraction == 0.0:
        raise ParameterError("sensing_power_fraction", 0.0, "> 0 for the sensing Monte Carlo (at p^s = 0 "
                             "every CRLB is inf)")
    if params.beta > MC_BETA_MAX:
        raise ParameterError("beta", params.beta, f"<= {MC_BETA_MAX:g} for the Monte Carlo (the nearest BS's "
                             "path gain g^(-beta/2) overflows float64 in rare layouts beyond)")
    ln10 = math.log(10.0)
    lv = -(params.log_zeta2 + params.beta * (math.log(math.pi) + math.log(params.bs_density)))
    if abs(params.log_zeta2) > 300.0 * ln10:  # the kernels (and compiled backends) use |zeta|^2 itself
        names = MengParams._ZETA_NAMES
        raise ParameterError(", ".join(names), {n: getattr(params, n) for n in names},
                             f"values for which |zeta|^2 is within 10^+-300 for the Monte Carlo (it is about "
                             f"10^{params.log_zeta2 / ln10:.4g})")
    if abs(lv) > MC_SCALE_DECADES * ln10:
        names = (*MengParams._ZETA_NAMES, "bs_density", "beta")  # type: ignore[assignment]
        raise ParameterError(", ".join(names), {n: getattr(params, n) for n in names},
                             f"values for which the CRLB samples are within 10^+-{MC_SCALE_DECADES:g} m^2 for "
                             f"the Monte Carlo (they are about 10^{lv / ln10:.4g}; their squares would not fit "
                             "in float64)")


def _check_thresholds(thresholds) -> tuple[float, ...]:
    t = tuple(check_real(f"thresholds[{i}]", v, gt=0.0) for i, v in enumerate(thresholds))
    if any(b <= a for a, b in zip(t, t[1:], strict=False)):
        raise ParameterError("thresholds", t, "strictly increasing values > 0 [m^2]")
    return t


def _stats(tr: np.ndarray, thresholds: tuple[float, ...]) -> dict[str, np.ndarray]:
    singular = ~np.isfinite(tr)
    with np.errstate(divide="ignore"):
        out = {"log_crlb": np.log(tr), "singular": singular.astype(float)}
    for i, t in enumerate(thresholds):
        out[f"cdf_{i}"] = (tr <= t).astype(float)
    return out


@dataclass(frozen=True)
class MengCrlbKernel:
    """CRLB tr(F^-1) of eq. (5)-(6) for the N nearest BSs of the typical target.

    Parameters
    ----------
    params : MengParams
    n_bs : int
        N, the cluster size (>= 1).
    kappa : float
        Probability that a BS accepts, independently of everything (1: all accept).
    thresholds : tuple of float
        CRLB values [m^2] at which the CDF indicators ``cdf_i`` are output.
    backend : "numpy", "numba" or "jax"
        Who computes the layouts (:mod:`isacnet.backends`): the same law and outputs, each
        backend with its own random stream; a missing package raises
        :class:`isacnet.backends.BackendUnavailable` (an ImportError naming the extra) here.
    dtype : "float64" or "float32"
        Precision of the compiled backends (numpy: float64 only). In float32 a FIM with
        det <= 1e-5 tr^2 counts as singular (:data:`isacnet.sensing.SINGULAR_RTOL`), which
        changes "singular" and the CDF visibly for N <= 3 (docs/performance.md).
    """

    params: MengParams
    n_bs: int
    kappa: float = 1.0
    thresholds: tuple[float, ...] = field(default=())
    backend: str = "numpy"
    dtype: str = "float64"

    def __post_init__(self) -> None:
        check_backend(self.backend, self.dtype)
        check_output_scale(self.params)
        object.__setattr__(self, "n_bs", check_int("n_bs", self.n_bs, ge=1))
        object.__setattr__(self, "kappa", check_real("kappa", self.kappa, gt=0.0, le=1.0))
        object.__setattr__(self, "thresholds", _check_thresholds(self.thresholds))

    @property
    def mean_exists(self) -> bool:
        """E[CRLB] < inf: N >= 4 and no thinning (else P(0..3 BSs) > 0 or the tail is too heavy)."""
        return self.kappa == 1.0 and self.n_bs >= 4

    @property
    def variance_exists(self) -> bool:
        return self.kappa == 1.0 and self.n_bs >= 6

    @property
    def quantities(self) -> tuple[str, ...]:
        q = ["log_crlb", "singular", "cluster_size"]
        if self.mean_exists:
            q.insert(0, "crlb")
        if self.kappa == 1.0:
            q += ["isotropic", "jensen"]
        return tuple(q) + tuple(f"cdf_{i}" for i in range(len(self.thresholds)))

    def __repr__(self) -> str:
        # Default backend and dtype left out: the repr (part of the chunk cache key) of a numpy
        # kernel is what it was before these fields existed.
        extra = "" if self.backend == "numpy" else f", backend={self.backend!r}, dtype={self.dtype!r}"
        return (
            f"MengCrlbKernel(params={self.params!r}, n_bs={self.n_bs!r}, kappa={self.kappa!r}, "
            f"thresholds={self.thresholds!r}{extra})"
        )

    def describe(self) -> dict[str, object]:
        return backends.describe(self.backend, self.dtype) | {
            "geometry": "infinite-plane, ordered sampling of the N nearest BSs",
            "n_bs": self.n_bs,
            "acceptance": "all accept" if self.kappa == 1.0 else f"independent, kappa={self.kappa:.6g}",
            "tail_index": 0.5 * (self.n_bs - 1),
            "mean_exists": self.mean_exists,
            "variance_exists": self.variance_exists,
            "thresholds_m2": list(self.thresholds),
        }

    def core_constants(self) -> dict[str, float]:
        """The constants every backend's core needs, defined once here (docs/design.md): ``half``
        = beta / 2 (path gains g^-half in arrival-time units) and ``const`` = |zeta|^2
        (pi lambda_b)^beta, so that tr(F^-1) [m^2] = (tr in arrival-time units) / const."""
        p = self.params
        return {"half": 0.5 * p.beta, "const": _crlb_const(p)}

    def samples(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """Raw tr(F^-1) [m^2] of n layouts (for pilots and tests)."""
        if self.backend != "numpy":
            return self._compiled(rng, n, raw=True)
        return self._batch(rng, n, raw=True)

    def _compiled(self, rng: np.random.Generator, n: int, raw: bool = False):
        from ...backends import load

        return load(self.backend).meng_crlb(self, rng, n, raw=raw)

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        if self.backend != "numpy":
            return self._compiled(rng, n)
        step = max(1, MAX_ELEMENTS // self.n_bs)
        parts = [self._batch(rng, min(step, n - i)) for i in range(0, n, step)]
        return {q: np.concatenate([p[q] for p in parts]) for q in parts[0]}

    def _batch(self, rng: np.random.Generator, n: int, raw: bool = False):
        """n layouts. Random numbers in the order they have always been drawn (gaps of the arrival
        times, bearings, then the thinning uniforms), so a seed gives the same layouts; the sums
        are formed in cache-sized sub-batches (:func:`isacnet.sensing.ordered_direction_sums`)."""
        p, N = self.params, self.n_bs
        e = rng.standard_exponential((n, N))
        # Path gains w = g^(-beta/2) in units of (pi lam_b)^(beta/2).
        if self.kappa == 1.0:  # bearings drawn sub-batch by sub-batch
            keep = None
            sums, _ = ordered_direction_sums(e, rng, -0.5 * p.beta, squares=True)
        else:  # the thinning uniforms come after all the bearings
            u = rng.random((n, N))
            keep = rng.random((n, N)) < self.kappa
            sums, _ = ordered_direction_sums(e, u, -0.5 * p.beta, keep=keep)
        const = self.core_constants()["const"]
        # separable_fim(w, e, e, w, e, e) = U A + W B + a b^T + b a^T with B = A, b = a, U = W
        W, ax, ay, axx, axy, ayy = sums[:6]
        sxx = 2.0 * (W * axx + ax * ax)
        sxy = 2.0 * (W * axy + ax * ay)
        syy = 2.0 * (W * ayy + ay * ay)
        tr, _ = trace_inverse_2x2(sxx, sxy, syy)
        tr = tr / const
        if raw:
            return tr
        out = _stats(tr, self.thresholds)
        out["cluster_size"] = np.full(n, float(N)) if keep is None else np.count_nonzero(keep, axis=1).astype(float)
        if self.mean_exists:
            out["crlb"] = tr
        if self.kappa == 1.0:
            Q = sums[6]
            out["isotropic"] = 2.0 / (const * W * W)
            out["jensen"] = 2.0 / (const * (W * W + Q))
        return out


@dataclass(frozen=True)
class MengClusterKernel:
    """CRLB with acceptance from a spatial simulation of cluster formation (one torus a sample).

    Every target asks its N nearest BSs; a BS with more than psi requests accepts psi uniformly
    at random; ``rule`` "shrink" keeps the accepting BSs, "extend" re-asks farther BSs
    (:func:`isacnet.load.form_clusters`). The CRLB of each target uses the BSs that serve it.

    Palm estimates. Per torus and per-target quantity f_q the output is the Horvitz-Thompson
    estimate with a control variate,

        Z_q = c_q + sum_targets (f_q - c_q) / E[M],

    M the number of targets on the torus and E[M] = lambda_s side^2 known exactly, so
    E[Z_q] = E[sum f_q] / E[M] = E0[f_q], the typical-target mean (Campbell-Mecke), for any
    constant c_q. A c_q near the answer (from a pilot run) removes the variance the Poisson
    number of targets adds. Tori are i.i.d., so the Moments' standard errors are valid.

    Quantities

    * "acceptance": f = accepted first-round requests / N (the acceptance of a typical request);
    * "cluster_size": serving BSs; "singular": indicator of CRLB = inf; "cdf_i": tr <= t_i;
    * "log_crlb": f = (log tr - c) 1{tr < inf} with no "c +" in front, so that
      E0[log tr | tr < inf] = c + E[Z] / (1 - E[Z_singular]) (c = ``log_center``);
    * "targets": M / E[M] (mean 1, a check); "rounds": rounds of the "extend" rule (per torus).

    Parameters
    ----------
    params : MengParams
    n_bs : int
        N.
    rule : "shrink" or "extend"
    side : float, optional
        Torus side [m]; default holds max(400, 16 K) BSs, K the candidates per target.
    max_candidates : int, optional
        "extend": nearest BSs a target may ask in all (default 2N).
    thresholds : tuple of float
        CDF points [m^2].
    centers : tuple of (quantity, c) pairs
        Control-variate constants (default 0: plain Horvitz-Thompson).
    log_center : float
        c of "log_crlb" [log m^2].
    """

    params: MengParams
    n_bs: int
    rule: str = "shrink"
    side: float | None = None
    max_candidates: int | None = None
    thresholds: tuple[float, ...] = field(default=())
    centers: tuple[tuple[str, float], ...] = field(default=())
    log_center: float = 0.0

    def __post_init__(self) -> None:
        s = object.__setattr__
        check_output_scale(self.params)
        s(self, "n_bs", check_int("n_bs", self.n_bs, ge=1))
        if self.rule not in ("shrink", "extend"):
            raise ParameterError("rule", self.rule, "'shrink' or 'extend'")
        k = self.n_bs
        if self.rule == "extend":
            k = 2 * self.n_bs if self.max_candidates is None else self.max_candidates
            s(self, "max_candidates", check_int("max_candidates", k, ge=self.n_bs))
        side = default_side(self.params.bs_density, k) if self.side is None else self.side
        s(self, "side", check_torus(self.params.bs_density, side, k))
        s(self, "thresholds", _check_thresholds(self.thresholds))
        s(self, "log_center", check_real("log_center", self.log_center))
        names = set(self.quantities) - {"log_crlb", "rounds", "targets"}
        for name, c in self.centers:
            if name not in names:
                raise ParameterError("centers", name, f"a quantity name, one of {sorted(names)}")
            check_real(f"centers[{name}]", c)

    @property
    def quantities(self) -> tuple[str, ...]:
        base = ("targets", "acceptance", "cluster_size", "singular", "log_crlb", "rounds")
        return base + tuple(f"cdf_{i}" for i in range(len(self.thresholds)))

    @property
    def expected_targets(self) -> float:
        return self.params.target_density * self.side**2  # type: ignore[operator]

    def describe(self) -> dict[str, object]:
        return {
            "geometry": "torus",
            "side_m": self.side,
            "n_bs": self.n_bs,
            "rule": self.rule,
            "max_candidates": self.max_candidates if self.rule == "extend" else self.n_bs,
            "resource_blocks": self.params.resource_blocks,
            "estimator": "Horvitz-Thompson Palm mean per torus with control variates",
            "centers": dict(self.centers),
            "log_center": self.log_center,
            "thresholds_m2": list(self.thresholds),
        }

    def _torus(self, rng: np.random.Generator):
        p = self.params
        side: float = self.side  # type: ignore[assignment]  # resolved in __post_init__
        bs = torus_ppp(rng, p.bs_density, side)
        tg = torus_ppp(rng, p.target_density, side)
        cl = form_clusters(
            rng, bs, tg, side, self.n_bs, p.resource_blocks,
            rule=self.rule, max_candidates=self.max_candidates,  # type: ignore[arg-type]
        )
        w = np.where(cl.accepted, cl.dist ** (-p.beta), 0.0)
        ex = cl.delta[..., 0] / cl.dist
        ey = cl.delta[..., 1] / cl.dist
        sxx, sxy, syy = separable_fim(w, ex, ey, w, ex, ey)
        tr, _ = trace_inverse_2x2(sxx, sxy, syy)
        return tr / p.zeta2, cl

    def piloted(self, rng: np.random.Generator, n_pilot: int, qs: tuple[float, ...]) -> MengClusterKernel:
        """This kernel with CDF thresholds around the quantiles ``qs`` and control-variate
        centers, all read off a pilot of ``n_pilot`` tori drawn from ``rng``."""
        from ..quantiles import threshold_grid

        pt = self.per_target(rng, n_pilot)
        tr = pt["crlb"]
        thresholds = threshold_grid(tr, qs)
        fin = np.isfinite(tr)
        centers = [("acceptance", float(pt["acceptance"].mean())),
                   ("cluster_size", float(pt["cluster_size"].mean())),
                   ("singular", float(1.0 - fin.mean()))]
        centers += [(f"cdf_{i}", float(np.mean(tr <= t))) for i, t in enumerate(thresholds)]
        log_c = float(np.mean(np.log(tr[fin]))) if fin.any() else 0.0
        return MengClusterKernel(
            self.params, self.n_bs, rule=self.rule, side=self.side, max_candidates=self.max_candidates,
            thresholds=thresholds, centers=tuple(centers), log_center=log_c,
        )

    def mean_log(self, est: dict[str, Estimate]) -> tuple[float, float]:
        """E0[log tr F^-1 | tr < inf] [log m^2] and its standard error (delta method) from the
        estimates of "log_crlb" and "singular" (see "log_crlb" in the class docstring)."""
        p_sing, z = est["singular"], est["log_crlb"]
        pf = 1.0 - p_sing.mean
        if not pf > 0:
            return math.nan, math.nan
        g = self.log_center + z.mean / pf
        return g, math.sqrt(z.stderr**2 + (z.mean / pf) ** 2 * p_sing.stderr**2) / pf

    def per_target(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Raw per-target values of all targets of n tori (pilots and tests).

        Returns "crlb" [m^2] (inf if singular), "acceptance", "cluster_size" and "torus" (the
        index of the torus each target lives on).
        """
        parts = []
        for i in range(n):
            tr, cl = self._torus(rng)
            parts.append(
                {
                    "crlb": tr,
                    "acceptance": cl.first_round.mean(axis=1),
                    "cluster_size": cl.accepted.sum(axis=1).astype(float),
                    "torus": np.full(tr.size, i),
                }
            )
        return {q: np.concatenate([p[q] for p in parts]) for q in parts[0]}

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        em = self.expected_targets
        centers = dict(self.centers)
        out = {q: np.empty(n) for q in self.quantities}
        for i in range(n):
            tr, cl = self._torus(rng)
            m = tr.size
            finite = np.isfinite(tr)
            f = {"singular": (~finite).astype(float)}
            for j, t in enumerate(self.thresholds):
                f[f"cdf_{j}"] = (tr <= t).astype(float)
            f["acceptance"] = cl.first_round.mean(axis=1)
            f["cluster_size"] = cl.accepted.sum(axis=1).astype(float)
            for q, v in f.items():
                c = centers.get(q, 0.0)
                out[q][i] = c + float(np.sum(v - c)) / em
            out["targets"][i] = m / em
            out["rounds"][i] = cl.rounds
            logs = np.log(tr[finite]) - self.log_center
            out["log_crlb"][i] = float(np.sum(logs)) / em
        return out


def ratio_estimate(num: np.ndarray, den: np.ndarray) -> Estimate:
    """R = sum(num) / sum(den) over i.i.d. realisations, with a delta-method standard error.

    stderr^2 = sum((num_i - R den_i)^2) / (n (n - 1) mean(den)^2). Consistent for
    E[num] / E[den] -- on a stationary torus, the Palm (typical-point) mean of a per-point
    quantity (Campbell-Mecke), e.g. the acceptance of a typical request from
    :class:`isacnet.load.AcceptanceCounts`.
    """
    num = np.asarray(num, dtype=float).ravel()
    den = np.asarray(den, dtype=float).ravel()
    n = num.size
    if n != den.size:
        raise ParameterError("den", f"array of size {den.size}", f"the size of num ({n})")
    if n < 2 or not den.sum() > 0:
        raise ParameterError("n_realisations", n, ">= 2 realisations with a positive denominator")
    r = num.sum() / den.sum()
    resid = num - r * den
    se = math.sqrt(float(np.dot(resid, resid)) / (n * (n - 1))) / den.mean()
    return Estimate(mean=float(r), stderr=se, n=n)


def geometric_mean(log_crlb: Estimate) -> Estimate:
    """exp(E[log CRLB]) [m^2] from the estimate of E[log tr F^-1]: the geometric-mean CRLB, which
    exists for every N >= 2 (errata M-8); standard error by the delta method, g * stderr(log)."""
    g = math.exp(log_crlb.mean) if log_crlb.n else float("nan")
    return Estimate(g, g * log_crlb.stderr, log_crlb.n, log_crlb.n_posinf, log_crlb.n_neginf, log_crlb.n_nan)


def no_ci_without_variance(mean: Estimate, variance_exists: bool) -> Estimate:
    """The mean CRLB with ``stderr`` NaN where its variance is infinite (N = 4, 5; errata M-8):
    the mean converges but no normal confidence interval holds, so none is given."""
    from dataclasses import replace

    return mean if variance_exists else replace(mean, stderr=math.nan)


def crlb_derived(ests: dict[str, Estimate], variance_exists: bool) -> dict[str, Estimate]:
    """The estimates of a Meng CRLB kernel plus ``geo_mean`` (:func:`geometric_mean`), with the
    mean "crlb" (where present) under :func:`no_ci_without_variance`."""
    out = dict(ests)
    out["geo_mean"] = geometric_mean(ests["log_crlb"])
    if "crlb" in out:
        out["crlb"] = no_ci_without_variance(out["crlb"], variance_exists)
    return out
