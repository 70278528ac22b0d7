"""Lemma 1 of Meng & Masouros: the acceptance probabilities kappa_s and kappa_c under psi resource
blocks per BS, in every variant (the negative-binomial law of :mod:`.acceptance` by default, the
derived and printed Poisson forms), and the Poisson request acceptance. Re-exported by
:mod:`.meng_sensing`, their public home (docs/acceptance.md).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
from scipy import special

from ..params import ParameterError
from ._meng_checks import _ints, _out, _reals, nbar
from .acceptance import _int_array, kappa_c_nb, kappa_s_nb


def _poisson_tail_sum(psi: np.ndarray, x: np.ndarray, shift: int) -> np.ndarray:
    """sum_{n >= psi+1} e^-x x^n / ((n - shift) n!) in the log domain (shift 0 or 1)."""
    psi, x = np.broadcast_arrays(np.asarray(psi, dtype=float), np.asarray(x, dtype=float))
    if psi.size == 0:
        return np.zeros(psi.shape)
    sq = np.sqrt(x)
    n0 = np.maximum(psi + 1.0, np.floor(x - 12.0 * sq - 40.0))
    J = int(math.ceil(24.0 * float(np.max(sq)) + 120.0))
    n = n0[..., None] + np.arange(J)
    with np.errstate(divide="ignore"):
        lt = -x[..., None] + special.xlogy(n, x[..., None]) - special.gammaln(n + 1.0) - np.log(n - shift)
    return np.exp(special.logsumexp(lt, axis=-1))


def poisson_request_acceptance(capacity, m) -> np.ndarray:
    """E[min(1, c / (1 + K))], K ~ Poisson(m): acceptance of a typical request (size-biased).

    A request sees its BS with load 1 + K (Slivnyak: the Palm load of a Poisson load is
    1 + Poisson), and is among the c accepted with probability min(1, c/(1+K)). Closed form:

        Q(c, m) + (c / m) P(c + 1, m)  =  E[min(K, c)] / m,

    Q, P the regularised upper/lower incomplete gamma functions (Q(c, m) = P(K <= c - 1),
    P(c+1, m) = P(K >= c + 1)). Equal to 1 at m = 0 and 0 at c = 0 < m.
    """
    c = _ints(capacity, "capacity", ge=0).astype(float)
    m = _reals(m, "m", ge=0.0)
    c, m = np.broadcast_arrays(c, m)
    mm = np.where(m > 0, m, 1.0)
    cc = np.where(c > 0, c, 1.0)
    val = special.gammaincc(cc, mm) + c * (special.gammainc(cc + 1.0, mm) / mm)  # P/m <= 1: no overflow
    val = np.where(c == 0, 0.0, val)
    return _out(np.clip(np.where(m == 0, 1.0, val), 0.0, 1.0))


def _printed_load(mu: np.ndarray, n: np.ndarray, name: str) -> np.ndarray:
    """x = mu n-bar of the printed forms; their Poisson tail is summed term by term over
    ~24 sqrt(x) terms, so x is limited to 1e8 (ParameterError naming ``name``)."""
    with np.errstate(over="ignore"):
        x = mu * nbar(n)
    if np.any(~(x <= 1e8)):
        raise ParameterError(
            name,
            mu.tolist() if mu.ndim else float(mu),
            "such that mu * N-bar <= 1e8 for the printed variants (use variant='nb')",
        )
    return x


_PSI_MAX = 2**53


def _check_acceptance_args(psi, mu, n, mu_name: str, n_name: str) -> None:
    """Input validation shared by kappa_s and kappa_c (issue 14): psi must fit the integer
    arithmetic of the acceptance forms (psi <= 2^53; 10**30 gave an error naming an internal
    ``capacity``), and the mean load mu n must be a finite float64."""
    _int_array(psi, "psi", 1)
    m = _reals(mu, mu_name, gt=0.0)
    k = np.asarray(_int_array(n, n_name, 1), dtype=float)
    with np.errstate(over="ignore"):
        load = m * k
    if not np.all(np.isfinite(load)):
        raise ParameterError(mu_name, mu, f"a value with {mu_name} x {n_name} (the mean load per BS) finite in float64")


KappaVariant = Literal["nb", "derived", "poisson", "paper", "appendix", "typical-bs"]


def kappa_s(psi, mu_s, N, variant: KappaVariant = "nb") -> np.ndarray:
    """Acceptance probability of a sensing request, Lemma 1 (15) (errata M-9 to M-11, M-34).

    ``"nb"`` (default; docs/acceptance.md): accepted over offered requests, E[min(D, psi)]/E[D],
    with the load D of a BS mixed Poisson over the area of the region whose points rank it among
    their N nearest: exact mean mu_s N, exact area variance v(N) (:mod:`.acceptance`), Gamma
    mixing, so D is negative binomial and kappa_s is a regularised incomplete beta closed form
    (at N = 1 the size-biased Voronoi-cell law NB(4.5, 3.5/(3.5 + mu_s)) of Ferenc-Neda / Yu-Kim /
    Singh-Dhillon-Andrews, with the shape 3.569 of the exact cell-area variance).

    ``"derived"`` (alias ``"poisson"``; the default before): Poisson load of mean mu_s N seen by a
    request (size-biased): :func:`poisson_request_acceptance` (psi, mu_s N) =
    Q(psi, mu_s N) + psi/(mu_s N) P(psi+1, mu_s N). Overestimates near mu_s N = psi.

    Paper forms, all with x = mu_s N-bar (:func:`nbar`) and T = sum_{n>psi} e^-x x^n/(n n!):

    ``"paper"``
        (15): Q(psi, x) + psi T -- drops the n = psi term.
    ``"appendix"``
        (24), last line: Q(psi, x)/psi + psi T  (Gamma(psi, x)/psi!).
    ``"typical-bs"``
        (24), first line: Q(psi+1, x) + psi T = E[min(1, psi/K)], the view of a
        typical BS (an idle BS counts as accepting).

    Parameters
    ----------
    psi : array_like of int in [1, 2**53]
        Resource blocks per BS.
    mu_s : array_like of float > 0
        lambda_s / lambda_b.
    N : array_like of int >= 1 (<= 2**53 for "nb")
        Requests per target (cluster size).
    variant : str
        One of the above.

    Returns
    -------
    ndarray or float
        kappa_s in [0, 1], shape ``broadcast(psi, mu_s, N)``.
    """
    _check_acceptance_args(psi, mu_s, N, "mu_s", "N")  # an overflowing mean load is refused, never clipped
    if variant == "nb":
        return kappa_s_nb(psi, mu_s, N)
    psi = _int_array(psi, "psi", 1)
    mu_s = _reals(mu_s, "mu_s", gt=0.0)
    n = _ints(N, "N")
    if variant in ("derived", "poisson"):
        with np.errstate(over="ignore"):  # mu_s N beyond 1.8e308: kappa = psi/(mu_s N) rounds to 0
            m = np.minimum(mu_s * n, np.finfo(float).max)
        return poisson_request_acceptance(psi, m)
    x = _printed_load(mu_s, n, "mu_s")
    psi, x = np.broadcast_arrays(psi, np.asarray(x, dtype=float))
    t = psi * _poisson_tail_sum(psi, x, 0)
    if variant == "paper":
        out = special.gammaincc(psi, x) + t
    elif variant == "appendix":
        out = special.gammaincc(psi, x) / psi + t
    elif variant == "typical-bs":
        out = special.gammaincc(psi + 1.0, x) + t
    else:
        raise ParameterError("variant", variant, "'nb', 'derived' ('poisson'), 'paper', 'appendix' or 'typical-bs'")
    return _out(out)


def kappa_c(psi, mu_c, L, variant: Literal["nb", "derived", "poisson", "paper"] = "nb") -> np.ndarray:
    """Acceptance probability of a communication cooperation request (Section IV).

    Model (errata M-12): the nearest BS is the user's anchor and serves it; the L - 1
    cooperation requests go to BSs 2..L and compete for psi - 1 blocks per BS (one block kept for
    the anchor role: "psi - 1 users besides the typical user"); 1 at L = 1 (nothing to accept),
    0 at psi = 1 < L. The cooperation load of a BS has mean mu_c (L - 1) (mass transport).

    ``"nb"`` (default; docs/acceptance.md): that load negative binomial, mixed over the area of
    the region whose points rank the BS 2..L (exact mean L - 1 and variance v(L - 1, skip 1),
    Gamma mixing): E[min(D, psi - 1)]/E[D] in closed form (:mod:`.acceptance`).

    ``"derived"`` (alias ``"poisson"``; the default before): a Poisson load seen by a request,
    :func:`poisson_request_acceptance` (psi - 1, mu_c (L - 1)).

    ``"paper"``: as printed, x = mu_c L-bar, Q(psi, x) + sum_{n>=psi} (psi-1) e^-x x^n /
    ((n-1) n!), with its n = psi term read as P(K = psi) (the ratio (psi-1)/(n-1) is 1 there).

    Parameters
    ----------
    psi : array_like of int in [1, 2**53]
    mu_c : array_like of float > 0
        lambda_u / lambda_b.
    L : array_like of int >= 1 (<= 2**53 for "nb")
        Cooperating BSs (cluster size).
    variant : str

    Returns
    -------
    ndarray or float
        kappa_c in [0, 1], shape ``broadcast(psi, mu_c, L)``.
    """
    _check_acceptance_args(psi, mu_c, L, "mu_c", "L")  # an overflowing mean load is refused, never clipped
    if variant == "nb":
        return kappa_c_nb(psi, mu_c, L)
    psi = _int_array(psi, "psi", 1)
    mu_c = _reals(mu_c, "mu_c", gt=0.0)
    L = _ints(L, "L")
    if variant in ("derived", "poisson"):
        psi, mu_c, L = np.broadcast_arrays(psi, mu_c, L)
        with np.errstate(over="ignore"):
            m = np.minimum(mu_c * (L - 1), np.finfo(float).max)
        val = np.asarray(poisson_request_acceptance(psi - 1, m), dtype=float)
        return _out(np.where(L == 1, 1.0, val))
    if variant != "paper":
        raise ParameterError("variant", variant, "'nb', 'derived' ('poisson') or 'paper'")
    x = _printed_load(mu_c, L, "mu_c")
    psi, x = np.broadcast_arrays(psi.astype(float), np.asarray(x, dtype=float))
    p_at = np.exp(-x + special.xlogy(psi, x) - special.gammaln(psi + 1.0))
    t = (psi - 1.0) * _poisson_tail_sum(psi, x, 1)
    return _out(special.gammaincc(psi, x) + p_at + t)
