"""Theorem 2's shared-node rule (isacnet.analysis.meng_rate_shared) against its slow twin, the
pointwise rule (nodes fitted to each L, checked against mpmath in tests/reference and against
Monte Carlo in tests/statistical). The two evaluate the same integrand after the change of
variables z = z' eta^-alpha, a = eta^2 (with the density of eta^2 folded into the ring powers), on
different node sets, so agreement to 5e-8 (typically 1e-10) checks the change of variables and the node skipping."""

import numpy as np
import pytest

from isacnet.analysis import meng_rate as mr
from isacnet.params import MengParams, ParameterError

LS = np.array([1, 2, 3, 5, 10, 20, 40])[:, None]
PCS = np.array([1e-3, 0.05, 0.5, 1.0])


@pytest.mark.parametrize(
    "params, shape",
    [
        (MengParams(), "paper"),
        (MengParams(alpha=3.0, n_tx_antennas=2), "paper"),
        (MengParams(alpha=2.5, n_tx_antennas=8), "matched"),
        (MengParams(alpha=5.0, n_tx_antennas=4), "zf-matched"),
    ],
)
def test_shared_rule_matches_pointwise_rule(params, shape):
    rng = np.random.default_rng(7)
    kap = rng.uniform(0.0, 1.0, (LS.size, PCS.size))  # per point
    got, err = mr.rate(LS, params, p_c=PCS, kappa_c=kap, interference_shape=shape, return_error=True)
    ref = mr.rate(LS, params, p_c=PCS, kappa_c=kap, interference_shape=shape, method="pointwise", n_eta=81, n_z=513)
    np.testing.assert_allclose(got, ref, rtol=5e-8)
    assert np.all(err < 1e-4 * got)


def test_a_point_does_not_depend_on_the_rest_of_the_call():
    p = MengParams()
    L = np.arange(1, 13)[:, None]
    pc = np.array([0.01, 0.3, 1.0])
    batch = mr.rate(L, p, p_c=pc)
    one = np.array([[float(mr.rate(int(n), p, p_c=float(q))) for q in pc] for n in L[:, 0]])
    np.testing.assert_allclose(batch, one, rtol=1e-14)


def test_zero_power_and_unit_kappa_edges():
    p = MengParams()
    assert mr.rate(3, p, p_c=0.0) == 0.0  # no signal
    got = mr.rate([1, 2, 6], p, kappa_c=1.0)
    ref = mr.rate([1, 2, 6], p, kappa_c=1.0, method="pointwise", n_eta=81, n_z=513)
    np.testing.assert_allclose(got, ref, rtol=5e-8)


def test_method_choice():
    p = MengParams()
    with pytest.raises(ParameterError, match="method"):
        mr.rate(2, p, method="fast")
    with pytest.raises(ParameterError, match="'exact' variant"):
        mr.rate(2, p, variant="paper", method="shared")
    # the other variants are pointwise under "auto"
    assert mr.rate(3, p, variant="pgfl") == mr.rate(3, p, variant="pgfl", method="pointwise")


@pytest.mark.slow
@pytest.mark.parametrize("alpha", [2.2, 3.5, 6.0])
def test_shared_rule_over_a_wider_grid(alpha):
    p = MengParams(alpha=alpha, n_tx_antennas=3)
    L = np.array([1, 2, 4, 9, 16, 30])[:, None]
    pc = np.array([1e-4, 0.02, 0.2, 0.7, 1.0])
    got = mr.rate(L, p, p_c=pc)
    ref = mr.rate(L, p, p_c=pc, method="pointwise", n_eta=81, n_z=513)
    np.testing.assert_allclose(got, ref, rtol=5e-8)


@pytest.mark.parametrize("alpha", [2.000000001, 4.0])
def test_no_signal_is_rate_zero_and_tiny_shares_are_not_negative(alpha):
    """Found by the randomised API sweep: p^c = 0 gave -1.2e-13 (a difference of two terms of
    order 1 rounds to ~1e-13); the rate is 0 there and never negative."""
    p = MengParams(alpha=alpha)
    got = mr.rate(np.array([1, 2, 5, 30])[:, None], p, p_c=[0.0, 1e-300, 1e-200, 1e-30])
    assert np.all(got >= 0.0)
    assert np.all(got[:, 0] == 0.0)


def test_error_estimate_covers_tiny_power_shares():
    """At p^c = 1e-12 the rate (8.9e-6) comes from BS 1 very close; the shared rule is 1.9e-5
    off there (the pointwise default 6.5e-4) and its estimate says so."""
    p = MengParams()
    ref = float(mr.rate(2, p, p_c=1e-12, method="pointwise", n_eta=161, n_z=1025))
    got, err = mr.rate(2, p, p_c=1e-12, return_error=True)
    assert abs(got - ref) <= err
