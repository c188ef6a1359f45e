"""Delete / move up / move down of the selected layer: whole-line text edits, one undo step."""

from __future__ import annotations

from PySide6.QtCore import Qt

from tests.gui.conftest import SPECS, settled


def _select(window, path):
    window.select_path(path)
    assert window.form.layer is not None and tuple(window.form.layer.path) == path


def test_delete_then_undo_restores_byte_for_byte(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    original = window.editor.toPlainText()
    count = len(window.spec.analysis.networks["G"].layers)
    _select(window, ("networks", "G", "layers", 1))  # - batch_norm
    assert window.form.delete_button.isEnabled()
    window.form.delete_button.click()
    text = window.editor.toPlainText()
    assert text.count("\n") == original.count("\n") - 1
    settled(qtbot, window)
    assert len(window.spec.analysis.networks["G"].layers) == count - 1
    window.editor.undo()
    assert window.editor.toPlainText() == original


def test_move_down_changes_the_architecture_order_and_keeps_comments(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    original = window.editor.toPlainText()
    kinds = [layer.kind for layer in window.spec.analysis.networks["D"].layers]
    _select(window, ("networks", "D", "layers", 0))  # conv, then leaky_relu
    assert not window.form.up_button.isEnabled()  # already first
    assert "first" in window.form.up_button.toolTip() or "end" in window.form.up_button.toolTip()
    window.form.down_button.click()
    settled(qtbot, window)
    assert [layer.kind for layer in window.spec.analysis.networks["D"].layers] == \
        [kinds[1], kinds[0], *kinds[2:]]
    tree = window.architecture._items[("networks", "D")]
    assert tree.child(0).text(0).startswith("0  " + kinds[1])
    assert tree.child(1).text(0).startswith("1  " + kinds[0])
    # the selection followed the moved layer; Alt+Up moves it back
    assert tuple(window.form.layer.path) == ("networks", "D", "layers", 1)
    qtbot.keyClick(window.editor, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    assert window.editor.toPlainText() == original
    window.editor.undo()
    window.editor.undo()
    assert window.editor.toPlainText() == original
    assert original.count("#") == window.editor.toPlainText().count("#")


def test_layers_from_blocks_cannot_be_moved(qtbot, window):
    window.open_file(SPECS / "pix2pix.yaml", ask=False)
    settled(qtbot, window)
    _select(window, ("networks", "G", "layers", 2))  # expanded from `repeat` of block `down`
    for button in (window.form.delete_button, window.form.up_button, window.form.down_button):
        assert not button.isEnabled()
        assert "not possible" in button.toolTip()
    _select(window, ("networks", "G", "layers", 11))  # an own item after two repeats
    assert window.form.delete_button.isEnabled() and window.form.up_button.isEnabled()
