"""MengRateKernel (CoMP rate (8)-(9)): vectorised kernel against slow per-layout twins on the same
random numbers, the literal ZF precoder (2), shapes, validation, seeding, pickling."""

from __future__ import annotations

import cmath
import math
import pickle

import numpy as np
import pytest
from scipy import integrate

from isacnet.experiments.runner import estimate
from isacnet.meng import rate_kernel
from isacnet.params import MengParams, ParameterError
from isacnet.simulation import meng_rate
from isacnet.simulation.meng_rate import (
    MengRateKernel,
    outside_square_integral,
    steering,
    steering_phase,
    zf_desired_gain,
    zf_interference_gain,
)

P = MengParams()


# --------------------------------------------------------------------------- slow twins
def twin_paper(kernel: MengRateKernel, d, gains=None) -> dict[str, np.ndarray]:
    """Per layout, plain Python, physical distances [m] and the physical tail
    lambda_b int_{r_K}^inf 2 pi r r^-alpha dr = 2 pi lambda_b r_K^(2-alpha) / (alpha - 2).
    ``gains``: (desired, interferer) ("zf": from :func:`twin_zf_gains`)."""
    p, L = kernel.params, kernel.L
    lam, alpha = p.bs_density, p.alpha
    desired, interferer = (d.desired, d.interferer) if gains is None else gains
    n, K = d.arrivals.shape
    rate, sir_db, n_acc = np.empty(n), np.empty(n), np.empty(n)
    for i in range(n):
        r = [math.sqrt(float(t) / (math.pi * lam)) for t in d.arrivals[i]]
        s = float(desired[i, 0]) * r[0] ** -alpha
        interference, acc = 0.0, 0
        for k in range(1, K):
            if k < L and d.accept_u[i, k - 1] < kernel.kappa_c:
                s += float(desired[i, k]) * r[k] ** -alpha
                acc += 1
            else:
                interference += float(interferer[i, k - 1]) * r[k] ** -alpha
        interference += 2.0 * math.pi * lam * r[K - 1] ** (2.0 - alpha) / (alpha - 2.0)
        rate[i] = math.log(1.0 + s / interference)
        sir_db[i] = 10.0 * math.log10(s / interference)
        n_acc[i] = acc
    return {"rate_nats": rate, "rate_bits": rate / math.log(2.0), "sir_db": sir_db, "n_accepted": n_acc}


