"""Reading and checking the chunk store's files (see :mod:`isacnet.experiments.chunkstore`).

Everything here treats a file as untrusted input: only regular files are opened (never a FIFO,
a device or a symbolic link), their size and JSON nesting are bounded before parsing, and every
field is checked for type and range. Any failure raises :class:`Invalid` with a short reason; the
store then treats the file as missing (the work is recomputed) and counts it.
"""

from __future__ import annotations

import dataclasses
import enum
import errno
import functools
import hashlib
import json
import math
import os
import re
import stat
import types
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..simulation.estimate import Moments

MAX_FILE_BYTES = 64 << 20
"""The largest chunk or point file read (a default chunk of 64 blocks is a few hundred KiB)."""

MAX_DEPTH = 32
"""The deepest JSON nesting read (our files nest about 8 deep)."""

MAX_NAME_CHARS = 200

FIELDS = ("n", "mean", "m2", "n_posinf", "n_neginf", "n_nan")
"""The order of a :class:`Moments` in a file: ``[n, mean, m2, n_posinf, n_neginf, n_nan]``."""

CHUNK_NAME = re.compile(r"chunk-(\d{9})-(\d{1,9})\.json")
"""Chunk file names: ``chunk-<first block, 9 digits>-<number of blocks>.json``."""


class Invalid(Exception):
    """A stored file that must not be used (the message says why)."""


