"""Canvas editing: each gesture on the layer canvas is one text edit of the YAML (comments and
key order kept) and one undo step that restores the bytes."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import SPECS, settled


def _canvas(qtbot, window, path, network):
    window.open_file(path, ask=False)
    settled(qtbot, window)
    window.layer_graph_dock.raise_()
    panel = window.layer_graph
    panel.show_network(network)
    qtbot.waitUntil(lambda: panel.view.network == network and bool(panel.view.items))
    return panel.view


def _viewport_points(view, *scene_points: QPointF) -> list[QPoint]:
    """Viewport points of scene points, scrolled so that all of them are on screen."""
    xs, ys = [p.x() for p in scene_points], [p.y() for p in scene_points]
    view.ensureVisible(min(xs), min(ys), max(xs) - min(xs) + 1, max(ys) - min(ys) + 1, 5, 5)
    return [view.mapFromScene(p) for p in scene_points]


def _viewport_point(view, scene_point: QPointF) -> QPoint:
    return _viewport_points(view, scene_point)[0]


def _between(view, upper: str, lower: str) -> QPoint:
    """A viewport point in the gap between two nodes drawn one above the other."""
    a, b = view.items[upper].sceneBoundingRect(), view.items[lower].sceneBoundingRect()
    return _viewport_point(view, QPointF(a.center().x(), (a.bottom() + b.top()) / 2))


def _drop(window, view, kind: str, at: QPoint) -> None:
    library = window.library
    data = library.tree.mimeData([library.item(kind)])
    copy = Qt.DropAction.CopyAction
    for event in (QDragEnterEvent(at, copy, data, Qt.MouseButton.LeftButton,
                                  Qt.KeyboardModifier.NoModifier),
                  QDragMoveEvent(at, copy, data, Qt.MouseButton.LeftButton,
                                 Qt.KeyboardModifier.NoModifier),
                  QDropEvent(QPointF(at), copy, data, Qt.MouseButton.LeftButton,
                             Qt.KeyboardModifier.NoModifier)):
        QApplication.sendEvent(view.viewport(), event)


def _drag(qtbot, view, start: QPoint, end: QPoint) -> None:
    viewport = view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=start)
    middle = (start + end) / 2
    qtbot.mouseMove(viewport, middle)
    qtbot.mouseMove(viewport, end)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=end)


def _subsequence(small: list[str], big: list[str]) -> bool:
    it = iter(big)
    return all(line in it for line in small)


def test_dropping_a_library_entry_between_two_nodes_inserts_it_there(qtbot, window, dcgan):
    view = _canvas(qtbot, window, dcgan, "G")
    original = window.editor.toPlainText()
    assert window.library.entries()["activation"].count("relu") == 1
    _drop(window, view, "relu", _between(view, "networks.G.layers[0]", "networks.G.layers[1]"))
    text = window.editor.toPlainText()
    old, new = original.split("\n"), text.split("\n")
    assert len(new) == len(old) + 1 and _subsequence(old, new)  # comments and order kept
    conv = next(i for i, line in enumerate(old) if "- conv_transpose: {out: \"${ngf * 2" in line)
    assert new[conv + 1] == "      - relu"
    settled(qtbot, window)
    assert [layer.kind for layer in window.spec.analysis.networks["G"].layers[:3]] == \
        ["conv_transpose", "relu", "batch_norm"]
    window.editor.undo()
    assert window.editor.toPlainText() == original


def test_an_inserted_layer_gets_sensible_required_values_with_the_first_selected(
        qtbot, window, dcgan):
    view = _canvas(qtbot, window, dcgan, "D")
    _drop(window, view, "conv", _between(view, "networks.D.layers[0]", "networks.D.layers[1]"))
    cursor = window.editor.textCursor()
    assert cursor.selectedText() == "64"  # out: the channels it receives
    assert "- conv: {out: 64, kernel: 3, padding: 1}" in window.editor.toPlainText()
    settled(qtbot, window)
    layers = window.spec.analysis.networks["D"].layers
    assert layers[1].kind == "conv" and layers[1].out_shape == layers[0].out_shape


def test_dragging_a_node_reorders_its_yaml_item(qtbot, window, dcgan):
    view = _canvas(qtbot, window, dcgan, "D")
    original = window.editor.toPlainText()
    node = view.items["networks.D.layers[1]"].sceneBoundingRect()  # leaky_relu
    first = view.items["networks.D.layers[0]"].sceneBoundingRect()  # conv
    start, end = _viewport_points(view, node.center(),
                                  QPointF(first.center().x(), first.top() + 2))  # above conv
    _drag(qtbot, view, start, end)
    text = window.editor.toPlainText()
    assert sorted(text.split("\n")) == sorted(original.split("\n"))
    settled(qtbot, window)
    assert [layer.kind for layer in window.spec.analysis.networks["D"].layers[:2]] == \
        ["leaky_relu", "conv"]
    window.editor.undo()
    assert window.editor.toPlainText() == original


def test_connecting_an_output_port_to_a_layer_writes_the_skip(qtbot, window, dcgan):
    view = _canvas(qtbot, window, dcgan, "D")
    original = window.editor.toPlainText()
    source = view.items["networks.D.layers[1]"]
    port = next(child for child in source.childItems() if type(child).__name__ == "PortItem")
    target = view.items["networks.D.layers[2]"].sceneBoundingRect()
    _drag(qtbot, view, *_viewport_points(view, port.sceneBoundingRect().center(),
                                         target.center()))
    text = window.editor.toPlainText()
    assert "- {leaky_relu: 0.2, id: skip1}" in text
    assert "      - concat: {with: skip1}" in text
    settled(qtbot, window)
    concat = window.spec.analysis.networks["D"].layers[2]
    assert concat.kind == "concat" and concat.sources[-1] == "skip1"
    window.editor.undo()  # both lines, one step
    assert window.editor.toPlainText() == original


def test_delete_and_copy_paste_keys(qtbot, window, dcgan):
    view = _canvas(qtbot, window, dcgan, "G")
    original = window.editor.toPlainText()
    view.items["networks.G.layers[1]"].setSelected(True)  # batch_norm
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert view.clipboard == ["batch_norm"]
    qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)
    assert window.editor.toPlainText().count("      - batch_norm\n      - batch_norm") == 1
    window.editor.undo()
    assert window.editor.toPlainText() == original
    settled(qtbot, window)
    view.items["networks.G.layers[1]"].setSelected(True)
    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert len(window.editor.toPlainText().split("\n")) == len(original.split("\n")) - 1
    window.editor.undo()
    assert window.editor.toPlainText() == original


def test_a_refused_gesture_says_why_and_leaves_the_text(qtbot, window):
    view = _canvas(qtbot, window, SPECS / "wgan.yaml", "G")  # G inherited through extends
    original = window.editor.toPlainText()
    with qtbot.waitSignal(view.refused) as why:
        view.insert("relu", 2)
    assert "another file" in why.args[0]
    assert window.editor.toPlainText() == original


def test_undo_keeps_the_editor_where_it_was(qtbot, window, dcgan):
    view = _canvas(qtbot, window, dcgan, "D")
    bar = window.editor.verticalScrollBar()
    window.editor.select_lines(56)
    before = bar.value()
    _drop(window, view, "relu", _between(view, "networks.D.layers[0]", "networks.D.layers[1]"))
    window.editor.undo()
    assert bar.value() == before


def test_pix2pix_unet_is_drawn_as_a_u_with_skips_across(qtbot, window):
    view = _canvas(qtbot, window, SPECS / "pix2pix.yaml", "G")
    assert view.u_shaped
    encoder = view.items["d2"].sceneBoundingRect()  # the batch norm named d2
    decoder = view.items["networks.G.layers[23]"].sceneBoundingRect()  # concat with d2
    assert decoder.left() > encoder.right()
    assert abs(decoder.center().y() - encoder.center().y()) < 1
    assert view.flow["d1"] == 1 and view.flow["networks.G.layers[30]"] == -1
    window.layer_graph.show_network("D")  # a chain stays a column
    qtbot.waitUntil(lambda: view.network == "D")
    assert not view.u_shaped


def test_a_repeat_is_a_group_that_collapses_to_one_node(qtbot, window):
    view = _canvas(qtbot, window, SPECS / "pix2pix.yaml", "D")
    drawn = {id(item) for item in view.items.values()}
    assert [g.title for g in view.open_groups] == [
        "patch_down ×2", "patch_down", "patch_down 8 px", "patch_down 4 px"]  # and its copies
    view.toggle_group("w:patch_down#0")  # repeat ×2 of patch_down: six layers
    group = view.items["group:w:patch_down#0"]
    assert group.node.lines[0] == "patch_down ×2"
    assert group.node.lines[1].startswith("(256, 4, 4) · ")
    assert len({id(item) for item in view.items.values()}) == len(drawn) - 5
    view.toggle_group("w:patch_down#0")
    assert "group:w:patch_down#0" not in view.items


def test_nodes_show_parameter_counts_and_invalid_ones_are_red(qtbot, window, dcgan):
    view = _canvas(qtbot, window, dcgan, "D")
    qtbot.waitUntil(lambda: any("params" in line for line in
                                view.items["networks.D.layers[0]"].node.lines))
    assert "1,024 params" in view.items["networks.D.layers[0]"].node.lines[-1]
    text = window.editor.toPlainText().replace("- leaky_relu: 0.2\n      - repeat",
                                               "- leaky_relu: -5\n      - repeat", 1)
    window.editor.setPlainText(text)
    settled(qtbot, window)
    qtbot.waitUntil(lambda: bool(view.problems))
    item = view.items["networks.D.layers[1]"]
    assert item.brush().color().name() == "#fdecea"


def test_library_search_and_blocks_of_the_spec(qtbot, window):
    window.open_file(SPECS / "pix2pix.yaml", ask=False)
    settled(qtbot, window)
    library = window.library
    assert library.entries()["blocks of this spec"] == [
        "block:down", "block:up", "block:up_dropout", "block:patch_down"]
    assert "output channels" in library.item("conv").toolTip(0)
    library.search.setText("norm")
    shown = [k for kinds in library.entries().values() for k in kinds]
    assert "batch_norm" in shown and "relu" not in shown


def test_the_data_flow_canvas_adds_a_loss_term_and_connects_a_tensor(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    window.graph_dock.raise_()
    view = window.graph
    original = window.editor.toPlainText()
    objective = next(item.node for item in view.items.values() if item.node.kind == "objective"
                     and item.node.path == ("objectives", "G"))
    menu = view.menu_for(objective)
    terms = next(a.menu() for a in menu.actions() if a.text() == "Add loss term")
    next(a for a in terms.actions() if a.text() == "l1").trigger()
    assert "      - l1: {pred: fake, target: real}" in window.editor.toPlainText()
    window.editor.undo()
    assert window.editor.toPlainText() == original
    settled(qtbot, window)
    # drag the tensor `fake` onto D's adversarial term: its one port not reading it is `real`
    source = next(item for item in view.items.values() if item.node.lines[0] == "fake"
                  and item.node.kind == "tensor")
    target = next(item for item in view.items.values() if item.node.kind == "loss"
                  and item.node.path == ("objectives", "D", "loss", 0))
    _drag(qtbot, view, *_viewport_points(view, source.sceneBoundingRect().center(),
                                         target.sceneBoundingRect().center()))
    assert "adversarial: {critic: D, real: fake, fake: fake}" in window.editor.toPlainText()
    window.editor.undo()
    assert window.editor.toPlainText() == original


def test_a_residual_lists_its_layers_and_a_double_click_hides_them(qtbot, window):
    view = _canvas(qtbot, window, SPECS / "cyclegan.yaml", "G_AB")
    plan = window.spec.analysis.networks["G_AB"]
    index = next(i for i, layer in enumerate(plan.layers) if layer.kind == "residual")
    key = plan.layers[index].slot
    # G_AB is long (28 layers): its groups start collapsed and its containers folded, so
    # that Fit shows it whole; open the repeat of resblock (and a section around it)
    assert view.items[key].node.key.startswith("group:")
    while view.items[key].node.key.startswith("group:"):
        view.toggle_group(view.items[key].node.key)
    folded = view.items[key].node.lines
    assert not any(line.startswith("  ├ ") for line in folded)
    assert any("7 layers inside" in line for line in folded)
    point = _viewport_point(view, view.items[key].sceneBoundingRect().center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    shown = view.items[key].node.lines
    assert sum(line.startswith("  ├ ") for line in shown) == len(plan.layers[index].children)
    view.toggle_container(key)
    assert view.items[key].node.lines == folded
