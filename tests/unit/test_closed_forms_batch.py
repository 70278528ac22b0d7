"""The registry's vectorised closed forms (Model.closed_forms_batch) against the point-by-point
closed forms, their slow twin, and the runner's fallback to point by point."""

import dataclasses

import numpy as np
import pytest

from isacnet.experiments import closed, runner
from isacnet.experiments.registry import get_model
from isacnet.experiments.registry.meng_comm import _rate_closed, _rate_closed_batch
from isacnet.experiments.spec import resolve_figures
from isacnet.params import MengParams, ParameterError


def test_meng_rate_batch_equals_point_by_point():
    model = get_model("meng-rate")
    pts = [(p, model.full_options(o)) for p, o in resolve_figures(["meng-fig4-mu2"])[0].points()]
    pts += [(dataclasses.replace(MengParams(), alpha=3.0), model.full_options({"n_comm": n, "interference": "matched"}))
            for n in (1, 2, 7)]
    batch = _rate_closed_batch(pts)
    for (p, o), b in zip(pts, batch, strict=True):
        one = _rate_closed(p, o)
        assert b.keys() == one.keys()
        np.testing.assert_allclose([b[k] for k in one], [one[k] for k in one], rtol=1e-12)


def test_runner_uses_the_batch_and_falls_back_point_by_point(monkeypatch):
    spec = resolve_figures(["meng-fig4-mu1"])[0]
    model = get_model(spec.model)
    runner._CLOSED_MEMO.clear()
    calls = []

    def refusing(points):
        calls.append(len(points))
        raise ParameterError("n_comm", 0, ">= 1")

    bad = dataclasses.replace(model, closed_forms_batch=refusing)
    monkeypatch.setattr(closed, "get_model", lambda name: bad)
    values, notes = runner.closed_forms(spec)  # the batch refuses: every point evaluated alone
    assert calls == [len(spec.points())] and notes == []
    runner._CLOSED_MEMO.clear()
    good = dataclasses.replace(model, closed_forms_batch=lambda pts: calls.append(-len(pts)) or _rate_closed_batch(pts))
    monkeypatch.setattr(closed, "get_model", lambda name: good)
    again, _ = runner.closed_forms(spec)
    assert calls[-1] == -len(spec.points())
    for a, b in zip(values, again, strict=True):
        assert a.keys() == b.keys()
        assert all(a[k] == pytest.approx(b[k], rel=1e-12) for k in a)
    runner._CLOSED_MEMO.clear()
