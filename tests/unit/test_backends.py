"""Compiled backends (numba, jax) against slow, obviously correct twins on the same layouts.

Each compiled kernel exposes the layouts it draws (``song_draws`` / ``meng_draws``, from the same
Generator state); the twin recomputes every output from those layouts with the package's
reference functions: physical positions r = sqrt(g / (pi lam)) and ``sensing.song_crlb`` /
``meng.crlb_layout`` (window and Meng), or the exact O(K^2) pair sum ``sensing.pairwise_fim``
with the isotropic tails (infinite plane). Tolerances are first-order rounding bounds keyed by
dtype: |err| <= C eps (1 + kappa) |value|, with kappa = mag * tr(S) / det(S) (the amplification
of rounding in tr(S^-1), see isacnet.backends.SEPARABLE_MAX_AMPLIFICATION) and C = 64.
"""

from __future__ import annotations

import math
import pickle
import sys

import numpy as np
import pytest

from isacnet import backends, meng
from isacnet.experiments.runner import estimate
from isacnet.geometry import tail_power_mean
from isacnet.params import SPEED_OF_LIGHT, MengParams, ParameterError, SongParams
from isacnet.rng import block_rng
from isacnet.sensing import pairwise_fim, separable_fim, song_crlb, trace_inverse_2x2
from isacnet.simulation.meng import MengCrlbKernel
from isacnet.simulation.song import SongKernel

COMPILED = [
    pytest.param(
        b,
        marks=[
            pytest.mark.skipif(
                not backends.available(b),
                reason=f"{b} is not installed (pip install 'isacnet[{backends.EXTRAS[b][1]}]')",
            ),
            *([pytest.mark.slow] if b == "jax" else []),  # XLA compiles each shape: 2-5 s a test
        ],
    )
    for b in ("numba", "jax")
]
"""numba kernels are cached on disk (cache=True): compiled once (about a minute in all), then
fast; the jax tests spend their time in XLA compilation and are marked slow."""
DTYPES = ["float64", "float32"]
C_ROUND = 64.0


def eps(dtype) -> float:
    return float(np.finfo(np.dtype(dtype)).eps)


def amplification(w, ex, ey, u, fx, fy, wt=0.0, ut=0.0):
    """mag * tr / det in float64 (inf for a singular S)."""
    sxx, sxy, syy, mag = separable_fim(w, ex, ey, u, fx, fy, wt, ut, with_magnitude=True)
    tr, det = sxx + syy, sxx * syy - sxy * sxy
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(det > 0, mag * tr / det, np.inf)


def assert_close(got, want, kappa, dtype, what):
    got = np.asarray(got, dtype=np.float64)
    tol = C_ROUND * eps(dtype) * (1.0 + kappa) * np.abs(want)
    bad = ~(np.abs(got - want) <= tol)
    assert not np.any(bad), (what, got[bad][:5], want[bad][:5], kappa[bad][:5])


# --------------------------------------------------------------------------- Song
def song_twin(kernel: SongKernel, d: dict) -> dict[str, np.ndarray]:
    """Every output of the Song kernel from its drawn layouts, by the O(K^2) pair sum.

    Arrival-time units: a point at arrival time g is at distance r = sqrt(g / (pi lam)), so its
    path gain is r^-gamma = (pi lam)^(gamma/2) g^(-gamma/2); S = (M_r M_t eta / c^2) times the
    pair sum in physical gains. Beyond the K-th point the conditional mean 2 g_K^(1-gamma/2) /
    (gamma - 2) (isatropic) enters, geometry.tail_power_mean.
    """
    p = kernel.params
    half = 0.5 * p.gamma
    gt, gr = d["g_t"].astype(float), d["g_r"].astype(float)
    if kernel.window_radius is None:
        it, ir = np.ones(gt.shape, bool), np.ones(gr.shape, bool)
        wt_tail, ut_tail = tail_power_mean(gt[:, -1], p.gamma), tail_power_mean(gr[:, -1], p.gamma)
    else:
        area = math.pi * kernel.window_radius**2
        it, ir = gt <= p.tx_density * area, gr <= p.rx_density * area
        wt_tail = ut_tail = np.zeros(len(gt))
    with np.errstate(divide="ignore"):
        w = np.where(it, np.power(np.where(it, gt, 1.0), -half), 0.0)
        u = np.where(ir, np.power(np.where(ir, gr, 1.0), -half), 0.0)
    ex, ey = np.cos(d["phi_t"].astype(float)), np.sin(d["phi_t"].astype(float))
    fx, fy = np.cos(d["phi_r"].astype(float)), np.sin(d["phi_r"].astype(float))
    sxx, sxy, syy = pairwise_fim(w, ex, ey, u, fx, fy, wt_tail, ut_tail)
    tr_inv, _ = trace_inverse_2x2(sxx, sxy, syy)
    sc_t, sc_r = (math.pi * p.tx_density) ** half, (math.pi * p.rx_density) ** half
    const = p.n_rx_antennas * p.n_tx_antennas * p.eta / SPEED_OF_LIGHT**2 * sc_t * sc_r
    W, U = w.sum(1) + wt_tail, u.sum(1) + ut_tail
    with np.errstate(divide="ignore"):
        out = {
            "crlb": tr_inv / const,
            "jensen": 2.0 / (const * W * U),
            "inv_sum_tx": 1.0 / (sc_t * W),
            "inv_sum_rx": 1.0 / (sc_r * U),
        }
    return out | {"kappa": amplification(w, ex, ey, u, fx, fy, wt_tail, ut_tail), "inside": (it, ir)}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", COMPILED)
