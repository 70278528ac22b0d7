"""The shared-node coverage rule (isacnet.analysis.coverage_shared) against its slow twin, the
pointwise rule (a rule fitted to each (threshold, L) point, checked against mpmath at L = 1 in
tests/reference/test_coverage_reference.py and against Theorem 2 through the rate). Both
evaluate the same characteristic function in different variables and node sets, so agreement to
1e-6 over a grid checks the change of variables (t = T / theta, s = w' T, a = eta^2 with the
Beta density folded into Q^(L - 2)) and the node skipping."""

import numpy as np
import pytest

from isacnet.analysis import coverage as cv
from isacnet.params import MengParams, ParameterError

T_DB = np.array([-20.0, -7.0, 0.0, 6.0, 15.0, 30.0])
LS = np.array([1, 2, 3, 5, 10, 20])


@pytest.mark.parametrize(
    "params, m",
    [
        (MengParams(), 1.0),  # the paper: M_t = 4, alpha = 4, p^c = 1/2
        (MengParams(alpha=3.0, n_tx_antennas=2), 1.0),
        (MengParams(alpha=2.5, n_tx_antennas=8, sensing_power_fraction=0.8), 2.5),
        (MengParams(alpha=5.0, n_tx_antennas=3), 0.5),
    ],
)
def test_shared_rule_matches_pointwise_rule(params, m):
    rng = np.random.default_rng(3)
    T = cv.db_to_linear(T_DB)[:, None]
    kap = rng.uniform(0.0, 1.0, (T_DB.size, LS.size))  # per point: the rule must not mix them up
    got, err = cv.coverage(T, LS[None, :], params, kappa_c=kap, m=m, return_error=True)
    ref = cv.coverage(T, LS[None, :], params, kappa_c=kap, m=m, method="pointwise")
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)
    assert np.all(err < 1e-3)


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::isacnet.QuadratureWarning")  # alpha = 2.5, T = 1e3, L = 20: estimate 1.5e-3
@pytest.mark.parametrize("alpha", [2.5, 3.0, 4.0])
def test_shared_rule_within_1e6_of_a_finer_pointwise_rule(alpha):
    p = MengParams(alpha=alpha)
    T = cv.db_to_linear(np.linspace(-20.0, 30.0, 11))[:, None]
    L = np.array([1, 2, 4, 8, 16, 20])[None, :]
    got = cv.coverage(T, L, p)
    ref = cv.coverage(T, L, p, method="pointwise", n_v=961, n_eta=161)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


def test_shared_rule_per_point_power_share_and_repeated_thresholds():
    """p^c per point enters as t = T / theta; equal t from different (T, p^c) share nodes."""
    p = MengParams()
    T = np.array([0.5, 1.0, 1.0, 2.0, 4.0])
    pc = np.array([0.25, 0.5, 0.5, 1.0, 0.3])  # t = 2, 2, 2, 2, 13.3
    L = np.array([3, 3, 7, 3, 2])
    got = cv.coverage(T, L, p, p_c=pc)
    ref = np.array([float(cv.coverage(t, n, p, p_c=q, method="pointwise")) for t, n, q in zip(T, L, pc, strict=True)])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)
    assert got[0] == got[1] == got[3]  # the same t and L: the same number


def test_shared_rule_zero_power_share_is_zero_coverage():
    assert cv.coverage(1.0, 3, MengParams(), p_c=0.0) == 0.0


def test_method_choice():
    p = MengParams()
    with pytest.raises(ParameterError, match="method"):
        cv.coverage(1.0, 2, p, method="fast")
    with pytest.raises(ParameterError, match="interference-limited power-sum"):
        cv.coverage(1.0, 2, p, noise="params", method="shared")
    with pytest.raises(ParameterError, match="interference-limited power-sum"):
        cv.coverage(1.0, 2, MengParams(n_tx_antennas=2), jt="noncoherent", method="shared")
    # with noise "auto" is the pointwise rule
    assert cv.coverage(1.0, 2, p, noise="params") == cv.coverage(1.0, 2, p, noise="params", method="pointwise")


