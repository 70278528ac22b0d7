"""Per-layout SINR of CoMP joint transmission (Meng & Masouros eq. (8) and the JT models of
Nigam, Minero and Haenggi 2014), batched over layouts; pure numpy, no random numbers drawn here.

Every function takes a leading batch axis of n layouts. Path gains are in arrival-time units:
a BS at arrival time T_k = pi lambda_b d_k^2 has path gain w_k = T_k^(-alpha/2); the common factor
(pi lambda_b)^(alpha/2) is carried by the normalised noise nu (:func:`isacnet.analysis.coverage.
noise_level`).

Joint-transmission models, for the served set S (BS 1 and the cooperating BSs that accepted),
desired power gain g_i of BS i (after its precoder; Gamma(M_t - 1, p^c) for the ZF beams of (2)),
and phases phi_i:

* ``"power-sum"`` (eq. (8)): S = sum_i g_i w_i. The received powers add as if the BSs' signals
  were uncorrelated: the phase average of the non-coherent sum.
* ``"noncoherent"`` (Nigam et al.): S = |sum_i sqrt(g_i w_i) e^(j phi_i)|^2 with i.i.d. uniform
  phases (the BSs send the same symbol without phase alignment). For M_t = 2 (g_i ~ Exp(p^c))
  the amplitudes are circular Gaussian and S ~ Exp(p^c sum_i w_i) given the layout: no
  diversity.
* ``"coherent"``: S = (sum_i sqrt(g_i w_i))^2 (phases aligned at the user).

The zero-forcing precoder of (2) built by BS i from the typical user's channel h_i gives the
effective scalar channel h_i^H w_i = ||P_a^perp h_i||, real and positive: with a common symbol and
no further phase offset the transmission is *coherent*; "noncoherent" is that precoder plus an
unknown per-BS phase (no inter-BS synchronisation); "power-sum" is the mean over those phases.
"""

from __future__ import annotations

import numpy as np

from .params import ParameterError

__all__ = ["JT_MODELS", "path_gains", "served_signal", "sinr", "success_nc", "success_single"]

JT_MODELS = ("power-sum", "noncoherent", "coherent")


def path_gains(arrivals: np.ndarray, alpha: float) -> np.ndarray:
    """w = T^(-alpha/2) of arrival times T (any shape, > 0)."""
    return np.asarray(arrivals, dtype=float) ** (-0.5 * alpha)


def served_signal(w: np.ndarray, g: np.ndarray, served: np.ndarray, jt: str, phases: np.ndarray | None = None):
    """Desired received power of each layout under the joint-transmission model ``jt``.

    Parameters
    ----------
    w : ndarray, shape (n, L)
        Path gains of BSs 1..L (arrival-time units).
    g : ndarray, shape (n, L)
        Desired power gains (>= 0) of BSs 1..L after their precoders.
    served : ndarray of bool, shape (n, L)
        Whether BS k transmits to the typical user (column 0, the nearest BS, is always True in
        the paper's model).
    jt : {"power-sum", "noncoherent", "coherent"}
    phases : ndarray, shape (n, L), optional
        Phases [rad] of the "noncoherent" model (required there, ignored otherwise).

    Returns
    -------
    ndarray, shape (n,)
        Desired power S (units of the path gains times the gains).
    """
    p = np.where(served, g * w, 0.0)
    if jt == "power-sum":
        return p.sum(axis=1)
    amp = np.sqrt(p)
    if jt == "coherent":
        return amp.sum(axis=1) ** 2
    if jt == "noncoherent":
        if phases is None:
            raise ParameterError("phases", None, "an (n, L) array of phases for jt='noncoherent'")
        re = (amp * np.cos(phases)).sum(axis=1)
        im = (amp * np.sin(phases)).sum(axis=1)
        return re * re + im * im
    raise ParameterError("jt", jt, f"one of {JT_MODELS}")


def sinr(signal: np.ndarray, interference: np.ndarray, nu: float = 0.0) -> np.ndarray:
    """SINR = S / (I + nu), shape of the broadcast inputs; nu = 0 is the SIR of eq. (8)."""
    return signal / (interference + nu)


