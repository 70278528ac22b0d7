"""Frozen, validated parameter sets in SI units.

Every field is checked when the object is built (and again by :func:`dataclasses.replace`):
a bad value raises :class:`ParameterError`, a ``ValueError`` that names the parameter, the value
and the valid range. Mappings (config files, CLI ``--set``) go through :func:`from_mapping`, which
refuses unknown keys instead of silently dropping them.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ._validation import (
    LOG_MAX,
    LOG_MIN,
    ParameterError,
    QuadratureWarning,
    _prefer_direct,
    check_choice,
    check_int,
    check_real,
    exp_checked,
    real_array,
)

__all__ = [
    "DIRECTION_MOMENTS",
    "LOG_MAX",
    "LOG_MIN",
    "SPEED_OF_LIGHT",
    "TRADEOFF_L_MAX",
    "TRADEOFF_N_GRID",
    "TRADEOFF_N_MAX",
    "TRADEOFF_N_MIN",
    "MengParams",
    "ParameterError",
    "QuadratureWarning",
    "SongParams",
    "check_choice",
    "check_int",
    "check_real",
    "exp_checked",
    "from_mapping",
    "real_array",
    "to_mapping",
]

SPEED_OF_LIGHT = 299_792_458.0
"""c [m/s]."""


# The design search of Meng & Masouros (isacnet.meng.optimize, Tradeoff, `isacnet optimize`):
# one set of defaults, used by the Python API and the command line alike.
TRADEOFF_L_MAX = 20
"""Largest communication cluster L searched by default (the rate-optimal L is 10-13 at
lambda_u = lambda_b, errata M-33, so 20 keeps it inside the search box)."""
TRADEOFF_N_MAX = 30
"""Largest sensing cluster N searched by default."""
TRADEOFF_N_MIN = 2
"""Smallest sensing cluster (one BS has a rank-one FIM and cannot localise)."""
TRADEOFF_N_GRID = 101
"""p^c grid points per L at which Theorem 2 is tabulated."""


@dataclass(frozen=True)
class SongParams:
    """Distributed MIMO radar of Song et al. (song-distributed-mimo-radar.md), SI units.

    Defaults are the paper's Section III values. The paper does not state the transmit power
    or the observation time that make up its normalised SNR rho_s; we take
    ``rho_s = tx_power * obs_time / noise_psd`` with ``obs_time = 1 / bandwidth`` by default,
    i.e. ``rho_s = P_t / (N0 B)`` with ``P_t = 1 W`` (docs/errata.md, S-7).

    Attributes
    ----------
    n_tx_antennas, n_rx_antennas : int
        M_t, M_r: ULA elements per TX / RX (>= 1).
    bandwidth : float
        B [Hz]; sets the default observation time 1/B.
    carrier_freq : float
        f_c [Hz].
    noise_psd : float
        N0 [W/Hz].
    eff_bandwidth : float
        Effective (RMS) bandwidth beta of eq. (7) [Hz]. 0.577 GHz is B/(2 sqrt 3) for B = 2 GHz.
    rcs : float
        Radar cross section sigma [m^2]; enters the received *power* linearly (radar
        equation), see docs/errata.md S-6.
    gamma : float
        Path-loss exponent (> 0 for a single layout; the PPP results need > 2).
    tx_density, rx_density : float
        lambda_t, lambda_r [m^-2].
    tx_power : float
        P_t [W].
    obs_time : float or None
        T [s] in rho_s = P_t T / N0; ``None`` means 1/B.
    """

    n_tx_antennas: int = 4
    n_rx_antennas: int = 4
    bandwidth: float = 2e9
    carrier_freq: float = 30e9
    noise_psd: float = 5e-22
    eff_bandwidth: float = 0.577e9
    rcs: float = 1.0
    gamma: float = 2.5
    tx_density: float = 1.0 / 30.0**2
    rx_density: float = 1.0 / 30.0**2
    tx_power: float = 1.0
    obs_time: float | None = field(default=None)

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "n_tx_antennas", check_int("n_tx_antennas", self.n_tx_antennas, ge=1))
        s(self, "n_rx_antennas", check_int("n_rx_antennas", self.n_rx_antennas, ge=1))
        for name in (
            "bandwidth",
            "carrier_freq",
            "noise_psd",
            "eff_bandwidth",
            "rcs",
            "gamma",
            "tx_density",
            "rx_density",
            "tx_power",
        ):
            s(self, name, check_real(name, getattr(self, name), gt=0.0))
        if self.obs_time is not None:
            s(self, "obs_time", check_real("obs_time", self.obs_time, gt=0.0))

    # ----------------------------------------------------------------- derived quantities
    _RHO_NAMES = ("tx_power", "obs_time", "bandwidth", "noise_psd")
    _ETA_NAMES = (*_RHO_NAMES, "rcs", "eff_bandwidth", "carrier_freq")

    def values_of(self, names: Sequence[str]) -> dict[str, Any]:
        """{name: value} of the named fields (for error messages)."""
        return {n: getattr(self, n) for n in names}

    @property
    def log_rho_s(self) -> float:
        """ln rho_s, computed from the logs of the parameters: finite for every valid SongParams
        (rho_s itself can overflow, e.g. at noise_psd = 1e-320)."""
        log_t = math.log(self.obs_time) if self.obs_time is not None else -math.log(self.bandwidth)
        return math.log(self.tx_power) + log_t - math.log(self.noise_psd)

    @property
    def rho_s(self) -> float:
        """Normalised SNR rho_s = P_t T / N0 (dimensionless; T = 1/B unless ``obs_time``).

        Raises :class:`ParameterError` where rho_s is not a normal float64 (use
        :attr:`log_rho_s`; the closed forms and Monte Carlo kernels do)."""
        t = self.obs_time if self.obs_time is not None else 1.0 / self.bandwidth
        return _prefer_direct(
            self.tx_power * t / self.noise_psd, self.log_rho_s, self.values_of(self._RHO_NAMES), "rho_s"
        )

    @property
    def log_eta(self) -> float:
        """ln eta (see :attr:`eta`), finite for every valid SongParams. ln of m^2 s^-2 (x m^2 RCS)."""
        c = SPEED_OF_LIGHT
        return (
            math.log(8.0 * math.pi**2)
            + self.log_rho_s
            + math.log(self.rcs)
            + 2.0 * math.log(self.eff_bandwidth)
            + 2.0 * math.log(c)
            - 3.0 * math.log(4.0 * math.pi)
            - 2.0 * math.log(self.carrier_freq)
        )

    @property
    def eta(self) -> float:
        """eta = 8 pi^2 rho_s sigma beta^2 c^2 / ((4 pi)^3 f_c^2), the text above eq. (21).

        Units W... m^2 * Hz^2 * m^2 s^-2 / Hz^2 -> m^2 s^-2 x m^2 (RCS). With sigma entering
        linearly (radar equation) instead of the paper's sigma^2; equal at sigma = 1 m^2.
        Raises :class:`ParameterError` where eta is not a normal float64 (:attr:`log_eta` is
        always finite).
        """
        c = SPEED_OF_LIGHT
        try:  # Python floats: ** raises OverflowError, * and / give inf or 0 silently
            direct = (
                8.0
                * math.pi**2
                * self.rho_s
                * self.rcs
                * self.eff_bandwidth**2
                * c**2
                / ((4.0 * math.pi) ** 3 * self.carrier_freq**2)
            )
        except (ParameterError, OverflowError, ZeroDivisionError):
            direct = math.inf
        return _prefer_direct(direct, self.log_eta, self.values_of(self._ETA_NAMES), "eta")

    def require_gamma_above_2(self, what: str) -> None:
        """Raise :class:`ParameterError` unless gamma > 2 (needed by ``what``)."""
        if not self.gamma > 2.0:
            raise ParameterError("gamma", self.gamma, f"> 2 for {what} (the PPP sum diverges)")


P = TypeVar("P")


def from_mapping(cls: type[P], mapping: Mapping[str, Any], *, where: str | None = None) -> P:
    """Build ``cls`` from a mapping, refusing unknown keys.

    Raises
    ------
    ParameterError
        For an unknown key (with the closest valid names) or an invalid value.
    """
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in mapping:
        if key not in names:
            close = difflib.get_close_matches(key, names, n=3)
            hint = f"one of {names}" + (f" (did you mean {close[0]!r}?)" if close else "")
            raise ParameterError(key, mapping[key], f"a known parameter name: {hint}", where)
    try:
        return cls(**mapping)
    except ParameterError as exc:
        if where and exc.where is None:
            raise ParameterError(exc.name, exc.value, exc.valid, where) from None
        raise


def to_mapping(p: Any) -> dict[str, Any]:
    """The fields of a parameter dataclass as a plain dict (``None`` fields dropped)."""
    return {k: v for k, v in dataclasses.asdict(p).items() if v is not None}


@dataclass(frozen=True)
class MengParams:
    """Cooperative ISAC network of Meng & Masouros (meng-masouros-cooperative-isac.md), SI units.

    Defaults are the paper's Section V values where it states them; the unstated ones are our
    choices (docs/errata.md, M-1 to M-4):

    * ``noise_power`` sigma_s^2 = -80 dB read as -80 dBm = 1e-11 W (thermal noise of about
      2.5 GHz, or 100 MHz with a 14 dB noise figure); -80 dBW would be 1000x the thermal noise
      of any plausible band.
    * ``carrier_freq`` f_c = 3.5 GHz and ``eff_bandwidth`` B = 100 MHz / sqrt(12) = 28.87 MHz,
      the RMS bandwidth of a flat 100 MHz spectrum.
    * ``sensing_power_fraction`` p^s = 0.5 (the paper normalises p^s + p^c = 1 and leaves p^s of
      its sensing figures unstated); the radiated sensing power is ``tx_power * p^s``.

    Attributes
    ----------
    n_tx_antennas : int
        M_t (>= 2: the sensing beam gain is G_t = M_t - 1 after zero-forcing the user, App. A).
    n_rx_antennas : int
        M_r (>= 1): receive gain G_r = M_r.
    tx_power : float
        P_t [W], total transmit power of a BS.
    sensing_power_fraction : float
        p^s in [0, 1]; the communication share is p^c = 1 - p^s.
    rcs : float
        Radar cross section sigma [m^2]; enters the received power linearly (radar equation).
    noise_power : float
        sigma_s^2 [W] per receive antenna.
    carrier_freq : float
        f_c [Hz].
    eff_bandwidth : float
        Effective (RMS) bandwidth B [Hz] of the radar waveform, eq. (5).
    beta : float
        Sensing path-loss exponent per leg (>= 2, as the paper requires; 2 is free space, where
        |zeta|^2 is in m^2 and the FIM in m^-2 with a 1 m reference distance).
    alpha : float
        Communication path-loss exponent (> 2), Section IV.
    bs_density, target_density, user_density : float
        lambda_b, lambda_s, lambda_u [m^-2].
    resource_blocks : int
        psi, the most targets (users) a BS serves at once (>= 1).
    backhaul_capacity : float
        C_backhaul of eq. (10) [nats/s/Hz, the unit of the rate R_c of Theorem 2, whose
        identity (17) is for the natural logarithm].
    sensing_rate_demand : float
        e of eq. (10), the backhaul rate one cooperating sensing BS needs [nats/s/Hz per BS].
        The paper does not state it; 0.25 is our choice (errata M-30), so that at C = 6 the
        constraint binds near the best sensing cluster size (N ~ 12-16).
    """

    n_tx_antennas: int = 4
    n_rx_antennas: int = 5
    tx_power: float = 1.0
    sensing_power_fraction: float = 0.5
    rcs: float = 1.0
    noise_power: float = 1e-11
    carrier_freq: float = 3.5e9
    eff_bandwidth: float = 100e6 / math.sqrt(12.0)
    beta: float = 2.0
    alpha: float = 4.0
    bs_density: float = 1e-6
    target_density: float = 1e-6
    user_density: float = 1e-6
    resource_blocks: int = 15
    backhaul_capacity: float = 6.0
    sensing_rate_demand: float = 0.25

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, "n_tx_antennas", check_int("n_tx_antennas", self.n_tx_antennas, ge=2))
        s(self, "n_rx_antennas", check_int("n_rx_antennas", self.n_rx_antennas, ge=1))
        s(self, "resource_blocks", check_int("resource_blocks", self.resource_blocks, ge=1))
        for name in (
            "tx_power",
            "rcs",
            "noise_power",
            "carrier_freq",
            "eff_bandwidth",
            "bs_density",
            "target_density",
            "user_density",
            "backhaul_capacity",
        ):
            s(self, name, check_real(name, getattr(self, name), gt=0.0))
        s(
            self,
            "sensing_power_fraction",
            check_real("sensing_power_fraction", self.sensing_power_fraction, ge=0.0, le=1.0),
        )
        s(self, "sensing_rate_demand", check_real("sensing_rate_demand", self.sensing_rate_demand, ge=0.0))
        s(self, "beta", check_real("beta", self.beta, ge=2.0))
        s(self, "alpha", check_real("alpha", self.alpha, gt=2.0))

    # ----------------------------------------------------------------- derived quantities
    @property
    def tx_gain(self) -> int:
        """G_t = M_t - 1, the mean sensing beam gain left after zero-forcing (Appendix A)."""
        return self.n_tx_antennas - 1

    @property
    def rx_gain(self) -> int:
        """G_r = M_r, the receive combining gain."""
        return self.n_rx_antennas

    @property
    def comm_power_fraction(self) -> float:
        """p^c = 1 - p^s."""
        return 1.0 - self.sensing_power_fraction

    @property
    def mu_s(self) -> float:
        """mu_s = lambda_s / lambda_b, targets per BS (Lemma 1)."""
        return self.target_density / self.bs_density

    @property
    def mu_c(self) -> float:
        """mu_c = lambda_u / lambda_b, users per BS (Section IV)."""
        return self.user_density / self.bs_density

    _ZETA_NAMES = (
        "tx_power",
        "sensing_power_fraction",
        "n_tx_antennas",
        "n_rx_antennas",
        "eff_bandwidth",
        "rcs",
        "carrier_freq",
        "noise_power",
    )

    @property
    def log_zeta2(self) -> float:
        """ln |zeta|^2 (see :attr:`zeta2`) from the logs of the parameters: finite for every
        valid MengParams with p^s > 0, -inf at p^s = 0."""
        if self.sensing_power_fraction == 0.0:
            return -math.inf
        return (
            math.log(self.tx_power)
            + math.log(self.sensing_power_fraction)
            + math.log(self.tx_gain)
            + math.log(self.rx_gain)
            + 2.0 * math.log(self.eff_bandwidth)
            + math.log(self.rcs)
            - math.log(8.0 * math.pi)
            - 2.0 * math.log(self.carrier_freq)
            - math.log(self.noise_power)
        )

    @property
    def zeta2(self) -> float:
        """|zeta|^2 of eq. (5), corrected: P_t p^s G_t G_r B^2 sigma / (8 pi f_c^2 sigma_s^2).

        The printed form has sigma_s^2 (noise power) in the numerator too, which cancels the
        noise; the numerator's sigma_s^2 is the RCS sigma (errata M-1). 1/(8 pi f_c^2) is
        8 pi^2 (delay FIM) x lambda_c^2/(4 pi)^3 (radar equation) / c^2 (delay gradient).
        Units m^(2 beta - 2) (m^2 at beta = 2). 0 at p^s = 0. Raises :class:`ParameterError`
        where it is not a normal float64 (:attr:`log_zeta2` is always finite for p^s > 0).
        """
        if self.sensing_power_fraction == 0.0:
            return 0.0
        try:
            direct = (
                self.tx_power
                * self.sensing_power_fraction
                * self.tx_gain
                * self.rx_gain
                * self.eff_bandwidth**2
                * self.rcs
                / (8.0 * math.pi * self.carrier_freq**2 * self.noise_power)
            )
        except (OverflowError, ZeroDivisionError):  # f_c^2 underflows to 0 at f_c = 1e-300
            direct = math.inf
        return _prefer_direct(
            direct, self.log_zeta2, {n: getattr(self, n) for n in self._ZETA_NAMES}, "|zeta|^2 of eq. (5)"
        )


DIRECTION_MOMENTS = {"aligned": (0.375, 0.125), "random": (0.25, 0.25)}
"""Eigenvalues (m_1, m_2) of E[p p^T], p = a - (a.q) q, for q uniform on the circle: a fixed
receive-array axis a gives diag(3/8, 1/8) in the frame of a; a uniform random axis gives I/4.
Shared by the AoA closed form (:mod:`isacnet.analysis.aoa`) and its Monte Carlo."""
