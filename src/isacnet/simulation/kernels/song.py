"""Monte Carlo kernel of Song et al.: CRLB (18), its Jensen bound (20) = (23), Lemma 3 sums.

TXs and RXs are independent PPPs around a target at the origin (the PPP is stationary, so the
target's position does not matter). Two geometries:

``window_radius=None`` (default): the whole infinite plane. The ``k_nearest`` nearest TXs and RXs
are sampled exactly (ordered sampling, :mod:`isacnet.geometry`); the points beyond the K-th enter
through their conditional mean given r_K (total path gain 2 g_K^{1-gamma/2}/(gamma-2) in
arrival-time units, isotropic directions). This removes the finite-window bias of the paper's
Monte Carlo; what is left is a Jensen-type bias of relative order Var(tail)/total^2, below
1e-4 at the default K = 64 (measured in tests/statistical/test_song_mc.py).

``window_radius=R``: the paper's set-up, a PPP on the disk of radius R and nothing beyond, to
show the gap between a finite-window Monte Carlo and the closed form shrink as R grows. A window
with fewer than 2 TXs or RXs in a suitable geometry can have a singular FIM; such layouts give
``inf`` and are counted, never averaged.

Beamforming is matched (gain M_t, which is also the full-gain bound (21)).

All work is done in arrival-time units g = pi lam r^2, where path gains are g^{-gamma/2}; the
physical scale (pi lam)^{gamma/2} and the constants are applied at the end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ... import backends
from ...backends import check_backend
from ...geometry import disk_window_count_bound, ordered_arrivals, tail_power_mean, uniform_directions
from ...params import SPEED_OF_LIGHT, ParameterError, SongParams, check_int, check_real
from ...sensing import (
    fim_from_direction_sums,
    fisher_sums,
    needs_pair_sum,
    ordered_direction_sums,
    ordered_layout,
    pairwise_fim,
    trace_inverse_2x2,
)

QUANTITIES = ("crlb", "jensen", "inv_sum_tx", "inv_sum_rx")
"""Per-layout outputs: tr(S^{-1}) (18) [m^2]; tr((E_theta S)^{-1}) (20) = (23) [m^2];
1/sum_k L_k^t and 1/sum_l L_l^r [m^gamma] (the two factors of (23), Lemma 3)."""

WINDOW_MAX_ELEMENTS = 1 << 21
"""In window mode, layouts are drawn in sub-batches of at most this many points per process."""

MC_SCALE_DECADES = 100.0
"""The Monte Carlo refuses (ParameterError) parameters whose per-layout outputs have a scale
beyond 10^+-100 (the constant 1/const of the CRLB, 1/(pi lam)^(gamma/2) of the Lemma 3 sums):
the averages need the squares of the samples (their variance), which overflow float64 beyond
1e154, and the per-layout values spread around the scale by tens of decades for large gamma.
Within the limit the kernel works in arrival-time units (scale-free) and applies the scale last."""


def _log_scales(params: SongParams) -> tuple[float, float, float]:
    """ln (pi lam_t)^(gamma/2), ln (pi lam_r)^(gamma/2) and ln const, const = M_r M_t eta / c^2
    (pi lam_t)^(gamma/2) (pi lam_r)^(gamma/2): every CRLB sample is tr(S_n^-1) / const, with S_n
    the FIM in arrival-time units. Computed from logs: finite for every valid SongParams."""
    half = 0.5 * params.gamma
    lst = half * (math.log(math.pi) + math.log(params.tx_density))
    lsr = half * (math.log(math.pi) + math.log(params.rx_density))
    lconst = (math.log(params.n_rx_antennas) + math.log(params.n_tx_antennas) + params.log_eta
              - 2.0 * math.log(SPEED_OF_LIGHT) + lst + lsr)
    return lst, lsr, lconst


def check_output_scale(params: SongParams) -> None:
    """Refuse, before any work, parameters whose Monte Carlo outputs cannot be averaged in float64
    (:data:`MC_SCALE_DECADES`); a ParameterError names the parameters and the scale. rho_s, eta
    and (pi lam)^(gamma/2) may each be beyond float64 while the CRLB is not: only the scales of
    the outputs (and eta, which the compiled backends use) count."""
    lst, lsr, lconst = _log_scales(params)
    ln10 = math.log(10.0)
    limit = MC_SCALE_DECADES * ln10
    checks = (("the CRLB samples (18)", -lconst, ("n_tx_antennas", "n_rx_antennas", "tx_power", "noise_psd", "rcs",
                                                 "carrier_freq", "eff_bandwidth", "tx_density", "rx_density",
                                                 "gamma")),
              ("the Lemma 3 samples 1/sum L^t", -lst, ("tx_density", "gamma")),
              ("the Lemma 3 samples 1/sum L^r", -lsr, ("rx_density", "gamma")),
              ("eta", params.log_eta, ("tx_power", "noise_psd", "rcs", "carrier_freq", "eff_bandwidth")))
    for what, lv, names in checks:
        if abs(lv) > (limit if what != "eta" else 300.0 * ln10):
            raise ParameterError(", ".join(names), {n: getattr(params, n) for n in names},
                                 f"values for which {what} are within 10^+-{MC_SCALE_DECADES:g} for the Monte "
                                 f"Carlo (they are about 10^{lv / ln10:.4g}; their squares would not fit in "
                                 "float64); the closed forms (song.scaling_bound) work in logs and have no "
                                 "such limit")


def _accurate_rows(g_t, ex, ey, g_r, fx, fy, gt_last, gr_last, gamma):
    """ln tr(S_n^-1), ln W and ln U (arrival-time units) of layouts where the plain 2x2 inverse
    is unreliable: its det = sxx syy - sxy^2 cancels when S is nearly rank-one (at gamma = 60 the
    nearest TX-RX pair outweighs the next by 1e13 in 14% of layouts, which were reported as
    "singular"), and its entries overflow when g^(-gamma/2) does.

    The weights are formed from ln g and scaled by the largest of each set (no overflow); S is
    summed pair by pair (:func:`isacnet.sensing.pairwise_fim`) in the frame of its own dominant
    eigenvector, refined twice, where s_nn = sum w u (n.v)^2 is a sum of non-negative terms and
    det = s_tt s_nn - s_tn^2 has no cancellation (s_tn is ~eps s_tt after the rotation). A
    layout is singular only where det or s_nn is exactly 0 (rank deficiency), never by a
    threshold. Shapes (m, K) for the points, (m,) for the tails' last arrival times.
    """
    from ...sensing import pairwise_fim

    p = -0.5 * gamma
    with np.errstate(divide="ignore"):
        lw, lu = p * np.log(g_t), p * np.log(g_r)
    ltail = math.log(2.0 / (gamma - 2.0))
    lwt = ltail + (1.0 + p) * np.log(gt_last)  # tail_power_mean in logs
    lut = ltail + (1.0 + p) * np.log(gr_last)
    mw = np.maximum(lw.max(axis=-1), lwt)
    mu = np.maximum(lu.max(axis=-1), lut)
    w, wt = np.exp(lw - mw[:, None]), np.exp(lwt - mw)
    u, ut = np.exp(lu - mu[:, None]), np.exp(lut - mu)
    log_w = mw + np.log(w.sum(axis=-1) + wt)
    log_u = mu + np.log(u.sum(axis=-1) + ut)
    sxx, sxy, syy = pairwise_fim(w, ex, ey, u, fx, fy, wt, ut)
    theta = 0.5 * np.arctan2(2.0 * sxy, sxx - syy)
    for _ in range(2):
        c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
        stt, stn, snn = pairwise_fim(w, ex * c + ey * s, ey * c - ex * s, u, fx * c + fy * s, fy * c - fx * s, wt, ut)
        theta = theta + 0.5 * np.arctan2(2.0 * stn, stt - snn)
    det = stt * snn - stn * stn
    ok = (det > 0) & (snn > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_tr = np.where(ok, np.log(stt + snn) - np.log(np.where(ok, det, 1.0)) - mw - mu, np.inf)
    return log_tr, log_w, log_u


@dataclass(frozen=True)
class SongKernel:
    """Picklable Monte Carlo kernel: ``kernel(rng, n) -> {quantity: (n,) array}``.

    Parameters
    ----------
    params : SongParams
    k_nearest : int
        Points sampled exactly per process in the infinite-plane mode (>= 1).
    window_radius : float or None
        Disk window radius [m]; ``None`` for the infinite plane.
    backend : "numpy", "numba" or "jax"
        Who computes the layouts (:mod:`isacnet.backends`): the same law of layouts and the same
        outputs, each backend with its own random stream. A missing package raises
        :class:`isacnet.backends.BackendUnavailable` (an ImportError naming the extra) here.
    dtype : "float64" or "float32"
        Precision of the compiled backends (numpy: float64 only).
    """

    params: SongParams
    k_nearest: int = 64
    window_radius: float | None = None
    backend: str = "numpy"
    dtype: str = "float64"

    def __post_init__(self) -> None:
        check_backend(self.backend, self.dtype)
        object.__setattr__(self, "k_nearest", check_int("k_nearest", self.k_nearest, ge=1))
        check_output_scale(self.params)
        if self.window_radius is None:
            self.params.require_gamma_above_2("the infinite-plane Monte Carlo")
        else:
            object.__setattr__(
                self, "window_radius", check_real("window_radius", self.window_radius, gt=0.0)
            )

    def __repr__(self) -> str:
        # The default backend and dtype are left out, so that the repr (part of the chunk cache
        # key) of a numpy kernel is what it was before these fields existed.
        extra = "" if self.backend == "numpy" else f", backend={self.backend!r}, dtype={self.dtype!r}"
        return (
            f"SongKernel(params={self.params!r}, k_nearest={self.k_nearest!r}, "
            f"window_radius={self.window_radius!r}{extra})"
        )

    # ------------------------------------------------------------------ metadata
    def describe(self) -> dict[str, object]:
        """Attributes stored with results: how the infinite sums were handled, and the backend."""
        if self.window_radius is None:
            d: dict[str, object] = {
                "geometry": "infinite-plane",
                "k_nearest": self.k_nearest,
                "tail": "conditional mean beyond the K-th point (isotropic)",
            }
        else:
            d = {"geometry": "disk-window", "window_radius_m": self.window_radius, "tail": "none"}
        d.update(backends.describe(self.backend, self.dtype))
        return d

    @property
    def window_kmax(self) -> int:
        """Ordered points drawn per process so that a disk window is filled w.p. 1 - 1e-15."""
        assert self.window_radius is not None
        p = self.params
        mean = math.pi * max(p.tx_density, p.rx_density) * self.window_radius**2
        return disk_window_count_bound(mean)

    def core_constants(self) -> dict[str, object]:
        """The constants every backend's core needs, defined once here (the contract of
        :mod:`isacnet.backends._api`): ``window`` (bool), ``k`` (points drawn per process),
        ``lim_t``/``lim_r`` (window limits in arrival-time units, inf on the plane),
        ``tail_coef`` (2 / (gamma - 2), 0 in a window), ``half`` (gamma / 2), ``scale_t``,
        ``scale_r`` ((pi lambda)^(gamma/2)) and ``const`` (the CRLB's physical factor)."""
        p = self.params
        half = 0.5 * p.gamma
        scale_t = (math.pi * p.tx_density) ** half  # physical gain = scale * g^{-gamma/2}
        scale_r = (math.pi * p.rx_density) ** half
        const = p.n_rx_antennas * p.n_tx_antennas * p.eta / SPEED_OF_LIGHT**2 * scale_t * scale_r
        window = self.window_radius is not None
        if window:
            area = math.pi * self.window_radius**2  # type: ignore[operator]
            k, lim_t, lim_r, tail = self.window_kmax, p.tx_density * area, p.rx_density * area, 0.0
        else:
            k, lim_t, lim_r, tail = self.k_nearest, math.inf, math.inf, 2.0 / (p.gamma - 2.0)
        return {"window": window, "k": k, "lim_t": lim_t, "lim_r": lim_r, "tail_coef": tail, "half": half,
                "scale_t": scale_t, "scale_r": scale_r, "const": const}

    # ------------------------------------------------------------------ the kernel
    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        if self.backend == "numba":
            from ...backends import numba_kernels

            return numba_kernels.song(self, rng, n)
        if self.backend == "jax":
            from ...backends import jax_kernels

            return jax_kernels.song(self, rng, n)
        if self.window_radius is None:
            # g^(-gamma/2) may overflow for a large gamma: such rows are caught by needs_pair_sum
            # and recomputed in logs (_accurate_rows), so the warnings are not errors here
            with np.errstate(over="ignore", invalid="ignore"):
                return self._infinite(rng, n)
        kmax = self.window_kmax
        step = max(1, WINDOW_MAX_ELEMENTS // kmax)
        parts = [self._window(rng, min(step, n - i), kmax) for i in range(0, n, step)]
        return {q: np.concatenate([p[q] for p in parts]) for q in parts[0]}

    def _outputs(self, sxx, sxy, syy, W, U) -> dict[str, np.ndarray]:
        """The four outputs from the pair sums (sxx, sxy, syy) and the total gains W, U, all in
        arrival-time units."""
        c = self.core_constants()
        scale_t, scale_r, const = c["scale_t"], c["scale_r"], c["const"]
        tr_inv, _ = trace_inverse_2x2(sxx, sxy, syy)
        with np.errstate(divide="ignore"):
            return {
                "crlb": tr_inv / const,
                "jensen": 2.0 / (const * W * U),
                "inv_sum_tx": 1.0 / (scale_t * W),
                "inv_sum_rx": 1.0 / (scale_r * U),
            }

    def _finish(self, w, ex, ey, u, fx, fy, w_tail, u_tail) -> dict[str, np.ndarray]:
        sxx, sxy, syy = fisher_sums(w, ex, ey, u, fx, fy, w_tail, u_tail)
        return self._outputs(sxx, sxy, syy, w.sum(axis=-1) + w_tail, u.sum(axis=-1) + u_tail)

    def _infinite(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        """The K nearest TXs and RXs exactly, the rest by its conditional mean.

        Random numbers in the order they have always been drawn (``ordered_arrivals`` then
        ``uniform_directions`` for the TXs, then the same for the RXs), so a seed gives the same
        layouts; the bearings are drawn sub-batch by sub-batch while the layouts are built and
        summed in cache (:func:`isacnet.sensing.ordered_direction_sums`), so no block-sized array
        but the exponentials is held. The few layouts whose separable sums could have lost
        accuracy (:func:`isacnet.sensing.needs_pair_sum`) are redrawn from the generator's saved
        state and recomputed by the pair sum, as ``fisher_sums`` does.
        """
        k, gamma = self.k_nearest, self.params.gamma
        p = -0.5 * gamma
        start = rng.bit_generator.state
        a, gt_last = ordered_direction_sums(rng.standard_exponential((n, k)), rng, p)
        b, gr_last = ordered_direction_sums(rng.standard_exponential((n, k)), rng, p)
        w_tail = tail_power_mean(gt_last, gamma)
        u_tail = tail_power_mean(gr_last, gamma)
        sxx, sxy, syy, mag = fim_from_direction_sums(a, b, w_tail, u_tail, with_magnitude=True)
        redo = needs_pair_sum(sxx, sxy, syy, mag)
        if np.any(redo):
            again = np.random.Generator(type(rng.bit_generator)())
            again.bit_generator.state = start
            et, ut = again.standard_exponential((n, k)), again.random((n, k))
            er, ur = again.standard_exponential((n, k)), again.random((n, k))
            _, w, ex, ey = ordered_layout(et[redo], ut[redo], p)
            _, u, fx, fy = ordered_layout(er[redo], ur[redo], p)
            sxx[redo], sxy[redo], syy[redo] = pairwise_fim(w, ex, ey, u, fx, fy, w_tail[redo], u_tail[redo])
        out = self._outputs(sxx, sxy, syy, a[0] + w_tail, b[0] + u_tail)
        if np.any(redo):
            # Rows the plain 2x2 inverse cannot be trusted with (judged singular, or sums that
            # overflowed): recomputed without a threshold or an overflow (_accurate_rows).
            bad_in_redo = ~(np.isfinite(out["crlb"][redo]) & np.isfinite(out["jensen"][redo])
                            & (out["jensen"][redo] > 0))
            if np.any(bad_in_redo):
                rows = np.flatnonzero(redo)[bad_in_redo]
                g_t, _, ex_, ey_ = ordered_layout(et[rows], ut[rows], p)
                g_r, _, fx_, fy_ = ordered_layout(er[rows], ur[rows], p)
                log_tr, log_w, log_u = _accurate_rows(g_t, ex_, ey_, g_r, fx_, fy_, gt_last[rows], gr_last[rows],
                                                      gamma)
                self._log_outputs(out, rows, log_tr, log_w, log_u)
        return out

    def _log_outputs(self, out, rows, log_tr, log_w, log_u) -> None:
        """The four outputs of ``rows`` from logs in arrival-time units (exactly scaled: every
        output is a power-law constant times a function of the layout in arrival-time units).
        A per-layout value beyond float64 is +inf (counted as non-finite, never averaged) or, below
        1e-308, 0 (at most 1e-308 / n of a mean whose scale is within 10^+-100)."""
        lst, lsr, lconst = _log_scales(self.params)
        with np.errstate(over="ignore", under="ignore"):
            out["crlb"][rows] = np.exp(log_tr - lconst)
            out["jensen"][rows] = np.exp(math.log(2.0) - lconst - log_w - log_u)
            out["inv_sum_tx"][rows] = np.exp(-lst - log_w)
            out["inv_sum_rx"][rows] = np.exp(-lsr - log_u)

    def _window(self, rng: np.random.Generator, n: int, kmax: int) -> dict[str, np.ndarray]:
        p, mhalf = self.params, -0.5 * self.params.gamma
        area = math.pi * self.window_radius**2  # type: ignore[operator]

        def one(density: float):
            g = ordered_arrivals(rng, n, kmax)
            x, y = uniform_directions(rng, (n, kmax))
            inside = g <= density * area  # arrival time pi lam r^2 <= pi lam R^2
            if np.any(inside[:, -1]):  # pragma: no cover - probability < 1e-15 per layout
                raise RuntimeError("disk window not filled by the ordered sample; report this")
            # Scale to the common arrival-time units of this process (its own density).
            return np.where(inside, g, np.inf) ** mhalf, x, y

        w, ex, ey = one(p.tx_density)
        u, fx, fy = one(p.rx_density)
        return self._finish(w, ex, ey, u, fx, fy, 0.0, 0.0)