def success_nc(theta, w_served_sum: np.ndarray, w_int: np.ndarray, pc: float, nu: float = 0.0, tail=None):
    """P(SINR > theta | layout) averaged over Rayleigh fading, non-coherent JT with circular
    Gaussian amplitudes (M_t = 2) or L = 1 with an exponential desired gain: S ~ Exp(p^c mu),
    mu = sum_served w_i, and interferers of gain Exp(1):

        P_s = exp(-theta nu / (p^c mu)) prod_j 1 / (1 + theta w_j / (p^c mu)) [* tail factor].

    Parameters
    ----------
    theta : array_like, shape (k,)
        Linear thresholds.
    w_served_sum : ndarray, shape (n,)
        mu per layout.
    w_int : ndarray, shape (n, J)
        Path gains of the interferers sampled exactly (zeros allowed: factor 1).
    pc : float
        p^c > 0.
    nu : float
        Normalised noise.
    tail : callable, optional
        tail(s) -> (n, k) Laplace transform of the interference not in ``w_int`` at s = theta /
        (p^c mu) (shape (n, k)).

    Returns
    -------
    ndarray, shape (n, k)
    """
    th = np.atleast_1d(np.asarray(theta, dtype=float))
    s = th[None, :] / (pc * w_served_sum[:, None])  # (n, k)
    logp = -s * nu - np.log1p(s[:, :, None] * w_int[:, None, :]).sum(axis=2)
    out = np.exp(logp)
    if tail is not None:
        out = out * tail(s)
    return out


def success_single(theta, w1: np.ndarray, w_int: np.ndarray, k: int, scale: float, nu: float = 0.0, tail_log=None):
    """P(g w_1 > theta (I + nu) | layout), g ~ Gamma(k, scale) with integer k, Exp(1) interferers.

    P(g > x) = e^(-x/scale) sum_{n<k} (x/scale)^n / n!, x = theta (I + nu)/w_1, so with s = theta /
    (scale w_1) P_s = sum_{n<k} (-s)^n / n! d^n/ds^n [e^(-s nu) prod_j (1 + s w_j)^-1 Lt(s)], the
    derivatives of f = log L by f^(n) = -nu [n = 1] - sum_j (-1)^(n-1) (n-1)! w_j^n / (1 + s w_j)^n
    (+ the tail's) and L^(n) = sum_{i<n} C(n-1, i) f^(n-i) L^(i).

    ``tail_log`` (optional): tail_log(s, n) -> the n-th derivative of the log Laplace transform of
    the interference not in ``w_int`` (n = 0: the log itself), shapes (n_layouts, k).

    Returns
    -------
    ndarray, shape (n_layouts, len(theta))
    """
    from math import comb, factorial

    th = np.atleast_1d(np.asarray(theta, dtype=float))
    s = th[None, :] / (scale * w1[:, None])
    sw = s[:, :, None] * w_int[:, None, :]
    f = [-s * nu - np.log1p(sw).sum(axis=2)]
    if tail_log is not None:
        f[0] = f[0] + tail_log(s, 0)
    for n in range(1, k):
        fn = -((-1.0) ** (n - 1)) * factorial(n - 1) * (w_int[:, None, :] ** n / (1.0 + sw) ** n).sum(axis=2)
        if n == 1:
            fn = fn - nu
        if tail_log is not None:
            fn = fn + tail_log(s, n)
        f.append(fn)
    L0 = np.exp(f[0])
    Ld = [L0]
    for n in range(1, k):
        Ld.append(sum(comb(n - 1, i) * f[n - i] * Ld[i] for i in range(n)))
    return sum(((-s) ** n / factorial(n)) * Ld[n] for n in range(k))


def tail_log_laplace(s: np.ndarray, t_k: np.ndarray, alpha: float, n: int = 0) -> np.ndarray:
    """n-th derivative in s of log E[exp(-s I_tail) | T_K] for the BSs beyond arrival time T_K
    (a unit-rate PPP, Exp(1) gains): log E = -T_K G(s T_K^(-alpha/2)), G(x) = int_1^inf (1 - 1/(1 +
    x u^(-alpha/2))) du; d^n/ds^n = -T_K c^n G^(n)(s c), c = T_K^(-alpha/2), with
    G^(n)(x) = (-1)^(n+1) n! delta/(n - delta) 2F1(n + 1, n - delta; n - delta + 1; -x) for n >= 1
    and G(x) = 1/(1 + x) - 1 + x/(1 - delta) 2F1(2, 1 - delta; 2 - delta; -x). s : (N, k), t_k : (N,)."""
    from math import factorial

    from scipy import special

    d = 2.0 / alpha
    c = (np.asarray(t_k, dtype=float) ** (-0.5 * alpha))[:, None]
    x = s * c
    tk = np.asarray(t_k, dtype=float)[:, None]
    if n == 0:
        g = 1.0 / (1.0 + x) - 1.0 + x / (1.0 - d) * special.hyp2f1(2.0, 1.0 - d, 2.0 - d, -x)
        return -tk * g
    gn = (-1.0) ** (n + 1) * factorial(n) * d / (n - d) * special.hyp2f1(n + 1.0, n - d, n - d + 1.0, -x)
    return -tk * c**n * gn