def literal_zf(u: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Normalised columns of W = H (H^H H)^-1, H = [u, a] (eq. (2)), by an explicit inverse."""
    H = np.column_stack([u, a])
    W = H @ np.linalg.inv(H.conj().T @ H)
    return W[:, 0] / np.linalg.norm(W[:, 0]), W[:, 1] / np.linalg.norm(W[:, 1])


def twin_zf_gains(kernel: MengRateKernel, d) -> tuple[np.ndarray, np.ndarray]:
    p, L = kernel.params, kernel.L
    pc, ps, m = p.comm_power_fraction, p.sensing_power_fraction, p.n_tx_antennas
    n, K = d.arrivals.shape
    gd, gi = np.empty((n, L)), np.empty((n, K - 1))
    for i in range(n):
        for k in range(K):
            a = np.array([cmath.exp(-1j * math.pi * j * math.cos(d.theta[i, k])) for j in range(m)])
            h = d.h[i, k]
            if k < L:  # the BS serves the typical user: (2) built from h and its target
                wc, ws = literal_zf(h, a)
                assert abs(np.vdot(h, ws)) < 1e-9 * np.linalg.norm(h) and abs(np.vdot(a, wc)) < 1e-9
                gd[i, k] = pc * abs(np.vdot(h, wc)) ** 2  # np.vdot(h, w) = h^H w
            if k >= 1:  # as an interferer: (2) built for its own user and target
                u = d.h_user[i, k - 1]
                wc, ws = literal_zf(u, a)
                assert abs(np.vdot(u, ws)) < 1e-9 * np.linalg.norm(u) and abs(np.vdot(a, wc)) < 1e-9
                gi[i, k - 1] = pc * abs(np.vdot(h, wc)) ** 2 + ps * abs(np.vdot(h, ws)) ** 2
    return gd, gi


def twin_full(kernel: MengRateKernel, t: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per user, per BS, plain Python minimum-image distances on the torus."""
    p, side, L = kernel.params, kernel.side, kernel.L
    bs, us = t["bs"], t["users"]
    outside = p.bs_density * outside_square_integral(side, p.alpha)
    rates, n_acc = [], []
    for j in range(us.shape[0]):
        d2 = []
        for b in range(bs.shape[0]):
            dx = bs[b, 0] - us[j, 0]
            dy = bs[b, 1] - us[j, 1]
            dx -= side * round(dx / side)
            dy -= side * round(dy / side)
            d2.append(dx * dx + dy * dy)
        anchor = min(range(len(d2)), key=d2.__getitem__)
        order = sorted(range(len(d2)), key=d2.__getitem__)
        assert order[1:L] == list(t["coop_idx"][j])  # BSs 2..L, nearest first
        served = {anchor: float(t["g_des"][j, 0])}
        for c in range(L - 1):
            if t["coop_acc"][j, c]:
                served[int(t["coop_idx"][j, c])] = float(t["g_des"][j, c + 1])
        s = sum(g * d2[b] ** (-p.alpha / 2) for b, g in served.items())
        i = sum(float(t["g_int"][j, b]) * d2[b] ** (-p.alpha / 2) for b in range(len(d2)) if b not in served)
        rates.append(math.log1p(s / (i + outside)))
        n_acc.append(len(served) - 1)
    return {"rate_nats": np.array(rates), "n_accepted": np.array(n_acc, dtype=float)}


# --------------------------------------------------------------------------- kernel vs twins
@pytest.mark.parametrize("shape", ["exp", "matched", "sum", "zf-law"])
@pytest.mark.parametrize("L,kappa", [(1, None), (4, 0.6), (9, 1.0)])
def test_paper_kernel_matches_per_layout_twin(shape, L, kappa):
    k = rate_kernel(P, L, kappa_c=kappa, k_nearest=12, interference_shape=shape)
    d = k.draw(np.random.default_rng(3), 40)
    out, ref = k.evaluate(d), twin_paper(k, d)
    for q in ref:
        np.testing.assert_allclose(out[q], ref[q], rtol=1e-11, atol=1e-12, err_msg=q)
    assert np.all((out["n_accepted"] >= 0) & (out["n_accepted"] <= L - 1))


@pytest.mark.parametrize("mt,ps", [(2, 0.5), (4, 0.3), (5, 0.0)])
def test_zf_gains_match_literal_precoder(mt, ps):
    p = MengParams(n_tx_antennas=mt, sensing_power_fraction=ps)
    k = rate_kernel(p, 3, model="zf", kappa_c=0.5, k_nearest=6)
    d = k.draw(np.random.default_rng(4), 15)
    gd, gi = k.gains(d)
    gd2, gi2 = twin_zf_gains(k, d)
    np.testing.assert_allclose(gd, gd2, rtol=1e-9)
    np.testing.assert_allclose(gi, gi2, rtol=1e-9)
    out, ref = k.evaluate(d), twin_paper(k, d, gains=(gd2, gi2))
    np.testing.assert_allclose(out["rate_nats"], ref["rate_nats"], rtol=1e-11)


def test_steering_phase_and_gain_helpers():
    rng = np.random.default_rng(1)
    theta = rng.random(7) * 6.3
    a = steering(theta, 5)
    np.testing.assert_allclose(steering_phase(theta)[:, None] ** np.arange(5), a, rtol=1e-13, atol=1e-14)
    # printed a^H(theta) = [1, ..., e^{j pi (M-1) cos theta}]
    np.testing.assert_allclose(a.conj()[:, 4], np.exp(1j * math.pi * 4 * np.cos(theta)))
    h = rng.standard_normal((7, 5)) + 1j * rng.standard_normal((7, 5))
    z = steering_phase(theta)
    proj = h - (np.einsum("nm,nm->n", a.conj(), h) / 5)[:, None] * a
    np.testing.assert_allclose(zf_desired_gain(h, z, 0.7), 0.7 * np.linalg.norm(proj, axis=1) ** 2, rtol=1e-12)
    # an interferer whose own user's channel is the typical user's: only its comm beam reaches it
    np.testing.assert_allclose(zf_interference_gain(h, h, z, 0.7, 0.3), zf_desired_gain(h, z, 0.7), rtol=1e-10)


def test_full_kernel_matches_per_user_twin():
    p = MengParams(resource_blocks=3, user_density=2e-6)
    k = rate_kernel(p, 4, model="full", side=math.sqrt(80 / p.bs_density))
    rng = np.random.default_rng(8)
    for _ in range(2):
        t = k.torus(rng)
        assert t["coop_acc"].sum() < t["coop_acc"].size  # capacity 2 binds somewhere: acceptance matters
        v, ref = k.torus_values(t), twin_full(k, t)
        np.testing.assert_allclose(v["rate_nats"], ref["rate_nats"], rtol=1e-11)
        np.testing.assert_array_equal(v["n_accepted"], ref["n_accepted"])


def test_full_kernel_is_horvitz_thompson_of_per_user_values():
    k = rate_kernel(P, 3, model="full", centers=(("rate_nats", 2.0),))
    out = k(np.random.default_rng(2), 3)
    pu = k.per_user(np.random.default_rng(2), 3)
    for j in range(3):
        f = pu["rate_nats"][pu["torus"] == j]
        assert out["rate_nats"][j] == pytest.approx(2.0 + np.sum(f - 2.0) / k.expected_users, rel=1e-12)
        assert out["n_accepted"][j] == pytest.approx(np.sum(pu["n_accepted"][pu["torus"] == j]) / k.expected_users)
        assert out["users"][j] == pytest.approx(f.size / k.expected_users)


def test_outside_square_integral():
    # alpha = 4: int_0^{pi/4} cos^2 = pi/8 + 1/4, C = 4 (s/2)^-2 (pi/8 + 1/4)
    s = 3.0
    assert outside_square_integral(s, 4.0) == pytest.approx(4.0 / (s / 2) ** 2 * (math.pi / 8 + 0.25), rel=1e-13)
    # any alpha: outside the disk of radius R = s/2 minus the four corners of the square beyond it
    for alpha in (2.5, 3.0, 5.5):
        disk = 2 * math.pi * (s / 2) ** (2 - alpha) / (alpha - 2)
        corners, _ = integrate.dblquad(
            lambda y, x, a=alpha: (x * x + y * y) ** (-a / 2),
            0,
            s / 2,
            lambda x: math.sqrt(max((s / 2) ** 2 - x * x, 0.0)),
            lambda x: s / 2,
            epsabs=1e-13,
            epsrel=1e-12,
        )
        assert outside_square_integral(s, alpha) == pytest.approx(disk - 4 * corners, rel=1e-9)


# --------------------------------------------------------------------------- exact small facts
@pytest.mark.parametrize("model", ["paper", "zf"])
def test_refused_cooperation_is_l1_on_the_same_numbers(model):
    """kappa_c = 0: the asked BSs all interfere, and acceptance is drawn last: the draws of L = 1
    bit for bit, and the same rates (up to the order of summation)."""
    k6 = rate_kernel(P, 6, model=model, kappa_c=0.0, k_nearest=64)
    k1 = rate_kernel(P, 1, model=model, k_nearest=64)
    d6, d1 = k6.draw(np.random.default_rng(5), 300), k1.draw(np.random.default_rng(5), 300)
    for f in ("arrivals", "interferer", "h", "h_user", "theta"):
        np.testing.assert_array_equal(getattr(d6, f), getattr(d1, f))
    if model == "paper":
        np.testing.assert_array_equal(d6.desired[:, :1], d1.desired)
    a, b = k6(np.random.default_rng(5), 300), k1(np.random.default_rng(5), 300)
    for q in set(b) - {"cv_x", "cv_rate_x"}:  # the control compares BS 1 with BS L + 1: it depends on L
        np.testing.assert_allclose(a[q], b[q], rtol=1e-13, atol=1e-12)
    c = rate_kernel(P, 6, model=model, kappa_c=1.0, k_nearest=64)(np.random.default_rng(5), 300)
    assert np.all(c["n_accepted"] == 5) and np.all(c["rate_nats"] > a["rate_nats"])


def test_outputs_shapes_names_and_consistency():
    for model in ("paper", "zf", "full"):
        k = rate_kernel(P, 3, model=model)
        n = 2 if model == "full" else 50
        out = k(np.random.default_rng(0), n)
        assert set(out) == set(k.quantities)
        assert all(v.shape == (n,) and np.all(np.isfinite(v)) for v in out.values())
        if model != "full":
            np.testing.assert_allclose(out["rate_bits"], out["rate_nats"] / math.log(2), rtol=1e-15)
            np.testing.assert_allclose(np.log1p(10 ** (out["sir_db"] / 10)), out["rate_nats"], rtol=1e-12)
        assert isinstance(k.describe(), dict)


def test_no_communication_power_gives_zero_rate_and_no_sir_db():
    k = rate_kernel(MengParams(sensing_power_fraction=1.0), 3)
    out = k(np.random.default_rng(0), 20)
    assert "sir_db" not in out and np.all(out["rate_nats"] == 0.0)


def test_sub_batches_continue_the_stream(monkeypatch):
    k = rate_kernel(P, 2, k_nearest=16)
    monkeypatch.setattr(meng_rate, "MAX_ELEMENTS", 16 * 7)  # 7 layouts per sub-batch
    out = k(np.random.default_rng(6), 30)
    rng = np.random.default_rng(6)
    parts = [k.evaluate(k.draw(rng, min(7, 30 - i)))["rate_nats"] for i in range(0, 30, 7)]
    np.testing.assert_array_equal(out["rate_nats"], np.concatenate(parts))


def test_truncate_keeps_the_nearest():
    k = rate_kernel(P, 3, k_nearest=40)
    d = k.draw(np.random.default_rng(1), 10)
    t = d.truncate(20)
    assert t.arrivals.shape == (10, 20) and t.interferer.shape == (10, 19) and t.desired.shape == (10, 3)
    np.testing.assert_array_equal(t.arrivals, d.arrivals[:, :20])
    k20 = rate_kernel(P, 3, k_nearest=20)
    assert k20.kappa_c == k.kappa_c
    np.testing.assert_allclose(k20.evaluate(t)["rate_nats"], twin_paper(k20, t)["rate_nats"], rtol=1e-11)


# --------------------------------------------------------------------------- seeding, pickling, validation
def test_deterministic_by_seed_and_picklable():
    for model in ("paper", "zf", "full"):
        k = rate_kernel(P, 4, model=model)
        k2 = pickle.loads(pickle.dumps(k))
        assert k2 == k and repr(k2) == repr(k) == repr(rate_kernel(P, 4, model=model))
        n = 2 if model == "full" else 100
        a = k(np.random.default_rng(11), n)
        b = k2(np.random.default_rng(11), n)
        for q in a:
            np.testing.assert_array_equal(a[q], b[q])
    k = rate_kernel(P, 4)
    e1 = estimate(k, 5000, seed=3, block_size=1000)
    e2 = estimate(k, 5000, seed=3, block_size=1000, chunk_blocks=2)
    assert e1["rate_nats"] == e2["rate_nats"]
    assert e1["rate_nats"] != estimate(k, 5000, seed=4, block_size=1000)["rate_nats"]


def test_default_kappa_and_k():
    from isacnet.analysis.meng_sensing import kappa_c

    k = rate_kernel(P, 20)
    assert k.kappa_c == pytest.approx(float(kappa_c(P.resource_blocks, P.mu_c, 20)))
    assert k.k_nearest == 80 and rate_kernel(P, 3).k_nearest == 64
    assert rate_kernel(P, 1).kappa_c == 1.0


@pytest.mark.parametrize(
    "kwargs,name",
    [
        ({"L": 0}, "L"),
        ({"L": 2.5}, "L"),
        ({"L": 3, "model": "coherent"}, "model"),
        ({"L": 3, "kappa_c": 1.5}, "kappa_c"),
        ({"L": 3, "kappa_c": -0.1}, "kappa_c"),
        ({"L": 3, "kappa_c": math.nan}, "kappa_c"),
        ({"L": 3, "model": "full", "kappa_c": 0.5}, "kappa_c"),
        ({"L": 3, "model": "full", "k_nearest": 64}, "k_nearest"),
        ({"L": 3, "k_nearest": 2}, "k_nearest"),
        ({"L": 3, "interference_shape": "rayleigh"}, "interference_shape"),
        ({"L": 3, "model": "zf", "interference_shape": "exp"}, "interference_shape"),
        ({"L": 3, "side": 1e4}, "side"),
        ({"L": 3, "model": "full", "side": 10.0}, "side"),
        ({"L": 3, "model": "full", "centers": (("rate", 1.0),)}, "centers"),
        ({"L": 3, "centers": (("rate_nats", 1.0),)}, "centers"),
    ],
)
def test_validation(kwargs, name):
    with pytest.raises(ParameterError) as e:
        rate_kernel(P, **kwargs)
    assert e.value.name == name
