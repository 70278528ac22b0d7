"""The compiled-backend options of ``isacnet reproduce`` and ``isacnet run`` (--backend, --dtype,
--block-size): applied to the specs, with a note where a figure has no kernel for the backend
asked, and where JAX kernels would leave a GPU idle."""

from __future__ import annotations

import click

from ..params import ParameterError

GPU_BLOCK = 65536
"""Layouts per block from which a GPU is kept busy (docs/performance.md, "JAX on a GPU")."""


def _backend_options(f):
    f = click.option(
        "--block-size",
        type=int,
        default=None,
        help="Layouts per block (one kernel call, drawn from its own seed: part of the random "
        "stream, so another size gives other numbers within the CIs). Default: the config's. "
        f"A GPU (--backend jax) needs {GPU_BLOCK} or more to be busy.",
    )(f)
    f = click.option(
        "--dtype",
        type=click.Choice(["float64", "float32"]),
        default=None,
        help="Precision of the compiled backends (default float64).",
    )(f)
    return click.option(
        "--backend",
        type=click.Choice(["numpy", "numba", "jax"]),
        default=None,
        help="Who computes the Monte Carlo kernels that have compiled versions (Song "
        "and Meng CRLB; the Meng rate on numba only): numba (CPU, isacnet[fast]) or jax (GPU, "
        "isacnet[gpu]). Figures without a kernel for it run on numpy, with a note.",
    )(f)


def _jax_gpu() -> str | None:
    """The kind of JAX's default device if it is a GPU (None: a CPU, or jax missing)."""
    try:
        import jax

        device = jax.devices()[0]
    except Exception:  # noqa: BLE001 - no jax, or no backend it can start: no GPU to speak of
        return None
    return str(device.device_kind) if device.platform == "gpu" else None


def _gpu_block_note(specs) -> None:
    """Tell a user whose JAX kernels run on a GPU in small blocks that the GPU idles."""
    small = [s for s in specs if s.options.get("backend") == "jax" and s.block_size < GPU_BLOCK]
    if not small:
        return
    gpu = _jax_gpu()
    if gpu is None:
        return
    ids = ", ".join(s.id for s in small[:3]) + (f" and {len(small) - 3} more" if len(small) > 3 else "")
    click.echo(
        f"note: JAX computes on the GPU ({gpu}), and {ids} draw blocks of {min(s.block_size for s in small)} "
        f"layouts, which keep it mostly idle (an H200: 1-2 million layouts/s with 4096, 15-100 million with "
        f"{GPU_BLOCK} or more). --block-size 1048576 (or block_size in [monte_carlo]) uses it; the block "
        "size is part of the random stream.",
        err=True,
    )


def _with_backend(specs, backend, dtype):
    """Apply --backend/--dtype to the specs whose model has compiled kernels; say which not."""
    from ..experiments.registry import get_model

    if backend is None and dtype is None:
        return specs
    out = []
    for s in specs:
        option = get_model(s.model).options.get("backend")
        if option is None:
            if backend not in (None, "numpy") or dtype not in (None, "float64"):  # numpy asked: nothing to say
                click.echo(f"note: {s.id} ({s.model}) has no compiled kernel; it runs on numpy", err=True)
            out.append(s)
            continue
        if backend is not None:
            try:
                option[0]("backend", backend)
            except ParameterError:
                click.echo(f"note: {s.id} ({s.model}) has no {backend} kernel; it runs on numpy", err=True)
                out.append(s)
                continue
        out.append(s.with_overrides(backend=backend, dtype=dtype))
    return out
