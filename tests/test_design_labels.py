"""A layer's brief in the architecture panel: what differs from the schema defaults."""

from __future__ import annotations

from ganbuilder.design.labels import layer_brief
from ganbuilder.spec import load_spec
from ganbuilder.spec.shapes import LayerPlan

from .conftest import ROOT


def plan(kind: str, **params) -> LayerPlan:
    return LayerPlan(("networks", "G", "layers", 0), kind, params, [], (1,), "x")


def test_only_parameters_off_their_defaults_are_shown_in_schema_order():
    assert layer_brief(plan("conv", kernel=3, out=8, stride=1)) == "out=8, kernel=3"
    assert layer_brief(plan("conv", out=8, bias=False)) == "out=8, bias=false"
    assert layer_brief(plan("relu")) == ""


def test_a_long_brief_is_cut_and_a_repeat_shows_its_count():
    long = layer_brief(plan("conv", out=8, kernel=5, stride=2, padding=2, bias=False))
    assert long == "out=8, kernel=5, stride=2, padding=2, …"
    assert layer_brief(plan("repeat", times=3)) == "× 3"
    assert layer_brief(plan("not_a_layer", a=1)) == ""


def test_briefs_of_a_shipped_spec_read_its_resolved_values():
    spec = load_spec(ROOT / "specs" / "dcgan.yaml")
    first = spec.analysis.layers[("networks", "G", "layers", 0)]
    assert layer_brief(first).startswith(f"out={first.params['out']}, kernel=4")
