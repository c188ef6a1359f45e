"""Finding graph nodes by name, and the hover text that gives a node's full parameters."""

from __future__ import annotations

from pathlib import Path

from ganbuilder.design.graph_search import describe_node, match_nodes
from ganbuilder.spec import load_spec

SPECS = Path(__file__).resolve().parents[1] / "specs"


def test_matches_rank_exact_then_prefix_then_substring():
    labels = {"a": "fake_B", "b": "D_B", "c": "fake", "d": "rec_A", "e": "B"}
    assert match_nodes(labels, "fake") == ["c", "a"]
    assert match_nodes(labels, "b") == ["e", "a", "b"]
    assert match_nodes(labels, "  ") == [] and match_nodes(labels, "zzz") == []


def test_a_layer_shows_every_parameter_and_its_output():
    spec = load_spec(SPECS / "dcgan.yaml")
    path = ("networks", "D", "layers", 0)
    text = describe_node(spec, path, ["conv", "64 × 16 × 16"])
    assert text.startswith("conv  (networks.D.layers[0])")
    for line in ("kernel: 4", "stride: 2", "padding: 1", "bias: false", "dilation: 1"):
        assert f"  {line}" in text.split("\n"), line  # defaults too
    assert "output: " in text


def test_a_loss_term_and_a_network_and_anything_else():
    spec = load_spec(SPECS / "dcgan.yaml")
    term = spec.analysis.terms[0]
    text = describe_node(spec, term.path, ["x"])
    assert f"loss/{term.objective}/{term.label}" in text and "weight: 1" in text
    assert describe_node(spec, ("networks", "G"), ["G"]).startswith("network G:")
    assert describe_node(spec, ("forward", "fake"), ["fake", "1 × 32 × 32"]) == \
        "fake · 1 × 32 × 32"
    assert describe_node(None, ("networks", "G"), ["G"]) == "G"
