"""Monte Carlo of one cooperative ISAC design (L, N, p^c): the rate of its users and the CRLB of
its targets, drawn in the same block (the two are independent: users and targets see independent
layouts in the paper's typical-user / typical-target analysis)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from ...params import MengParams, ParameterError, check_int, check_real
from .meng_crlb import MengCrlbKernel
from .meng_rate import MengRateKernel


@dataclass(frozen=True)
class MengDesignKernel:
    """Outputs ``rate_nats`` (ln(1 + SIR), (9)) of a typical user served by a cluster of L with
    power share p^c, and ``log_crlb`` / ``singular`` / ``cluster_size`` of a typical target
    localised by its N nearest BSs with sensing power share p^s = 1 - p^c, each accepting with
    probability ``kappa_s``. ``N = 0`` (no sensing) or ``p_c = 0`` (no data) drop that half.
    ``kappa_c`` (required when p_c > 0): the acceptance of the cooperating BSs
    (:func:`isacnet.meng.verify_design` passes the derived one)."""

    params: MengParams
    L: int
    N: int
    p_c: float
    kappa_s: float = 1.0
    kappa_c: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.params, MengParams):
            raise ParameterError("params", self.params, "a MengParams")
        object.__setattr__(self, "L", check_int("L", self.L, ge=1))
        object.__setattr__(self, "N", check_int("N", self.N, ge=0))
        object.__setattr__(self, "p_c", check_real("p_c", self.p_c, ge=0.0, le=1.0))
        object.__setattr__(self, "kappa_s", check_real("kappa_s", self.kappa_s, gt=0.0, le=1.0))
        if self.N >= 1 and self.p_c == 1.0:
            raise ParameterError("p_c", self.p_c, "< 1 when N >= 1 (sensing needs power)")

    @property
    def _params(self) -> MengParams:
        return dataclasses.replace(self.params, sensing_power_fraction=1.0 - self.p_c)

    @property
    def rate_kernel(self) -> MengRateKernel | None:
        return MengRateKernel(self._params, self.L, kappa_c=self.kappa_c) if self.p_c > 0 else None

    @property
    def crlb_kernel(self) -> MengCrlbKernel | None:
        return MengCrlbKernel(self._params, self.N, kappa=self.kappa_s) if self.N >= 1 else None

    @property
    def variance_exists(self) -> bool:  # for the geometric-mean derivation of the Meng models
        return False

    def describe(self) -> dict[str, object]:
        return {"geometry": "infinite plane, ordered sampling (user and target layouts independent)",
                "L": self.L, "N": self.N, "p_c": self.p_c, "kappa_s": self.kappa_s,
                "rate_model": "paper gains (Gamma(M_t-1, p^c) desired, Gamma(1,1) interference)"}

    @property
    def quantities(self) -> tuple[str, ...]:
        """The outputs of a call: the rate (with the rate kernel's control variate where it has one)
        and, with N >= 1, the CRLB statistics."""
        rk = self.rate_kernel
        q = ["rate_nats"] + (["cv_x", "cv_rate_x"] if rk is not None and rk.has_control else [])
        return tuple(q + (["log_crlb", "singular", "cluster_size"] if self.N >= 1 else []))

    def __call__(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        rk, ck = self.rate_kernel, self.crlb_kernel
        if rk is not None:
            r = rk(rng, n)
            out["rate_nats"] = r["rate_nats"]
            if rk.has_control:  # the control variate of the rate (isacnet.simulation.kernels._rate_control)
                out["cv_x"], out["cv_rate_x"] = r["cv_x"], r["cv_rate_x"]
        else:
            out["rate_nats"] = np.zeros(n)
        if ck is not None:
            c = ck(rng, n)
            for k in ("log_crlb", "singular", "cluster_size"):
                out[k] = c[k]
        return out
