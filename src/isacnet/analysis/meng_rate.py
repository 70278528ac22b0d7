"""CoMP rate of Meng & Masouros (meng-masouros-cooperative-isac.md), Section IV: Lemma 2,
Theorem 2 and their proofs (Appendices D, E), with the corrections of docs/errata (M-17 on).

Model (Section II-C). Typical user at the origin, BSs a PPP of density lambda_b, ranked by
distance d_1 < d_2 < ...; in arrival-time units T_k = pi lambda_b d_k^2 (a unit-rate Poisson
process). BS 1 (r = d_1) serves; BSs 2..L (r_L = d_L) are asked to cooperate and each accepts
independently with probability kappa_c. Dividing (8) by r^-alpha,

    SIR = X / Y,  X = g_1 + sum_{accepting i} g_i (T_1/T_i)^(alpha/2),
                  Y = sum_{declining i <= L} g_i (T_1/T_i)^(alpha/2) + sum_{i > L} g_i (T_1/T_i)^(alpha/2),

desired gains g ~ Gamma(M_t - 1, scale p^c), interference gains Gamma(1, 1) as in the paper
(``interference_shape="paper"``) or Gamma(1/v, scale v) with the variance v of the interferer's
gain g_j = p^c |h^H w^c|^2 + p^s |h^H w^s|^2 (mean 1): v = (p^c)^2 + (p^s)^2 if the two terms are
independent Exp(1) (orthogonal beams, ``"matched"``), v = 1 - 2 p^c p^s (1 - 1/M_t) for the ZF
beams of (2), whose normalised columns have |<w^c, w^s>|^2 ~ Beta(1, M_t - 1) (``"zf-matched"``;
errata M-20). Both are two-moment matches; the paper's Gamma(1, 1) matches the mean only.

Laplace exponents (Appendix D, derived again; delta = 2/alpha, eta = r/r_L, B(u; a, b) the lower
incomplete Beta function int_0^u t^(a-1) (1-t)^(b-1) dt). A PPP of density lambda on the annulus
r < |x| < r_L whose points carry i.i.d. gains with Laplace transform (1 + x)^-K contributes, by
the PGFL and s = |x|^2/r^2,

    exp(-pi lambda r^2 H1),  H1(x, K, alpha, eta) = int_1^(eta^-2) (1 - (1 + x s^(-alpha/2))^-K) ds
      = eta^-2 (1 - (1 + x eta^alpha)^-K) + (1 + x)^-K - 1
        + K x^delta [B(x/(1+x); 1-delta, K+delta) - B(x eta^alpha/(1 + x eta^alpha); 1-delta, K+delta)]

(substitute y = x s^(-alpha/2), integrate by parts, then t = y/(1+y)), and beyond r_L

    H2(x, alpha, eta) = int_(eta^-2)^inf (1 - (1 + x s^(-alpha/2))^-1) ds
      = x^delta B(x eta^alpha/(1 + x eta^alpha); 1-delta, 1+delta) + eta^-2 ((1 + x eta^alpha)^-1 - 1).

Both are as printed in Lemma 2 once B's garbled "t^b(-1)" is read t^(b-1) (errata M-17).

Three ways to average (``variant`` of :func:`rate`):

* ``"exact"``: the model above, no approximation. Given (T_1, T_L), BSs 2..L-1 are L - 2 i.i.d.
  points uniform in arrival time on (T_1, T_L) (uniform in area in the ring), BS L sits on the
  outer circle, and the BSs beyond form a PPP (so (21) is exact). With the
  log identity E[log(1 + X/Y)] = int_0^inf (E e^(-zY) - E e^(-z(X+Y))) dz/z, which needs no
  independence of X and Y (the printed (17) does: errata M-19), and with eta^2 = T_1/T_L ~
  Beta(1, L-1) independent of T_L ~ Gamma(L) (so E[exp(-T_1 c) | eta] = (1 + eta^2 c)^-L):

      R = int_0^inf dz/z int_0^1 f_eta(eta) (1 + eta^2 h2)^-L
            [A_Y^(L-2) B_Y - (1 + p^c z)^(1-M_t) A_S^(L-2) B_S] d eta,

      m_I = H1(z, 1, alpha, eta)/(eta^-2 - 1),  m_D = H1(p^c z, M_t-1, alpha, eta)/(eta^-2 - 1)
      (the mean over one uniform ring BS of 1 - its Laplace transform), h2 = H2(z, alpha, eta),
      A_Y = 1 - (1-kappa) m_I,  A_S = 1 - kappa m_D - (1-kappa) m_I,
      B_Y = kappa + (1-kappa) (1 + z eta^alpha)^-1,
      B_S = kappa (1 + p^c z eta^alpha)^(1-M_t) + (1-kappa) (1 + z eta^alpha)^-1.

* ``"pgfl"``: Lemma 2 as printed (the ring treated as a PPP given r and r_L, so U and I1 are
  independent), averaged over the true joint law of (r, r_L):
  R = int int f_eta/z [(1 + eta^2 c_Y)^-L - (1 + p^c z)^(1-M_t) (1 + eta^2 c_S)^-L],
  c_Y = (1-kappa) H1(z, 1, alpha, eta) + H2(z, alpha, eta), c_S = c_Y + kappa H1(p^c z, M_t-1, alpha, eta).
* ``"paper"``: Theorem 2 as printed: 1/(1 + c) in place of (1 + eta^2 c)^-L, i.e. r ~ Rayleigh
  averaged as if independent of eta (errata M-18).

f_eta(eta) = 2 (L-1) eta (1 - eta^2)^(L-2) is (29), right for L >= 2. L = 1 (no ring; (29) is
then identically 0 and the printed Theorem 2 gives 0): all three variants are
R = int_0^inf (1 - (1 + p^c z)^(1-M_t)) / (z (1 + H2(z, alpha, 1))) dz.

Quadrature (:func:`rate`): eta through its CDF, s = 1 - (1 - eta^2)^(L-1) uniform on (0, 1),
tanh-sinh in s (the log(1/eta) growth of the inner integral as eta -> 0 and the algebraic end at
s -> 1 are endpoint singularities that tanh-sinh absorbs); for each eta node the trapezoid rule
in v = ln z on [v_lo, v_hi(eta)] with a fixed node count (the integrand is analytic in the strip
|Im v| < pi, so the trapezoid rule converges geometrically; v_hi grows like alpha ln(1/eta)
to cover the plateau z < eta^-alpha and the z^(-delta L) tail). The error estimate is the
difference to the same rules with every other node dropped in both directions.

All quantities are dimensionless; the rate is in nats/s/Hz (``unit="nats"``) or bits/s/Hz. Lemma 2
(H1, H2, the Laplace transforms, the argument checks) is in :mod:`isacnet.analysis.meng_laplace`.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from ..params import MengParams, ParameterError
from ._quadrature import _check_order, _tanh_sinh, _trap_weights  # noqa: F401 (old import path)
from .meng_laplace import (  # noqa: F401 (their old import path: isacnet.analysis.meng_rate.*)
    H1,
    H2,
    Model,
    Shape,
    Unit,
    Variant,
    _annulus_mean,
    _arr,
    _binc,
    _check_alpha,
    _check_kappa,
    _check_L,
    _check_params,
    _check_pc,
    _check_unit,
    _h_parts,
    _lemma2_args,
    _out,
    _reg_pair,
    _shape_params,
    annulus_mean,
    eta_pdf,
    incomplete_beta,
    laplace_I1,
    laplace_I2,
    laplace_U,
)
from .meng_rate_shared import rate_shared_groups as _rate_shared_groups
from .meng_sensing import kappa_c as _kappa_c

__all__ = [
    "incomplete_beta",
    "H1",
    "H2",
    "annulus_mean",
    "eta_pdf",
    "laplace_U",
    "laplace_I1",
    "laplace_I2",
    "rate_conditional",
    "rate",
]

ORDERS_1E6 = (33, 129)
"""(n_eta, n_z) of :func:`rate` for 1e-6 relative: worst 1.3e-7 against (81, 513) over alpha in
[2.5, 5], L in 1..40, p^c in [1e-3, 1] (tested), 40% of the default's nodes (issue 18)."""
SHARED_ALPHA_MAX = 20.0
"""Largest alpha of the shared rule: its nodes z = z' a^(-alpha/2) reach e^(31 alpha) (z' up to
e^(14 alpha), a down to 8e-16), within float64 up to alpha ~ 22; beyond, "auto" is pointwise."""
_TOL = 1e-13  # truncation target of the z range (absolute, per unit of rate)

