"""The numba Meng-rate kernel (rate_kernel(model="paper", backend="numba")) against slow twins.

On the same drawn layouts and gains (``numba_rate.rate_draws`` replays the kernel's draws from the
same Generator state) the kernel's outputs equal a plain-Python per-layout twin in physical units
(distances r = sqrt(T / (pi lambda_b)), the tail 2 pi lambda_b r_K^(2-alpha) / (alpha - 2)) and
the numpy backend's ``evaluate``, to rounding. Rounding bound: S and I are sums of at most L and K
positive terms, each a product of a gain and a path gain within a few ulp, so
|dSIR| / SIR <= C eps with C = 2 (K + L) + 32; then |d ln(1 + SIR)| = |dSIR| / (1 + SIR)
<= C eps ln(1 + SIR) (as x / (1 + x) <= ln(1 + x)), and |d 10 log10 SIR| <= 4.35 C eps plus the
final rounding eps |10 log10 SIR|. (Measured: at most 5.5 eps relative on the rate, C = 82-98.)

Also: the ziggurat tables' identities, the Marsaglia-Tsang inequalities, seeding, repr, pickle,
validation. Laws (KS, moments, numpy vs numba) are in tests/statistical/test_backends_rate_stat.py.
"""

from __future__ import annotations

import math
import pickle
import sys

import numpy as np
import pytest
from scipy import special

from isacnet import backends
from isacnet.experiments.runner import estimate
from isacnet.meng import rate_kernel
from isacnet.params import MengParams, ParameterError
from isacnet.rng import block_rng
from isacnet.simulation.meng_rate import MengRateKernel, RateDraws

pytestmark = pytest.mark.skipif(
    not backends.available("numba"), reason="numba is not installed (pip install 'isacnet[fast]')"
)

P = MengParams()
DTYPES = ["float64", "float32"]
SHAPES = ["exp", "matched", "sum", "zf-law"]


def eps(dtype) -> float:
    return float(np.finfo(np.dtype(dtype)).eps)


def twin(kernel: MengRateKernel, d: RateDraws) -> dict[str, np.ndarray]:
    """Per layout, plain Python floats, physical distances [m] and the physical tail."""
    p, L = kernel.params, kernel.L
    lam, alpha = p.bs_density, p.alpha
    n, K = d.arrivals.shape
    rate, sir_db, n_acc = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        r = [math.sqrt(float(t) / (math.pi * lam)) for t in d.arrivals[i]]
        s = float(d.desired[i, 0]) * r[0] ** -alpha
        interference, acc = 0.0, 0
        for k in range(1, K):
            if k < L and float(d.accept_u[i, k - 1]) < kernel.kappa_c:
                s += float(d.desired[i, k]) * r[k] ** -alpha
                acc += 1
            else:
                interference += float(d.interferer[i, k - 1]) * r[k] ** -alpha
        interference += 2.0 * math.pi * lam * r[K - 1] ** (2.0 - alpha) / (alpha - 2.0)
        rate[i] = math.log1p(s / interference)
        sir_db[i] = 10.0 * math.log10(s / interference) if s > 0 else -math.inf
        n_acc[i] = acc
    return {"rate_nats": rate, "rate_bits": rate / math.log(2.0), "sir_db": sir_db, "n_accepted": n_acc}


def check_against(got, want, kernel, dtype):
    c = (2.0 * (kernel.k_nearest + kernel.L) + 32.0) * eps(dtype)
    for q in ("rate_nats", "rate_bits"):
        g = got[q].astype(float)
        bad = ~(np.abs(g - want[q]) <= c * want[q])
        assert not bad.any(), (q, g[bad][:4], want[q][bad][:4])
    if "sir_db" in got:
        g = got["sir_db"].astype(float)
        bad = ~(np.abs(g - want["sir_db"]) <= 4.35 * c + eps(dtype) * np.abs(want["sir_db"]))
        assert not bad.any(), ("sir_db", g[bad][:4], want["sir_db"][bad][:4])
    np.testing.assert_array_equal(got["n_accepted"], want["n_accepted"])


def as64(d: RateDraws) -> RateDraws:
    return RateDraws(
        d.arrivals.astype(float), d.accept_u, desired=d.desired.astype(float), interferer=d.interferer.astype(float)
    )


