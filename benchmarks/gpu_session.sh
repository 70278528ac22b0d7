#!/usr/bin/env bash
# The device check run on a lent GPU machine (issue 18: JAX on a GPU, Dask on more cores).
#
#   bash benchmarks/gpu_session.sh OUTDIR
#
# Runs from the repository root without installing isacnet (PYTHONPATH=src), under the machine's
# own python3 and packages; wheels of packages that machine lacks (dask, distributed, h5netcdf and
# their small dependencies) may lie under .whl/ and are installed into /tmp/site first. Each step
# has its own time limit, so a step that hangs still leaves the others' logs in OUTDIR:
#   1. benchmarks/bench_gpu.py: layouts/s of the JAX kernels on the GPU (float32, float64) against
#      numpy, numba and JAX on one CPU core, with the CPU-vs-GPU and mean checks;
#   2. the JAX tests (pytest -m jax) with the GPU as JAX's default device;
#   3. benchmarks/bench_scaling.py with 1, 2, 4 and 8 workers (process pool and Dask LocalCluster).
set -u
out=${1:-/tmp/gpu_session}
mkdir -p "$out"
if ls .whl/*.whl >/dev/null 2>&1; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
export XLA_PYTHON_CLIENT_PREALLOCATE=false  # several test processes share the GPU
{ nvidia-smi -L; nproc; python3 -c "import jax, numpy, numba; print(jax.__version__, jax.devices(), numpy.__version__, numba.__version__)"; } 2>&1 | tee "$out/machine.txt"
timeout "${GPU_BENCH_S:-240}" python3 benchmarks/bench_gpu.py 2>&1 | tee "$out/bench_gpu.txt"
timeout "${JAX_TESTS_S:-150}" python3 -m pytest -q -m jax -p no:cacheprovider -n 4 tests 2>&1 | tail -20 | tee "$out/pytest_jax.txt"
timeout "${SCALING_S:-240}" python3 benchmarks/bench_scaling.py --layouts 2097152 --workers 1 2 4 8 2>&1 | tee "$out/bench_scaling.txt"