@pytest.mark.parametrize("gamma", [2.5, 3.3, 3.5, 4.0])  # Newton gains q = 5, 7; pow; 1 / g^2
def test_song_matches_pair_sum_twin_on_the_drawn_layouts(backend, dtype, gamma):
    mod = backends.load(backend)
    k = SongKernel(SongParams(gamma=gamma), k_nearest=24, backend=backend, dtype=dtype)
    got = k(block_rng(1, 0, 0), 300)
    d = mod.song_draws(k, block_rng(1, 0, 0), 300)
    want = song_twin(k, d)
    for q in ("crlb", "jensen", "inv_sum_tx", "inv_sum_rx"):
        assert got[q].dtype == np.dtype(dtype) and got[q].shape == (300,)
        assert_close(got[q], want[q], want["kappa"], dtype, q)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", COMPILED)
def test_song_window_matches_song_crlb_on_physical_positions(backend, dtype):
    """Disk window: positions r = sqrt(g / (pi lam)) inside the window, sensing.song_crlb."""
    mod = backends.load(backend)
    p = SongParams()
    k = SongKernel(p, window_radius=60.0, backend=backend, dtype=dtype)  # ~12.6 points each
    n = 120
    got = k(block_rng(2, 0, 0), n)
    d = mod.song_draws(k, block_rng(2, 0, 0), n)
    want = song_twin(k, d)
    it, ir = want["inside"]
    for i in range(n):

        def pos(g, phi, lam, inside):
            r = np.sqrt(g[inside].astype(float) / (math.pi * lam))
            return np.stack([r * np.cos(phi[inside].astype(float)), r * np.sin(phi[inside].astype(float))], -1)

        tx = pos(d["g_t"][i], d["phi_t"][i], p.tx_density, it[i])
        rx = pos(d["g_r"][i], d["phi_r"][i], p.rx_density, ir[i])
        if len(tx) == 0 or len(rx) == 0:
            assert got["crlb"][i] == np.inf
            continue
        ref = float(song_crlb(tx, rx, np.zeros(2), p, method="pairs"))
        kap = want["kappa"][i]
        if not np.isfinite(ref):
            assert got["crlb"][i] == np.inf
        elif kap < 1e-2 / eps(dtype):  # else float32 may call it singular
            assert abs(got["crlb"][i] - ref) <= C_ROUND * eps(dtype) * (1 + kap) * ref, (i, got["crlb"][i], ref)
    assert np.isinf(got["crlb"]).sum() == np.isinf(want["crlb"]).sum()


@pytest.mark.parametrize("backend", COMPILED)
def test_song_exact_pair_sum_fallback(backend, monkeypatch):
    """With the trust limit at 0 every layout takes the pair-sum path; same outputs."""
    mod = backends.load(backend)
    k = SongKernel(SongParams(), k_nearest=16, backend=backend)
    want, redone = mod.song_core(k, block_rng(3, 0, 0), 100)
    assert redone <= 1
    for q, v in k(block_rng(3, 0, 0), 100).items():  # the kernel returns the core's outputs
        np.testing.assert_array_equal(v, want[q])
    monkeypatch.setitem(backends.SEPARABLE_MAX_AMPLIFICATION, np.dtype(np.float64), 0.0)
    got, redone = mod.song_core(k, block_rng(3, 0, 0), 100)
    assert redone == 100
    twin = song_twin(k, mod.song_draws(k, block_rng(3, 0, 0), 100))
    for q in want:
        assert_close(got[q], want[q], twin["kappa"], "float64", q)
        assert_close(got[q], twin[q], twin["kappa"], "float64", q)


