"""Monte Carlo kernels for issue 8: estimators against the CRLB, and the AoA gain over PPP layouts.

Both follow the engine's protocol ``kernel(rng, n) -> {quantity: (n,) array}`` and are picklable
frozen dataclasses with a stable repr (the chunk store keys results by it).

:class:`EstimatorKernel` -- one sample is one noise draw (``layout="fixed"``) or one PPP layout
    and one noise draw (``layout="ppp"``) of the measurement model of :mod:`isacnet.localization`:
    squared errors of the closed-form LS start and of the ML (Levenberg-Marquardt) estimate, and
    the per-layout CRLB of the same measurement model (delay-only, or delay+AoA with ``aoa``).
    The layout is the ``n_tx`` nearest TXs and ``n_rx`` nearest RXs of the PPPs around a target
    at the origin; a fixed layout is drawn once from ``layout_seed`` (or given as ``tx_xy`` /
    ``rx_xy``).

:class:`AoaGainKernel` -- one sample is one infinite-plane PPP layout (K nearest sampled exactly,
    the rest by its conditional mean, as :class:`~isacnet.simulation.kernels.song.SongKernel`): the
    delay-only CRLB of Song (18), the delay+AoA CRLB, their ratio, and the Jensen bounds
    tr((E_theta S)^-1) of both (the second is the quantity whose mean
    :func:`isacnet.analysis.aoa.jensen_bound_aoa` gives in closed form).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ...geometry import ordered_arrivals, ordered_ppp, tail_power_mean, uniform_directions
from ...localization import crlb_delay_aoa, locate, make_scene, simulate
from ...localization.linearised import expected_square, ls_error_map, ml_error_map, noise_std, noise_vector
from ...localization.model import Scene
from ...localization.solvers import ls_sides
from ...params import DIRECTION_MOMENTS, SPEED_OF_LIGHT, ParameterError, SongParams, check_choice, check_int, check_real
from ...sensing import fisher_sums, trace_inverse_2x2

ESTIMATOR_QUANTITIES = (
    "ml_sq_err",
    "ls_sq_err",
    "crlb",
    "ml_ratio",
    "ls_ratio",
    "ml_err_x",
    "ml_err_y",
    "ml_nonconverged",
    "ml_at_anchor",
    "ls_failed",
    "ml_iterations",
    "ml_cv_x",
    "ml_cv_yx",
    "ls_cv_x",
    "ls_cv_yx",
)
"""Per-sample outputs of :class:`EstimatorKernel`: squared position errors [m^2] of the ML
estimate and of the LS start, the per-layout CRLB [m^2], the errors over the CRLB, the ML error
components [m], indicators of an ML iteration that ended neither at a smooth stationary point
nor on a TX/RX, of an ML estimate on a TX/RX (a cusp of the cost, where it can have its
minimum), of a rank-deficient LS system (whose sample errors are then NaN: counted by the
engine, never averaged), and the LM iterations; then the control-variate moments of the ML and
LS squared errors Y: X - E[X] (X the squared linearised error, :mod:`isacnet.localization.linearised`;
the LS one only for a fixed layout, else 0) and Y (X - E[X]), which
:func:`isacnet.simulation.statistics.control_variate` combines into the plotted RMSEs."""

AOA_QUANTITIES = ("crlb_delay", "crlb_aoa", "ratio", "jensen_delay", "jensen_aoa")
"""Per-layout outputs of :class:`AoaGainKernel`: tr(S^-1) delay-only (Song (18)) and
delay+AoA [m^2], ratio = crlb_aoa / crlb_delay (in (0, 1]), and the Jensen bounds
tr((E_theta S)^-1) without and with AoA [m^2]."""

ORIENTATIONS = ("aligned", "random")


def _control(y: np.ndarray, noise: np.ndarray, amap: np.ndarray, mean) -> np.ndarray:
    """X - E[X] with X = |A n|^2 the squared linearised error (A (2, M) or (B, 2, M)), NaN where
    the squared error y is not finite (so that Y, X and YX cover the same samples)."""
    lin = noise @ amap.T if amap.ndim == 2 else np.einsum("bim,bm->bi", amap, noise)
    x = np.einsum("bi,bi->b", lin, lin) - mean
    return np.where(np.isfinite(y), x, np.nan)


def _as_bool(name: str, value) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | np.integer) and value in (0, 1):
        return bool(value)
    raise ParameterError(name, value, "true or false (or 0 / 1)")


def _xy_tuple(name: str, xy) -> tuple[tuple[float, float], ...] | None:
    if xy is None:
        return None
    a = np.asarray(xy, dtype=float)
    if a.ndim != 2 or a.shape[1] != 2 or a.shape[0] < 1 or not np.all(np.isfinite(a)):
        raise ParameterError(name, xy, "a sequence of (x, y) positions [m]")
    return tuple((float(x), float(y)) for x, y in a)


def ppp_layouts(
    rng: np.random.Generator, n: int, params: SongParams, n_tx: int, n_rx: int, rx_orientation: str = "aligned"
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The n_tx nearest TXs and n_rx nearest RXs of independent PPPs around the origin.

    Returns tx (n, n_tx, 2), rx (n, n_rx, 2) [m] and the RX array axes (n, n_rx) [rad]: 0 (along
    x) for "aligned", i.i.d. uniform for "random".
    """
    _, tx = ordered_ppp(rng, n, n_tx, params.tx_density)
    _, rx = ordered_ppp(rng, n, n_rx, params.rx_density)
    if rx_orientation == "random":
        axis = 2.0 * math.pi * rng.random((n, n_rx))
    else:
        axis = np.zeros((n, n_rx))
    return tx, rx, axis