# --------------------------------------------------------------------------- integrands


def _i_terms(z, eta, q, th, sh, alpha, ring):
    """The parts of :func:`_lt_terms` that depend neither on p^c nor on kappa (for the paper's
    interference shape): (H1_I, H2, m_I, e_I) at x_I = theta z; m_I, e_I None for "pgfl"."""
    xI = th * z
    h1I, h2 = _h_parts(xI, sh, alpha, eta)
    if ring == "pgfl":
        return h1I, h2, None, None
    mI = np.clip(_annulus_mean(xI, sh, alpha, eta, q, h1I), 0.0, 1.0)
    eI = np.exp(-sh * np.log1p(xI * eta**alpha))
    return h1I, h2, mI, eI


def _lt_terms(z, eta, q, L, pc, kap, th, sh, M, alpha, ring, iterms=None):
    """Conditional Laplace transforms at (z, eta): broadcasts.

    Returns (c_Y, c_S, P_Y, P_S) with E[e^(-zY) | T_1, T_L] = P_Y exp(-T_1 c_Y) and
    E[e^(-z(X+Y)) | T_1, T_L] = P_S exp(-T_1 c_S); P_Y, P_S do not depend on T_1 at fixed eta.
    ``ring="pgfl"``: Lemma 2 (c_Y = (1-kappa) H1_I + H2, c_S = c_Y + kappa H1_D, P_Y = 1,
    P_S = (1 + p^c z)^(1-M)). ``ring="exact"``: c_Y = c_S = H2 and the binomial ring factors
    P_Y = A_Y^(L-2) B_Y, P_S = (1 + p^c z)^(1-M) A_S^(L-2) B_S (module docstring). At L = 1
    (eta = 1, no ring) both reduce to c = H2(., alpha, 1), P_Y = 1, P_S = (1 + p^c z)^(1-M).
    ``iterms``: :func:`_i_terms` at these (z, eta), computed once for many p^c (issue 18).
    """
    K = M - 1.0
    xD = pc * z
    h1I, h2, mI, eI = _i_terms(z, eta, q, th, sh, alpha, ring) if iterms is None else iterms
    D = np.exp(-K * np.log1p(xD))
    h1D = _h_parts(xD, K, alpha, eta)[0]
    if ring == "pgfl":
        cY = (1.0 - kap) * h1I + h2
        return cY, cY + kap * h1D, np.ones_like(D), D
    mD = np.clip(_annulus_mean(xD, K, alpha, eta, q, h1D), 0.0, 1.0)
    AY = 1.0 - (1.0 - kap) * mI
    AS = np.clip(1.0 - kap * mD - (1.0 - kap) * mI, 0.0, 1.0)
    ea = eta**alpha
    eD = np.exp(-K * np.log1p(xD * ea))
    n = np.maximum(L - 2.0, 0.0)
    PY = AY**n * (kap + (1.0 - kap) * eI)
    PS = D * AS**n * (kap * eD + (1.0 - kap) * eI)
    one = L == 1
    return h2, h2, np.where(one, 1.0, PY), np.where(one, D, PS)


