"""The layer graph of one network: a node per top-level layer, an edge per source."""

from __future__ import annotations

from ganbuilder.spec import load_spec
from gui.layer_graph import layer_graph
from tests.gui.conftest import SPECS, settled


def test_pix2pix_layer_graph_has_a_node_per_layer_and_an_edge_per_source(qtbot, window):
    path = SPECS / "pix2pix.yaml"
    window.open_file(path, ask=False)
    settled(qtbot, window)
    window.layer_graph_dock.raise_()
    panel = window.layer_graph
    panel.show_network("G")
    plan = load_spec(path).analysis.networks["G"]
    view = panel.view
    layer_nodes = [n for n in view.nodes.values() if n.kind != "data"]
    assert len(layer_nodes) == len(plan.layers)
    assert [n.path for n in layer_nodes] == [tuple(layer.path) for layer in plan.layers]
    assert len(view.edges) == sum(len(layer.sources) for layer in plan.layers)
    concats = [layer for layer in plan.layers if layer.kind == "concat"]
    assert concats and all(len(layer.sources) == 2 for layer in concats)
    # every concat reads its predecessor and a skip from the down path (d1 ... d4)
    skips = view.skip_edges()
    assert len(skips) == len(concats)
    assert sorted(s for s, _ in skips) == sorted(layer.sources[1] for layer in concats)
    assert "d1" in {s for s, _ in skips}
    for key in {k for edge in view.edges for k in edge}:
        assert key in view.items  # every edge is drawn between two drawn nodes


def test_clicking_a_layer_node_selects_its_lines_and_follows_the_cursor(qtbot, window):
    window.open_file(SPECS / "pix2pix.yaml", ask=False)
    settled(qtbot, window)
    window.layer_graph_dock.raise_()
    panel = window.layer_graph
    panel.show_network("D")
    last = panel.view.items["networks.D.layers[11]"]
    last.setSelected(True)
    selected = window.editor.textCursor().selectedText().strip()
    assert selected.startswith("- conv: {out: 1, kernel: 4, stride: 1, padding: 1}")
    assert window.architecture.tree.selectedItems()[0].text(0).startswith("11  conv")
    window.select_path(("networks", "G", "layers", 0))  # from the architecture panel
    assert panel.combo.currentText() == "G"
    assert [i.node.path for i in panel.view.scene().selectedItems()] == [
        ("networks", "G", "layers", 0)]


def test_layer_graph_of_a_chain_has_no_skips():
    plan = load_spec(SPECS / "dcgan.yaml").analysis.networks["D"]
    nodes, edges = layer_graph(plan)
    assert len(nodes) == len(plan.layers) + len(plan.inputs)
    assert len(edges) == len(plan.layers)
    assert all(nodes[t].column - nodes[s].column == 1 for s, t in edges)
