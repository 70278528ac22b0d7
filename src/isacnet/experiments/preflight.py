"""Checks run before any work: every sweep point's kernel is built, its memory bounded and tried.

A run that cannot finish should fail in its first second with one line naming what to change,
not after hours of work, and never with a traceback or an out-of-memory kill. For every sweep
point of every spec, :func:`preflight`

1. builds the Monte Carlo kernel (the backend's package is imported here: a missing one is
   reported before any output is written);
2. bounds from below the memory one block of layouts needs (:func:`block_bytes`) and refuses
   what cannot fit in this machine's memory (:func:`available_memory`), naming the parameter
   that sets the size (``k_nearest``, ``n_bs``, ``window_radius``, ``block_size``, ...) and the
   memory it would need;
3. runs the kernel on two layouts drawn from a throw-away generator (not the run's random
   numbers: results are unchanged), so that a parameter combination the kernel cannot evaluate
   (an overflow, say) is refused with the point and its parameters named;
4. evaluates every closed form the figure needs at every point
   (:func:`isacnet.experiments.runner.closed_forms`, memoised: the run reuses the values); one
   that does not apply there (Theorem 1 at beta != 2, Lemma 3 at gamma <= 2) is skipped: NaN in
   the Dataset, a note returned here and kept in the attribute ``closed_forms_skipped``.

The bound is a lower bound: a run that passes may still run out of memory (reported in one line
by the command line, exit status 1), but one that is refused could not have run.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from ..params import ParameterError

SIZE_FIELDS = ("k_nearest", "n_bs", "max_candidates")
"""Kernel fields that set how many points one layout holds (each drawn as 8-byte floats)."""

PROBE_LAYOUTS = 2
"""Layouts each point's kernel is tried on before the run."""


def available_memory() -> int:
    """Bytes this process may use at most: the physical memory, lowered by a cgroup limit
    (``memory.max``) or an address-space rlimit where one is set."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - not POSIX
        pass
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        try:
            with open(path, encoding="ascii") as f:
                text = f.read().strip()
        except OSError:
            continue
        if text.isdigit() and int(text) < 1 << 60:
            limits.append(int(text))
    try:
        import resource

        for lim in (resource.RLIMIT_AS, resource.RLIMIT_DATA):
            soft, _ = resource.getrlimit(lim)
            if soft != resource.RLIM_INFINITY and soft > 0:
                limits.append(soft)
    except (ImportError, ValueError, OSError):  # pragma: no cover - not POSIX
        pass
    return min(limits) if limits else 1 << 40


def _gib(n: float) -> str:
    for unit, size in (("TiB", 1 << 40), ("GiB", 1 << 30), ("MiB", 1 << 20)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.3g} bytes"


def layout_points(kernel: Any) -> tuple[float, str | None]:
    """(points one layout holds, the option that sets it) for ``kernel``, from its size fields
    and, for a disk window, the Poisson mean ``pi * lambda * R**2`` (plus 10 standard deviations)."""
    best: tuple[float, str | None] = (1.0, None)
    for name in SIZE_FIELDS:
        v = getattr(kernel, name, None)
        if isinstance(v, int | np.integer) and not isinstance(v, bool) and v > best[0]:
            best = (float(v), name)
    radius = getattr(kernel, "window_radius", None)
    params = getattr(kernel, "params", None)
    if radius is not None and params is not None:
        dens_any = [getattr(params, d, None) for d in ("tx_density", "rx_density", "bs_density")]
        dens = [float(d) for d in dens_any if isinstance(d, int | float)]
        if dens:
            with np.errstate(over="ignore"):
                mean = float(np.pi * max(dens) * np.float64(radius) ** 2)
            need = mean + 10.0 * math.sqrt(mean) if math.isfinite(mean) else math.inf
            if need > best[0]:
                best = (need, "window_radius")
    return best


def block_bytes(kernel: Any, n: int) -> tuple[float, str]:
    """A lower bound on the bytes a kernel needs for a block of ``n`` layouts, and the parameter
    that sets it: its outputs (4 arrays of ``n`` floats) and four arrays of one layout's points
    (distances, two direction cosines, gains);
    the numpy Song kernel on the infinite plane draws the whole block's points at once."""
    points, name = layout_points(kernel)
    whole_block = (type(kernel).__name__ == "SongKernel" and getattr(kernel, "window_radius", 1) is None
                   and getattr(kernel, "backend", "numpy") == "numpy")
    need = 8.0 * (4 * n + (n + 3 if whole_block else 4) * points)
    return need, name or "block_size"