def test_many_thresholds_in_blocks():
    """More thresholds than one block (32): each block has its own ln s range."""
    p = MengParams()
    T = np.logspace(-3, 4, 70)
    got = cv.coverage(T, 4, p)
    ref = np.concatenate([cv.coverage(T[i:i + 10], 4, p, method="pointwise") for i in range(0, 70, 10)])
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("M, m", [(8, 1.0), (8, 2.5), (16, 2.0)])  # k_d = 7, 17.5, 30
def test_shared_rule_for_large_desired_shapes(M, m):
    """For k_d > 4 the step in ln s shrinks as 1/sqrt(k_d) and the eta^2 rule doubles: without that
    the shared rule was 1.7e-5 off at k_d = 17.5 (and scipy's hyp2f1 made k_d = 30 garbage)."""
    p = MengParams(alpha=2.5, n_tx_antennas=M)
    T = cv.db_to_linear(np.array([-20.0, 0.0, 15.0, 30.0]))[:, None]
    L = np.array([1, 2, 5, 20])[None, :]
    got = cv.coverage(T, L, p, kappa_c=0.5, m=m)
    ref = cv.coverage(T, L, p, kappa_c=0.5, m=m, method="pointwise", n_v=1921, n_eta=161)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-6)


# --------------------------------------------------------------------------- the fast helpers
# (each against its slow, obviously correct twin)

from isacnet.analysis import coverage_pgfl as pgfl  # noqa: E402
from isacnet.analysis import coverage_shared as cs  # noqa: E402


def _ray(n, seed=0):
    """Purely imaginary points over 40 decades of |x| and both signs, the closed forms' inputs."""
    rng = np.random.default_rng(seed)
    return 1j * rng.choice([-1.0, 1.0], n) * np.exp(rng.uniform(-45.0, 90.0, n))


@pytest.mark.parametrize("n", list(range(1, 20)) + [31, 32, 63])
def test_int_power_is_repeated_multiplication(n):
    z = np.exp(1j * np.linspace(0.0, 6.0, 50)) * np.linspace(0.0, 1.0, 50)
    slow = np.ones_like(z)
    for _ in range(n):
        slow = slow * z
    out = np.empty_like(z)
    assert cs._int_power(z, n, out) is out
    np.testing.assert_allclose(out, slow, rtol=1e-13, atol=1e-300)


@pytest.mark.parametrize("k", [1.0, 2.0, 3.0, 7.0, 64.0, 65.0, 2.5, 0.5])
def test_psi_by_products_is_the_power(k):
    """(1 + x)^-k by products (whole k <= 64) or by exp/log1p (else) against exp(-k log1p(x))."""
    x = _ray(4000)
    ref = np.exp(-k * np.log1p(x))
    z = x.copy()
    got = cs._psi_inplace(z, k, np.empty_like(z))
    assert got is z
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(cs._psi(x, k), ref, rtol=1e-12, atol=1e-300)
    with pytest.raises(ValueError, match="purely imaginary"):
        cs._psi(x + 0.5, k)  # off the ray the real-arithmetic reciprocal would be wrong: refused


def test_Gim_in_chunks_is_the_pointwise_interpolant(monkeypatch):
    """Chunked, in place (out = x), on a non-contiguous array: the same numbers as one chunk."""
    x = _ray(3 * 4007).reshape(3, -1)
    monkeypatch.setattr(pgfl, "_CHUNK", 10**9)
    whole = pgfl._Gim(x, 3.0, 4.0)
    monkeypatch.setattr(pgfl, "_CHUNK", 1000)
    np.testing.assert_array_equal(pgfl._Gim(x, 3.0, 4.0), whole)
    y = x.copy()
    assert pgfl._Gim(y, 3.0, 4.0, out=y) is y
    np.testing.assert_array_equal(y, whole)
    np.testing.assert_array_equal(pgfl._Gim(x.T, 3.0, 4.0), whole.T)  # not contiguous
    # and the interpolant is G: against scipy's closed form where that is reliable (k = 3)
    mid = np.abs(x) < 1e6
    np.testing.assert_allclose(whole[mid], pgfl._G(x[mid], 3.0, 4.0), rtol=1e-9, atol=1e-14)


def test_dropped_s_tail_is_below_its_bound(monkeypatch):
    """_s_keep drops the s-nodes whose bound |1 + C|^-L sums below 1e-12: with nothing dropped
    (_S_TOL = 0) the values move by less than that, and at L = 20, T = 30 dB nodes are dropped."""
    p = MengParams()
    T = cv.db_to_linear(np.linspace(-20.0, 30.0, 9))[:, None]
    L = np.array([2, 3, 5, 10, 20])[None, :]
    got = cv.coverage(T, L, p)
    monkeypatch.setattr(cs, "_S_TOL", 0.0)
    full = cv.coverage(T, L, p)
    assert np.max(np.abs(got - full)) < 1e-12
    s = np.exp(0.25 * np.arange(-160, 75))
    eb = np.abs(1.0 + pgfl._Gim(1j * s, 1.0, 4.0)) ** -20.0
    monkeypatch.setattr(cs, "_S_TOL", 1e-12)
    ns = cs._s_keep(eb, 0.25)
    assert ns < 0.8 * s.size
    assert 2.02 * 0.25 / np.pi * eb[ns:].sum() <= 1e-12 < 2.02 * 0.25 / np.pi * eb[ns - 1:].sum()


