"""Measurement model of issue 8: range sums with the variances of Song (13), direction cosines
with the ULA's CRB, and the delay+AoA Fisher information (see :mod:`isacnet.localization`)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..params import SPEED_OF_LIGHT, ParameterError, SongParams, check_int, check_real
from ..sensing import BeamSpec, song_fim, trace_inverse_2x2, tx_beam_gain


# --------------------------------------------------------------------------- geometry
def _points(a, name: str) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim < 2 or a.shape[-1] != 2 or a.shape[-2] < 1:
        raise ParameterError(name, f"array of shape {a.shape}", "an array of shape (..., N >= 1, 2) [m]")
    if not np.all(np.isfinite(a)):
        raise ParameterError(name, "array with non-finite entries", "finite positions [m]")
    return a


def _target(a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim < 1 or a.shape[-1] != 2 or not np.all(np.isfinite(a)):
        raise ParameterError("target", f"array of shape {a.shape}", "finite positions of shape (..., 2) [m]")
    return a


def _unit(points: np.ndarray, target: np.ndarray, who: str) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors from the target toward ``points`` (..., N, 2) and the distances (..., N)."""
    d = points - target[..., None, :]
    dist = np.linalg.norm(d, axis=-1)
    if np.any(dist == 0.0):
        raise ParameterError(who, "a position equal to the target", "positions distinct from the target")
    return d / dist[..., None], dist


def _axis_vectors(rx_array_axis, shape: tuple[int, ...]) -> np.ndarray:
    ax = np.broadcast_to(np.asarray(rx_array_axis, dtype=float), shape)
    if not np.all(np.isfinite(ax)):
        raise ParameterError("rx_array_axis", "non-finite angles", "finite angles [rad]")
    return np.stack([np.cos(ax), np.sin(ax)], axis=-1)


def bistatic_ranges(tx, rx, target) -> np.ndarray:
    """Range sums ||d_k - d_s|| + ||d_l - d_s|| [m], shape (..., N_t, N_r)."""
    tx, rx, target = _points(tx, "tx"), _points(rx, "rx"), _target(target)
    rt = np.linalg.norm(tx - target[..., None, :], axis=-1)
    rr = np.linalg.norm(rx - target[..., None, :], axis=-1)
    return rt[..., :, None] + rr[..., None, :]


def direction_cosines(rx, target, rx_array_axis=0.0) -> np.ndarray:
    """u_l = a_l . q_l: cosine of the angle between RX l's array axis and the direction to the target.

    ``rx_array_axis`` [rad from the x axis], broadcastable to (..., N_r); 0 puts the array along x
    as in Song (6), where sin(theta) with theta from the y axis is the x direction cosine.
    """
    rx, target = _points(rx, "rx"), _target(target)
    f, _ = _unit(rx, target, "rx")
    a = _axis_vectors(rx_array_axis, f.shape[:-1])
    return -np.einsum("...i,...i->...", a, f)  # q = -f (RX -> target)


# --------------------------------------------------------------------------- information
def pair_snr(tx, rx, target, params: SongParams, beamformer: BeamSpec = "matched", tx_array_axis=0.0):
    """|alpha_kl|^2 = rho_s sigma L_k L_l c^2 g_k / ((4 pi)^3 f_c^2), per-antenna SNR, (..., N_t, N_r).

    Song (2) with the RCS sigma entering the power linearly (docs/errata.md S-6) and g_k the TX
    beam gain toward the target (:func:`isacnet.sensing.tx_beam_gain`).
    """
    tx, rx, target = _points(tx, "tx"), _points(rx, "rx"), _target(target)
    _, dt = _unit(tx, target, "tx")
    _, dr = _unit(rx, target, "rx")
    g = tx_beam_gain(tx, target, params.n_tx_antennas, beamformer, tx_array_axis)
    const = params.rho_s * params.rcs * SPEED_OF_LIGHT**2 / ((4.0 * math.pi) ** 3 * params.carrier_freq**2)
    return const * (g * dt ** (-params.gamma))[..., :, None] * (dr ** (-params.gamma))[..., None, :]


def delay_information(tx, rx, target, params: SongParams, beamformer: BeamSpec = "matched", tx_array_axis=0.0):
    """J_kl = 8 pi^2 M_r beta^2 |alpha_kl|^2 [s^-2], the delay Fisher information of Song (13)."""
    snr = pair_snr(tx, rx, target, params, beamformer, tx_array_axis)
    return 8.0 * math.pi**2 * params.n_rx_antennas * params.eff_bandwidth**2 * snr


def _check_spacing(element_spacing) -> float:
    return check_real("element_spacing", element_spacing, gt=0.0)


