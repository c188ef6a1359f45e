"""The designer as a user sees it: typing, problems, architecture, graph, files."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor

from ganbuilder.design.templates import templates
from ganbuilder.spec import load_spec
from ganbuilder.summary import summarize
from tests.gui.conftest import SPECS, settled


def _line_of(win, needle: str, start: int = 0) -> int:
    """1-based line of the first editor line containing `needle` after line `start`."""
    for i, line in enumerate(win.editor.toPlainText().split("\n")):
        if i + 1 > start and needle in line:
            return i + 1
    raise AssertionError(f"{needle!r} not in the editor")


def _cursor_to_end_of(win, line: int) -> None:
    block = win.editor.document().findBlockByNumber(line - 1)
    cursor = QTextCursor(block)
    cursor.movePosition(QTextCursor.MoveOperation.EndOfBlock)
    win.editor.setTextCursor(cursor)


def test_typing_an_error_shows_it_at_its_line_and_clearing_it_removes_it(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    assert window.problems_list.rows() == []
    line = _line_of(window, "- relu", _line_of(window, "  G:"))
    _cursor_to_end_of(window, line)
    window.editor.setFocus()
    qtbot.keyClicks(window.editor, "x")
    qtbot.waitUntil(lambda: window.problems_list.rows() != [], timeout=10000)
    where, path, message = window.problems_list.rows()[0]
    assert where.split(":")[0] == str(line)
    assert path == "networks.G.layers[2]"
    assert "relux" in message and "relu" in message
    assert line in window.editor._error_lines
    assert window.architecture.marked_items()

    qtbot.keyClick(window.editor, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: window.validator.is_idle() and window.problems_list.rows() == [],
                    timeout=10000)
    assert window.editor._error_lines == {}
    assert window.architecture.marked_items() == []


def test_a_shape_error_marks_the_failing_layer_red(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    text = window.editor.toPlainText()
    old = "- conv: {out: 1, kernel: 4"
    cursor = window.editor.textCursor()
    start = text.index(old) + len(old) - 1
    cursor.setPosition(start)
    cursor.setPosition(start + 1, QTextCursor.MoveMode.KeepAnchor)
    cursor.insertText("8")
    settled(qtbot, window)
    [(_, path, message)] = window.problems_list.rows()
    assert path.startswith("networks.D.layers[")
    assert "kernel 8" in message
    marked = window.architecture.marked_items()
    assert [item.data(0, Qt.ItemDataRole.UserRole) for item in marked] == [
        ("networks", "D", "layers", int(path.split("[")[1].rstrip("]")))]


def test_clicking_a_problem_moves_the_cursor_to_it(qtbot, window, dcgan):
    text = dcgan.read_text().replace("source: digits", "source: digitz")
    dcgan.write_text(text)
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    item = window.problems_list.topLevelItem(0)
    window.problems_list.itemClicked.emit(item, 0)
    line, col = map(int, item.text(0).split(":"))
    cursor = window.editor.textCursor()
    assert (cursor.blockNumber() + 1, cursor.positionInBlock() + 1) == (line, col)
    assert "digitz" in cursor.block().text()


def test_architecture_totals_equal_summary(qtbot, window):
    window.open_file(SPECS / "dcgan.yaml", ask=False)
    settled(qtbot, window)
    expected = summarize(load_spec(SPECS / "dcgan.yaml"))
    assert window.architecture.total.text() == f"Total: {expected['params']:,} parameters"
    tree = window.architecture.tree
    assert tree.topLevelItemCount() == len(expected["networks"])
    for i, (name, net) in enumerate(expected["networks"].items()):
        item = tree.topLevelItem(i)
        assert item.text(0).split()[0] == name
        assert item.text(2) == f"{net['params']:,}"
        assert item.childCount() == len(net["layers"])
        for j, layer in enumerate(net["layers"]):
            assert item.child(j).text(2) == f"{layer['params']:,}"
            assert item.child(j).text(1) == "(" + ", ".join(map(str, layer["output_shape"])) + ")"


@pytest.mark.parametrize("path", sorted(SPECS.glob("*.yaml")), ids=lambda p: Path(p).stem)
def test_every_shipped_spec_opens_valid_with_every_view_built(qtbot, window, path, tmp_path,
                                                              monkeypatch):
    # On a machine that has torchvision's VGG files (srgan_vgg.yaml reads one from the hub
    # cache; without it the app rightly warns, a fact of the machine, not of the spec).
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    for name in ("vgg16-397923af.pth", "vgg19-dcbb9e9d.pth"):
        (tmp_path / "hub" / "checkpoints" / name).touch()
    window.open_file(path, ask=False)
    settled(qtbot, window)
    assert window.problems == []
    spec = load_spec(path)
    for name, plan in spec.analysis.networks.items():
        assert ("networks", name) in window.architecture._items
        for layer in plan.layers:  # every layer is listed and its form opens
            assert tuple(layer.path) in window.architecture._items
            window.select_path(tuple(layer.path))
            where = spec.locations.find(tuple(layer.path))
            if where.file == str(path):
                assert window.selected == tuple(layer.path)
            else:  # inherited from the file it extends: say where it is written
                message = window.statusBar().currentMessage()
                assert f"{Path(where.file).name}:{where.line}" in message
    labels = window.graph.labels()
    for name in spec.tree["networks"]:
        assert name in labels
    from ganbuilder.design.graphs import term_words

    terms = [term_words(t.kind, t.label, t.networks) for t in spec.analysis.terms]
    assert sorted(n.lines[0] for n in window.graph.nodes.values() if n.kind == "loss") == sorted(
        terms)
    assert all(word.split()[0] in {t.kind for t in spec.analysis.terms} or "_" in word
               for word in terms)  # each named by its kind, or its logged name
    for name in spec.tree["objectives"]:
        assert f"objective {name}" in labels


def test_clicking_a_graph_node_selects_its_lines(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    window.graph.items["t:fake"].setSelected(True)
    assert window.editor.textCursor().selectedText().strip().startswith("fake: G(z)")


def test_layer_selection_follows_the_editor_and_back(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    item = window.architecture._items[("networks", "D", "layers", 0)]
    window.architecture.tree.setCurrentItem(item)
    cursor = window.editor.textCursor()
    assert "conv: {out: \"${ndf}\"" in cursor.selectedText()

    line = _line_of(window, "- tanh")
    _cursor_to_end_of(window, line)
    selected = window.architecture.tree.selectedItems()
    assert [i.data(0, Qt.ItemDataRole.UserRole) for i in selected] == [
        ("networks", "G", "layers", 10)]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_open_and_save_round_trip_byte_for_byte(qtbot, window, dcgan, newline):
    data = dcgan.read_bytes().replace(b"\n", newline.encode())
    dcgan.write_bytes(data)
    window.open_file(dcgan, ask=False)
    target = dcgan.with_name("copy.yaml")
    assert window._write(target)
    assert target.read_bytes() == data
    assert window.save()
    assert dcgan.read_bytes() == data


def test_saving_an_edit_writes_it_with_the_files_line_endings(qtbot, window, dcgan):
    dcgan.write_bytes(dcgan.read_bytes().replace(b"\n", b"\r\n"))
    window.open_file(dcgan, ask=False)
    window.editor.moveCursor(QTextCursor.MoveOperation.End)
    window.editor.insertPlainText("# note\n")
    assert window.save()
    assert dcgan.read_bytes().endswith(b"\r\n# note\r\n")
    assert b"\n" not in dcgan.read_bytes().replace(b"\r\n", b"")


def test_a_file_changed_on_disk_is_reloaded(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    dcgan.write_text(dcgan.read_text().replace("steps: 1500", "steps: 99"))
    qtbot.waitUntil(lambda: "steps: 99" in window.editor.toPlainText(), timeout=5000)
    assert not window.editor.document().isModified()


def test_recent_files_remember_opened_specs(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    assert window.recent_files()[0] == str(dcgan.resolve())
    assert [a.text() for a in window.recent_menu.actions()] == [str(dcgan.resolve())]


def test_new_from_template_lists_every_spec_with_its_description(qtbot, window):
    actions = window.template_menu.actions()
    shipped = sorted(SPECS.glob("*.yaml"))
    assert [t.path for t in templates()] == shipped
    assert len(actions) == len(shipped)
    dcgan = next(t for t in templates() if t.name == "dcgan")
    assert dcgan.description.startswith("DCGAN")
    window.new_from_template(dcgan.path)
    assert window.path is None
    assert window.editor.toPlainText() == dcgan.path.read_text()
    assert not window.editor.document().isModified()  # untouched until edited (issue 11)
    settled(qtbot, window)
    assert window.problems_list.rows() == []


def test_toggle_comment_is_one_undo_step(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    original = window.editor.toPlainText()
    window.editor.select_lines(_line_of(window, "nz: 100"), _line_of(window, "ndf: 64"))
    window.editor.toggle_comment()
    lines = window.editor.toPlainText().split("\n")
    assert lines[_line_of(window, "nz: 100") - 1].lstrip().startswith("# nz: 100")
    assert lines[_line_of(window, "ndf: 64") - 1].lstrip().startswith("# ndf: 64")
    window.editor.toggle_comment()
    assert window.editor.toPlainText() == original
    window.editor.toggle_comment()
    window.editor.undo()
    assert window.editor.toPlainText() == original


def test_find_bar_finds_and_wraps(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    window.find_bar.open_bar()
    window.find_bar.field.setText("leaky_relu")
    first = window.editor.textCursor().blockNumber()
    assert window.find_bar.find_next()
    assert window.editor.textCursor().blockNumber() > first
    window.find_bar.field.setText("no such text")
    assert "no match" in window.find_bar.status.text()


def test_completion_offers_layer_names(qtbot, window):
    window.editor.setPlainText("- conv_tr")
    window.editor.moveCursor(QTextCursor.MoveOperation.End)
    window.editor.complete()
    assert window.editor.completer.currentCompletion() == "conv_transpose"
    window.editor._insert_completion("conv_transpose")
    assert window.editor.toPlainText() == "- conv_transpose"


def test_stale_results_are_dropped(qtbot, window):
    text = (SPECS / "dcgan.yaml").read_text()
    seen = []
    window.validator.checked.connect(lambda r: seen.append(r.generation))
    window.validator.request(text.replace("source: digits", "source: nope"), immediately=True)
    window.validator.request(text, immediately=True)
    settled(qtbot, window)
    assert seen == [window.validator.generation]
    assert window.problems_list.rows() == []


def test_export_as_pytorch_code_writes_the_networks_and_the_loop(qtbot, window, dcgan,
                                                                  monkeypatch):
    from PySide6.QtWidgets import QFileDialog, QMessageBox

    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    out = dcgan.with_name("dcgan_model.py")
    chosen = []

    def ask(parent, title, start, filters):
        chosen.append(start)
        return str(target), filters

    warnings = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", ask)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    target = out
    assert window.export_code()
    assert chosen == [str(out)]  # offered beside the spec, named for it
    text = out.read_text()
    assert "class Training:" in text and "class G(nn.Sequential):" in text
    assert "wrote" in window.statusBar().currentMessage()
    before = dcgan.read_bytes()
    target = dcgan  # the spec itself is refused, and left as it was
    assert not window.export_code()
    assert "is the spec or one it extends" in warnings[-1]
    assert dcgan.read_bytes() == before
