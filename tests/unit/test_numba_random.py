"""The vendored ziggurat tables of the numba backend (isacnet.backends._ziggurat_tables)."""

from __future__ import annotations

import math

import numpy as np
import pytest

pytestmark = pytest.mark.numba


def test_vendored_tables_equal_numbas_port_of_numpys():
    """docs/scripts/make_ziggurat_tables.py copied numba's private port of numpy's tables; the
    copy must be exact (this is the check of the script's output)."""
    c = pytest.importorskip("numba.np.random._constants", reason="numba's private table module is gone")
    from isacnet.backends import _ziggurat_tables as t

    pairs = [("KE", "ke_double", np.uint64), ("WE", "we_double", np.float64), ("FE", "fe_double", np.float64),
             ("KE_F", "ke_float", np.uint32), ("WE_F", "we_float", np.float32), ("FE_F", "fe_float", np.float32),
             ("KI", "ki_double", np.uint64), ("WI", "wi_double", np.float64), ("FI", "fi_double", np.float64)]
    for ours, theirs, dt in pairs:
        a, b = np.asarray(getattr(t, ours), dt), np.asarray(getattr(c, theirs), dt)
        assert a.shape == (256,) and a.tobytes() == b.tobytes(), ours
    assert t.EXP_R == float(c.ziggurat_exp_r) and t.NOR_R == float(c.ziggurat_nor_r)
    assert np.float32(t.EXP_R_F) == np.float32(c.ziggurat_exp_r_f) and t.NOR_INV_R == float(c.ziggurat_nor_inv_r)


def test_exponential_table_identities():
    """numpy's exponential ziggurat: layer i >= 1 is [0, x_i] x [f(x_i), f(x_{i-1})] with
    f(x) = exp(-x) and x_i = we[i] 2^53 (float64), all layers of equal area; fe = f(x)."""
    from isacnet.backends import _ziggurat_tables as t

    x = np.asarray(t.WE) * 2.0**53
    f = np.asarray(t.FE)
    np.testing.assert_allclose(f[1:], np.exp(-x[1:]), rtol=1e-15)
    r = t.EXP_R
    assert x[255] == pytest.approx(r, rel=1e-15)
    v = r * math.exp(-r) + math.exp(-r)  # base rectangle plus the tail beyond r
    np.testing.assert_allclose(x[1:] * (f[:-1] - f[1:]), v, rtol=1e-12)
