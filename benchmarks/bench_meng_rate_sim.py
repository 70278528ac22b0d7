"""Speed of the Meng CoMP-rate Monte Carlo (MengRateKernel), as ratios against baselines in this process.

    python benchmarks/bench_meng_rate_sim.py [--layouts 100000] [--loop-layouts 1000] [--L 10] [--tori 20]

Per model ("paper": Gamma gains; "zf": channels and the ZF precoder (2) drawn per BS):

(a) a per-layout loop, numpy-vectorised over the K nearest BSs of one layout (a strong
    baseline; for "zf" the precoders by a batched np.linalg.inv over the BSs of the layout);
(b) the cost of drawing the same random numbers alone, in blocks of 4096;
(c) the kernel through isacnet.experiments.runner.estimate, serial (one core), all outputs.

"full" (spatial acceptance on a torus): ms per torus and us per user for the kernel, against
drawing the torus's random numbers alone (positions and gains).

Backends ("paper" model, every interference shape; as benchmarks/bench_backends.py): CPU time
per layout (``time.process_time``), best of ``--repeat`` interleaved rounds, against (b) of the
"paper" model (its random numbers drawn with numpy, "exp" interferers: the numpy floor):
(c) ``kernel(block_rng(seed, 0, b), 4096)`` block after block, numpy and numba float64/float32;
(d) the same through ``estimate()`` (adds the per-block moments of every output). numba is
compiled before timing. ``--skip-models`` leaves out the paper/zf/full tables above.
"""

from __future__ import annotations

import argparse
import math
import time

import numpy as np
from _common import BLOCK, blocks, measure, report, timeit

from isacnet import backends
from isacnet.experiments.runner import estimate
from isacnet.params import MengParams
from isacnet.rng import block_rng
from isacnet.simulation.meng_rate import SHAPES, MengRateKernel