def _F_avg(z, eta, q, L, pc, kap, th, sh, M, alpha, variant, iterms=None):
    """z times the integrand of R given eta, averaged over T_L ~ Gamma(L) (T_1 = eta^2 T_L):
    E[e^(-zY) | eta] - E[e^(-z(X+Y)) | eta]. "paper" averages T_1 ~ Exp(1) independently of eta."""
    ring = "exact" if variant == "exact" else "pgfl"
    cY, cS, PY, PS = _lt_terms(z, eta, q, L, pc, kap, th, sh, M, alpha, ring, iterms)
    if variant == "paper":
        return PY / (1.0 + cY) - PS / (1.0 + cS)
    e2 = eta**2
    return PY * np.exp(-L * np.log1p(e2 * cY)) - PS * np.exp(-L * np.log1p(e2 * cS))


def _F_cond(z, t1, eta, q, L, pc, kap, th, sh, M, alpha, model):
    """E[e^(-zY) | T_1, T_L] - E[e^(-z(X+Y)) | T_1, T_L]."""
    cY, cS, PY, PS = _lt_terms(z, eta, q, L, pc, kap, th, sh, M, alpha, model)
    return PY * np.exp(-t1 * cY) - PS * np.exp(-t1 * cS)


# --------------------------------------------------------------------------- quadrature rules


