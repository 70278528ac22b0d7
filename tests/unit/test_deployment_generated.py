"""Generated deployments skip the site check of Deployment.__post_init__ (Deployment._generated):
their output must pass that check anyway, and carry the same fields as a checked construction."""

import numpy as np
import pytest

from isacnet import deployment as dp


@pytest.mark.parametrize("process", dp.GENERATORS)
@pytest.mark.parametrize("seed", range(6))
def test_generated_sites_pass_the_site_check(process, seed):
    density = [1e-6, 1e-5, 3e-4][seed % 3]
    d = dp.generate(process, density, np.random.default_rng(seed), n_sites=[64, 400][seed % 2])
    checked = dp.check_sites(d.bs, "bs", d.source)  # finite, distinct, shape (n, 2)
    np.testing.assert_array_equal(checked, d.bs)
    assert d.bs.dtype == float and not d.bs.flags.writeable
    assert d.tx is None and d.rx is None and d.origin_lonlat is None
    full = dp.Deployment(d.bs, torus=d.torus, process=d.process, source=d.source, density=d.density)
    assert (full.torus, full.process, full.source, full.density) == (d.torus, d.process, d.source, d.density)
    assert all(isinstance(v, float) and v > 0 for v in d.torus)
    assert np.all((d.bs >= 0) & (d.bs < np.asarray(d.torus)))  # inside the periodic box
