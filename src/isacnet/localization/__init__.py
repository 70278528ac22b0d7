"""Position estimators that reach the CRLB, and angle-of-arrival information (issue 8).

Measurement model (per layout; docs/estimation.md has the derivations)
-----------------------------------------------------------------------------
For TX k, RX l and a target at d_s, the receiver measures the bistatic range (range sum)

    r_kl = ||d_k - d_s|| + ||d_l - d_s|| + n_kl,     n_kl ~ N(0, sigma_kl^2),
    sigma_kl^2 = c^2 / J_kl,   J_kl = 8 pi^2 M_r beta^2 |alpha_kl|^2        (Song (13))

with |alpha_kl|^2 = rho_s sigma L_k L_l c^2 g_k / ((4 pi)^3 f_c^2) the per-antenna SNR of the pair
(Song (2) with the RCS entering linearly, docs/errata.md S-6; g_k the TX beam gain). The Fisher
information of d_s in these measurements is sum J_kl/c^2 (e_k + f_l)(e_k + f_l)^T, i.e. exactly
:func:`isacnet.sensing.song_fim`. The noise variances are known to the estimator (the receiver
estimates |alpha_kl| from its matched filter; Assumption 3 decouples amplitudes and delays).

Optionally, each M_r-element ULA receiver also measures the direction cosine u_l = a_l . q_l of
the target (a_l the array axis, q_l the unit vector from RX l toward the target),

    u_hat_l = u_l + m_l,   m_l ~ N(0, 1/J^u_l),
    J^u_l = 2 (2 pi delta)^2 [M_r (M_r^2 - 1) / 12] sum_k |alpha_kl|^2,

the deterministic-signal CRB of a ULA with element spacing delta wavelengths (derived from the
signal model (1): the amplitudes alpha_kl are nuisance parameters; with the phase reference at
the array centre they decouple from u, and for a spectrum centred on f_c the delays decouple
from u too). The bearing Jacobian is du_l/dd_s = (a_l - u_l q_l) / rho_l (rho_l the RX-target
distance), so the AoA adds sum_l J^u_l p_l p_l^T / rho_l^2 with p_l = a_l - u_l q_l to the FIM.

Estimators
----------
:func:`ls_bistatic`: closed-form weighted least squares of the squared range-sum equations with
one auxiliary unknown per TX (or per RX), exact without noise. :func:`ml_estimate`: the maximum
likelihood estimate (weighted nonlinear least squares) by Levenberg-Marquardt, batched over
layouts/draws, with convergence flags. Array shapes: a leading batch axis B everywhere.
"""

from .model import (
    Measurements,
    Scene,
    aoa_fim,
    bistatic_ranges,
    crlb_delay_aoa,
    delay_information,
    dircos_information,
    direction_cosines,
    fim_delay_aoa,
    fim_from_information,
    make_scene,
    noiseless,
    pair_snr,
    simulate,
)
from .solvers import ANCHOR_RTOL, LS_RANK_RTOL, LSResult, MLResult, locate, ls_bistatic, ml_estimate

__all__ = [
    "ANCHOR_RTOL",
    "LS_RANK_RTOL",
    "LSResult",
    "MLResult",
    "Measurements",
    "Scene",
    "aoa_fim",
    "bistatic_ranges",
    "crlb_delay_aoa",
    "delay_information",
    "dircos_information",
    "direction_cosines",
    "fim_delay_aoa",
    "fim_from_information",
    "ls_bistatic",
    "make_scene",
    "locate",
    "ml_estimate",
    "noiseless",
    "pair_snr",
    "simulate",
]
