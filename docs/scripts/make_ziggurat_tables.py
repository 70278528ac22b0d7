"""Write ``src/isacnet/backends/_ziggurat_tables.py``: numpy's ziggurat tables, vendored.

The numba backend's exponential and normal samplers (:mod:`isacnet.backends._numba_random`) are
numpy's ziggurats bit for bit, so they need numpy's tables. numpy keeps them in C
(``numpy/random/src/distributions/ziggurat_constants.h``); numba ports them to Python in its
private module ``numba.np.random._constants``. The backend used to import that private module;
this script copies the tables once into isacnet, as exact float/int literals (``repr`` of a
float round-trips), so that a numba release that moves its private module cannot break isacnet.

Run it from the repository root with numba installed::

    python docs/scripts/make_ziggurat_tables.py

and check that ``git diff`` shows no change (the tables are numpy's and have not changed since
numpy 1.17). The identities the tables satisfy (equal layer areas, wi/ki/fi relations) are
checked in tests/unit/test_backends_rate.py and tests/unit/test_numba_random.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numba.np.random import _constants as c

OUT = Path(__file__).resolve().parents[2] / "src" / "isacnet" / "backends" / "_ziggurat_tables.py"

TABLES = [
    # name, numba name, kind
    ("KE", "ke_double", "uint64"), ("WE", "we_double", "float64"), ("FE", "fe_double", "float64"),
    ("KE_F", "ke_float", "uint32"), ("WE_F", "we_float", "float32"), ("FE_F", "fe_float", "float32"),
    ("KI", "ki_double", "uint64"), ("WI", "wi_double", "float64"), ("FI", "fi_double", "float64"),
]
SCALARS = [("EXP_R", "ziggurat_exp_r", "float64"), ("EXP_R_F", "ziggurat_exp_r_f", "float32"),
           ("NOR_R", "ziggurat_nor_r", "float64"), ("NOR_INV_R", "ziggurat_nor_inv_r", "float64")]


def _lit(x, kind: str) -> str:
    if kind.startswith("uint"):
        return str(int(x))
    return repr(float(np.dtype(kind).type(x)))


def main() -> None:
    lines = [
        '"""numpy\'s ziggurat tables (exponential: KE, WE, FE; normal: KI, WI, FI; ``_F``: float32),',
        "vendored from numba's port by docs/scripts/make_ziggurat_tables.py. Generated: do not edit.\"\"\"",
        "",
        "# fmt: off",
        "# ruff: noqa: E501",
    ]
    for name, src, kind in SCALARS:
        lines.append(f"{name} = {_lit(getattr(c, src), kind)}")
    for name, src, kind in TABLES:
        vals = np.asarray(getattr(c, src))
        assert vals.shape == (256,), (src, vals.shape)
        body = ", ".join(_lit(v, kind) for v in vals)
        lines.append(f"{name} = ({body},)")
        lines.append(f'{name}_DTYPE = "{kind}"')
    OUT.write_text("\n".join(lines) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