def test_one_kappa_for_all_thresholds_is_the_per_point_path():
    """A kappa_c shared by the thresholds of a block takes a scalar product, one per threshold a
    product on the float view: row by row they must give the same numbers."""
    p = MengParams()
    T = cv.db_to_linear(np.linspace(-20.0, 30.0, 7))
    L = np.arange(1, 9)
    kap = np.linspace(0.2, 1.0, 7)
    per_point = cv.coverage(T[:, None], L[None, :], p, kappa_c=kap[:, None])
    for i in range(7):
        np.testing.assert_allclose(per_point[i], cv.coverage(T[i], L, p, kappa_c=kap[i]), rtol=0, atol=1e-15)


def test_times_real_is_the_complex_product():
    """Slow twin: numpy's complex-times-real product (the real factor cast to complex), on the
    shapes the rule uses, a non-contiguous last axis (the fallback) and a scalar."""
    g = np.random.default_rng(4)
    x = (g.standard_normal((1, 30, 16)) + 1j * g.standard_normal((1, 30, 16))) * np.exp(g.standard_normal((1, 30, 16)))
    c = np.exp(g.standard_normal((7, 1, 1)))
    for xs, cs_ in ((x, c), (1j * x.imag, c), (x[..., ::2], c), (x, 0.37)):
        out = np.empty(np.broadcast_shapes(np.shape(xs), np.shape(cs_)), dtype=complex)
        got = cs._times_real(xs, cs_, out)
        assert got is out
        assert np.array_equal(got, np.multiply(xs, cs_))  # == ignores the sign of a zero part


# --------------------------------------------------------------------------- the left-tail map


@pytest.mark.parametrize("alpha", [2.2, 3.0, 4.0, 5.0])
def test_ln_s_map_is_increasing_its_derivative_and_its_inverse(alpha):
    """x(y): increasing, x' = dx/dy (central differences), x' decreasing to 1 on the right, the
    inverse by Newton, and the nodes thinning out in the left tail only."""
    d, x0 = 2.0 / alpha, -2.0
    y = np.linspace(-80.0, 30.0, 2201)
    x, xp = cs._ln_s(y, x0, d)
    assert np.all(np.diff(x) > 0) and np.all(xp >= 1.0)
    e = 1e-5
    fd = (cs._ln_s(y + e, x0, d)[0] - cs._ln_s(y - e, x0, d)[0]) / (2 * e)
    np.testing.assert_allclose(xp, fd, rtol=1e-6)
    assert np.all(np.diff(xp) < 0) and xp[-1] < 1.01  # x' decreases to 1 on the right
    np.testing.assert_allclose(cs._y_of(x, x0, d), y, rtol=0, atol=1e-9)
    assert xp[np.searchsorted(x, x0)] < 1.5  # no thinning where Im phi is of order one


def test_a_value_does_not_depend_on_the_other_thresholds_of_its_call():
    """Each threshold's map origin is its own (min(ln t, 0) rounded down): alone or among 64
    thresholds of several origins and blocks, the same value to the 1e-12 of the dropped s-nodes."""
    p = MengParams()
    T = cv.db_to_linear(np.linspace(-30.0, 30.0, 64))
    L = np.array([1, 2, 7, 20])
    whole = cv.coverage(T[:, None], L[None, :], p)
    for i in (0, 17, 31, 40, 63):
        np.testing.assert_allclose(whole[i], cv.coverage(T[i], L, p), rtol=0, atol=1e-12)


@pytest.mark.slow
@pytest.mark.parametrize("alpha, M", [(3.0, 2), (3.0, 4), (4.0, 4), (5.0, 2)])
def test_map_against_the_plain_lattice_for_large_clusters(monkeypatch, alpha, M):
    """The slow twin of the map: the plain lattice ln s = k h (origin at -inf: x = y), up to L = 64
    and T from -30 to 40 dB (a large cluster's interference decays late in the left tail)."""
    p = MengParams(alpha=alpha, n_tx_antennas=M)
    T = cv.db_to_linear(np.linspace(-30.0, 40.0, 15))[:, None]
    L = np.array([2, 3, 5, 12, 20, 40, 64])[None, :]
    got = cv.coverage(T, L, p)
    monkeypatch.setattr(cs, "_MAP_W0", -1e6)
    plain = cv.coverage(T, L, p)
    np.testing.assert_allclose(got, plain, rtol=0, atol=1e-6)