@dataclass(frozen=True)
class EstimatorKernel:
    """ML and LS position errors against the per-layout CRLB (see the module docstring).

    Parameters
    ----------
    params : SongParams
    n_tx, n_rx : int
        TXs and RXs used (nearest of the PPPs), N_t N_r >= 2 + min(N_t, N_r).
    layout : "fixed" or "ppp"
        One layout for all samples (from ``layout_seed`` or ``tx_xy``/``rx_xy``), or a new PPP
        layout per sample.
    layout_seed : int
        Seed of the fixed layout.
    aoa : bool
        Also measure the direction cosine at every RX (M_r-element ULA).
    element_spacing : float
        ULA element spacing [wavelengths].
    rx_orientation : "aligned" or "random"
        RX array axes all along x, or i.i.d. uniform.
    tx_xy, rx_xy : tuple of (x, y), optional
        Explicit fixed layout [m] (the target is at the origin).
    max_iter : int
        Levenberg-Marquardt iteration limit.
    starts : "both" or "auto"
        LS starts (see :func:`isacnet.localization.locate`).
    """

    params: SongParams
    n_tx: int = 4
    n_rx: int = 4
    layout: str = "fixed"
    layout_seed: int = 1
    aoa: bool = False
    element_spacing: float = 0.5
    rx_orientation: str = "aligned"
    tx_xy: tuple[tuple[float, float], ...] | None = None
    rx_xy: tuple[tuple[float, float], ...] | None = None
    max_iter: int = 100
    starts: str = "both"

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "starts", check_choice("starts", self.starts, ("both", "auto")))
        s(self, "layout", check_choice("layout", self.layout, ("fixed", "ppp")))
        s(self, "aoa", _as_bool("aoa", self.aoa))
        s(self, "element_spacing", check_real("element_spacing", self.element_spacing, gt=0.0))
        s(self, "rx_orientation", check_choice("rx_orientation", self.rx_orientation, ORIENTATIONS))
        s(self, "layout_seed", check_int("layout_seed", self.layout_seed, ge=0))
        s(self, "max_iter", check_int("max_iter", self.max_iter, ge=1))
        s(self, "tx_xy", _xy_tuple("tx_xy", self.tx_xy))
        s(self, "rx_xy", _xy_tuple("rx_xy", self.rx_xy))
        if (self.tx_xy is None) != (self.rx_xy is None):
            raise ParameterError("tx_xy/rx_xy", "only one given", "both or neither")
        if self.tx_xy is not None:
            if self.layout != "fixed":
                raise ParameterError("layout", self.layout, "'fixed' with explicit tx_xy / rx_xy")
            s(self, "n_tx", len(self.tx_xy))
            s(self, "n_rx", len(self.rx_xy))  # type: ignore[arg-type]  # both given (checked above)
        s(self, "n_tx", check_int("n_tx", self.n_tx, ge=1))
        s(self, "n_rx", check_int("n_rx", self.n_rx, ge=1))
        if self.n_tx * self.n_rx < 2 + min(self.n_tx, self.n_rx):
            raise ParameterError(
                "n_tx, n_rx", (self.n_tx, self.n_rx), "N_t N_r >= 2 + min(N_t, N_r) (enough pairs for the LS start)"
            )

    @property
    def quantities(self) -> tuple[str, ...]:
        """The outputs of a call (:data:`ESTIMATOR_QUANTITIES`)."""
        return ESTIMATOR_QUANTITIES

    def describe(self) -> dict[str, object]:
        return {
            "geometry": f"{self.layout} layout, {self.n_tx} TX / {self.n_rx} RX nearest of the PPPs",
            "layout_seed": self.layout_seed if self.layout == "fixed" and self.tx_xy is None else -1,
            "aoa": self.aoa,
            "element_spacing": self.element_spacing,
            "rx_orientation": self.rx_orientation,
            "estimator": f"LS start(s) '{self.starts}' (squared range sums, one auxiliary unknown per TX or "
            f"RX, reweighted) -> Levenberg-Marquardt ML, max_iter={self.max_iter}",
            "noise": "Gaussian range sums, variances c^2/J_kl of Song (13); known to the estimator",
        }

    def fixed_layout(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The fixed layout: tx (1, N_t, 2), rx (1, N_r, 2), RX axes (1, N_r)."""
        if self.tx_xy is not None:
            rng = np.random.Generator(np.random.PCG64(self.layout_seed))
            axis = (
                2.0 * math.pi * rng.random((1, self.n_rx))
                if self.rx_orientation == "random"
                else np.zeros((1, self.n_rx))
            )
            return np.asarray(self.tx_xy)[None], np.asarray(self.rx_xy)[None], axis
        rng = np.random.Generator(np.random.PCG64(self.layout_seed))
        return ppp_layouts(rng, 1, self.params, self.n_tx, self.n_rx, self.rx_orientation)

    def crlb_fixed(self) -> float:
        """CRLB tr(F^-1) [m^2] of the fixed layout's measurement model."""
        if self.layout != "fixed":
            raise ParameterError("layout", self.layout, "'fixed' for a single-layout CRLB")
        tx, rx, axis = self.fixed_layout()
        return float(
            crlb_delay_aoa(
                tx[0],
                rx[0],
                np.zeros(2),
                self.params,
                aoa=self.aoa,
                element_spacing=self.element_spacing,
                rx_array_axis=axis[0],
            )
        )

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        p = self.params
        if self.layout == "fixed":
            tx, rx, axis = self.fixed_layout()
            one = make_scene(
                tx, rx, np.zeros((1, 2)), p, aoa=self.aoa, element_spacing=self.element_spacing, rx_array_axis=axis
            )
            scene = one.repeat(n)
            crlb = np.full(n, self.crlb_fixed())
        else:
            tx, rx, axis = ppp_layouts(rng, n, p, self.n_tx, self.n_rx, self.rx_orientation)
            target = np.zeros((n, 2))
            scene = make_scene(
                tx, rx, target, p, aoa=self.aoa, element_spacing=self.element_spacing, rx_array_axis=axis
            )
            crlb = crlb_delay_aoa(
                tx, rx, target, p, aoa=self.aoa, element_spacing=self.element_spacing, rx_array_axis=axis
            )
        meas = simulate(rng, scene)
        ls, ml = locate(scene, meas, starts=self.starts, max_iter=self.max_iter)
        err = ml.estimate - scene.target
        ml_sq = np.einsum("bi,bi->b", err, err)
        ls_err = ls.estimate - scene.target
        ls_sq = np.einsum("bi,bi->b", ls_err, ls_err)
        noise = noise_vector(scene, meas)
        if self.layout == "fixed":
            amap, mean = ml_error_map(one)
            ml_x = _control(ml_sq, noise, amap[0], mean[0])
            ls_x = _control(ls_sq, noise, *self._ls_map(one, amap[0]))
        else:  # no LS control (its map costs 2 M LS solves a layout): 0, NaN where Y is
            ml_x = _control(ml_sq, noise, *ml_error_map(scene))
            ls_x = np.where(np.isfinite(ls_sq), 0.0, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "ml_sq_err": ml_sq,
                "ls_sq_err": ls_sq,
                "crlb": crlb,
                "ml_ratio": ml_sq / crlb,
                "ls_ratio": ls_sq / crlb,
                "ml_err_x": err[:, 0],
                "ml_err_y": err[:, 1],
                "ml_nonconverged": (~ml.converged & ~ml.at_anchor).astype(float),
                "ml_at_anchor": ml.at_anchor.astype(float),
                "ls_failed": (~ls.ok).astype(float),
                "ml_iterations": ml.n_iter.astype(float),
                "ml_cv_x": ml_x,
                "ml_cv_yx": ml_sq * ml_x,
                "ls_cv_x": ls_x,
                "ls_cv_yx": ls_sq * ls_x,
            }

    def _ls_map(self, one: Scene, ml_map: np.ndarray) -> tuple[np.ndarray, float]:
        """The LS control's error map of the fixed layout: with two LS starts (the reported one is
        the start of smaller ML cost), the side whose map is nearer the ML map ``ml_map``,
        E|(A_s - A_ML) n|^2."""
        std = noise_std(one)[0]
        maps = [ls_error_map(one, side) for side in ls_sides(self.starts, self.n_tx, self.n_rx)]
        return min(maps, key=lambda m: float(expected_square(m[0] - ml_map, std)))


@dataclass(frozen=True)
class AoaGainKernel:
    """Delay-only vs delay+AoA CRLB over infinite-plane PPP layouts (see the module docstring).

    Parameters
    ----------
    params : SongParams
        gamma > 2 (infinite plane).
    k_nearest : int
        TXs and RXs sampled exactly; the rest enter by their conditional mean (isotropic).
    element_spacing : float
        ULA element spacing [wavelengths].
    rx_orientation : "aligned" or "random"
        All RX arrays along x, or i.i.d. uniform axes.
    """

    params: SongParams
    k_nearest: int = 64
    element_spacing: float = 0.5
    rx_orientation: str = "aligned"

    def __post_init__(self) -> None:
        object.__setattr__(self, "k_nearest", check_int("k_nearest", self.k_nearest, ge=1))
        object.__setattr__(self, "element_spacing", check_real("element_spacing", self.element_spacing, gt=0.0))
        object.__setattr__(self, "rx_orientation", check_choice("rx_orientation", self.rx_orientation, ORIENTATIONS))
        self.params.require_gamma_above_2("the infinite-plane Monte Carlo")

    def describe(self) -> dict[str, object]:
        return {
            "geometry": "infinite-plane",
            "k_nearest": self.k_nearest,
            "tail": "conditional mean beyond the K-th point (delay and AoA terms)",
            "element_spacing": self.element_spacing,
            "rx_orientation": self.rx_orientation,
        }

    def from_arrivals(self, gt, ex, ey, gr, fx, fy, ax, ay, tails: bool = True) -> dict[str, np.ndarray]:
        """The outputs from arrival times g = pi lambda r^2 (n, K), unit vectors from the target
        toward each TX (ex, ey) and RX (fx, fy), and RX array axes (ax, ay) (n, K).

        ``tails=False`` drops the points beyond the K-th (used by the tests' slow twin)."""
        p = self.params
        gam = p.gamma
        lt, lr = math.pi * p.tx_density, math.pi * p.rx_density
        w = gt ** (-0.5 * gam)
        u = gr ** (-0.5 * gam)
        v = gr ** (-0.5 * gam - 1.0)
        zero = np.zeros(gt.shape[0])
        w_tail = tail_power_mean(gt[:, -1], gam) if tails else zero
        u_tail = tail_power_mean(gr[:, -1], gam) if tails else zero
        v_tail = (2.0 / gam) * gr[:, -1] ** (-0.5 * gam) if tails else zero
        sxx, sxy, syy = fisher_sums(w, ex, ey, u, fx, fy, w_tail, u_tail)
        m, mt = p.n_rx_antennas, p.n_tx_antennas
        c2 = SPEED_OF_LIGHT**2
        W = lt ** (0.5 * gam) * (w.sum(-1) + w_tail)  # sum_k L_k [m^-gamma]
        U = lr ** (0.5 * gam) * (u.sum(-1) + u_tail)
        V = lr ** (0.5 * gam + 1.0) * (v.sum(-1) + v_tail)  # sum_l rho_l^(-gamma-2)
        const_d = m * mt * p.eta / c2 * lt ** (0.5 * gam) * lr ** (0.5 * gam)
        sd = (const_d * sxx, const_d * sxy, const_d * syy)
        # AoA: sum_l J^u_l p_l p_l^T / rho_l^2, J^u_l = delta^2 M(M^2-1) M_t eta W L_l / (12 beta^2)
        delta = self.element_spacing
        const_a = delta**2 * m * (m * m - 1) * mt * p.eta / (12.0 * p.eff_bandwidth**2) * W * lr ** (0.5 * gam + 1.0)
        qx, qy = -fx, -fy
        uu = ax * qx + ay * qy
        px, py = ax - uu * qx, ay - uu * qy
        m1, m2 = DIRECTION_MOMENTS[self.rx_orientation]
        axx = (v * px * px).sum(-1) + v_tail * m1
        axy = (v * px * py).sum(-1)
        ayy = (v * py * py).sum(-1) + v_tail * m2
        tot = (sd[0] + const_a * axx, sd[1] + const_a * axy, sd[2] + const_a * ayy)
        crlb_d, _ = trace_inverse_2x2(*sd)
        crlb_a, _ = trace_inverse_2x2(*tot)
        kappa = delta**2 * (m * m - 1) * c2 / (12.0 * p.eff_bandwidth**2)
        pre = c2 / (m * mt * p.eta * W)
        with np.errstate(invalid="ignore", divide="ignore"):
            return {
                "crlb_delay": crlb_d,
                "crlb_aoa": crlb_a,
                "ratio": crlb_a / crlb_d,
                "jensen_delay": 2.0 * pre / U,
                "jensen_aoa": pre * (1.0 / (U + kappa * m1 * V) + 1.0 / (U + kappa * m2 * V)),
            }

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        k = self.k_nearest
        gt = ordered_arrivals(rng, n, k)
        ex, ey = uniform_directions(rng, (n, k))
        gr = ordered_arrivals(rng, n, k)
        fx, fy = uniform_directions(rng, (n, k))
        if self.rx_orientation == "random":
            ax, ay = uniform_directions(rng, (n, k))
        else:
            ax, ay = np.ones((n, k)), np.zeros((n, k))
        return self.from_arrivals(gt, ex, ey, gr, fx, fy, ax, ay)
