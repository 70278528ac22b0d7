"""Transmit beams: the ULA steering vector and the TX beam gain toward a target (Song eqs. 2, 5-6).

Used by the per-layout Fisher information (:mod:`isacnet.sensing`, which re-exports these names),
the localisation model and the ZF rate kernel.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from .params import ParameterError

__all__ = ["BeamSpec", "steering_vector", "tx_beam_gain"]


def steering_vector(direction_cosine: np.ndarray, n_antennas: int) -> np.ndarray:
    """Half-wavelength ULA response a_m = exp(-j pi m u), m = 0..M-1 (Song eqs. 5-6).

    ``u`` is the cosine of the angle between the array axis and the direction of interest
    (= sin of the angle from broadside). Shape: ``direction_cosine.shape + (M,)``.
    """
    m = np.arange(n_antennas)
    return np.exp(-1j * math.pi * np.asarray(direction_cosine)[..., None] * m)


BeamSpec = Literal["matched", "full-gain"] | np.ndarray


def tx_beam_gain(
    tx: np.ndarray,
    target: np.ndarray,
    n_antennas: int,
    beamformer: BeamSpec = "matched",
    array_axis: np.ndarray | float = 0.0,
) -> np.ndarray:
    """|a^H(theta_k) w_k|^2, the TX beam gain toward the target (the factor in alpha_kl, eq. 2).

    Parameters
    ----------
    tx : ndarray, shape (..., N_t, 2)
        TX positions [m].
    target : ndarray, shape (..., 2)
        Target position [m].
    n_antennas : int
        M_t.
    beamformer : "matched", "full-gain", or complex ndarray of shape (..., N_t, M_t)
        "matched": w_k = a(theta_k)/sqrt(M_t), gain exactly M_t. "full-gain": the bound of the
        Cauchy-Schwarz step (21), also M_t. An array: explicit unit-norm beamformers; the gain
        then depends on the geometry through the steering vector.
    array_axis : float or ndarray broadcastable to (..., N_t)
        Orientation of each TX's ULA axis [rad from the x axis] (explicit beamformers only).

    Returns
    -------
    g : ndarray, shape (..., N_t)
    """
    tx = np.asarray(tx, dtype=float)
    shape = tx.shape[:-1]
    if isinstance(beamformer, str):
        if beamformer not in ("matched", "full-gain"):
            raise ParameterError("beamformer", beamformer, "'matched', 'full-gain' or an array")
        return np.full(shape, float(n_antennas))
    wv = np.asarray(beamformer)
    if wv.shape[-1] != n_antennas:
        raise ParameterError(
            "beamformer", f"array of shape {wv.shape}", f"an array whose last axis is M_t = {n_antennas}"
        )
    norms = np.linalg.norm(wv, axis=-1)
    if not np.allclose(norms, 1.0, rtol=1e-6):
        raise ParameterError("beamformer", "array with norms != 1", "unit-norm vectors (||w_k|| = 1)")
    d = np.asarray(target, dtype=float)[..., None, :] - tx  # TX -> target
    dist = np.linalg.norm(d, axis=-1)
    ax = np.asarray(array_axis, dtype=float)
    ucos = (d[..., 0] * np.cos(ax) + d[..., 1] * np.sin(ax)) / dist
    a = steering_vector(ucos, n_antennas)
    return np.abs(np.einsum("...m,...m->...", a.conj(), wv)) ** 2
