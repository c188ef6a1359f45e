"""The graphs the designer draws, as data: the iteration's data flow and one network's layers."""

from __future__ import annotations

import pytest

from ganbuilder.design import flow_nodes, layer_graph, skip_edges
from ganbuilder.spec import load_spec

from .conftest import ROOT, SPECS


def test_cyclegan_flow_has_a_node_per_call_and_per_loss_term():
    spec = load_spec(ROOT / "specs" / "cyclegan.yaml")
    nodes = flow_nodes(spec)
    calls = [n for n in nodes.values() if n.key.startswith("c:")]
    assert sorted(n.lines[0] for n in calls) == ["G_AB"] * 3 + ["G_BA"] * 3
    assert all(n.path == ("networks", n.lines[0]) for n in calls)
    loss = nodes["l:D:0"]
    assert loss.lines == ["adversarial D_A", "objective D · × 0.5"]
    assert loss.path == ("objectives", "D", "loss", 0)
    assert loss.inputs == ["t:real_A", "t:fake_A", "n:D_A"]
    assert nodes["n:D_A"].column == min(n.column for n in nodes.values()
                                        if "n:D_A" in n.inputs) - 1
    assert nodes["o:G"].inputs == [f"l:G:{i}" for i in range(6)]
    assert nodes["o:G"].lines == ["objective G", "updates G_AB, G_BA"]
    assert nodes["t:real_A"].kind == "data" and nodes["t:real_A"].path == ("data",)
    for node in nodes.values():  # inputs sit in earlier columns (critics just before)
        assert all(nodes[k].column < node.column for k in node.inputs)


def test_cyclegan_flow_names_each_term_and_draws_few_crossings():
    from ganbuilder.design.graphs import crossings, flow_columns

    nodes = flow_nodes(load_spec(ROOT / "specs" / "cyclegan.yaml"))
    terms = [n.lines[0] for n in nodes.values() if n.kind == "loss"]
    assert len({tuple(n.lines) for n in nodes.values() if n.kind == "loss"}) == len(terms)
    assert {"adversarial D_A", "adversarial D_B", "cycle_A", "identity idt_B"} <= set(terms)
    # Edges that pass a column go between its nodes: one bend point per column passed.
    columns = flow_columns(nodes)
    for key, node in nodes.items():
        for source in node.inputs:
            for column in range(nodes[source].column + 1, node.column):
                assert f"b:{source}>{key}@{column}" in columns[column]
    written = crossings(nodes, flow_columns(nodes, sweeps=0))  # in the order written
    assert crossings(nodes, columns) <= written // 2


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_loss_term_and_objective_of_a_spec_is_a_node(path):
    spec = load_spec(path)
    nodes = flow_nodes(spec)
    assert sorted(n.path for n in nodes.values() if n.kind == "loss") == sorted(
        t.path for t in spec.analysis.terms)
    assert {n.lines[0] for n in nodes.values() if n.kind == "objective"} == {
        f"objective {name}" for name in spec.tree["objectives"]}
    for name in spec.analysis.networks:
        assert any(n.lines[0] == name for n in nodes.values())


def test_layer_graph_of_a_chain_has_no_skips():
    plan = load_spec(ROOT / "specs" / "dcgan.yaml").analysis.networks["D"]
    nodes, edges = layer_graph(plan)
    assert len(nodes) == len(plan.layers) + len(plan.inputs)
    assert len(edges) == len(plan.layers)
    assert all(nodes[t].column - nodes[s].column == 1 for s, t in edges)
    assert skip_edges(nodes, edges) == []


def test_pix2pix_layer_graph_has_a_node_per_layer_and_a_skip_per_concat():
    plan = load_spec(ROOT / "specs" / "pix2pix.yaml").analysis.networks["G"]
    nodes, edges = layer_graph(plan)
    layer_nodes = [n for n in nodes.values() if n.kind != "data"]
    assert [n.path for n in layer_nodes] == [tuple(layer.path) for layer in plan.layers]
    assert len(edges) == sum(len(layer.sources) for layer in plan.layers)
    concats = [layer for layer in plan.layers if layer.kind == "concat"]
    assert concats and all(len(layer.sources) == 2 for layer in concats)
    # every concat reads its predecessor and a skip from the down path (d1 ... d4)
    skips = skip_edges(nodes, edges)
    assert sorted(s for s, _ in skips) == sorted(layer.sources[1] for layer in concats)
    assert "d1" in {s for s, _ in skips}
    assert all(s in nodes and t in nodes for s, t in edges)


def test_a_residual_block_says_how_many_layers_it_holds():
    plan = load_spec(ROOT / "specs" / "cyclegan.yaml").analysis.networks["G_AB"]
    nodes, _ = layer_graph(plan)
    residual = next(n for n in nodes.values() if "residual" in n.lines[0])
    assert residual.lines[0].endswith("residual (7 layers)")
    assert "×" not in residual.lines[0]
