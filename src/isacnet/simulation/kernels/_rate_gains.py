"""The per-BS gain models of the Meng rate kernel: interferer gain laws and zero-forcing gains.

``draw_interferer_gains`` draws the interferer gains of the "paper" model under each
``interference_shape``; the steering phase and the zero-forcing gains of eq. (2) serve the "zf"
and "full" models (the beam algebra without forming the steering vectors). Re-exported by
:mod:`isacnet.simulation.kernels.meng_rate`.
"""

from __future__ import annotations

import math

import numpy as np

from ...beams import steering_vector
from ...params import MengParams, ParameterError

SHAPES = ("exp", "matched", "sum", "zf-law")
"""The interferer gain laws of the "paper" model (``interference_shape``)."""


def steering_phase(theta: np.ndarray) -> np.ndarray:
    """z = exp(-j pi cos theta): the steering vector is a_m = z^m, m = 0..M_t-1 (:func:`steering`)."""
    c = math.pi * np.cos(theta)
    return np.cos(c) - 1j * np.sin(c)


def steering(theta: np.ndarray, m: int) -> np.ndarray:
    """a(theta) with a_m = exp(-j pi m cos theta), so that the sensing channel row a^H(theta) is
    [1, e^{j pi cos theta}, ..., e^{j pi (M_t-1) cos theta}] as printed below (4). Shape (..., m)."""
    return steering_vector(np.cos(np.asarray(theta)), m)


def _complex_normal(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """i.i.d. CN(0, 1) of ``shape``."""
    x = rng.standard_normal((*shape, 2))
    x *= math.sqrt(0.5)
    return x.view(np.complex128)[..., 0]  # (re, im) pairs, no copy


def _dot_steering(x: np.ndarray, z: np.ndarray) -> np.ndarray:
    """sum_m x_m z^m over the last axis of x (Horner), without forming the steering vectors."""
    acc = x[..., -1].copy()
    for k in range(x.shape[-1] - 2, -1, -1):
        acc *= z
        acc += x[..., k]
    return acc


def _sqnorm(x: np.ndarray) -> np.ndarray:
    return np.einsum("...m,...m->...", x.real, x.real) + np.einsum("...m,...m->...", x.imag, x.imag)


def zf_desired_gain(h: np.ndarray, z: np.ndarray, pc: float) -> np.ndarray:
    """p^c |h^H w^c|^2 when the BS builds (2) from h itself: p^c ||P_a^perp h||^2.

    h : (..., M) channels; z : (...) steering phases (a_m = z^m, ||a||^2 = M).
    """
    m = h.shape[-1]
    s_ah = _dot_steering(h, z.conj())  # a^H h = sum conj(z)^m h_m
    return pc * np.maximum(_sqnorm(h) - (s_ah.real**2 + s_ah.imag**2) / m, 0.0)


def zf_interference_gain(h: np.ndarray, u: np.ndarray, z: np.ndarray, pc: float, ps: float) -> np.ndarray:
    """p^c |h^H w^c|^2 + p^s |h^H w^s|^2, w the normalised columns of (2) built from (u, a(z)).

    With s_hu = h^H u, s_ha = h^H a, s_au = a^H u, |u|^2 and ||a||^2 = M:
    w^c ~ u - (s_au / M) a (norm^2 |u|^2 - |s_au|^2 / M), w^s ~ a - (conj(s_au) / |u|^2) u
    (norm^2 M - |s_au|^2 / |u|^2). h, u : (..., M); z : (...); result (...).
    """
    m = h.shape[-1]
    hc = h.conj()
    s_hu = np.einsum("...m,...m->...", hc, u)
    s_ha = _dot_steering(hc, z)
    s_au = _dot_steering(u, z.conj())
    nu = _sqnorm(u)
    q = s_au.real**2 + s_au.imag**2
    xc = s_hu - s_au * s_ha / m
    xs = s_ha - s_au.conj() * s_hu / nu
    gc = (xc.real**2 + xc.imag**2) / (nu - q / m)
    gs = (xs.real**2 + xs.imag**2) / (m - q / nu)
    return pc * gc + ps * gs


def draw_interferer_gains(
    rng: np.random.Generator, shape: tuple[int, ...], shape_name: str, params: MengParams
) -> np.ndarray:
    """Interferer gains (mean 1) of the law ``shape_name`` (one of SHAPES), array of ``shape``."""
    pc, ps = params.comm_power_fraction, params.sensing_power_fraction
    if shape_name == "exp":
        return rng.standard_exponential(shape)
    if shape_name == "matched":
        v = pc * pc + ps * ps  # in [1/2, 1]
        return rng.gamma(1.0 / v, v, shape)
    if shape_name == "sum":
        e = rng.standard_exponential((2, *shape))
        return pc * e[0] + ps * e[1]
    if shape_name == "zf-law":
        mt = params.n_tx_antennas
        t = rng.random(shape) ** (1.0 / (mt - 1))  # 1 - |rho|^2 ~ Beta(M_t - 1, 1)
        e = rng.standard_exponential((2, *shape))
        c = pc * ps * t
        nu1 = 0.5 * (1.0 + np.sqrt(np.maximum(1.0 - 4.0 * c, 0.0)))
        return nu1 * e[0] + (c / nu1) * e[1]  # nu1 nu2 = c, nu1 + nu2 = 1
    raise ParameterError("interference_shape", shape_name, f"one of {SHAPES}")