# --------------------------------------------------------------------------- kernel vs twins
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(("L", "kappa"), [(1, None), (4, 0.6), (9, 1.0)])
def test_kernel_matches_twin_on_the_drawn_layouts(shape, L, kappa, dtype):
    from isacnet.backends import numba_rate

    k = rate_kernel(P, L, kappa_c=kappa, k_nearest=24, interference_shape=shape, backend="numba", dtype=dtype)
    n = 300
    got = k(block_rng(1, 0, L), n)
    assert list(got) == list(k.quantities) and all(v.dtype == np.dtype(dtype) and v.shape == (n,) for v in got.values())
    d = RateDraws(**numba_rate.rate_draws(k, block_rng(1, 0, L), n))
    assert d.arrivals.dtype == np.dtype(dtype) and d.arrivals.shape == (n, 24) and d.accept_u.shape == (n, L - 1)
    assert np.all(np.diff(d.arrivals, axis=1) > 0) and np.all(d.arrivals > 0)
    assert np.all(d.interferer > 0) and np.all(d.desired[:, 0] > 0)
    check_against(got, twin(k, d), k, dtype)
    # the numpy backend's evaluate() on the same numbers (in float64)
    ref = rate_kernel(P, L, kappa_c=kappa, k_nearest=24, interference_shape=shape).evaluate(as64(d))
    check_against(got, ref, k, dtype)
    if kappa == 0.6:  # both decisions occur, declined BSs have no desired gain drawn
        acc = d.accept_u < 0.6
        assert acc.any() and (~acc).any()
        assert np.all(d.desired[:, 1:][~acc] == 0) and np.all(d.desired[:, 1:][acc] > 0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("alpha", "mt"), [(2.5, 2), (3.3, 4), (3.5, 6), (5.0, 3)])  # Newton q=5, pow, q=7, q=10