# --------------------------------------------------------------------------- Meng
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("backend", COMPILED)
@pytest.mark.parametrize(("n_bs", "kappa"), [(3, 1.0), (16, 1.0), (6, 0.6)])
def test_meng_matches_crlb_layout_on_the_drawn_layouts(backend, dtype, n_bs, kappa):
    mod = backends.load(backend)
    P = MengParams()
    thr = (3e3, 1e4, 1e5)
    k = MengCrlbKernel(P, n_bs, kappa=kappa, thresholds=thr, backend=backend, dtype=dtype)
    n = 150
    got = k(block_rng(4, 0, 0), n)
    assert set(got) == set(k.quantities) and all(v.dtype == np.dtype(dtype) for v in got.values())
    d = mod.meng_draws(k, block_rng(4, 0, 0), n)
    g, phi, keep = d["g"].astype(float), d["phi"].astype(float), d["keep"]
    r = np.sqrt(g / (math.pi * P.bs_density))
    c, s = np.cos(phi), np.sin(phi)
    w = np.where(keep, g ** (-0.5 * P.beta), 0.0)
    kap = amplification(w, c, s, w, c, s)
    ref = np.array(
        [
            meng.crlb_layout(np.stack([r[i] * c[i], r[i] * s[i]], -1)[keep[i]], np.zeros(2), P)
            if keep[i].sum()
            else np.inf
            for i in range(n)
        ]
    )
    np.testing.assert_array_equal(got["cluster_size"], keep.sum(1))
    sure = (kap < 1e-3 / eps(dtype)) | ~np.isfinite(kap)  # singular or not, at this dtype's threshold
    finite = sure & np.isfinite(ref)
    np.testing.assert_array_equal(got["singular"][sure], ~np.isfinite(ref[sure]))
    assert_close(
        got["log_crlb"][finite], np.log(ref[finite]), kap[finite] / np.abs(np.log(ref[finite])), dtype, "log_crlb"
    )
    assert_close(k.samples(block_rng(4, 0, 0), n)[finite], ref[finite], kap[finite], dtype, "samples")
    if "crlb" in got:
        assert_close(got["crlb"][finite], ref[finite], kap[finite], dtype, "crlb")
    for i, t in enumerate(thr):
        clear = finite & (np.abs(ref / t - 1) > 1e3 * eps(dtype) * (1 + kap))
        np.testing.assert_array_equal(got[f"cdf_{i}"][clear], ref[clear] <= t)
    if kappa == 1.0:
        const = P.zeta2 * (math.pi * P.bs_density) ** P.beta
        W, Q = w.sum(1), (w * w).sum(1)
        ones = np.zeros(n)
        assert_close(got["isotropic"], 2 / (const * W * W), ones, dtype, "isotropic")
        assert_close(got["jensen"], 2 / (const * (W * W + Q)), ones, dtype, "jensen")


# --------------------------------------------------------------------------- numba specifics
numba_only = pytest.mark.skipif(
    not backends.available("numba"), reason="numba is not installed (pip install 'isacnet[fast]')"
)


@numba_only
@pytest.mark.parametrize("dtype", DTYPES)
def test_numba_bearing_map_is_cos_sin(dtype):
    from isacnet.backends.numba_kernels import unit_vectors

    u = np.concatenate([np.random.default_rng(0).random(20_000), [0.0, 0.5, 1 - 2**-32, 2**-33, 0.25, 0.75]])
    phi = 2 * math.pi * u.astype(np.dtype(dtype)).astype(float) - math.pi
    c, s = unit_vectors(u.astype(dtype))
    assert c.dtype == np.dtype(dtype)
    tol = 8 * eps(dtype)
    assert np.max(np.abs(c - np.cos(phi))) < tol and np.max(np.abs(s - np.sin(phi))) < tol


def _sfc64(state: np.ndarray) -> np.random.Generator:
    """numpy's own SFC64 Generator, put in the given (a, b, c, counter) state."""
    bg = np.random.SFC64()
    st = bg.state
    st["state"]["state"] = np.asarray(state, np.uint64).copy()
    st["has_uint32"] = st["uinteger"] = 0
    bg.state = st
    return np.random.Generator(bg)


@numba_only
def test_numba_stream_is_numpys_sfc64_seeded_from_the_block_generator():
    """The state: three raw outputs of the block's bit generator, counter 1, 12 outputs
    discarded (numpy's SFC64 seeding); then the raw outputs and the float64 exponentials are
    numpy's SFC64 Generator's, bit for bit (over 10^6 draws: ~11,000 take the slow paths)."""
    from isacnet.backends.numba_kernels import exponentials, raw_outputs, stream_state

    st = stream_state(np.random.default_rng(42))
    seed = np.random.default_rng(42).bit_generator.random_raw(3)
    ref = _sfc64([*seed, 1])
    ref.bit_generator.random_raw(12)
    np.testing.assert_array_equal(st, ref.bit_generator.state["state"]["state"])
    out = np.empty(1000, np.uint64)
    raw_outputs(st.copy(), out)
    np.testing.assert_array_equal(out, _sfc64(st).bit_generator.random_raw(1000))
    x = np.empty(1_000_000)
    exponentials(st.copy(), x)
    np.testing.assert_array_equal(x, _sfc64(st).standard_exponential(1_000_000))


