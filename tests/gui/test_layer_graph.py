"""The layer graph panel draws a network's layer graph and selects with the editor."""

from __future__ import annotations

from ganbuilder.design import layer_graph, skip_edges
from ganbuilder.spec import load_spec
from tests.gui.conftest import SPECS, settled


def test_the_panel_draws_every_node_and_edge_of_the_pix2pix_generator(qtbot, window):
    path = SPECS / "pix2pix.yaml"
    window.open_file(path, ask=False)
    settled(qtbot, window)
    window.layer_graph_dock.raise_()
    panel = window.layer_graph
    panel.show_network("G")
    plan = load_spec(path).analysis.networks["G"]
    nodes, edges = layer_graph(plan)
    view = panel.view
    # a long network starts with its groups collapsed: each layer maps to its group's node
    assert {k for k in view.items if not k.startswith("group:")} == set(nodes)
    assert view.edges == edges
    skips = skip_edges(nodes, edges)
    assert view.skip_edges() == skips != []
    assert panel.info.full_text() == f"{len(plan.layers)} layers · {len(edges)} edges · " \
        f"{len(skips)} skip"
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