def check_memory(kernel: Any, n: int, where: str, options: Mapping[str, Any], block_size: int) -> None:
    """Refuse a kernel whose block of ``n`` layouts cannot fit in :func:`available_memory`."""
    need, name = block_bytes(kernel, n)
    have = available_memory()
    if need <= have:
        return
    per_layout = block_bytes(kernel, 1)[0]
    most = int(have // max(per_layout, 1.0))
    fewer = f"fewer layouts per block (block_size at most {most})" if most >= 1 else ""
    if name == "block_size":
        value: Any = block_size
        advice = fewer or "fewer layouts per block"
    else:
        value = options.get(name, getattr(kernel, name, None))
        advice = f"a smaller {name}" + (f", or {fewer}" if fewer else "")
    raise ParameterError(
        name if name == "block_size" else f"monte_carlo.{name}", value,
        f"{advice}: a block of {n} layouts needs at least {_gib(need)} of memory and this machine "
        f"has {_gib(have)}", where)


def _changed(params: Any) -> dict[str, Any]:
    """The fields of a parameter object that differ from their defaults (to name a point)."""
    try:
        default = type(params)()
    except Exception:  # noqa: BLE001 - a class without defaults: show everything
        default = None
    out = {}
    for f in dataclasses.fields(params):
        v = getattr(params, f.name)
        if default is None or getattr(default, f.name) != v:
            out[f.name] = v
    return out


_POINT_FAULTS = (ArithmeticError, ValueError, TypeError, IndexError, MemoryError, RuntimeError, Warning)
"""What a kernel raises at parameters it cannot evaluate (a Warning only where warnings are errors)."""


def _point_error(exc: BaseException, params: Any, opts: Mapping[str, Any], where: str) -> ParameterError:
    shown = {**_changed(params), **{k: v for k, v in opts.items() if v is not None}}
    msg = " ".join(str(exc).split()) or type(exc).__name__
    return ParameterError("parameters", shown, f"values the Monte Carlo can evaluate "
                          f"({type(exc).__name__}: {msg}); change them", where)


def probe(kernel: Any, params: Any, opts: Mapping[str, Any], where: str) -> None:
    """Run ``kernel`` on :data:`PROBE_LAYOUTS` layouts; an exception becomes a ParameterError
    naming the point and its non-default parameters. A kernel whose layout is costly may offer a
    ``probe_kernel()``, the same computation on fewer points (a deployment figure's sample is
    thousands of locations: 20-30 ms, 2.6 s of the preflight of ``all``)."""
    rng = np.random.default_rng(0)
    small = getattr(kernel, "probe_kernel", None)
    try:
        with np.errstate(all="ignore"):
            (small() if small is not None else kernel)(rng, PROBE_LAYOUTS)
    except ParameterError:
        raise
    except _POINT_FAULTS as exc:
        raise _point_error(exc, params, opts, where) from None


def preflight(specs: Iterable[Any], quick: bool = False, max_layouts: int | None = None, *,
              processes: int = 0) -> list[str]:
    """Build, bound and try every sweep point's kernel of ``specs`` and evaluate its closed forms
    (see the module docstring).

    ``processes`` > 0: the closed forms are evaluated in that many forked processes while this
    one builds and tries the kernels, and handed back into this process's memo (the command
    line: two where processes fork; where they cannot, or with one spec, all here, in order).

    Returns
    -------
    list of str
        One note per spec and closed form that is skipped at some points,
        ``"<spec id>: theorem1, theorem1_paper skipped at 2 of 2 points (beta = 3.0 ...)"``.

    Raises
    ------
    ParameterError
        Naming the point (spec id and index), the parameter to change and why.
    BackendUnavailable
        A ``backend`` whose package is not installed.
    """
    from .closed import closed_forms, remember_entries

    specs = list(specs)
    pool = _closed_pool(processes, len(specs))
    ok = False
    try:
        # one task per model family (meng-*, coverage-*, ...), the largest first: a family's
        # figures share the tables their closed forms build (cached per process), so each is
        # built once, and the long tasks do not come last (preflight of `all`: 5.7-6.2 -> 5.5 s)
        groups: dict[str, list[int]] = {}
        for k, spec in enumerate(specs):
            groups.setdefault(spec.model.split("-")[0], []).append(k)
        tasks = sorted(groups.values(), key=lambda g: -sum(math.prod(specs[k].shape) for k in g))
        futures = {} if pool is None else {
            tuple(g): pool.submit(_closed_elsewhere, [specs[k] for k in g]) for g in tasks}
        for spec in specs:
            _check_kernels(spec, quick, max_layouts)
        done: dict[int, tuple[list[str], dict]] = {}
        for g, fut in futures.items():
            done.update(zip(g, fut.result(), strict=True))
        notes: list[str] = []
        for k, spec in enumerate(specs):
            if pool is not None:
                spec_notes, entries = done[k]
                remember_entries(entries)
            else:
                spec_notes = _closed_notes(spec, closed_forms)
            notes += [f"{spec.id}: {note}" for note in spec_notes]
        ok = True
    finally:
        if pool is not None:
            pool.shutdown(wait=ok, cancel_futures=True)
    return notes


def _closed_pool(processes: int, n_specs: int):
    """A pool of forked processes for the closed forms, or None (evaluate them here)."""
    from ..simulation.executors import _context, _die_with_parent

    ctx = _context()
    if processes < 1 or n_specs < 2 or ctx.get_start_method() != "fork":
        return None
    from concurrent.futures import ProcessPoolExecutor

    return ProcessPoolExecutor(max_workers=processes, mp_context=ctx, initializer=_die_with_parent)


def _closed_elsewhere(specs: list[Any]) -> list[tuple[list[str], dict]]:
    """In a preflight process: per spec, the closed forms' notes and the memo entries made."""
    from .closed import closed_forms, memo_entries

    return [(_closed_notes(spec, closed_forms), memo_entries(spec)) for spec in specs]


def _check_kernels(spec: Any, quick: bool, max_layouts: int | None) -> None:
    """Build, bound and try the kernel of every sweep point of ``spec``."""
    from .models import get_model

    model = get_model(spec.model)
    n_layouts = max_layouts or (spec.quick_n_layouts if quick else spec.n_layouts)
    n = min(spec.block_size, n_layouts)
    for i, (params, opts) in enumerate(spec.points()):
        where = f"{spec.id}, sweep point {i}"
        try:
            kernel = model.kernel(params, opts)
        except ParameterError as exc:
            raise ParameterError(exc.name, exc.value, exc.valid, exc.where or where) from None
        except ImportError:
            raise
        except _POINT_FAULTS as exc:
            raise _point_error(exc, params, opts, where) from None
        check_memory(kernel, n, where, opts, spec.block_size)
        probe(kernel, params, opts, where)


def _closed_notes(spec: Any, closed_forms: Any) -> list[str]:
    """The notes of :func:`~isacnet.experiments.runner.closed_forms`; an arithmetic fault of a
    closed form becomes a ParameterError naming the spec (before any work, not after it)."""
    try:
        return closed_forms(spec)[1]
    except ParameterError:
        raise
    except _POINT_FAULTS as exc:
        msg = " ".join(str(exc).split()) or type(exc).__name__
        raise ParameterError("parameters", spec.id, f"values the closed forms can evaluate "
                             f"({type(exc).__name__}: {msg}); change them", spec.id) from None
