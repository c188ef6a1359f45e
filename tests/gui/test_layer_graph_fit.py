"""The Layer graph on long networks (issue 27): at the default 1400 x 900 it has most of the
right-hand column, the property form stays in view under it, and Fit shows a long network
(CycleGAN's generator with 9 residual blocks, StyleGAN2's) whole with its text readable; at
1024 x 700 too, by drawing groups of layers as one node (semantic zoom), which expand and
collapse by mouse and keyboard and take gestures as a whole."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QEvent, QPointF, QRect, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QGraphicsSimpleTextItem, QToolTip

from gui.graph_tools import min_scale
from tests.gui.conftest import SPECS, settled


def _fitted(qtbot, window, spec: str, network: str, size: tuple[int, int]):
    """The layer canvas of `network` in the window fitted to a screen of `size`, after Fit."""
    window._fit_screen(QRect(0, 0, *size))
    window.open_file(SPECS / f"{spec}.yaml", ask=False)
    settled(qtbot, window)
    window.layer_graph.show_network(network)
    view = window.layer_graph.view
    qtbot.waitUntil(lambda: view.network == network and bool(view.items))
    view.controls.fit_button.click()
    qtbot.wait(20)
    return view


def _outside(view) -> list[str]:
    """The first lines of the drawn nodes not wholly inside what the view shows."""
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    return [item.node.lines[0] for item in set(view.items.values())
            if not shown.contains(item.sceneBoundingRect())]


@pytest.mark.parametrize(("spec", "network"), [("cyclegan", "G_AB"), ("stylegan2", "G")])
def test_at_1024_fit_shows_a_long_network_whole_and_readable(qtbot, window, spec, network):
    view = _fitted(qtbot, window, spec, network, (1024, 700))
    assert view.viewport().width() < 400  # the small canvas of issue 27
    assert _outside(view) == []
    assert view.transform().m11() >= min_scale(view) - 1e-6


def test_at_1024_the_layer_count_beside_the_network_reads_whole(qtbot, window):
    """The panel's facts line drops its trailing facts to fit ("28 layers"), never showing a
    clipped "28"; the whole line is its tooltip."""
    _fitted(qtbot, window, "cyclegan", "G_AB", (1024, 700))
    info = window.layer_graph.info
    layers = len(window.layer_graph.spec.analysis.networks["G_AB"].layers)
    assert info.toolTip() == info.full_text() and info.full_text().count(" · ") >= 1
    assert info.text().startswith(f"{layers} layers"), (info.text(), info.contentsRect().width())
    assert info.fontMetrics().horizontalAdvance(info.text()) <= info.contentsRect().width()


@pytest.mark.parametrize(("spec", "network"), [("cyclegan", "G_AB"), ("stylegan2", "G")])
def test_fit_shows_a_long_network_whole_and_readable(qtbot, window, spec, network):
    window._fit_screen(QRect(0, 0, 1400, 900))
    window.open_file(SPECS / f"{spec}.yaml", ask=False)
    settled(qtbot, window)
    panel = window.layer_graph
    assert not window.layer_graph_dock.visibleRegion().isEmpty()  # shown by default
    panel.show_network(network)
    view = panel.view
    qtbot.waitUntil(lambda: view.network == network and bool(view.items))
    assert view.viewport().width() >= 450 and view.viewport().height() >= 400
    view.controls.fit_button.click()
    qtbot.wait(20)
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in set(view.items.values()):
        assert shown.contains(item.sceneBoundingRect()), item.node.lines[0]
    assert view.transform().m11() >= min_scale(view) - 1e-6
    # A node chosen on the canvas and its fields, both in view.
    window.select_path(("networks", network, "layers", 1))
    assert window.form.fields and not window.form_dock.visibleRegion().isEmpty()
    assert not window.layer_graph_dock.visibleRegion().isEmpty()


def test_at_1024_the_canvas_bar_never_widens_the_window(qtbot, window, dcgan):
    window._fit_screen(QRect(0, 0, 1024, 700))
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    window.layer_graph.show_network("G")
    qtbot.waitUntil(lambda: bool(window.layer_graph.view.items))
    qtbot.wait(50)
    assert window.width() <= 1024 and window.minimumSizeHint().width() <= 1024
    assert window.library_dock.width() >= 120  # the library keeps its names readable


def _click_node(qtbot, view, key: str, double: bool = False) -> None:
    item = view.items[key]
    view.ensureVisible(item, 2, 2)
    point = view.mapFromScene(item.sceneBoundingRect().center() + QPointF(30, 0))
    (qtbot.mouseDClick if double else qtbot.mouseClick)(view.viewport(),
                                                          Qt.MouseButton.LeftButton, pos=point)


def _residuals(window) -> list[str]:
    plan = window.spec.analysis.networks["G_AB"]
    return [layer.slot for layer in plan.layers if layer.kind == "residual"]


def test_at_1024_a_group_expands_to_its_layers_in_view_and_collapses_again(qtbot, window):
    view = _fitted(qtbot, window, "cyclegan", "G_AB", (1024, 700))
    residuals = _residuals(window)
    group = view.items[residuals[0]].node.key
    assert view.items[group].node.lines[0] == "residual ×9"  # the repeat, as one node
    assert {view.items[k].node.key for k in residuals} == {group}
    _click_node(qtbot, view, group, double=True)  # a double-click expands it
    assert group not in view.items and len({id(view.items[k]) for k in residuals}) == 9
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(view.items[residuals[0]].sceneBoundingRect())  # scrolled to them
    assert view.transform().m11() >= min_scale(view) - 1e-6
    # by keyboard: Left on one of its layers collapses the group, Right expands it again
    _click_node(qtbot, view, residuals[3])
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Left)
    assert view.items[residuals[3]].node.key == group and view.selected_key() == group
    QTest.keyClick(view, Qt.Key.Key_Right)
    assert view.items[residuals[3]].node.key == residuals[3]
    # the chevron in the group box's header collapses it
    header = next(item for item in view.scene().items()
                  if isinstance(item, QGraphicsSimpleTextItem) and item.text() == "▾ residual ×9")
    view.ensureVisible(header)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.mapFromScene(header.sceneBoundingRect().center()))
    assert view.items[residuals[0]].node.key == group


def test_expand_choices_outlive_edits_of_the_text_until_fit(qtbot, window):
    view = _fitted(qtbot, window, "cyclegan", "G_AB", (1024, 700))
    residuals = _residuals(window)
    view.toggle_group(view.items[residuals[0]].node.key)
    assert view.items[residuals[0]].node.key == residuals[0]
    text = window.editor.toPlainText()
    window.editor.setPlainText(text.replace("lambda_cycle: 10", "lambda_cycle: 9", 1))
    assert window.editor.toPlainText() != text
    settled(qtbot, window)
    qtbot.waitUntil(lambda: window.spec.tree["params"]["lambda_cycle"] == 9)
    qtbot.wait(60)
    assert view.items[residuals[0]].node.key == residuals[0]  # still expanded
    view.controls.fit_button.click()  # Fit chooses again: whole and readable
    assert view.items[residuals[0]].node.key.startswith("group:")
    assert _outside(view) == []


def test_at_1024_gestures_on_a_collapsed_group(qtbot, window):
    view = _fitted(qtbot, window, "stylegan2", "G", (1024, 700))
    text = window.editor.toPlainText()
    # a repeat's node stands for the whole use: Delete removes its one line
    mapping = next(key for key, group in view.groups.items() if group.title.startswith(
        "mapping_layer ×"))
    _click_node(qtbot, view, mapping)
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    new = window.editor.toPlainText().split("\n")
    assert [line for line in text.split("\n") if line not in new] == [
        '      - repeat: {times: "${mapping - 1}", block: mapping_layer}']
    window.editor.undo()
    assert window.editor.toPlainText() == text
    settled(qtbot, window)
    qtbot.waitUntil(lambda: any(not g.written for g in view.groups.values()))
    # a section is no entry of the text: refused, with the reason beside the node
    section = next(key for key, group in view.groups.items() if not group.written)
    _click_node(qtbot, view, section)
    view.setFocus()
    with qtbot.waitSignal(view.refused) as refused:
        QTest.keyClick(view, Qt.Key.Key_Delete)
    assert "expand it" in refused.args[0]
    assert window.editor.toPlainText() == text
    assert view.refusal is not None and "expand it" in view.refusal.text().replace("\n", " ")
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(view.refusal.sceneBoundingRect())
    # dragged, it is refused at the pointer, before the drop
    view._show_refusal(None, None)
    node = view.items[section].sceneBoundingRect()
    start = view.mapFromScene(node.center())
    end = view.mapFromScene(QPointF(node.center().x(), shown.bottom() - 4))
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    for step in range(1, 6):
        qtbot.mouseMove(view.viewport(), start + (end - start) * step / 5)
    assert view.refusal is not None and "expand it" in view.refusal.text().replace("\n", " ")
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert window.editor.toPlainText() == text
    # its hover text lists what it holds
    at = view.mapFromScene(view.items[section].sceneBoundingRect().center())
    QApplication.sendEvent(view.viewport(), QHelpEvent(QEvent.Type.ToolTip, at,
                                                       view.viewport().mapToGlobal(at)))
    assert "a section drawn as one node" in QToolTip.text()


def test_a_repeat_of_a_longer_block_opens_to_its_copies_named_by_size(qtbot, window):
    view = _fitted(qtbot, window, "stylegan2", "G", (1024, 700))
    synthesis = next(key for key, group in view.groups.items() if group.title == "g_skip ×3")
    _click_node(qtbot, view, synthesis, double=True)
    titles = [group.title for group in view.groups.values()]
    assert {"g_skip 8 px", "g_skip 16 px", "g_skip 32 px"} <= set(titles)
    assert "▾ g_skip ×3" in [item.text() for item in view.scene().items()
                             if isinstance(item, QGraphicsSimpleTextItem)]
    middle = next(key for key, group in view.groups.items() if group.title == "g_skip 16 px")
    text = window.editor.toPlainText()
    _click_node(qtbot, view, middle)
    view.setFocus()
    with qtbot.waitSignal(view.refused) as refused:  # no entry of the text writes one copy
        QTest.keyClick(view, Qt.Key.Key_Delete)
    assert "one copy of a repeat" in refused.args[0] and window.editor.toPlainText() == text
    QTest.keyClick(view, Qt.Key.Key_Right)  # its layers, scrolled into view
    group = next(g for g in view.open_groups if g.title == "g_skip 16 px")
    plan = window.spec.analysis.networks["G"]
    first = view.items[plan.layers[group.start].slot]
    assert first.node.key == plan.layers[group.start].slot
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(first.sceneBoundingRect())