def _tail_constants(alpha, th, sh):
    """c_B with H2(theta z, alpha, eta, k) ~ c_B z^delta - eta^-2 as z -> inf."""
    d = 2.0 / alpha
    return sh * th**d * special.beta(1.0 - d, sh + d)


_V_MAX = 700.0
"""Largest ln z of the z quadrature: e^700 ~ 1e304 is the most a float64 z can be."""


def _inner_z(F, v_lo, v_hi, n_z):
    """Trapezoid rule in v = ln z on [v_lo, v_hi] (shape (B, S)), n_z nodes: fine and coarse
    (every other node) values of int F(e^v) dv, shape (B, S) each."""
    tau = np.linspace(0.0, 1.0, n_z)
    v = v_lo[..., None] + (v_hi - v_lo)[..., None] * tau
    f = F(np.exp(v))
    h = (v_hi - v_lo) / (n_z - 1)
    fine = h * (f @ _trap_weights(n_z))
    coarse = 2.0 * h * (f[..., ::2] @ _trap_weights((n_z + 1) // 2))
    return fine, coarse


def _rate_rows(L, pc, kap, th, sh, M, alpha, variant, n_eta, n_z):
    """Fine and coarse rule values [nats] for 1-D row arrays, all L == 1 or all L >= 2."""
    d = 2.0 / alpha
    cB = _tail_constants(alpha, th, sh)
    Lf = L.astype(float)
    Lp = np.ones_like(Lf) if variant == "paper" else Lf
    if np.all(L == 1):
        eta, q, ws = np.ones((L.size, 1)), np.zeros((L.size, 1)), np.ones(1)
        ws_c = ws
    else:
        _, log1ms, ws = _tanh_sinh(n_eta)
        one_m_u = np.exp(log1ms / (Lf - 1.0)[:, None])  # 1 - eta^2 = (1 - s)^(1/(L-1))
        u = -np.expm1(log1ms / (Lf - 1.0)[:, None])
        eta, q = np.sqrt(u), one_m_u / u
        ws_c = np.zeros_like(ws)
        ws_c[::2] = 2.0 * ws[::2]
    # z range: below, z E[X] <= z (M-1) p^c L < tol; above, the integrand is at most
    # (1 + eta^2 H2)^-L' ~ (eta^2 c_B z^delta)^-L' whose tail integral is below tol.
    v_lo = np.broadcast_to(np.log(_TOL / ((M - 1.0) * Lf))[:, None], eta.shape)
    with np.errstate(all="ignore"):  # checked just below
        tail = np.log(1.0 / (_TOL * d * Lp)) / (d * Lp) - np.log(cB) / d
        v_hi = np.maximum(alpha * np.log(1.0 / eta) + tail[:, None], v_lo + 1.0)
    if not np.all(np.isfinite(v_hi) & (v_hi < _V_MAX)):
        # the z range the integrand needs reaches beyond float64 (z = e^v): refuse, never truncate
        raise ParameterError(
            "alpha",
            alpha,
            f"a path-loss exponent for which Theorem 2's z integral fits in "
            f"float64 (it needs z up to e^{float(np.nanmax(v_hi)):.4g}; "
            f"with L = {int(np.max(L))}, smaller alpha or L)",
        )
    col = (slice(None), None, None)
    # rows with the same (L, theta, k) share their nodes and the p^c-free terms (issue 18)
    th, sh = np.broadcast_to(th, Lf.shape), np.broadcast_to(sh, Lf.shape)
    _, first, inv = np.unique(np.stack([Lf, th, sh]), axis=1, return_index=True, return_inverse=True)
    inv = np.ravel(inv)
    ring = "exact" if variant == "exact" else "pgfl"

    def F(z):
        f = first
        it = _i_terms(z[f], eta[f][..., None], q[f][..., None], th[f][col], sh[f][col], alpha, ring)
        it = tuple(None if a is None else a[inv] for a in it)
        return _F_avg(
            z, eta[..., None], q[..., None], Lf[col], pc[col], kap[col], th[col], sh[col], M, alpha, variant, it
        )

    inner_f, inner_c = _inner_z(F, v_lo, v_hi, n_z)
    return inner_f @ ws, inner_c @ ws_c


def rate(
    L,
    params: MengParams,
    *,
    kappa_c=None,
    p_c=None,
    variant: Variant = "exact",
    unit: Unit = "bits",
    interference_shape: Shape = "paper",
    return_error: bool = False,
    method: str = "auto",
    n_eta: int = 41,
    n_z: int = 257,
):
    """Average CoMP rate R_c = E[log(1 + SIR_c)], (9), Theorem 2 (interference-limited).

    Parameters
    ----------
    L : array_like of int
        Cluster size (>= 1): BS 1 serves, BSs 2..L are asked.
    params : MengParams
        Uses n_tx_antennas (M_t), alpha, sensing_power_fraction (p^c = 1 - p^s) and, for the
        default kappa_c, resource_blocks (psi) and mu_c = lambda_u/lambda_b. lambda_b itself does
        not enter (the SIR is scale-free).
    kappa_c : array_like, optional
        Acceptance probability in [0, 1] (default :func:`isacnet.meng.kappa_c` (psi, mu_c, L),
        "derived"). Broadcast with L and p_c.
    p_c : array_like, optional
        Communication power share in [0, 1], overriding ``params`` (vectorised sweeps).
    variant : {"exact", "pgfl", "paper"}
        "exact": the model of Section II-C without approximation (binomial ring, true joint law
        of r and r_L). "pgfl": Lemma 2's PPP ring with the true joint law. "paper": Theorem 2 as
        printed (r treated as independent of eta_L), with its L = 1 limit added (errata M-18).
        See the module docstring.
    unit : {"bits", "nats"}
        bits/s/Hz (log2) or nats/s/Hz (ln).
    interference_shape : {"paper", "matched", "zf-matched"}
        Interference gains Gamma(1, 1) (paper) or Gamma(1/v, v) with v = (p^c)^2 + (p^s)^2
        ("matched") or v = 1 - 2 p^c p^s (1 - 1/M_t) ("zf-matched"); module docstring, errata M-20.
    return_error : bool
        Also return an error estimate: |rule - rule with every other node dropped| (in ``unit``),
        a pessimistic bound on the error of the returned value (typically 1e-8 against a true
        error of 1e-13).
    method : {"auto", "shared", "pointwise"}
        "shared": one node set for every L and p^c (:mod:`isacnet.analysis.meng_rate_shared`;
        "exact" variant only; ~30x faster on a 40 x 10 sweep, within 2e-8 relative of the pointwise rule
        at (81, 513)). "pointwise": nodes fitted to each L (any variant). "auto" (default):
        "shared" for the "exact" variant with alpha <= ``SHARED_ALPHA_MAX`` = 20.
    n_eta, n_z : int
        Nodes of the tanh-sinh rule in eta (4k + 1) and of the trapezoid rule in ln z (2k + 1).
        The shared rule uses 3 (n_eta - 1)/2 + 1 tanh-sinh nodes in eta^2 and the step
        120 / (max(n_z, 257) - 1) in ln z' (a cheaper n_z does not coarsen it: its error would
        grow to 1e-5).

    Returns
    -------
    rate : ndarray or float
        Shape ``broadcast(L, p_c, kappa_c)``.
    error : ndarray or float
        Only with ``return_error``.

    Raises
    ------
    ParameterError
        L < 1, kappa_c or p_c outside [0, 1], unknown variant, unit or interference shape.
    FloatingPointError
        If the quadrature produced a non-finite value.
    """
    params = _check_params(params)
    if variant not in ("exact", "pgfl", "paper"):
        raise ParameterError("variant", variant, "'exact', 'pgfl' or 'paper'")
    scale = _check_unit(unit)
    n_eta = _check_order(n_eta, "n_eta", 4)
    n_z = _check_order(n_z, "n_z", 2)
    Lv = _check_L(L)
    pc = _check_pc(params.comm_power_fraction if p_c is None else p_c)
    if kappa_c is None:
        kappa_c = _kappa_c(params.resource_blocks, params.mu_c, Lv)
    kap = _check_kappa(kappa_c)
    th, sh = _shape_params(interference_shape, pc, params.n_tx_antennas)
    Lb, pcb, kb, thb, shb = np.broadcast_arrays(Lv, pc, kap, th, sh)
    shape = Lb.shape
    Lf, pcf, kf, thf, shf = (np.ravel(a) for a in (Lb, pcb, kb, thb, shb))
    M, alpha = float(params.n_tx_antennas), float(params.alpha)
    if method not in ("auto", "shared", "pointwise"):
        raise ParameterError("method", method, "'auto', 'shared' or 'pointwise'")
    if method == "shared" and (variant != "exact" or alpha > SHARED_ALPHA_MAX):
        raise ParameterError("method", method, "'auto' or 'pointwise' for the 'paper' and 'pgfl' variants and "
                             f"alpha > {SHARED_ALPHA_MAX:g} (the shared rule is for the 'exact' variant, and its "
                             "z' grid times eta^-alpha must fit in float64)")
    if variant == "exact" and method != "pointwise" and alpha <= SHARED_ALPHA_MAX:
        fine, coarse = _rate_shared_groups(Lf, pcf, kf, thf, shf, M, alpha, n_eta, n_z)
    else:
        fine, coarse = _rate_pointwise(Lf, pcf, kf, thf, shf, M, alpha, variant, n_eta, n_z)
    if not (np.all(np.isfinite(fine)) and np.all(np.isfinite(coarse))):
        raise FloatingPointError(f"Theorem 2 quadrature gave a non-finite value (L={L}, p_c={p_c}, kappa_c={kappa_c})")
    val = _out((fine * scale).reshape(shape))
    if return_error:
        return val, _out((np.abs(fine - coarse) * scale).reshape(shape))
    return val


def _rate_pointwise(Lf, pcf, kf, thf, shf, M, alpha, variant, n_eta, n_z):
    fine = np.empty(Lf.size)
    coarse = np.empty(Lf.size)
    block = max(1, 120_000 // (n_eta * n_z))
    for sel in (np.flatnonzero(Lf == 1), np.flatnonzero(Lf >= 2)):
        for i in range(0, sel.size, block):
            j = sel[i : i + block]
            fine[j], coarse[j] = _rate_rows(Lf[j], pcf[j], kf[j], thf[j], shf[j], M, alpha, variant, n_eta, n_z)
    return fine, coarse


def _ring_nodes(given_r: bool, n_s: int, Lf, t1, rb, rLb):
    """q = eta^-2 - 1, eta, the L = 1 mask and the weights (fine, coarse) of the average over
    r_L: given r only (``given_r``), pi lambda (r_L^2 - r^2) = S ~ Gamma(L - 1), independent of r,
    by tanh-sinh over its CDF; given both distances, one node."""
    if given_r:
        s, log1ms, ws = _tanh_sinh(n_s)
        a = np.maximum(Lf - 1.0, 1.0)[:, None]
        S = np.where(s <= 0.5, special.gammaincinv(a, s), special.gammainccinv(a, np.exp(log1ms)))
        q = S / t1  # eta^-2 - 1
        ws_c = np.zeros_like(ws)
        ws_c[::2] = 2.0 * ws[::2]
    else:
        eb = (rb / rLb).ravel()[:, None]
        q = -np.expm1(2.0 * np.log(eb)) / eb**2
        ws = ws_c = np.ones(1)
    one = (Lf == 1)[:, None]
    q = np.where(one, 0.0, q)
    eta = np.where(one, 1.0, 1.0 / np.sqrt(1.0 + q))
    return q, eta, one, ws, ws_c


def rate_conditional(
    r,
    r_L,
    L,
    params: MengParams,
    *,
    kappa_c=None,
    p_c=None,
    model: Model = "exact",
    unit: Unit = "bits",
    interference_shape: Shape = "paper",
    return_error: bool = False,
    n_z: int = 257,
    n_s: int = 41,
):
    """E[log(1 + SIR_c) | d_1 = r, d_L = r_L], (18) with the Laplace transforms of Lemma 2.

    (19)-(21) depend on r and on eta = r/r_L, so Lemma 2 is conditional on both distances and so
    is this function. (18) is printed "given r" only; that conditional law is obtained with
    ``r_L=None``: the average over r_L given r, where pi lambda_b (r_L^2 - r^2) ~ Gamma(L - 1)
    independently of r (tanh-sinh over its CDF). Averaging over the joint law of (r, r_L) gives
    :func:`rate` (variant = ``model``).

    Parameters
    ----------
    r, r_L : array_like
        Distances [m] to the nearest and to the L-th nearest BS, r_L >= r for L >= 2; for L = 1,
        r_L must be None or equal to r. Broadcast with L, kappa_c, p_c.
    L, params, kappa_c, p_c, unit, interference_shape, return_error
        As in :func:`rate`.
    model : {"exact", "pgfl"}
        "exact": given r and r_L the L - 2 BSs in between are i.i.d. uniform in area and BS L is
        on the circle |d| = r_L. "pgfl": the ring as a PPP of density lambda_b, Lemma 2's model.
    n_z, n_s : int
        Trapezoid nodes in ln z (2k + 1); tanh-sinh nodes over r_L given r (4k + 1).

    Returns
    -------
    ndarray or float (and the error estimate with ``return_error``)
    """
    params = _check_params(params)
    if model not in ("exact", "pgfl"):
        raise ParameterError("model", model, "'exact' or 'pgfl'")
    scale = _check_unit(unit)
    n_z = _check_order(n_z, "n_z", 2)
    n_s = _check_order(n_s, "n_s", 4)
    Lv = _check_L(L)
    rr = _arr(r, "r", "> 0 [m]", lambda t: t > 0)
    given_r = r_L is None
    rL = rr if given_r else _arr(r_L, "r_L", "> 0 [m]", lambda t: t > 0)
    pc = _check_pc(params.comm_power_fraction if p_c is None else p_c)
    if kappa_c is None:
        kappa_c = _kappa_c(params.resource_blocks, params.mu_c, Lv)
    kap = _check_kappa(kappa_c)
    th, sh = _shape_params(interference_shape, pc, params.n_tx_antennas)
    Lb, rb, rLb, pcb, kb, thb, shb = np.broadcast_arrays(Lv, rr, rL, pc, kap, th, sh)
    if not given_r:
        bad = np.where(Lb == 1, rLb != rb, rLb < rb)
        if np.any(bad):
            raise ParameterError("r_L", r_L, ">= r for L >= 2 (d_L >= d_1), and None or = r for L = 1")
    elif np.all(Lb == 1):
        given_r, rLb = False, rb  # nothing to average: the ring is empty
    shape = Lb.shape
    M, alpha = float(params.n_tx_antennas), float(params.alpha)
    d = 2.0 / alpha
    t1 = (math.pi * params.bs_density * rb**2).ravel()[:, None]
    Lf, pcf, kf, thf, shf = (np.ravel(a).astype(float) for a in (Lb, pcb, kb, thb, shb))
    cB = _tail_constants(alpha, thf, shf)
    q, eta, one, ws, ws_c = _ring_nodes(given_r, n_s, Lf, t1, rb, rLb)
    # z range: below, z E[X] < tol; above, exp(-t1 H2) < e^-40 (H2 >= c_B z^delta - eta^-2 roughly)
    v_lo = np.broadcast_to(np.log(_TOL / ((M - 1.0) * Lf))[:, None], q.shape)
    v_hi = np.maximum(np.log((40.0 / t1 + eta**-2) / cB[:, None]) / d, v_lo + 1.0)
    col = (slice(None), None, None)

    def F(z):
        return _F_cond(z, t1[..., None], eta[..., None], q[..., None], Lf[col], pcf[col], kf[col], thf[col],
                       shf[col], M, alpha, model)

    fine_i, coarse_i = _inner_z(F, v_lo, v_hi, n_z)
    if given_r:
        fine = np.where(one[:, 0], fine_i[:, 0], fine_i @ ws)
        coarse = np.where(one[:, 0], coarse_i[:, 0], coarse_i @ ws_c)
    else:
        fine, coarse = fine_i[:, 0], coarse_i[:, 0]
    if not (np.all(np.isfinite(fine)) and np.all(np.isfinite(coarse))):
        raise FloatingPointError("conditional rate quadrature gave a non-finite value")
    val = _out((fine * scale).reshape(shape))
    if return_error:
        return val, _out((np.abs(fine - coarse) * scale).reshape(shape))
    return val