@numba_only
def test_numba_draws_come_from_the_stream():
    """float64 layouts: per process, K exponentials (numpy's SFC64 stream), then ceil(K/2) raw
    outputs for the bearings, each split in two 32-bit halves: u = (j + 1/2) / 2^32."""
    from isacnet.backends.numba_kernels import song_draws, stream_state

    k = SongKernel(SongParams(), k_nearest=7, backend="numba")
    d = song_draws(k, np.random.default_rng(42), 3)
    ref = _sfc64(stream_state(np.random.default_rng(42)))
    for i in range(3):
        for g, u in ((d["g_t"][i], d["u_t"][i]), (d["g_r"][i], d["u_r"][i])):
            np.testing.assert_array_equal(g, np.cumsum(ref.standard_exponential(7)))  # sequential sums in both
            raw = ref.bit_generator.random_raw(4)
            j = np.stack([raw >> np.uint64(32), raw & np.uint64(0xFFFFFFFF)], 1).ravel()[:7]
            np.testing.assert_array_equal(u, (j.astype(float) + 0.5) * 2.0**-32)


# --------------------------------------------------------------------------- seeding, engine, API
@pytest.mark.parametrize("backend", COMPILED)
def test_reproducible_by_seed_and_advancing(backend):
    for k in (SongKernel(SongParams(), k_nearest=8, backend=backend), MengCrlbKernel(MengParams(), 5, backend=backend)):
        a, b = k(block_rng(7, 1, 2), 50), k(block_rng(7, 1, 2), 50)
        for q in a:
            np.testing.assert_array_equal(a[q], b[q])
        rng = block_rng(7, 1, 2)
        first, second = k(rng, 50), k(rng, 50)  # the Generator advances
        assert not np.array_equal(
            first["log_crlb" if "log_crlb" in first else "crlb"], second["log_crlb" if "log_crlb" in second else "crlb"]
        )
        other = k(block_rng(7, 1, 3), 50)
        assert not np.array_equal(a["jensen"], other["jensen"])


@pytest.mark.parametrize("backend", COMPILED)
def test_estimate_independent_of_chunking(backend):
    k = MengCrlbKernel(MengParams(), 8, backend=backend)
    a = estimate(k, 3000, seed=5, block_size=500, chunk_blocks=1)
    b = estimate(k, 3000, seed=5, block_size=500, chunk_blocks=4)
    for q in a:
        assert (a[q].mean, a[q].stderr) == (b[q].mean, b[q].stderr)


def test_repr_of_numpy_kernels_unchanged_and_pickle():
    """The numpy kernels' repr (part of the chunk-cache key) is the plain dataclass repr of the
    fields they had before ``backend``/``dtype``; compiled kernels name their backend."""
    p = SongParams()
    assert repr(SongKernel(p)) == f"SongKernel(params={p!r}, k_nearest=64, window_radius=None)"
    q = MengParams()
    assert repr(MengCrlbKernel(q, 4, thresholds=(1.0,))) == (
        f"MengCrlbKernel(params={q!r}, n_bs=4, kappa=1.0, thresholds=(1.0,))"
    )
    for b in ("numba", "jax"):
        if backends.available(b):
            k = SongKernel(p, backend=b, dtype="float32")
            assert repr(k).endswith(f"backend='{b}', dtype='float32')")
            assert pickle.loads(pickle.dumps(k)) == k
            assert k.describe()["backend"] == b


def test_backend_and_dtype_validation():
    with pytest.raises(ParameterError, match="backend"):
        SongKernel(SongParams(), backend="cuda")
    with pytest.raises(ParameterError, match="dtype"):
        MengCrlbKernel(MengParams(), 4, dtype="float16")
    with pytest.raises(ParameterError, match="float32 needs backend"):
        SongKernel(SongParams(), dtype="float32")


@pytest.mark.parametrize(("backend", "extra"), [("numba", "fast"), ("jax", "gpu")])
def test_missing_package_names_the_extra(backend, extra, monkeypatch):
    monkeypatch.setitem(sys.modules, f"isacnet.backends.{backend}_kernels", None)
    with pytest.raises(backends.BackendUnavailable, match=rf"isacnet\[{extra}\]"):
        SongKernel(SongParams(), backend=backend)
    with pytest.raises(ImportError):
        MengCrlbKernel(MengParams(), 4, backend=backend)
    assert not backends.available(backend)
