"""Fused numba kernel for the Meng CoMP-rate Monte Carlo, model "paper" (``backend="numba"``).

Same outputs and same law of layouts as :class:`isacnet.simulation.kernels.meng_rate.MengRateKernel`
with ``model="paper"`` (see its ``draw`` / ``evaluate``), one pass per layout over scratch
arrays of length K (they stay in L1), in this order of draws:

1. arrival times T_k = pi lambda_b d_k^2 of the K nearest BSs: cumsum of K standard
   exponentials (float32: two per 64-bit output);
2. one acceptance coin per asked BS 2..L: BS k accepts iff U_k < kappa_c, U_k a 53-bit uniform
   (drawn for every kappa_c, 0 and 1 included);
3. interferer gains of BSs 2..K (drawn for every one of them; a BS that accepts uses its
   desired gain instead, which changes no law: the draws are independent), by
   ``interference_shape``:

   * ``"exp"``     E ~ Exp(1);
   * ``"sum"``     p^c E_1 + p^s E_2;
   * ``"zf-law"``  nu_1 E_1 + (c / nu_1) E_2, c = p^c p^s t, nu_1 = (1 + sqrt(1 - 4 c)) / 2,
                   t ~ Beta(M_t - 1, 1), P(t <= x) = x^(M_t - 1): for M_t - 1 <= 4 the largest
                   of M_t - 1 uniforms (P(max <= x) = x^(M_t - 1)), else t = exp(-E_3 / (M_t - 1))
                   (P(t <= x) = P(E_3 >= -(M_t - 1) ln x) = x^(M_t - 1));
   * ``"matched"`` v G, G ~ Gamma(1/v) with v = (p^c)^2 + (p^s)^2 in [1/2, 1]: Marsaglia-Tsang
                   (below) with a ziggurat standard normal; v = 1 (p^c or p^s = 0) is Exp(1);

4. desired gains of BS 1 and of the accepting BSs: Gamma(M_t - 1, p^c) = p^c times a sum of
   M_t - 1 standard exponentials (integer shape); none is drawn when p^c = 0 (gain 0, SIR 0).
   So the number of draws of a layout depends on its acceptances, and the layouts after the
   first differ between two values of kappa_c on one seed (the numpy backend, which draws
   every desired gain, keeps common random numbers across kappa_c);
5. the path gains w_k = T_k^(-alpha/2) (:func:`isacnet.backends.numba_kernels._gains`: no
   ``pow`` for alpha a multiple of 1/2), S = sum over the serving BSs of g_k w_k,
   I = sum over the others of g_k w_k + the conditional mean tail 2 T_K^(1 - alpha/2) /
   (alpha - 2) = (2 / (alpha - 2)) T_K w_K, and the outputs ln(1 + S/I), its log2 and
   10 log10(S/I).

Random numbers: the block's Generator seeds an inlined SFC64 stream
(:func:`isacnet.backends.numba_kernels.stream_state`); exponentials are numpy's ziggurat
(float64, or float32 on 32-bit halves), drawn > 0. A seed reproduces this backend bit for bit
(one machine, one numba/LLVM version), not the numpy backend's numbers; agreement with numpy is
in law (tests/statistical/test_backends_rate_stat.py).

Standard normal (ziggurat, Marsaglia & Tsang 2000, on numpy's 256-layer tables as numba ships
them). Under f(x) = exp(-x^2/2), x >= 0, layer i >= 1 is the rectangle [0, x_i] x [f(x_i),
f(x_{i-1})] (x_0 = 0, f(x_0) = 1, x_255 = r = 3.6541528853610088), layer 0 the rectangle
[0, r] x [0, f(r)] plus the tail beyond r, all of area v = r f(r) + int_r^inf f. Tables:
wi[i] = x_i / 2^52 (wi[0] = (v / f(r)) / 2^52), ki[i] = floor(2^52 x_{i-1} / x_i)
(ki[0] = 2^52 r f(r) / v), fi[i] = f(x_i); these identities are checked in the tests. One
64-bit output gives the layer (8 bits), the sign (1) and a 52-bit integer j; x = j wi[i] is
uniform on [0, x_i). If j < ki[i] the point lies in the part of the layer under the curve:
accept x. Else for i >= 1 (the wedge) accept if f(x_i) + U (f(x_{i-1}) - f(x_i)) < f(x),
otherwise start again; for i = 0 (x beyond r) draw from the tail: x = E_1 / r, accept if
2 E_2 > x^2 (an Exp(r) proposal for the density proportional to e^(-(r + x)^2/2) = e^(-rx)
e^(-r^2/2) e^(-x^2/2), accepted with probability e^(-x^2/2)), return r + x.

Gamma(a), a >= 1 (Marsaglia & Tsang 2000). With d = a - 1/3, c = 1 / sqrt(9 d) and Y = d V,
V = (1 + c X)^3: if Y ~ Gamma(a), X has density proportional to Y^(a-1) e^(-Y) dY/dX
proportional to V^(d - 2/3) e^(-d V) V^(2/3) = exp(d ln V - d V) on 1 + c X > 0. Against the
normal proposal, the acceptance ratio is exp(x^2/2 + d (1 - V + ln V)) <= 1 (for this c), so:
draw X ~ N(0, 1), reject if V <= 0, accept if ln U < X^2/2 + d (1 - V + ln V), with the squeeze
U < 1 - 0.0331 X^4 (below the ratio) accepting first without a logarithm; return d V. The two
inequalities are checked on a grid in the tests. Computed in float64 for either dtype (then
rounded): the d (1 - V + ln V) cancellation near V = 1 would bias a float32 acceptance test.

``dtype="float32"``: float32 exponentials, arrival times, gains, sums and outputs; the coins,
the Beta variate t of "zf-law" and the Gamma sampler are float64 (then rounded).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from ._api import Outputs
from ._numba_fastmath import _gains, quarter_code
from ._numba_random import (  # noqa: F401 - normals, gammas, beta_tops, _NOR_R: re-exported for tests
    _FAST,
    _FI,
    _JIT,
    _KI,
    _NOR_R,
    _WI,
    MAX_UNIFORMS,
    _beta_top,
    _double,
    _fill_arrivals,
    _fill_exp,
    _gamma_mt,
    _load,
    beta_tops,
    gammas,
    normals,
    stream_state,
)

SHAPE_CODES = {"exp": 0, "matched": 1, "sum": 2, "zf-law": 3}
"""interference_shape -> the integer the compiled kernel branches on."""
LOG2E = 1.0 / math.log(2.0)


# --------------------------------------------------------------------------- one layout
@njit(inline="always", **_JIT)
def _draw_layout(s, g, gi, e2, e3, gd, ebuf, coin, acc, k, L, kappa, shape, pc, ps, mt1, v_m):
    """Draw one layout (module docstring, steps 1-4) into the scratch arrays:
    g[:k] arrival times; coin[1:L] the uniforms, acc[1:L] the decisions; gi[1:k] interferer
    gains of BSs 2..K; gd[:L] desired gains (0 for a BS that declined). Returns (s, accepted)."""
    T = g.dtype.type
    s = _fill_arrivals(s, g, k)
    nacc = 0
    for j in range(1, L):
        s, coin[j] = _double(s)
        acc[j] = coin[j] < kappa
        nacc += acc[j]
    m = k - 1
    if shape != 1 or v_m == 1.0:  # Exp(1), or the first exponential of "sum" / "zf-law"
        s = _fill_exp(s, gi, 1, m)
    if shape == 1 and v_m != 1.0:  # matched: v Gamma(1 / v), float64
        d = 1.0 / v_m - 1.0 / 3.0
        c = 1.0 / np.sqrt(9.0 * d)
        for j in range(1, k):
            s, x = _gamma_mt(s, d, c)
            gi[j] = T(v_m * x)
    elif shape == 2:  # sum: p^c E_1 + p^s E_2
        s = _fill_exp(s, e2, 1, m)
        tpc, tps = T(pc), T(ps)
        for j in range(1, k):
            gi[j] = tpc * gi[j] + tps * e2[j]
    elif shape == 3:  # zf-law
        s = _fill_exp(s, e2, 1, m)
        for j in range(1, k):
            s, x = _beta_top(s, mt1)
            e3[j] = T(x)
        tpp, half, one, four, zero = T(pc * ps), T(0.5), T(1.0), T(4.0), T(0.0)
        for j in range(1, k):
            c = tpp * e3[j]  # p^c p^s t, t ~ Beta(M_t - 1, 1)
            nu1 = half * (one + np.sqrt(max(one - four * c, zero)))
            gi[j] = nu1 * gi[j] + (c / nu1) * e2[j]  # nu_1 nu_2 = c
    if pc > 0.0:
        s = _fill_exp(s, ebuf, 0, (1 + nacc) * mt1)
        tpc = T(pc)
        b = 0
        for j in range(L):
            if j == 0 or acc[j]:
                x = T(0.0)
                for q in range(b, b + mt1):
                    x += ebuf[q]
                gd[j] = tpc * x
                b += mt1
            else:
                gd[j] = T(0.0)
    else:
        for j in range(L):
            gd[j] = T(0.0)
    return s, nacc


@njit(fastmath=_FAST, inline="always", **_JIT)
def _sir(g, w, gi, gd, acc, k, L, quarter, half_alpha, tail_coef):
    """S / I of a drawn layout (module docstring, step 5); w is scratch for the path gains."""
    T = g.dtype.type
    _gains(g, w, k, quarter, half_alpha)
    zero = T(0.0)
    S = gd[0] * w[0]
    near = zero
    for j in range(1, L):
        if acc[j]:
            S += gd[j] * w[j]
        else:
            near += gi[j] * w[j]
    far = zero
    for j in range(L, k):  # vectorised
        far += gi[j] * w[j]
    return S / (near + far + T(tail_coef) * g[k - 1] * w[k - 1])


@njit(fastmath=_FAST, **_JIT)
def _rate_block(st, n, k, L, kappa, shape, pc, ps, mt1, v_m, quarter, half_alpha, tail_coef, with_db, cv_j, cv_mean,
                out):
    """out[:, i] = (ln(1 + SIR), log2(1 + SIR), 10 log10 SIR (if with_db), accepted, and if
    cv_j >= 0 the control X - E[X] = ln g_1 - (alpha/2)(ln T_1 - ln T_(cv_j+1)) - cv_mean and the
    rate times it) of layout i."""
    s = _load(st)
    T = out.dtype.type
    g, w, gi, e2, e3 = np.empty(k, T), np.empty(k, T), np.empty(k, T), np.empty(k, T), np.empty(k, T)
    gd, ebuf = np.empty(L, T), np.empty(L * mt1, T)
    coin, acc = np.zeros(L), np.zeros(L, np.bool_)
    log2e, ten = T(LOG2E), T(10.0)
    for i in range(n):
        s, nacc = _draw_layout(s, g, gi, e2, e3, gd, ebuf, coin, acc, k, L, kappa, shape, pc, ps, mt1, v_m)
        sir = _sir(g, w, gi, gd, acc, k, L, quarter, half_alpha, tail_coef)
        rate = np.log1p(sir)
        out[0, i] = rate
        out[1, i] = rate * log2e
        if with_db:
            out[2, i] = ten * np.log10(sir)
        out[3, i] = T(nacc)
        if cv_j >= 0:
            x = np.log(gd[0]) - T(half_alpha) * (np.log(g[0]) - np.log(g[cv_j])) - T(cv_mean)
            out[4, i] = x
            out[5, i] = rate * x


@njit(**_JIT)
def _rate_draws(st, n, k, L, kappa, shape, pc, ps, mt1, v_m, arrivals, accept_u, desired, interferer):
    """The layouts :func:`_rate_block` draws from the same state."""
    s = _load(st)
    T = arrivals.dtype.type
    g, gi, e2, e3 = np.empty(k, T), np.empty(k, T), np.empty(k, T), np.empty(k, T)
    gd, ebuf = np.empty(L, T), np.empty(L * mt1, T)
    coin, acc = np.zeros(L), np.zeros(L, np.bool_)
    for i in range(n):
        s, _ = _draw_layout(s, g, gi, e2, e3, gd, ebuf, coin, acc, k, L, kappa, shape, pc, ps, mt1, v_m)
        arrivals[i] = g
        accept_u[i] = coin[1:]
        desired[i] = gd
        interferer[i] = gi[1:]


# --------------------------------------------------------------------------- entry points
def _setup(kernel) -> tuple:
    p = kernel.params
    pc, ps = p.comm_power_fraction, p.sensing_power_fraction
    return (
        kernel.k_nearest,
        kernel.L,
        float(kernel.kappa_c),
        SHAPE_CODES[kernel.interference_shape],
        pc,
        ps,
        p.n_tx_antennas - 1,
        pc * pc + ps * ps,
    )


def meng_rate(kernel, rng: np.random.Generator, n: int) -> Outputs:
    """``MengRateKernel(..., model="paper", backend="numba")(rng, n)``: {quantity: (n,) array of
    kernel.dtype}, the quantities of ``kernel.quantities``."""
    dt = np.dtype(kernel.dtype)
    alpha = kernel.params.alpha
    half = 0.5 * alpha
    with_db = kernel.params.comm_power_fraction > 0.0
    cv_j, cv_mean = kernel.control_args  # the control variate (-1: none)
    out = np.zeros((6, n), dt)
    _rate_block(stream_state(rng), n, *_setup(kernel), quarter_code(half), half, 2.0 / (alpha - 2.0), with_db,
                cv_j, cv_mean, out)
    rows = {"rate_nats": out[0], "rate_bits": out[1], "sir_db": out[2], "n_accepted": out[3],
            "cv_x": out[4], "cv_rate_x": out[5]}
    return {q: rows[q] for q in kernel.quantities}


def rate_draws(kernel, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """The layouts that ``meng_rate(kernel, rng, n)`` would use, as the fields of a
    :class:`isacnet.simulation.kernels.meng_rate.RateDraws` (``RateDraws(**rate_draws(...))``): arrays of
    kernel.dtype (``accept_u`` float64); ``desired[:, j]`` is 0 where BS j + 1 declined (not
    drawn), ``interferer`` holds the gains of BSs 2..K whether or not they accepted. For tests."""
    dt = np.dtype(kernel.dtype)
    K, L = kernel.k_nearest, kernel.L
    arrivals, accept_u = np.zeros((n, K), dt), np.zeros((n, L - 1))
    desired, interferer = np.zeros((n, L), dt), np.zeros((n, K - 1), dt)
    _rate_draws(stream_state(rng), n, *_setup(kernel), arrivals, accept_u, desired, interferer)
    return {"arrivals": arrivals, "accept_u": accept_u, "desired": desired, "interferer": interferer}
