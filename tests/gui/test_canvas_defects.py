"""Defects a new user met on the canvas, in the editor and in the problems (issue 27): each
test failed before its fix."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from tests.gui.conftest import settled


def test_ctrl_f_finds_in_the_focused_graph_or_else_in_the_text(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    view = window.graph
    window.graph_dock.raise_()
    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    QTest.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert view.controls.search.hasFocus()
    before = window.editor.toPlainText()
    window.editor.setFocus()
    QTest.keyClick(window.editor, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.find_bar.isVisible() and window.find_bar.field.hasFocus()
    QTest.keyClicks(window.find_bar.field, "conv")
    assert window.editor.toPlainText() == before  # what is typed next never goes in the YAML


def test_a_library_drag_never_inserts_text_into_the_editor(qtbot, window, dcgan):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDropEvent

    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    tree = window.library.tree
    item = next(tree.topLevelItem(g).child(c) for g in range(tree.topLevelItemCount())
                for c in range(tree.topLevelItem(g).childCount())
                if tree.topLevelItem(g).child(c).text(0) == "relu")
    data = tree.mimeData([item])
    assert not data.hasText()
    assert not window.editor.canInsertFromMimeData(data)
    before = window.editor.toPlainText()
    drop = QDropEvent(QPointF(40, 40), Qt.DropAction.CopyAction, data,
                      Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    window.editor.dropEvent(drop)
    assert window.editor.toPlainText() == before