def dircos_information(snr_per_rx, n_rx_antennas: int, element_spacing: float = 0.5):
    """J^u_l = 2 (2 pi delta)^2 M (M^2 - 1)/12 * sum_k |alpha_kl|^2, Fisher information of u_l.

    Parameters
    ----------
    snr_per_rx : ndarray, shape (..., N_r)
        sum over TXs of the per-antenna SNR |alpha_kl|^2 at RX l.
    n_rx_antennas : int
        M_r (1 gives 0: a single antenna has no angle information).
    element_spacing : float
        delta, ULA element spacing in wavelengths (0.5 in Song (6)).
    """
    m = check_int("n_rx_antennas", n_rx_antennas, ge=1)
    d = _check_spacing(element_spacing)
    return 2.0 * (2.0 * math.pi * d) ** 2 * (m * (m * m - 1) / 12.0) * np.asarray(snr_per_rx, dtype=float)


def fim_from_information(tx, rx, target, j_delay, j_dircos=None, rx_array_axis=0.0) -> np.ndarray:
    """Position FIM from per-pair delay information and per-RX direction-cosine information.

    F = sum_kl J_kl / c^2 (e_k + f_l)(e_k + f_l)^T + sum_l J^u_l grad(u_l) grad(u_l)^T,
    grad(u_l) = (a_l - u_l q_l) / rho_l. O(N_t N_r) pair sum; shapes: j_delay (..., N_t, N_r)
    [s^-2], j_dircos (..., N_r) or None. Returns (..., 2, 2) [m^-2].
    """
    tx, rx, target = _points(tx, "tx"), _points(rx, "rx"), _target(target)
    e, _ = _unit(tx, target, "tx")
    f, dr = _unit(rx, target, "rx")
    v = e[..., :, None, :] + f[..., None, :, :]
    F = np.einsum("...kl,...kli,...klj->...ij", np.asarray(j_delay, float), v, v) / SPEED_OF_LIGHT**2
    if j_dircos is not None:
        q = -f
        a = _axis_vectors(rx_array_axis, f.shape[:-1])
        u = np.einsum("...i,...i->...", a, q)
        grad = (a - u[..., None] * q) / dr[..., None]
        F = F + np.einsum("...l,...li,...lj->...ij", np.asarray(j_dircos, float), grad, grad)
    return F


def aoa_fim(
    tx,
    rx,
    target,
    params: SongParams,
    element_spacing: float = 0.5,
    rx_array_axis=0.0,
    beamformer: BeamSpec = "matched",
    tx_array_axis=0.0,
) -> np.ndarray:
    """The AoA part sum_l J^u_l p_l p_l^T / rho_l^2 of the delay+AoA FIM [m^-2], (..., 2, 2).

    Separable: J^u_l is proportional to L_l sum_k g_k L_k, so this costs O(N_t + N_r).
    """
    tx, rx, target = _points(tx, "tx"), _points(rx, "rx"), _target(target)
    _, dt = _unit(tx, target, "tx")
    f, dr = _unit(rx, target, "rx")
    g = tx_beam_gain(tx, target, params.n_tx_antennas, beamformer, tx_array_axis)
    const = params.rho_s * params.rcs * SPEED_OF_LIGHT**2 / ((4.0 * math.pi) ** 3 * params.carrier_freq**2)
    snr_rx = const * (g * dt ** (-params.gamma)).sum(axis=-1)[..., None] * dr ** (-params.gamma)
    ju = dircos_information(snr_rx, params.n_rx_antennas, element_spacing)
    q = -f
    a = _axis_vectors(rx_array_axis, f.shape[:-1])
    u = np.einsum("...i,...i->...", a, q)
    p = a - u[..., None] * q
    return np.einsum("...l,...li,...lj->...ij", ju / dr**2, p, p)


def fim_delay_aoa(
    tx,
    rx,
    target,
    params: SongParams,
    *,
    aoa: bool = True,
    element_spacing: float = 0.5,
    rx_array_axis=0.0,
    beamformer: BeamSpec = "matched",
    tx_array_axis=0.0,
    method: str = "auto",
) -> np.ndarray:
    """Position FIM from bistatic delays and (``aoa=True``) the receive arrays' AoA [m^-2].

    The delay part is :func:`isacnet.sensing.song_fim` (Song (15) with the exact gradient), so
    ``aoa=False`` returns exactly the delay-only FIM of the paper; the AoA part is
    :func:`aoa_fim`. Shapes as in ``song_fim``: tx (..., N_t, 2), rx (..., N_r, 2), target
    (..., 2) -> (..., 2, 2). ``rx_array_axis``: ULA axis of each RX [rad from x], broadcastable
    to (..., N_r); ``element_spacing`` in wavelengths.
    """
    S = song_fim(tx, rx, target, params, beamformer, tx_array_axis, "exact", method)
    if not aoa:
        return S
    return S + aoa_fim(tx, rx, target, params, element_spacing, rx_array_axis, beamformer, tx_array_axis)


def crlb_delay_aoa(tx, rx, target, params: SongParams, **kwargs) -> np.ndarray:
    """tr(F^-1) [m^2] of :func:`fim_delay_aoa` (same arguments); inf where F is singular."""
    F = fim_delay_aoa(tx, rx, target, params, **kwargs)
    tr, _ = trace_inverse_2x2(F[..., 0, 0], F[..., 0, 1], F[..., 1, 1])
    return tr