def loop_paper(k: MengRateKernel, n: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    p, K, L = k.params, k.k_nearest, k.L
    acc = 0.0
    for _ in range(n):
        T = np.cumsum(rng.exponential(size=K))
        w = T ** (-p.alpha / 2)
        gi = rng.exponential(size=K - 1)
        gd = rng.gamma(p.n_tx_antennas - 1, p.comm_power_fraction, size=L)
        ok = rng.random(L - 1) < k.kappa_c
        served = np.zeros(K - 1, dtype=bool)
        served[: L - 1] = ok
        s = gd[0] * w[0] + (gd[1:] * w[1:L])[ok].sum()
        i = (gi * w[1:])[~served].sum() + 2 * T[-1] ** (1 - p.alpha / 2) / (p.alpha - 2)
        acc += math.log1p(s / i)
    return acc / n


def loop_zf(k: MengRateKernel, n: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    p, K, L, m = k.params, k.k_nearest, k.L, k.params.n_tx_antennas
    pc, ps = p.comm_power_fraction, p.sensing_power_fraction
    acc = 0.0
    for _ in range(n):
        T = np.cumsum(rng.exponential(size=K))
        w = T ** (-p.alpha / 2)
        h = (rng.standard_normal((K, m)) + 1j * rng.standard_normal((K, m))) / math.sqrt(2)
        u = (rng.standard_normal((K, m)) + 1j * rng.standard_normal((K, m))) / math.sqrt(2)
        a = np.exp(-1j * math.pi * np.arange(m) * np.cos(rng.uniform(0, 2 * math.pi, K))[:, None])
        ok = rng.random(L - 1) < k.kappa_c
        own = np.stack([u, a], axis=2)  # (K, m, 2): (2) for each BS's own user
        own[:L, :, 0] = h[:L]  # serving / cooperating BSs build (2) from the typical user's channel
        W = own @ np.linalg.inv(own.conj().transpose(0, 2, 1) @ own)
        W /= np.linalg.norm(W, axis=1, keepdims=True)
        y = np.abs(np.einsum("km,kmc->kc", h.conj(), W)) ** 2
        gd = pc * y[:L, 0]
        own[1:L, :, 0] = u[1:L]  # as interferers they serve their own users
        W = own @ np.linalg.inv(own.conj().transpose(0, 2, 1) @ own)
        W /= np.linalg.norm(W, axis=1, keepdims=True)
        y = np.abs(np.einsum("km,kmc->kc", h.conj(), W)) ** 2
        gi = pc * y[1:, 0] + ps * y[1:, 1]
        served = np.zeros(K - 1, dtype=bool)
        served[: L - 1] = ok
        s = gd[0] * w[0] + (gd[1:] * w[1:L])[ok].sum()
        i = (gi * w[1:])[~served].sum() + 2 * T[-1] ** (1 - p.alpha / 2) / (p.alpha - 2)
        acc += math.log1p(s / i)
    return acc / n


def rng_alone(k: MengRateKernel, n: int, seed: int, block: int = 4096) -> float:
    rng = np.random.default_rng(seed)
    K, L, m = k.k_nearest, k.L, k.params.n_tx_antennas
    s = 0.0
    for i in range(0, n, block):
        b = min(block, n - i)
        s += rng.standard_exponential((b, K))[0, 0] + rng.random((b, L - 1)).sum()
        if k.model == "paper":
            s += rng.standard_exponential((b, K - 1))[0, 0] + rng.gamma(m - 1, 1.0, (b, L))[0, 0]
        else:
            s += rng.standard_normal((b, 2 * K - 1, m, 2))[0, 0, 0, 0] + rng.random((b, K))[0, 0]
    return s


def backend_table(p: MengParams, L: int, n: int, repeat: int, shapes: list[str]) -> None:
    floor = "(b) random numbers alone (numpy), exp"
    methods = {floor: (lambda: rng_alone(MengRateKernel(p, L), n, 2), n)}
    names = [("numpy", "float64")]
    if backends.available("numba"):
        names += [("numba", "float64"), ("numba", "float32")]
    else:
        print("(numba not installed: its rows are skipped)")
    for shape in shapes:
        for b, d in names:
            k = MengRateKernel(p, L, interference_shape=shape, backend=b, dtype=d)
            k(block_rng(0, 0, 0), BLOCK)  # compile / warm up, both block sizes
            k(block_rng(0, 0, 1), n % BLOCK or BLOCK)
            label = "numpy" if b == "numpy" else f"numba {d}"
            methods[f"(c) kernel, {shape}, {label}"] = (lambda k=k: blocks(k, n, 3), n)
            if shape == shapes[0]:
                methods[f"(d) estimate(), {shape}, {label}"] = (lambda k=k: estimate(k, n, 4), n)
    title = f'"paper" model by backend, L = {L}, K = {MengRateKernel(p, L).k_nearest}: CPU time, best of {repeat}'
    report(title, measure(methods, repeat), floor)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layouts", type=int, default=100_000)
    ap.add_argument("--loop-layouts", type=int, default=1_000)
    ap.add_argument("--L", type=int, default=10)
    ap.add_argument("--tori", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5, help="interleaved rounds of the backend table")
    ap.add_argument("--shapes", default=",".join(SHAPES), help="interference shapes of the backend table")
    ap.add_argument("--skip-models", action="store_true", help="only the backend table")
    a = ap.parse_args()
    p = MengParams()
    if a.skip_models:
        backend_table(p, a.L, a.layouts, a.repeat, a.shapes.split(","))
        return
    print(f"Meng CoMP rate, L = {a.L}, one core; layouts/s and ratios")
    print(f"{'model':<8}{'K':>5}{'(a) loop':>12}{'(b) rng':>12}{'(c) kernel':>12}{'(a)/(c)':>10}{'(c)/(b)':>10}")
    for model, loop, scale in (("paper", loop_paper, 1), ("zf", loop_zf, 5)):
        k = MengRateKernel(p, a.L, model=model)
        n = a.layouts // scale
        nl = max(1, a.loop_layouts // scale)
        t_loop = timeit(lambda k=k, nl=nl, loop=loop: loop(k, nl, 1), repeat=1) / nl
        t_rng = timeit(lambda k=k, n=n: rng_alone(k, n, 2)) / n
        t_ours = timeit(lambda k=k, n=n: estimate(k, n, seed=3)) / n
        print(
            f"{model:<8}{k.k_nearest:>5}{1 / t_loop:>12,.0f}{1 / t_rng:>12,.0f}{1 / t_ours:>12,.0f}"
            f"{t_loop / t_ours:>10.1f}{t_ours / t_rng:>10.2f}"
        )
    k = MengRateKernel(p, a.L, model="full")
    t0 = time.perf_counter()
    pu = k.per_user(np.random.default_rng(4), a.tori)
    t_full = (time.perf_counter() - t0) / a.tori
    users = pu["rate_nats"].size / a.tori
    rng = np.random.default_rng(5)

    def torus_rng():
        nb = rng.poisson(p.bs_density * k.side**2)
        m = rng.poisson(p.user_density * k.side**2)
        rng.random((nb, 2))
        rng.random((m, 2))
        rng.random(m * (a.L - 1))
        rng.standard_exponential((m, nb))
        rng.gamma(p.n_tx_antennas - 1, 1.0, (m, a.L))

    t_rng = timeit(lambda: [torus_rng() for _ in range(a.tori)]) / a.tori
    print(
        f"\nfull: torus side {k.side:.0f} m, {users:.0f} users/torus: {1e3 * t_full:.2f} ms/torus "
        f"({1e6 * t_full / users:.2f} us/user); random numbers alone {1e3 * t_rng:.2f} ms/torus "
        f"(kernel / rng = {t_full / t_rng:.2f})"
    )
    backend_table(p, a.L, a.layouts, a.repeat, a.shapes.split(","))


if __name__ == "__main__":
    main()
