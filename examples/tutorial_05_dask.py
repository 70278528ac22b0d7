"""
Running on a Dask cluster
=========================

The Monte Carlo of isacnet is cut into blocks of layouts, each drawn from its own seeded
generator, and the blocks are folded in a fixed order. So a run gives the same numbers, bit for
bit, on one core, on a process pool or on a Dask cluster of any size: the cluster only makes it
faster. This tutorial starts a ``LocalCluster`` of two worker processes on this machine, runs a
facade function and a whole figure sweep on it, and checks the numbers against the serial run.
Needs ``pip install "isacnet[distributed]"``.

For a real cluster, start ``dask scheduler`` on one machine and ``dask worker tcp://host:8786``
on the others (each with isacnet installed), then use ``Client("tcp://host:8786")`` below in
place of the ``LocalCluster``, or ``isacnet run ... --scheduler tcp://host:8786`` on the
command line.

**Why every cell starts with** ``if __name__ == "__main__":`` Dask starts its worker
processes fresh (not forked), and each one imports the script that started it. Without the
guard, each worker would import this script and try to start a cluster of its own. The same
guard is needed in any script that starts a ``LocalCluster`` (or an isacnet process pool on
macOS and Windows).
"""

import time

import isacnet
from isacnet import meng
from isacnet.simulation.executors import DaskExecutor

if __name__ == "__main__":
    from distributed import Client, LocalCluster

    # two single-threaded worker processes, reachable from this machine only, no dashboard
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    client = Client(cluster)
    executor = DaskExecutor(client=client)  # isacnet's executor on that client (never closes it)
    print(executor, "-", sum(client.nthreads().values()), "worker threads")

# %%
# A facade function on the cluster
# ---------------------------------
# Every Monte Carlo function takes the run options as keywords (or ``run=RunOptions(...)``):
# ``executor=`` says who runs the blocks. Here the expected CRLB of the 8 nearest BSs of the
# Meng & Masouros model, on the cluster and serially.

if __name__ == "__main__":
    params = isacnet.MengParams()
    t0 = time.perf_counter()
    on_dask = meng.expected_crlb(8, params, 40_000, seed=3, executor=executor)
    t_dask = time.perf_counter() - t0
    serial = meng.expected_crlb(8, params, 40_000, seed=3)  # workers=1: the serial reference
    print(f"Dask:   {on_dask.mean:.6g} m^2 (95% CI {on_dask.ci95[0]:.6g} .. {on_dask.ci95[1]:.6g}), "
          f"{t_dask:.2f} s")
    print(f"serial: {serial.mean:.6g} m^2")
    print("bit for bit equal:", on_dask.mean == serial.mean and on_dask.stderr == serial.stderr)

# %%
# A figure sweep on the cluster
# -----------------------------
# The engine of ``isacnet run`` takes the same executor: here the Song et al. figure 1c (the
# CRLB against the TX/RX density), with few layouts so that the page builds quickly.
# ``resolve_figures`` finds the shipped specs by id (``isacnet list``); ``with_overrides``
# changes the Monte Carlo settings of a spec; ``load_spec("my.toml")`` reads your own.

from isacnet.experiments.runner import run_spec  # noqa: E402
from isacnet.experiments.spec import resolve_figures  # noqa: E402

if __name__ == "__main__":
    (spec,) = resolve_figures(["song-fig1c"])
    spec = spec.with_overrides(n_layouts=4096, block_size=1024)
    t0 = time.perf_counter()
    ds = run_spec(spec, executor)
    print(f"{spec.id}: {ds.sizes} on Dask in {time.perf_counter() - t0:.2f} s")
    print(ds[["crlb", "crlb_ci_low", "crlb_ci_high", "bound"]].to_dataframe().to_string(float_format="%.4g"))
    ds_serial = run_spec(spec)  # the serial reference
    print("same numbers serially:", bool((ds.crlb == ds_serial.crlb).all()))

# %%
# With the command line the same run is
# ``isacnet run CONFIG --scheduler local --workers 2`` (a ``LocalCluster`` started and closed for
# the run) or ``--scheduler tcp://host:8786`` (your cluster); ``isacnet reproduce all
# --scheduler ...`` runs every paper figure on it. ``DaskExecutor(n_workers=2)`` (no client)
# starts and closes a local cluster itself, used as ``with DaskExecutor(n_workers=2) as ex:``.
#
# A worker that dies has its chunks rerun elsewhere (they draw the same random numbers, so the
# result does not change); with ``cache=`` (a
# :class:`~isacnet.experiments.chunkstore.ChunkStore`, or ``--out`` on the command line) an
# interrupted run resumes from its finished chunks (:doc:`../guide/reproducibility`).
#
# Close what you started:

if __name__ == "__main__":
    client.close()
    cluster.close()