# --------------------------------------------------------------------------- measurement simulator
@dataclass(frozen=True)
class Scene:
    """Layouts, targets and measurement noise levels, batched over B layouts (or draws).

    Attributes
    ----------
    tx : (B, N_t, 2), rx : (B, N_r, 2), target : (B, 2)   positions [m]
    range_std : (B, N_t, N_r)    sigma_kl = c / sqrt(J_kl) of the range sums [m]
    dircos_std : (B, N_r) or None    1 / sqrt(J^u_l) of the direction cosines (None: no AoA)
    rx_axis : (B, N_r)           ULA axis of each RX [rad from x]
    """

    tx: np.ndarray
    rx: np.ndarray
    target: np.ndarray
    range_std: np.ndarray
    dircos_std: np.ndarray | None
    rx_axis: np.ndarray

    @property
    def size(self) -> int:
        return int(self.tx.shape[0])

    def repeat(self, n: int) -> Scene:
        """The single layout of a B = 1 scene broadcast to n identical rows (views, no copies)."""
        if self.size != 1:
            raise ParameterError("scene", f"a scene of {self.size} layouts", "a single layout (B = 1)")

        def b(a):
            return None if a is None else np.broadcast_to(a, (n,) + a.shape[1:])

        return Scene(b(self.tx), b(self.rx), b(self.target), b(self.range_std), b(self.dircos_std), b(self.rx_axis))

    def fim(self) -> np.ndarray:
        """FIM of d_s in this scene's measurements, (B, 2, 2): sum of 1/sigma^2 grad grad^T."""
        j_u = None if self.dircos_std is None else self.dircos_std**-2.0
        return fim_from_information(
            self.tx, self.rx, self.target, (SPEED_OF_LIGHT / self.range_std) ** 2, j_u, self.rx_axis
        )


@dataclass(frozen=True)
class Measurements:
    """Range sums (B, N_t, N_r) [m] and, with AoA, direction cosines (B, N_r)."""

    range_sum: np.ndarray
    dircos: np.ndarray | None = None


def make_scene(
    tx,
    rx,
    target,
    params: SongParams,
    *,
    aoa: bool = False,
    element_spacing: float = 0.5,
    rx_array_axis=0.0,
    beamformer: BeamSpec = "matched",
    tx_array_axis=0.0,
) -> Scene:
    """The measurement model of a batch of layouts (see the module docstring).

    tx (B, N_t, 2), rx (B, N_r, 2), target (B, 2) (a single layout may omit B). The noise
    variances come from the same per-pair SNR as the FIM, so ``scene.fim()`` equals
    :func:`fim_delay_aoa` (and, without AoA, :func:`isacnet.sensing.song_fim`).
    """
    tx, rx, target = _points(tx, "tx"), _points(rx, "rx"), _target(target)
    if tx.ndim == 2:
        tx, rx, target = tx[None], rx[None], target.reshape(-1, 2)
    batch = np.broadcast_shapes(tx.shape[:-2], rx.shape[:-2], target.shape[:-1])
    if len(batch) != 1:
        raise ParameterError("tx", f"batch shape {batch}", "one leading batch axis: (B, N, 2)")
    tx = np.broadcast_to(tx, batch + tx.shape[-2:])
    rx = np.broadcast_to(rx, batch + rx.shape[-2:])
    target = np.broadcast_to(target, batch + (2,))
    snr = pair_snr(tx, rx, target, params, beamformer, tx_array_axis)
    j = 8.0 * math.pi**2 * params.n_rx_antennas * params.eff_bandwidth**2 * snr
    axis = np.broadcast_to(np.asarray(rx_array_axis, dtype=float), rx.shape[:-1]).copy()
    du = None
    if aoa:
        ju = dircos_information(snr.sum(axis=-2), params.n_rx_antennas, element_spacing)
        with np.errstate(divide="ignore"):
            du = ju**-0.5  # inf for M_r = 1: the measurement carries nothing
    return Scene(tx, rx, target, SPEED_OF_LIGHT / np.sqrt(j), du, axis)


def noiseless(scene: Scene) -> Measurements:
    """The noise-free measurements of a scene."""
    r = bistatic_ranges(scene.tx, scene.rx, scene.target)
    u = None if scene.dircos_std is None else direction_cosines(scene.rx, scene.target, scene.rx_axis)
    return Measurements(r, u)


def simulate(rng: np.random.Generator, scene: Scene) -> Measurements:
    """One noisy draw of every layout's measurements (independent Gaussian noise)."""
    m = noiseless(scene)
    r = m.range_sum + scene.range_std * rng.standard_normal(m.range_sum.shape)
    u = None
    if scene.dircos_std is not None:
        z = rng.standard_normal(m.dircos.shape)
        u = m.dircos + np.where(np.isfinite(scene.dircos_std), scene.dircos_std * z, 0.0)
    return Measurements(r, u)