def test_path_gain_variants_and_antennas(alpha, mt, dtype):
    from isacnet.backends import numba_rate

    p = MengParams(alpha=alpha, n_tx_antennas=mt, sensing_power_fraction=0.3)
    for shape in ("matched", "zf-law"):
        k = rate_kernel(p, 5, kappa_c=0.5, k_nearest=16, interference_shape=shape, backend="numba", dtype=dtype)
        got = k(block_rng(2, 1, mt), 200)
        check_against(got, twin(k, RateDraws(**numba_rate.rate_draws(k, block_rng(2, 1, mt), 200))), k, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
def test_no_communication_power(shape, dtype):
    """p^c = 0: desired gains 0, SIR 0, rate exactly 0, no sir_db (as numpy); "matched" is Exp(1)."""
    from isacnet.backends import numba_rate

    p = MengParams(sensing_power_fraction=1.0)
    k = rate_kernel(p, 3, kappa_c=0.5, interference_shape=shape, backend="numba", dtype=dtype)
    out = k(block_rng(3, 0, 0), 200)
    assert "sir_db" not in out and list(out) == list(rate_kernel(p, 3, interference_shape=shape).quantities)
    assert np.all(out["rate_nats"] == 0) and np.all(out["rate_bits"] == 0)
    d = RateDraws(**numba_rate.rate_draws(k, block_rng(3, 0, 0), 200))
    assert np.all(d.desired == 0) and np.all(d.interferer > 0)
    np.testing.assert_array_equal(out["n_accepted"], (d.accept_u < 0.5).sum(1))


def test_refused_and_full_cooperation():
    """kappa_c = 0: every asked BS interferes, no desired gain beyond BS 1 is drawn; kappa_c = 1:
    all accept. The first layout's draws are the same (coins are drawn for any kappa_c; later
    layouts differ: an accepting BS draws its desired gain, so the stream shifts)."""
    from isacnet.backends import numba_rate

    a = rate_kernel(P, 6, kappa_c=0.0, backend="numba")
    b = rate_kernel(P, 6, kappa_c=1.0, backend="numba")
    da = RateDraws(**numba_rate.rate_draws(a, block_rng(4, 0, 0), 100))
    db = RateDraws(**numba_rate.rate_draws(b, block_rng(4, 0, 0), 100))
    for f in ("arrivals", "accept_u", "interferer"):
        np.testing.assert_array_equal(getattr(da, f)[0], getattr(db, f)[0])
    assert da.desired[0, 0] == db.desired[0, 0]
    assert np.all(da.desired[:, 1:] == 0) and np.all(db.desired > 0)
    oa, ob = a(block_rng(4, 0, 0), 100), b(block_rng(4, 0, 0), 100)
    assert np.all(oa["n_accepted"] == 0) and np.all(ob["n_accepted"] == 5)
    assert ob["rate_nats"][0] > oa["rate_nats"][0]
    check_against(oa, twin(a, da), a, "float64")
    check_against(ob, twin(b, db), b, "float64")


# --------------------------------------------------------------------------- samplers: exact facts
def test_normal_ziggurat_tables():
    """Layer i >= 1 is [0, x_i] x [f(x_i), f(x_{i-1})], f(x) = exp(-x^2/2), x_0 = 0; layer 0 the
    base [0, r] x [0, f(r)] plus the tail; all of area v = r f(r) + sqrt(pi/2) erfc(r/sqrt 2)."""
    from isacnet.backends import _numba_random as m

    x = m._WI * 2.0**52
    r = m._NOR_R
    f = np.exp(-0.5 * x * x)
    v = r * math.exp(-0.5 * r * r) + math.sqrt(math.pi / 2) * special.erfc(r / math.sqrt(2))
    assert x[255] == pytest.approx(r, rel=1e-15) and m._NOR_INV_R == pytest.approx(1 / r, rel=1e-15)
    np.testing.assert_allclose(m._FI[1:], f[1:], rtol=1e-15)
    assert m._FI[0] == 1.0 and m._KI[1] == 0
    np.testing.assert_allclose(x[1:] * (m._FI[:-1] - m._FI[1:]), v, rtol=1e-12)  # equal areas
    assert x[0] * math.exp(-0.5 * r * r) == pytest.approx(v, rel=1e-12)  # base pseudo-width v / f(r)
    np.testing.assert_allclose(m._KI[2:].astype(float), 2.0**52 * x[1:-1] / x[2:], rtol=0, atol=1.0)
    assert m._KI[0] / 2.0**52 == pytest.approx(r * math.exp(-0.5 * r * r) / v, rel=1e-12)


@pytest.mark.parametrize("a", [1.0, 1.25, 1.6, 2.0, 5.5])
def test_marsaglia_tsang_inequalities(a):
    """The acceptance ratio exp(x^2/2 + d (1 - V + ln V)) is <= 1 on 1 + c x > 0 (so the normal
    proposal dominates), and the squeeze 1 - 0.0331 x^4 lies below it (so it never accepts what the
    exact test would reject); x on a fine grid."""
    d = a - 1 / 3
    c = 1 / math.sqrt(9 * d)
    x = np.linspace(-1 / c + 1e-9, 12.0, 400_001)
    V = (1 + c * x) ** 3
    h = 0.5 * x * x + d * (1 - V + np.log(V))
    assert h.max() <= 1e-12
    assert np.all(1 - 0.0331 * x**4 <= np.exp(h) + 1e-12)


# --------------------------------------------------------------------------- seeding, engine, API
@pytest.mark.parametrize("dtype", DTYPES)
def test_reproducible_by_seed_and_advancing(dtype):
    k = rate_kernel(P, 4, interference_shape="matched", backend="numba", dtype=dtype)
    a, b = k(block_rng(7, 1, 2), 64), k(block_rng(7, 1, 2), 64)
    for q in a:
        np.testing.assert_array_equal(a[q], b[q])
    rng = block_rng(7, 1, 2)
    s0 = rng.bit_generator.state
    first, second = k(rng, 64), k(rng, 64)
    assert rng.bit_generator.state != s0
    np.testing.assert_array_equal(first["rate_nats"], a["rate_nats"])
    assert not np.array_equal(first["rate_nats"], second["rate_nats"])
    assert not np.array_equal(a["rate_nats"], k(block_rng(7, 1, 3), 64)["rate_nats"])
    k2 = pickle.loads(pickle.dumps(k))
    assert k2 == k and repr(k2) == repr(k)
    np.testing.assert_array_equal(k2(block_rng(7, 1, 2), 64)["rate_nats"], a["rate_nats"])


def test_estimate_independent_of_chunking():
    k = rate_kernel(P, 5, interference_shape="zf-law", backend="numba")
    a = estimate(k, 3000, seed=5, block_size=500, chunk_blocks=1)
    b = estimate(k, 3000, seed=5, block_size=500, chunk_blocks=4)
    for q in a:
        assert (a[q].mean, a[q].stderr) == (b[q].mean, b[q].stderr)
    assert a["rate_nats"] != estimate(k, 3000, seed=6, block_size=500)["rate_nats"]


def test_repr_and_describe():
    """numpy: the dataclass repr of the fields before backend/dtype existed (chunk-cache key)."""
    k = rate_kernel(P, 4)
    assert repr(k) == (
        f"MengRateKernel(params={P!r}, L=4, model='paper', kappa_c={k.kappa_c!r}, k_nearest=64, "
        "interference_shape='exp', side=None, centers=())"
    )
    assert "backend" not in k.describe()
    kn = rate_kernel(P, 4, backend="numba", dtype="float32")
    assert repr(kn) == repr(k)[:-1] + ", backend='numba', dtype='float32')"
    d = kn.describe()
    assert d["backend"] == "numba" and d["dtype"] == "float32" and d["rng_stream"] == backends.load("numba").STREAM
    assert kn != k


@pytest.mark.parametrize(
    ("kwargs", "name", "match"),
    [
        ({"model": "zf", "backend": "numba"}, "backend", "model='paper' only"),
        ({"model": "full", "backend": "numba"}, "backend", "model='paper' only"),
        ({"backend": "jax"}, "backend", "no jax backend"),
        ({"backend": "fortran"}, "backend", "one of"),
        ({"dtype": "float32"}, "dtype", "float32 needs backend"),
        ({"backend": "numba", "dtype": "float16"}, "dtype", "one of"),
    ],
)
def test_validation(kwargs, name, match):
    with pytest.raises(ParameterError, match=match) as e:
        rate_kernel(P, 3, **kwargs)
    assert e.value.name == name


def test_missing_numba_raises_backend_unavailable(monkeypatch):
    """check_backend imports the backend module; without numba that is BackendUnavailable (an
    ImportError) naming the extra."""
    for mod in [m for m in sys.modules if m == "numba" or m.startswith(("numba.", "isacnet.backends.numba_"))]:
        monkeypatch.delitem(sys.modules, mod)
    monkeypatch.setitem(sys.modules, "numba", None)
    with pytest.raises(backends.BackendUnavailable, match=r"pip install 'isacnet\[fast\]'"):
        rate_kernel(P, 3, backend="numba")
    assert not backends.available("numba")
