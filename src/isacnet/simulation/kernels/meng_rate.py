"""Monte Carlo of the CoMP rate of Meng & Masouros: SIR (8) and ln(1 + SIR) (9) of a typical user.

The typical user sits at the origin. BS 1 (the nearest) serves it; BSs 2..L receive cooperation
requests and the accepting ones join the non-coherent joint transmission: their received
powers add in the numerator of (8). Every other BS interferes.

Models (field ``model``)
------------------------
``"paper"``
    Ordered sampling of the ``k_nearest`` nearest BSs (arrival times T_k = pi lambda_b d_k^2 of a
    unit-rate Poisson process, :mod:`isacnet.geometry`); BSs 2..L accept independently with
    probability ``kappa_c``. Desired gains g ~ Gamma(M_t - 1, p^c) (Section IV); interferer
    gains from ``interference_shape``:

    * ``"exp"``     Gamma(1, 1), the paper's moment-matching claim (Lemma 2, Appendix D (a));
    * ``"matched"`` Gamma with mean 1 and variance (p^c)^2 + (p^s)^2 (two moments of the sum
                    below);
    * ``"sum"``     p^c E_1 + p^s E_2, E_i i.i.d. Exp(1): the law if the two beams of an
                    interfering BS were orthogonal;
    * ``"zf-law"``  the exact law under the zero-forcing precoder (2), derived below.

``"zf"``
    The same geometry, but no gain law is assumed: the channels h ~ CN(0, I_{M_t}) from every BS
    to the typical user, and for every interfering BS the channel to its own user and its target
    steering vector a(theta) (theta uniform) are drawn, the precoder (2) W = H (H^H H)^-1 with
    H = [h_own, a] is built and its columns are normalised (w^c, w^s), and the gains are
    g = p^c |h^H w^c|^2 + p^s |h^H w^s|^2. A serving or cooperating BS builds (2) from the
    typical user's channel and its own target: g = p^c |h^H w^c|^2, its sensing beam being
    nulled at the user.

``"full"``
    Acceptance is not an independent coin: BSs and users are PPPs on a torus; every user's
    nearest BS serves it and BSs 2..L receive its cooperation requests, psi - 1 blocks per BS,
    a BS with more requests accepting psi - 1 of them uniformly at random
    (:func:`isacnet.load.form_clusters` with ``skip_nearest=1``, capacity psi - 1). The SIR of
    every user on the torus is computed with the interference of every BS of the torus at its
    minimum-image distance (gains as in "paper"), plus the mean interference of the plane
    outside the side x side square centred at the user (see below). One sample is one torus;
    its outputs are Horvitz-Thompson Palm estimates (as :class:`isacnet.simulation.kernels.meng_crlb.
    MengClusterKernel`): Z = c + sum_users (f - c) / E[M], E[M] = lambda_u side^2, whose mean is
    the typical user's mean of f for any constant c (``centers``).

Gain laws under zero-forcing (derivation; docs/errata.md, M-23 to M-29)
-----------------------------------------------------------------------------
With H = [u, a] (u the channel to the BS's own user, ||a||^2 = M_t), the columns of
H (H^H H)^-1 are proportional to P_a^perp u and P_u^perp a, so w^c = P_a^perp u / ||.||.

* Desired: u = h (the BS serves the typical user), g = p^c ||P_a^perp h||^2, and since a is
  independent of h, ||P_a^perp h||^2 is a sum of M_t - 1 i.i.d. Exp(1): g ~ Gamma(M_t - 1, p^c)
  exactly, as the paper states.
* Interference: W^H W = (H^H H)^-1, so the normalised beams have correlation of modulus
  |rho| = |u^H a| / (||u|| ||a||), not 0. Given rho, (w^cH h, w^sH h) ~ CN(0, [[1, rho],
  [rho*, 1]]) (h is independent of u and a), and g = p^c |x_1|^2 + p^s |x_2|^2 is a Gaussian
  quadratic form: g = nu_1 E_1 + nu_2 E_2 with nu_{1,2} = (1 +- sqrt(1 - 4 p^c p^s t)) / 2,
  t = 1 - |rho|^2 ~ Beta(M_t - 1, 1) (|rho|^2 ~ Beta(1, M_t - 1) for an isotropic u). So
  E[g] = 1, Var[g] = 1 - 2 p^c p^s (1 - 1/M_t), E[e^{-zg}] = E_t[1 / (1 + z + z^2 p^c p^s t)].
  Neither Gamma(1, 1) (variance 1) nor the orthogonal-beam sum (variance 1 - 2 p^c p^s).

Beyond the K nearest BSs ("paper", "zf")
----------------------------------------
The BSs beyond the K-th enter through their conditional mean given T_K (mean gain 1 in every
model): sum_{k>K} g_k T_k^{-alpha/2} -> 2 T_K^{1 - alpha/2} / (alpha - 2) in arrival-time units
(:func:`isacnet.geometry.tail_power_mean`). ln(1 + S/I) is *convex* in I (second derivative
S (2I + S) / (I^2 (I + S)^2) > 0), so by Jensen this substitution biases the rate *down*,
by about (1/2) E[f''(I) Var(tail | T_K)], Var(tail) ~ T_K^{1-alpha}. Measured against K = 1024 on
common random numbers (kappa_c = 1, the worst case; tests/statistical/test_meng_rate_sim.py):
a relative bias below 1e-3 needs K = 32 up to L = 10 (-4.3e-4 at L = 10; -2.3e-3 at K = 16) and
K = 64 up to L = 40 (-3.7e-4 at L = 40). The default K = max(64, 4 L) gives -7e-5 +- 4e-5 at
L = 10, -5e-5 +- 5e-5 at L = 20, -2e-5 +- 3e-5 at L = 40 (docs/errata.md, M-23 to M-29).

In "full", the plane outside the square of side ``side`` centred at a user (what the torus's
minimum image covers) contributes its mean, lambda_b E[g] C(side) with
C(s) = int_{outside [-s/2, s/2]^2} |x|^-alpha dx = 8/(alpha - 2) (s/2)^{2-alpha}
int_0^{pi/4} cos^{alpha-2}(phi) dphi (polar coordinates over one octant); the square holds
max(400, 16 L) BSs on average by default, far more than the K needed above.

Backends: ``backend="numba"`` (``dtype`` "float64" or "float32") computes the "paper" model in
one fused compiled pass per layout (:mod:`isacnet.backends.numba_rate`): the same law and
outputs, its own random stream. The other models run on numpy only.

All of "paper" and "zf" work in arrival-time units, where the path gain of BS k is
T_k^{-alpha/2}: the factor (pi lambda_b)^{alpha/2} cancels in the SIR, which does not depend on
lambda_b.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace

import numpy as np
from scipy import special

from ... import backends
from ...backends import BACKENDS, check_backend
from ...geometry import ordered_arrivals, tail_power_mean, torus_delta, torus_ppp
from ...load import check_torus, default_side, form_clusters
from ...params import MengParams, ParameterError, check_int, check_real
from ._rate_control import control_index, control_mean, rate_control
from ._rate_gains import (  # noqa: F401 - steering, draw_interferer_gains: re-exported (public, tests)
    SHAPES,
    _complex_normal,
    draw_interferer_gains,
    steering,
    steering_phase,
    zf_desired_gain,
    zf_interference_gain,
)

MODELS = ("paper", "zf", "full")
MAX_ELEMENTS = 1 << 20
"""Layouts are drawn in sub-batches of at most about this many random numbers."""
LN2 = math.log(2.0)


def default_k_nearest(L: int) -> int:
    """K = max(64, 4 L): relative bias of the mean-tail substitution about 1e-4 or less (module docstring)."""
    return max(64, 4 * int(L))


def outside_square_integral(side: float, alpha: float) -> float:
    """C(s) = int over the plane outside the square [-s/2, s/2]^2 of |x|^-alpha dx [m^(2-alpha)].

    C(s) = 8/(alpha-2) (s/2)^(2-alpha) J, J = int_0^{pi/4} cos^(alpha-2) phi dphi
    = (1/2) B(1/2; 1/2, (alpha-1)/2) (u = sin^2 phi; B the incomplete, not regularised, Beta).
    """
    b = alpha - 2.0
    a2 = 0.5 * (b + 1.0)
    j = 0.5 * special.betainc(0.5, a2, 0.5) * special.beta(0.5, a2)
    return 8.0 / b * (0.5 * side) ** (-b) * j


@dataclass(frozen=True)
class RateDraws:
    """The random numbers of n layouts of the "paper" / "zf" models (for twins and K studies).

    Attributes
    ----------
    arrivals : ndarray, shape (n, K)
        T_k = pi lambda_b d_k^2 of the K nearest BSs, increasing.
    accept_u : ndarray, shape (n, L - 1)
        Uniforms; BS k + 2 accepts iff ``accept_u[:, k] < kappa_c``.
    desired, interferer : ndarray, shapes (n, L) and (n, K - 1)  ("paper")
        Gain of BS k as a server (columns 0..L-1) and as an interferer (BSs 2..K).
    h : complex ndarray, shape (n, K, M_t)  ("zf")
        Channel from BS k to the typical user (the received signal is h^H x).
    h_user : complex ndarray, shape (n, K - 1, M_t)  ("zf")
        Channel from BS k (k >= 2) to the user it serves itself.
    theta : ndarray, shape (n, K)  ("zf")
        Bearing of BS k's target; steering vector a_m = exp(-j pi m cos theta), m = 0..M_t-1.
    """

    arrivals: np.ndarray
    accept_u: np.ndarray
    desired: np.ndarray | None = None
    interferer: np.ndarray | None = None
    h: np.ndarray | None = None
    h_user: np.ndarray | None = None
    theta: np.ndarray | None = None

    @property
    def n(self) -> int:
        return self.arrivals.shape[0]

    def truncate(self, k: int) -> RateDraws:
        """The same layouts seen through their k nearest BSs only (k <= K)."""
        return replace(
            self,
            arrivals=self.arrivals[:, :k],
            interferer=None if self.interferer is None else self.interferer[:, : k - 1],
            h=None if self.h is None else self.h[:, :k],
            h_user=None if self.h_user is None else self.h_user[:, : k - 1],
            theta=None if self.theta is None else self.theta[:, :k],
        )


def _outputs(s: np.ndarray, i: np.ndarray, n_acc: np.ndarray, with_db: bool) -> dict[str, np.ndarray]:
    sir = s / i
    rate = np.log1p(sir)
    out = {"rate_nats": rate, "rate_bits": rate / LN2, "n_accepted": n_acc.astype(float)}
    if with_db:
        out["sir_db"] = 10.0 * np.log10(sir)
    return out


@dataclass(frozen=True)
class MengRateKernel:
    """Monte Carlo of SIR_c (8) and ln(1 + SIR_c) (9): ``kernel(rng, n) -> {name: (n,) array}``.

    Parameters
    ----------
    params : MengParams
        p^c = ``params.comm_power_fraction``, alpha, M_t, psi, lambda_b, lambda_u.
    L : int
        Cooperative cluster size (>= 1): BS 1 serves, BSs 2..L are asked.
    model : "paper", "zf" or "full"
        See the module docstring.
    kappa_c : float in [0, 1]
        "paper"/"zf" (required): probability that an asked BS accepts, independently.
        :func:`isacnet.meng.rate_kernel` defaults it to ``kappa_c(psi, mu_c, L)`` of
        :mod:`isacnet.analysis.meng_sensing`, derived variant (errata M-12): a closed form,
        which this layer does not import. Must be None for "full".
    k_nearest : int, optional
        "paper"/"zf": BSs sampled exactly (>= L); default :func:`default_k_nearest`.
    interference_shape : str, optional
        "paper"/"full": one of "exp" (default), "matched", "sum", "zf-law". "zf": "physical".
    side : float, optional
        "full": torus side [m]; default holds max(400, 16 L) BSs (:func:`isacnet.load.default_side`).
    centers : tuple of (name, c) pairs
        "full": Horvitz-Thompson control-variate constants (near the answer: lower variance).
    backend : "numpy" or "numba"
        Who computes the layouts (:mod:`isacnet.backends`). "numba" (model "paper" only,
        :mod:`isacnet.backends.numba_rate`): the same law of layouts and the same outputs, its
        own random stream; a missing package raises :class:`isacnet.backends.BackendUnavailable`
        here. There is no "jax" rate kernel.
    dtype : "float64" or "float32"
        Precision of the compiled backend (numpy: float64 only).

    Outputs (each of shape (n,))
    ----------------------------
    rate_nats : ln(1 + SIR) [nats/s/Hz]; rate_bits : log2(1 + SIR); sir_db : 10 log10 SIR
    (absent when p^c = 0, where SIR = 0); n_accepted : cooperating BSs that accepted;
    cv_x, cv_rate_x ("paper", p^c > 0): a control variate X - E[X] and rate_nats times it
    (:mod:`isacnet.simulation.kernels._rate_control`);
    users ("full" only): M / E[M], mean 1 (a check). Non-finite values are never produced by
    construction (the interference includes the positive tail); should one appear it is counted
    by :class:`isacnet.simulation.statistics.Moments`, not averaged.

    The resolved defaults (kappa_c, k_nearest, side) are stored in the fields, so the repr says
    exactly what ran; build a new kernel rather than ``dataclasses.replace(kernel, L=...)``,
    which would carry them over.
    """

    params: MengParams
    L: int
    model: str = "paper"
    kappa_c: float | None = None
    k_nearest: int | None = None
    interference_shape: str | None = None
    side: float | None = None
    centers: tuple[tuple[str, float], ...] = field(default=())
    backend: str = "numpy"
    dtype: str = "float64"

    def __post_init__(self) -> None:
        s = object.__setattr__
        if not isinstance(self.params, MengParams):
            raise ParameterError("params", self.params, "a MengParams")
        L = check_int("L", self.L, ge=1)
        s(self, "L", L)
        if self.model not in MODELS:
            raise ParameterError("model", self.model, f"one of {MODELS}")
        if self.backend in BACKENDS and self.backend not in ("numpy", "numba"):
            raise ParameterError("backend", self.backend, "'numpy' or 'numba' (the rate kernel has no jax backend)")
        if self.backend in BACKENDS and self.backend != "numpy" and self.model != "paper":
            raise ParameterError(
                "backend",
                self.backend,
                f"'numpy' for model {self.model!r}; backend='numba' supports model='paper' only",
            )
        check_backend(self.backend, self.dtype)
        if self.model == "full":
            if self.kappa_c is not None:
                raise ParameterError("kappa_c", self.kappa_c, "None for model 'full' (acceptance is simulated)")
            if self.k_nearest is not None:
                raise ParameterError("k_nearest", self.k_nearest, "None for model 'full' (the torus is used)")
            side = default_side(self.params.bs_density, L) if self.side is None else self.side
            s(self, "side", check_torus(self.params.bs_density, side, L))
            names = set(self.quantities) - {"users"}
            for name, c in self.centers:
                if name not in names:
                    raise ParameterError("centers", name, f"a quantity name, one of {sorted(names)}")
                check_real(f"centers[{name}]", c)
        else:
            if self.side is not None:
                raise ParameterError("side", self.side, "None unless model='full'")
            if self.centers:
                raise ParameterError("centers", self.centers, "empty unless model='full'")
            if self.kappa_c is None:  # the default is a closed form: resolved by the caller
                raise ParameterError(
                    "kappa_c",
                    None,
                    f"a probability in [0, 1] for model {self.model!r} "
                    "(isacnet.meng.rate_kernel defaults it to the acceptance law kappa_c(psi, mu_c, L))",
                )
            s(self, "kappa_c", check_real("kappa_c", self.kappa_c, ge=0.0, le=1.0))
            k = default_k_nearest(L) if self.k_nearest is None else self.k_nearest
            s(self, "k_nearest", check_int("k_nearest", k, ge=max(L, 2)))
        if self.model == "zf":
            if self.interference_shape not in (None, "physical"):
                raise ParameterError(
                    "interference_shape",
                    self.interference_shape,
                    "None or 'physical' for model 'zf' (gains come from the channels)",
                )
            s(self, "interference_shape", "physical")
        else:
            shape = "exp" if self.interference_shape is None else self.interference_shape
            if shape not in SHAPES:
                raise ParameterError("interference_shape", shape, f"one of {SHAPES}")
            s(self, "interference_shape", shape)

    def __repr__(self) -> str:
        # The default backend and dtype are left out, so that the repr (part of the chunk cache
        # key) of a numpy kernel is the dataclass repr it had before these fields existed.
        names = [f.name for f in fields(self) if f.name not in ("backend", "dtype")]
        if self.backend != "numpy":
            names += ["backend", "dtype"]
        return f"MengRateKernel({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"

    # ------------------------------------------------------------------ metadata
    @property
    def quantities(self) -> tuple[str, ...]:
        q = ["rate_nats", "rate_bits", "n_accepted"]
        if self.params.comm_power_fraction > 0.0:
            q.insert(2, "sir_db")
        if self.model == "full":
            q.append("users")
        if self.has_control:
            q += ["cv_x", "cv_rate_x"]
        return tuple(q)

    @property
    def has_control(self) -> bool:
        """Outputs the control variate of :mod:`._rate_control` ("paper" with p^c > 0)."""
        return self.model == "paper" and self.params.comm_power_fraction > 0.0

    @property
    def control_args(self) -> tuple[int, float]:
        """(j, E[X]) of the control (:mod:`._rate_control`; j = -1: none), for the compiled backend."""
        K = int(self.k_nearest or 0)  # resolved for "paper"
        return (control_index(self.L, K), control_mean(self.params, self.L, K)) if self.has_control else (-1, 0.0)

    @property
    def expected_users(self) -> float:
        """E[M] = lambda_u side^2 ("full")."""
        return self.params.user_density * self.side**2  # type: ignore[operator]

    def describe(self) -> dict[str, object]:
        """Attributes stored with results: model, acceptance and how the infinite sums were handled."""
        d: dict[str, object] = {"model": self.model, "L": self.L, "interference_shape": self.interference_shape}
        if self.model == "full":
            d.update(
                geometry="torus",
                side_m=self.side,
                acceptance="spatial: users' requests to BSs 2..L, psi - 1 blocks per BS, uniform choice",
                tail="mean interference outside the side x side square around each user",
                estimator="Horvitz-Thompson Palm mean per torus with control variates",
                centers=dict(self.centers),
            )
        else:
            d.update(
                geometry="infinite-plane, ordered sampling",
                k_nearest=self.k_nearest,
                kappa_c=self.kappa_c,
                acceptance="independent",
                tail="conditional mean beyond the K-th BS (biases the rate down, ~1e-4 relative at the default K)",
            )
        d.update(backends.describe(self.backend, self.dtype))
        return d

    # ------------------------------------------------------------------ ordered models
    def draw(self, rng: np.random.Generator, n: int) -> RateDraws:
        """The random numbers of n layouts ("paper"/"zf"), in a fixed order: arrivals, interferer
        randomness, BS 1's desired randomness, BSs 2..L's, acceptance uniforms. Acceptance comes
        last, so with kappa_c = 0 a cluster of any L gives exactly the numbers of L = 1."""
        if self.model == "full":
            raise ParameterError("model", self.model, "'paper' or 'zf' for draw()")
        K, L, p = self.k_nearest, self.L, self.params
        T = ordered_arrivals(rng, n, K)  # type: ignore[arg-type]
        if self.model == "paper":
            gi = draw_interferer_gains(rng, (n, K - 1), self.interference_shape, p)  # type: ignore[operator,arg-type]
            shape, scale = p.n_tx_antennas - 1, p.comm_power_fraction
            g0 = rng.gamma(shape, scale, (n, 1))
            gc = rng.gamma(shape, scale, (n, L - 1))
            u = rng.random((n, L - 1))
            return RateDraws(T, u, desired=np.concatenate([g0, gc], axis=1), interferer=gi)
        m = p.n_tx_antennas
        h = _complex_normal(rng, (n, K, m))  # type: ignore[arg-type]
        hu = _complex_normal(rng, (n, K - 1, m))  # type: ignore[operator]
        theta = 2.0 * math.pi * rng.random((n, K))  # type: ignore[arg-type]
        u = rng.random((n, L - 1))
        return RateDraws(T, u, h=h, h_user=hu, theta=theta)

    def gains(self, d: RateDraws) -> tuple[np.ndarray, np.ndarray]:
        """(desired, interferer) gains of shapes (n, L), (n, K - 1) of the layouts ``d``."""
        if self.model == "paper":
            return d.desired, d.interferer  # type: ignore[return-value]
        p, L = self.params, self.L
        pc, ps = p.comm_power_fraction, p.sensing_power_fraction
        z = steering_phase(d.theta)  # type: ignore[arg-type]
        gd = zf_desired_gain(d.h[:, :L], z[:, :L], pc)  # type: ignore[index]
        gi = zf_interference_gain(d.h[:, 1:], d.h_user, z[:, 1:], pc, ps)  # type: ignore[index,arg-type]
        return gd, gi

    def evaluate(self, d: RateDraws) -> dict[str, np.ndarray]:
        """Outputs of the layouts ``d`` (K = d.arrivals.shape[1] nearest, the mean tail beyond)."""
        L, alpha = self.L, self.params.alpha
        T = d.arrivals
        K = T.shape[1]
        if K < max(L, 2):
            raise ParameterError("k", K, f">= {max(L, 2)} nearest BSs in the draws")
        w = T ** (-0.5 * alpha)
        gd, gi = self.gains(d)
        acc = d.accept_u < self.kappa_c  # (n, L - 1)
        s = gd[:, 0] * w[:, 0] + np.where(acc, gd[:, 1:] * w[:, 1:L], 0.0).sum(axis=1)
        # interference: BSs 2..L that declined, BSs L+1..K, and the mean tail beyond the K-th
        near = np.where(acc, 0.0, gi[:, : L - 1] * w[:, 1:L]).sum(axis=1)
        far = np.einsum("ij,ij->i", gi[:, L - 1 :], w[:, L:])
        i = near + far + tail_power_mean(T[:, -1], alpha)
        out = _outputs(s, i, acc.sum(axis=1), self.params.comm_power_fraction > 0.0)
        if self.has_control:
            x = rate_control(T, gd[:, 0], self.params, L)
            out.update(cv_x=x, cv_rate_x=out["rate_nats"] * x)
        return out

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        if self.backend == "numba":
            from ...backends import numba_rate

            return numba_rate.meng_rate(self, rng, n)
        if self.model == "full":
            return self._full(rng, n)
        per_layout = self.k_nearest * (1 if self.model == "paper" else 4 * self.params.n_tx_antennas + 1)  # type: ignore[operator]
        step = max(1, MAX_ELEMENTS // per_layout)
        parts = [self.evaluate(self.draw(rng, min(step, n - i))) for i in range(0, n, step)]
        if len(parts) == 1:
            return parts[0]
        return {q: np.concatenate([p[q] for p in parts]) for q in parts[0]}

    # ------------------------------------------------------------------ the torus model
    def torus(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """One torus of the "full" model: positions, clusters and gains (for per_user and twins).

        Returns a dict with "bs" (n_bs, 2), "users" (m, 2) [m], "coop_idx" (m, L - 1) (BSs 2..L
        of each user, nearest first), "coop_acc" (m, L - 1) bool, "g_int" (m, n_bs) interferer
        gains, "g_des" (m, L) desired gains (column 0: the nearest BS).
        """
        p, L = self.params, self.L
        bs = torus_ppp(rng, p.bs_density, self.side)  # type: ignore[arg-type]
        us = torus_ppp(rng, p.user_density, self.side)  # type: ignore[arg-type]
        m = us.shape[0]
        if L > 1:
            side: float = self.side  # type: ignore[assignment]
            cl = form_clusters(rng, bs, us, side, L - 1, p.resource_blocks - 1, rule="shrink", skip_nearest=1)
            idx, acc = cl.idx, cl.accepted
        else:
            idx, acc = np.zeros((m, 0), dtype=np.intp), np.zeros((m, 0), dtype=bool)
        g_int = draw_interferer_gains(rng, (m, bs.shape[0]), self.interference_shape, p)  # type: ignore[arg-type]
        g_des = rng.gamma(p.n_tx_antennas - 1, p.comm_power_fraction, (m, L))
        return {"bs": bs, "users": us, "coop_idx": idx, "coop_acc": acc, "g_int": g_int, "g_des": g_des}

    def torus_values(self, t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Per-user outputs (shape (m,)) of one torus from :meth:`torus`."""
        p = self.params
        bs, us, idx, acc = t["bs"], t["users"], t["coop_idx"], t["coop_acc"]
        m = us.shape[0]
        if m == 0:
            return {q: np.zeros(0) for q in self.quantities if q != "users"}
        delta = torus_delta(us[:, None, :], bs[None, :, :], self.side)  # type: ignore[arg-type]
        d2 = delta[..., 0] ** 2 + delta[..., 1] ** 2
        pw = d2 ** (-0.5 * p.alpha)  # (m, n_bs) path gains [m^-alpha]
        rows = np.arange(m)
        anchor = np.argmin(d2, axis=1)
        if np.any(idx == anchor[:, None]):  # pragma: no cover - ties have probability 0
            raise RuntimeError("a user's nearest BS is also among its cooperation candidates")
        served = np.zeros(pw.shape, dtype=bool)
        served[rows, anchor] = True
        r, c = np.nonzero(acc)
        served[r, idx[r, c]] = True
        g_des = t["g_des"]
        s = g_des[:, 0] * pw[rows, anchor]
        s = s + np.where(acc, g_des[:, 1:] * pw[rows[:, None], idx], 0.0).sum(axis=1)
        outside = p.bs_density * outside_square_integral(self.side, p.alpha)  # type: ignore[arg-type]
        i = np.where(served, 0.0, t["g_int"] * pw).sum(axis=1) + outside
        return _outputs(s, i, acc.sum(axis=1), p.comm_power_fraction > 0.0)

    def per_user(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """Raw per-user outputs of all users of n tori ("full"; pilots and tests), plus "torus",
        the index of the torus each user lives on."""
        if self.model != "full":
            raise ParameterError("model", self.model, "'full' for per_user()")
        parts = []
        for k in range(n):
            v = self.torus_values(self.torus(rng))
            v["torus"] = np.full(v["rate_nats"].size, k)
            parts.append(v)
        return {q: np.concatenate([p[q] for p in parts]) for q in parts[0]}

    def _full(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        em = self.expected_users
        centers = dict(self.centers)
        out = {q: np.empty(n) for q in self.quantities}
        for k in range(n):
            v = self.torus_values(self.torus(rng))
            for q, f in v.items():
                c = centers.get(q, 0.0)
                out[q][k] = c + float(np.sum(f - c)) / em
            out["users"][k] = v["rate_nats"].size / em
        return out
