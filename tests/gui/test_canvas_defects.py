"""Defects a new user met on the canvas, in the editor and in the problems (issue 27): each
test failed before its fix."""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
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


def test_the_editor_keeps_sixty_columns_whatever_the_docks_take(qtbot, window, dcgan):
    from PySide6.QtCore import QRect

    window.open_file(dcgan, ask=False)
    window._fit_screen(QRect(0, 0, 1400, 900))
    qtbot.wait(20)
    # Widen the right-hand docks as far as they go, then shrink the window.
    window.resizeDocks([window.architecture_dock, window.library_dock], [1300, 400],
                       Qt.Orientation.Horizontal)
    for width, height in ((1280, 800), (1024, 700)):
        window.resize(width, height)
        qtbot.wait(50)
        margin = round(window.editor.document().documentMargin())
        text = window.editor.viewport().width() - 2 * margin  # line numbers sit outside it
        assert window.editor.fontMetrics().horizontalAdvance("x" * 60) <= text, (width, text)


def test_a_base_that_appears_later_is_found_without_editing(qtbot, window, tmp_path):
    import shutil

    from tests.gui.conftest import SPECS

    child = tmp_path / "child.yaml"
    child.write_text("extends: bases/base.yaml\nname: child\n", encoding="utf-8")
    window.open_file(child, ask=False)
    settled(qtbot, window)
    assert any("base spec not found" in p.message for p in window.problems)
    (tmp_path / "bases").mkdir()
    qtbot.wait(300)
    shutil.copy(SPECS / "dcgan.yaml", tmp_path / "bases" / "base.yaml")
    qtbot.waitUntil(lambda: not window.problems and window.spec is not None
                    and window.spec.name == "child", timeout=15000)


def test_clicking_a_problem_brings_its_node_into_view(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    window.editor.setPlainText(window.editor.toPlainText().replace(
        '{out: "${nc}", kernel: 4', '{out: "${nc}", kernal: 4'))
    settled(qtbot, window)
    window.graph_dock.raise_()  # the Layer graph behind another tab, as by default
    qtbot.wait(20)
    problems = window.problems_list
    row = next(i for i, p in enumerate(problems.problems) if "kernal" in p.message)
    problems.itemClicked.emit(problems.topLevelItem(row), 0)
    view = window.layer_graph.view
    qtbot.waitUntil(lambda: bool(view.scene().selectedItems()))
    assert not window.layer_graph_dock.visibleRegion().isEmpty()
    node = view.scene().selectedItems()[0]
    assert node.node.path == ("networks", "G", "layers", 9)  # the last conv_transpose
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    assert shown.contains(node.sceneBoundingRect().center())


def test_new_blank_and_templates_say_what_they_opened(qtbot, window):
    from tests.gui.conftest import SPECS

    window.new_from_template(SPECS / "dcgan.yaml")
    assert "dcgan template" in window.windowTitle()
    window.new_from_template(SPECS / "dcgan.yaml")  # the same again: still said
    assert "dcgan template" in window.statusBar().currentMessage()
    new = next(a for a in window.menuBar().actions()[0].menu().actions() if a.text() == "&New")
    new.trigger()
    settled(qtbot, window)
    assert window.windowTitle().startswith("untitled spec")
    assert not window.problems and list(window.spec.analysis.networks) == ["G", "D"]
    assert len(window.spec.analysis.networks["D"].layers) == 1  # a critic to build out


def test_getting_started_mentions_the_canvas_and_the_library(qtbot, window):
    window.show_help()
    text = window.help_dialog.browser.toPlainText()
    assert "Layer library" in text and "Layer graph" in text and "drag" in text


def test_a_template_saved_elsewhere_keeps_finding_its_schema(qtbot, window, tmp_path):
    from tests.gui.conftest import ROOT, SPECS

    window.new_from_template(SPECS / "dcgan.yaml")
    folder = tmp_path / "work" / "gans"
    folder.mkdir(parents=True)
    assert window._write(folder / "mine.yaml")
    first = (folder / "mine.yaml").read_text(encoding="utf-8").split("\n")[0]
    written = first.split("$schema=", 1)[1]
    assert (folder / written).resolve() == (ROOT / "schema" / "spec-v1.json").resolve()
    assert window.editor.toPlainText().split("\n")[0] == first  # the text shown is the file


def _layer_canvas(qtbot, window, path, network):
    window.open_file(path, ask=False)
    settled(qtbot, window)
    window.layer_graph_dock.raise_()
    window.layer_graph.show_network(network)
    view = window.layer_graph.view
    qtbot.waitUntil(lambda: view.network == network and bool(view.items))
    return view


def test_a_dragged_node_follows_the_cursor(qtbot, window, dcgan):
    view = _layer_canvas(qtbot, window, dcgan, "D")
    item = view.items["networks.D.layers[1]"]
    view.ensureVisible(item)
    start = view.mapFromScene(item.sceneBoundingRect().center())
    before = item.pos()
    qtbot.mousePress(view.viewport(), Qt.MouseButton.LeftButton, pos=start)
    for dy in (10, 25, 40):
        qtbot.mouseMove(view.viewport(), start + QPoint(30, dy))
    moved = item.pos() - before
    assert abs(moved.y() - 40 / view.transform().m22()) < 2 and moved.x() > 0
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=start + QPoint(30, 40))


def test_a_refused_drop_says_why_at_the_drop_point_before_the_drop(qtbot, window):
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    from PySide6.QtWidgets import QApplication

    from tests.gui.conftest import SPECS

    view = _layer_canvas(qtbot, window, SPECS / "wgan.yaml", "G")  # G inherited: extends
    original = window.editor.toPlainText()
    a = view.items["networks.G.layers[1]"].sceneBoundingRect()
    b = view.items["networks.G.layers[2]"].sceneBoundingRect()
    scene_at = QPointF(a.center().x(), (a.bottom() + b.top()) / 2)
    view.ensureVisible(a.united(b))
    at = view.mapFromScene(scene_at)
    data = window.library.tree.mimeData([window.library.item("relu")])
    QApplication.sendEvent(view.viewport(), QDragEnterEvent(
        at, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier))
    move = QDragMoveEvent(at, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
                          Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), move)
    assert not move.isAccepted()  # the pointer says no while over the place
    assert view.refusal is not None and "another file" in view.refusal.text()
    # beside the pointer (kept inside the view, so it may sit left of it)
    assert view.refusal.sceneBoundingRect().adjusted(-40, -40, 40, 40).contains(scene_at)
    with qtbot.waitSignal(view.refused):
        QApplication.sendEvent(view.viewport(), QDropEvent(
            QPointF(at), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier))
    assert window.editor.toPlainText() == original


def test_a_wrong_generator_output_names_both_ends_and_marks_the_producer(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    window.editor.setPlainText(window.editor.toPlainText().replace(
        'conv_transpose: {out: "${nc}"', "conv_transpose: {out: 3"))
    settled(qtbot, window)
    messages = {p.path: p.message for p in window.problems}
    call = messages["objectives.D.loss[0].adversarial.real"]
    assert "real from the data (1, 32, 32)" in call and "G's output (3, 32, 32)" in call
    producer = messages["networks.G.layers[9]"]  # G's last conv_transpose, not its tanh
    assert "should give (1, 32, 32)" in producer
    window.layer_graph.show_network("G")
    qtbot.waitUntil(lambda: ("networks", "G", "layers", 9) in window.layer_graph.problems)