# --------------------------------------------------------------------------- canonical JSON
def dumps(obj: Any) -> str:
    """The canonical serialisation: sorted keys, no spaces, ASCII, no NaN/Infinity (floats as
    ``repr``, which round-trips exactly)."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def checksum(doc: Mapping[str, Any]) -> str:
    """sha256 of the canonical serialisation of ``doc`` without its ``sha256`` entry."""
    body = {k: v for k, v in doc.items() if k != "sha256"}
    return hashlib.sha256(dumps(body).encode("ascii")).hexdigest()


_OPAQUE = (types.FunctionType, types.MethodType, types.BuiltinFunctionType, types.ModuleType, functools.partial)
"""Objects whose behaviour is not in their attributes (code, closures): never part of a key."""


class Uncacheable(TypeError):
    """A job holds an object whose identity cannot be written down (e.g. a closure)."""


# --------------------------------------------------------------------------- identity
def _qualname(t: type) -> str:
    return f"{t.__module__}.{t.__qualname__}"


def canonical(x: Any, _depth: int = 0) -> Any:
    """A JSON value that identifies ``x`` exactly: dataclasses field by field (type included),
    floats as ``float.hex`` (exact, NaN/inf/-0.0 kept apart), arrays by dtype, shape and sha256.

    Raises
    ------
    Uncacheable
        For objects with no faithful description (functions, closures, open handles...).
    """
    if _depth > 40:
        raise Uncacheable("nested more than 40 deep")
    d = _depth + 1
    if x is None or isinstance(x, bool | str):
        return x
    if isinstance(x, np.bool_):
        return bool(x)
    if isinstance(x, int | np.integer):
        return int(x)
    if isinstance(x, float | np.floating):
        return {"float": float(x).hex()}
    if isinstance(x, complex | np.complexfloating):
        return {"complex": [float(x.real).hex(), float(x.imag).hex()]}
    if isinstance(x, np.ndarray):
        if x.dtype.hasobject:
            return {"ndarray-object": [canonical(v, d) for v in x.ravel().tolist()], "shape": list(x.shape)}
        data = np.ascontiguousarray(x).tobytes()
        return {"ndarray": x.dtype.str, "shape": list(x.shape), "sha256": hashlib.sha256(data).hexdigest()}
    if isinstance(x, enum.Enum):
        return {"enum": _qualname(type(x)), "value": canonical(x.value, d)}
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {"type": _qualname(type(x)),
                "fields": {f.name: canonical(getattr(x, f.name), d) for f in dataclasses.fields(x)}}
    if isinstance(x, tuple) and hasattr(x, "_fields"):  # a namedtuple
        return {"type": _qualname(type(x)), "fields": {k: canonical(v, d) for k, v in zip(x._fields, x, strict=True)}}
    if isinstance(x, list | tuple):
        return [canonical(v, d) for v in x]
    if isinstance(x, Mapping):
        items = [[canonical(k, d), canonical(v, d)] for k, v in x.items()]
        return {"map": sorted(items, key=lambda kv: dumps(kv[0]))}
    if isinstance(x, set | frozenset):
        return {"set": sorted((canonical(v, d) for v in x), key=dumps)}
    if isinstance(x, type):
        return {"class": _qualname(x)}
    if not isinstance(x, _OPAQUE) and isinstance(getattr(x, "__dict__", None), dict) and x.__dict__:
        return {"type": _qualname(type(x)), "vars": canonical(vars(x), d)}  # a plain object: its state
    raise Uncacheable(f"a {type(x).__name__} cannot be written into a chunk key")


# --------------------------------------------------------------------------- safe reading
def read_regular(dir_fd: int, name: str, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``name`` in the folder ``dir_fd``, at most ``limit``.

    Opened with ``O_NOFOLLOW | O_NONBLOCK``: a symbolic link is refused, and a FIFO opens at once
    (no writer needed) and is then refused by ``fstat``, so nothing here can block.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(name, flags, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise  # gone (another run finished the point meanwhile): missing, not invalid
        if exc.errno == errno.ELOOP:
            raise Invalid("a symbolic link, not a file") from None
        raise Invalid(f"cannot be opened ({exc.strerror})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise Invalid("not a regular file")
        if st.st_size > limit:
            raise Invalid(f"{st.st_size} bytes, more than the {limit} a chunk can have")
        parts, got = [], 0
        while got <= limit:
            b = os.read(fd, min(1 << 20, limit + 1 - got))
            if not b:
                break
            parts.append(b)
            got += len(b)
        if got > limit:
            raise Invalid(f"more than {limit} bytes")
        return b"".join(parts)
    except OSError as exc:
        raise Invalid(f"cannot be read ({exc.strerror})") from None
    finally:
        os.close(fd)


_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')


def json_depth(data: bytes) -> int:
    """The deepest nesting of ``[`` / ``{`` in JSON text (strings ignored), without recursion."""
    codes = np.frombuffer(_STRINGS.sub(b'""', data), dtype=np.uint8)
    step = (codes == ord("[")).astype(np.int64) + (codes == ord("{")) - (codes == ord("]")) - (codes == ord("}"))
    return int(np.cumsum(step).max(initial=0))


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise Invalid("a JSON object with a repeated key")
    return out


def _no_constant(name: str) -> float:
    raise Invalid(f"a non-finite number ({name})")


def parse(data: bytes) -> dict[str, Any]:
    """A JSON object from ``data``: UTF-8, nesting at most :data:`MAX_DEPTH`, no repeated keys,
    no NaN/Infinity."""
    if json_depth(data) > MAX_DEPTH:
        raise Invalid(f"JSON nested deeper than {MAX_DEPTH}")
    try:
        doc = json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:  # RecursionError: belt and braces
        raise Invalid(f"not valid JSON ({type(exc).__name__})") from None
    if not isinstance(doc, dict):
        raise Invalid("not a JSON object")
    return doc


# --------------------------------------------------------------------------- field checks
def field(doc: Mapping[str, Any], key: str, kind: type | tuple[type, ...]) -> Any:
    if key not in doc:
        raise Invalid(f"no {key!r}")
    v = doc[key]
    if isinstance(v, bool) and bool not in (kind if isinstance(kind, tuple) else (kind,)):
        raise Invalid(f"{key!r} is not a {kind}")
    if not isinstance(v, kind):
        raise Invalid(f"{key!r} is not a {kind}")
    return v


def count(v: Any, what: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        raise Invalid(f"{what} = {v!r} is not a count (an integer >= 0)")
    return v


def quantities(doc: Mapping[str, Any]) -> tuple[str, ...]:
    names = field(doc, "quantities", list)
    if not names or len(set(map(str, names))) != len(names):
        raise Invalid("'quantities' is empty or repeats a name")
    for q in names:
        if not isinstance(q, str) or not 0 < len(q) <= MAX_NAME_CHARS:
            raise Invalid(f"quantity name {q!r} is not a short string")
    return tuple(names)


def moments(v: Any, layouts: int, where: str) -> Moments:
    """A :class:`Moments` from ``[n, mean, m2, n_posinf, n_neginf, n_nan]`` that sums up to
    exactly ``layouts`` samples (the kernel contract: one value per layout and quantity)."""
    if not isinstance(v, list) or len(v) != len(FIELDS):
        raise Invalid(f"{where}: not a list of the {len(FIELDS)} numbers {FIELDS}")
    n, mean, m2, pinf, ninf, nan = v
    n, pinf, ninf, nan = (count(x, f"{where} {f}") for x, f in zip((n, pinf, ninf, nan), FIELDS[:1] + FIELDS[3:],
                                                                    strict=True))
    if n + pinf + ninf + nan != layouts:
        raise Invalid(f"{where}: counts add up to {n + pinf + ninf + nan} samples, not the {layouts} layouts it covers")
    for x, f in ((mean, "mean"), (m2, "m2")):
        if isinstance(x, bool) or not isinstance(x, float) or not math.isfinite(x):
            raise Invalid(f"{where}: {f} = {x!r} is not a finite float")
    if m2 < 0.0:
        raise Invalid(f"{where}: m2 = {m2!r} < 0")
    if n == 0 and (mean != 0.0 or m2 != 0.0):
        raise Invalid(f"{where}: no finite sample, yet mean = {mean!r}, m2 = {m2!r}")
    if n == 1 and m2 != 0.0:
        raise Invalid(f"{where}: one finite sample, yet m2 = {m2!r}")
    return Moments(n, mean, m2, pinf, ninf, nan)


def encode(blk: Mapping[str, Moments], names: Sequence[str]) -> list[list]:
    """A block's moments as lists in the order of ``names``."""
    return [[getattr(blk[q], f) for f in FIELDS] for q in names]


def decode(rows: Any, names: Sequence[str], layouts: int, where: str) -> dict[str, Moments]:
    if not isinstance(rows, list) or len(rows) != len(names):
        raise Invalid(f"{where}: not one entry per quantity ({len(names)})")
    return {q: moments(v, layouts, f"{where} {q}") for q, v in zip(names, rows, strict=True)}


def check_envelope(doc: Mapping[str, Any], fmt: str, identity: str) -> None:
    """The format tag, the checksum and the identity (canonical JSON) of a stored file."""
    if doc.get("format") != fmt:
        raise Invalid(f"format {doc.get('format')!r}, not {fmt!r}")
    digest = field(doc, "sha256", str)
    try:
        actual = checksum(doc)
    except ValueError:  # cannot happen after parse(), which refuses NaN/Infinity
        raise Invalid("cannot be serialised") from None
    if digest != actual:
        raise Invalid("checksum mismatch (the file was changed after it was written)")
    if dumps(doc.get("identity")) != identity:
        raise Invalid("written for another job (identity differs: another point, seed, config, "
                      "backend, random stream or version)")
