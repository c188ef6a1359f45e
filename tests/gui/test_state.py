"""State the user can trust: what the window says is so, and what it remembers comes back."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QMessageBox, QSpinBox

from ganbuilder.design.text_edits import TextEdit
from gui.main_window import MainWindow, menu_text
from gui.training import TrainingController
from tests.gui.conftest import SPECS, settled


def line_of(win, needle: str, start: int = 0) -> int:
    for i, line in enumerate(win.editor.toPlainText().split("\n")):
        if i + 1 > start and needle in line:
            return i + 1
    raise AssertionError(f"{needle!r} not in the editor")


def cursor_to(win, line: int, end: bool = True) -> None:
    block = win.editor.document().findBlockByNumber(line - 1)
    cursor = QTextCursor(block)
    if end:
        cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)
    win.editor.setTextCursor(cursor)


def replace_line(win, line: int, text: str) -> None:
    lines = win.editor.toPlainText().split("\n")
    win.editor.apply_edit(TextEdit.of_lines(lines, (line, line, [text], 0)))
    assert win.editor.toPlainText().split("\n") == [*lines[:line - 1], text, *lines[line:]]


def test_a_new_template_is_not_modified_until_edited(qtbot, window):
    window.new_from_template(SPECS / "dcgan.yaml")
    assert not window.editor.document().isModified()
    assert "*" not in window.windowTitle()
    window.editor.insertPlainText("# a change\n")
    assert window.editor.document().isModified() and "*" in window.windowTitle()


def test_opening_a_second_file_shows_its_own_networks(qtbot, window, dcgan, tmp_path):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    assert window.layer_graph.spec.name == "dcgan"
    cyclegan = Path(shutil.copy(SPECS / "cyclegan.yaml", tmp_path / "cyclegan.yaml"))
    window.open_file(cyclegan, ask=False)
    # Before its first check nothing of dcgan is left on screen.
    assert window.graph.nodes == {} and window.layer_graph.spec is None
    assert window.architecture.tree.topLevelItemCount() == 0
    settled(qtbot, window)
    names = [window.architecture.tree.topLevelItem(i).text(0).split()[0]
             for i in range(window.architecture.tree.topLevelItemCount())]
    assert set(names) == set(window.spec.analysis.networks) and window.spec.name == "cyclegan"
    assert "D" not in names  # dcgan's discriminator


def test_an_invalid_second_file_shows_its_problems_not_the_previous_architecture(
        qtbot, window, dcgan, tmp_path):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    broken = tmp_path / "broken.yaml"
    broken.write_text((SPECS / "gan.yaml").read_text().replace("networks:", "networks: [", 1))
    window.open_file(broken, ask=False)
    settled(qtbot, window)
    assert window.spec is None and window.graph.nodes == {}
    assert window.architecture.tree.topLevelItemCount() == 0
    assert window.problems_list.rows()


def test_a_missing_data_root_appears_in_problems_at_its_line(qtbot, window, tmp_path):
    spec = tmp_path / "folder.yaml"
    spec.write_text((SPECS / "dcgan.yaml").read_text().replace(
        "  source: digits\n", "  source: folder\n  root: no_such_folder\n"))
    window.open_file(spec, ask=False)
    settled(qtbot, window)
    rows = window.problems_list.rows()
    assert len(rows) == 1
    where, path, message = rows[0]
    assert where == f"{line_of(window, 'root: no_such_folder')}:3"
    assert path == "data.root" and "not found" in message
    assert window.spec is not None  # the spec itself is valid: the graphs still show
    assert "data: 1 problem" in window.status.text()
    assert line_of(window, "root: no_such_folder") in window.editor._error_lines
    (tmp_path / "no_such_folder").mkdir()
    window.editor.insertPlainText(" ")  # any edit checks again
    settled(qtbot, window)
    assert "no images" in window.problems_list.rows()[0][2]


def test_quit_while_training_asks(qtbot, window, monkeypatch):
    asked = []

    def answer(parent, title, text, *args):
        asked.append(title)
        return QMessageBox.StandardButton.Cancel

    monkeypatch.setattr(QMessageBox, "question", answer)
    monkeypatch.setattr(TrainingController, "active", property(lambda self: True))
    assert window.close() is False
    assert asked == ["Training is running"] and window.isVisible()
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a: QMessageBox.StandardButton.Yes)
    assert window.maybe_stop_training()
    monkeypatch.setattr(TrainingController, "active", property(lambda self: False))
    asked.clear()
    monkeypatch.setattr(QMessageBox, "question", answer)
    assert window.maybe_stop_training() and asked == []


def test_the_form_stays_editable_while_the_problem_is_elsewhere(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    layer = line_of(window, "conv_transpose: {out: \"${nc}\"")
    cursor_to(window, layer)
    qtbot.waitUntil(lambda: "kernel" in window.form.fields)
    assert window.form.isEnabled()
    # Break the data section, above the layer: the layer's lines only keep their place.
    replace_line(window, line_of(window, "batch_size: 64"), "  batch_size: [")
    settled(qtbot, window)
    assert window.spec is not None and window.problems_list.rows()
    cursor_to(window, layer)
    assert window.form.isEnabled()
    kernel = window.form.fields["kernel"]
    assert isinstance(kernel, QSpinBox)
    kernel.setValue(3)
    assert "kernel: 3" in window.editor.toPlainText().split("\n")[layer - 1]
    # A layer whose own lines changed waits for the text to be valid again.
    replace_line(window, layer, window.editor.toPlainText().split("\n")[layer - 1] + " ")
    assert not window.form.isEnabled()


def test_the_layer_menu_inserts_a_layer_after_the_selected_one(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    names = [a.text() for a in window.insert_menu.actions()]
    assert "conv" in names and "dropout" in names
    line = line_of(window, "- tanh")
    cursor_to(window, line)
    qtbot.waitUntil(lambda: window.selected is not None)
    next(a for a in window.insert_menu.actions() if a.text() == "dropout").trigger()
    assert window.editor.toPlainText().split("\n")[line].strip().startswith("- dropout")


def test_completion_fits_the_context(qtbot, window):
    window.editor.setPlainText("networks:\n  G:\n    layers:\n      - conv:\n          ke")
    cursor_to(window, 5)
    words = window.editor.completion_words()
    assert "kernel" in words and "stride" in words and "networks" not in words


@pytest.mark.parametrize(("line", "expected"), [
    ("      - relu", "      - "), ("      - conv:", "          "), ("    layers:", "      ")])
def test_return_after_a_list_item_indents_as_yaml_needs(qtbot, window, line, expected):
    window.editor.setPlainText(f"networks:\n  G:\n    layers:\n{line}")
    cursor_to(window, 4)
    qtbot.keyClick(window.editor, Qt.Key.Key_Return)
    assert window.editor.toPlainText().split("\n")[-1] == expected


def test_a_broken_indentation_is_explained_on_its_line(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    line = line_of(window, "  image_size: ${image_size}")
    replace_line(window, line, "   image_size: ${image_size}")
    settled(qtbot, window)
    (where, _, message), = window.problems_list.rows()
    assert where.startswith(f"{line}:")
    assert "indented by 3 spaces" in message and "indent it by 2" in message


def test_a_did_you_mean_problem_fixes_in_one_click(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    original = window.editor.toPlainText()
    line = line_of(window, "- batch_norm", line_of(window, "  G:"))
    replace_line(window, line, window.editor.toPlainText().split("\n")[line - 1]
                 .replace("batch_norm", "batch_nrom"))
    settled(qtbot, window)
    (button,) = window.problems_list.fix_buttons
    assert button.text() == "Change 'batch_nrom' to 'batch_norm'"
    button.click()
    assert window.editor.toPlainText() == original
    settled(qtbot, window)
    assert window.problems_list.rows() == []


def test_ampersands_in_menus_show_as_ampersands(qtbot, window):
    assert menu_text("Radford, Metz & Chintala") == "Radford, Metz && Chintala"
    texts = [a.text() for a in window.template_menu.actions()]
    dcgan = next(t for t in texts if t.startswith("dcgan"))
    assert "Metz && Chintala" in dcgan
    assert all(t.replace("&&", "").count("&") == 0 for t in texts)


def test_the_window_keeps_its_size_when_a_panel_changes(qtbot, window):
    window.resize(1100, 760)
    qtbot.waitUntil(lambda: window.size().width() == 1100)
    window._banner("Training in /a/very/long/folder/" + "x" * 300 + " step 10")
    window.status.setText("y" * 400)
    for dock in (window.training_dock, window.layer_graph_dock, window.form_dock,
                 window.architecture_dock):
        dock.raise_()
        qtbot.wait(20)
    for i in range(window.train_tabs.count()):
        window.train_tabs.setCurrentIndex(i)
        qtbot.wait(20)
    assert (window.width(), window.height()) == (1100, 760)


def test_last_file_and_dock_layout_are_restored(qtbot, tmp_path, dcgan):
    settings = QSettings(str(tmp_path / "session.ini"), QSettings.Format.IniFormat)
    first = MainWindow(settings=settings, delay_ms=20)
    first.show()
    first.open_file(dcgan, ask=False)
    first.problems_dock.hide()
    first.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, first.form_dock)
    first.close()
    settled(qtbot, first)
    second = MainWindow(settings=settings, delay_ms=20)
    second.show()
    assert second.restore_last_file()
    assert second.path == dcgan.resolve()
    assert not second.problems_dock.isVisible()
    assert second.dockWidgetArea(second.form_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    settled(qtbot, second)
    second.close()
    dcgan.unlink()
    third = MainWindow(settings=settings, delay_ms=20)
    assert not third.restore_last_file()  # gone: the app starts from a template instead
    third.close()


def test_help_has_a_getting_started_page(qtbot, window):
    menus = [a.text() for a in window.menuBar().actions()]
    assert "&Help" in menus
    window.show_help()
    assert window.help_dialog.isVisible()
    assert "Getting started" in window.help_dialog.browser.toPlainText()


def test_on_a_small_screen_the_editor_gets_width_first(qtbot, window):
    window._fit_screen(QRect(0, 0, 1024, 700))
    qtbot.waitUntil(lambda: window.width() == 1024)
    assert window.height() <= 700
    qtbot.wait(50)
    assert window.editor.width() > window.architecture_dock.width()
