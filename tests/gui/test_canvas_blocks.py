"""Gestures on layers that a block use writes (issue 27): they edit the block's definition and
say so, or are refused at the pointer with the reason; nothing else is removed."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from tests.gui.conftest import settled
from tests.gui.test_canvas_defects import _layer_canvas


def _down_block(text: str) -> list[str]:
    """The lines of dcgan's `down` block's layers list."""
    body = text.split("\n  down:")[1].split("\nnetworks:")[0]
    return [line.strip() for line in body.split("\n") if line.strip().startswith("- ")]


def test_delete_inside_a_repeat_removes_the_layer_from_the_block_and_says_so(qtbot, window,
                                                                          dcgan):
    view = _layer_canvas(qtbot, window, dcgan, "D")
    text = window.editor.toPlainText()
    networks = text.split("\nnetworks:")[1]
    key = next(k for k, p in view.positions.items() if p == 3)  # in repeat ×2 of down
    node = view.items[key]
    assert "batch_norm" in node.node.lines[0]
    view.ensureVisible(node)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.mapFromScene(node.sceneBoundingRect().center()))
    assert view.selected_key() == key
    view.setFocus()
    QTest.keyClick(view, Qt.Key.Key_Delete)
    new = window.editor.toPlainText()
    assert _down_block(new) == [b for b in _down_block(text) if b != "- batch_norm"]
    assert new.split("\nnetworks:")[1] == networks  # the use itself, and D's other layers, kept
    assert "every use of down changes" in window.statusBar().currentMessage()
    settled(qtbot, window)
    qtbot.waitUntil(lambda: view.network == "D" and bool(view.items))
    kinds = [layer.kind for layer in window.spec.analysis.networks["D"].layers]
    assert kinds.count("batch_norm") == 0 and kinds.count("conv") == 4
    window.editor.undo()  # one undo step brings it back
    assert window.editor.toPlainText() == text


def test_dragging_a_block_layer_reorders_the_block_or_says_why_not(qtbot, window, dcgan):
    view = _layer_canvas(qtbot, window, dcgan, "D")
    text = window.editor.toPlainText()
    keys = {view.positions[k]: k for k in view.positions}
    leaky, first = view.items[keys[4]], view.items[keys[0]]  # the block's leaky_relu; D's conv
    view.ensureVisible(leaky)
    start = view.mapFromScene(leaky.sceneBoundingRect().center())
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    end = view.mapFromScene(first.sceneBoundingRect().center()) - QPoint(0, 8)
    for step in range(1, 6):
        qtbot.mouseMove(view.viewport(), start + (end - start) * step / 5)
    assert view.refusal is not None and "within the block" in view.refusal.text()
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert window.editor.toPlainText() == text  # refused: nothing changed
    view.move_node(keys[4], 2)  # within its copy: first in the block
    assert _down_block(window.editor.toPlainText()) == [
        _down_block(text)[2], *_down_block(text)[:2]]
    assert "every use of down changes" in window.statusBar().currentMessage()


def test_a_wire_from_a_block_layer_is_refused_at_the_pointer(qtbot, window, dcgan):
    from gui.layer_graph import PortItem

    view = _layer_canvas(qtbot, window, dcgan, "D")
    text = window.editor.toPlainText()
    keys = {view.positions[k]: k for k in view.positions}
    source, target = view.items[keys[3]], view.items[keys[8]]  # the block's batch_norm; conv
    port = next(i for i in source.childItems() if isinstance(i, PortItem))
    view.ensureVisible(source)
    start = view.mapFromScene(port.sceneBoundingRect().center())
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    view.ensureVisible(target, 0, 0)
    end = view.mapFromScene(target.sceneBoundingRect().center())
    for step in range(1, 6):
        qtbot.mouseMove(view.viewport(), start + (end - start) * step / 5)
    assert view.refusal is not None and "block" in view.refusal.text()
    with qtbot.waitSignal(view.refused):
        qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert window.editor.toPlainText() == text
