"""Fields written as expressions (`${ngf * 2**depth}`) are editable in the property form
(issue 27): shown as written, with the value they give; a new text is checked on Enter, a bad
one is said beside the field and leaves the spec text as it was."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLineEdit

from tests.gui.conftest import settled


def test_an_expression_field_is_editable_and_checked_on_enter(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    window.select_path(("networks", "G", "layers", 0))
    field = window.form.fields["out"]
    assert isinstance(field, QLineEdit) and field.isEnabled() and not field.isReadOnly()
    assert field.text() == "${ngf * 2**depth}"
    original = window.editor.toPlainText()
    # A name that is not a param: said beside the field, the text kept.
    field.setFocus()
    field.selectAll()
    QTest.keyClicks(field, "${ngff * 8}")
    QTest.keyClick(field, Qt.Key.Key_Return)
    error = window.form.errors["out"]
    assert error.isVisible() and "ngff" in error.text()
    assert window.editor.toPlainText() == original
    # A good one: written (quoted for YAML), one undo step, and the value follows.
    field.selectAll()
    QTest.keyClicks(field, "${ngf * 4}")
    QTest.keyClick(field, Qt.Key.Key_Return)
    assert not error.isVisible()
    text = window.editor.toPlainText()
    assert 'conv_transpose: {out: "${ngf * 4}", kernel: 4, stride: 1' in text
    settled(qtbot, window)
    assert window.spec.analysis.networks["G"].layers[0].out_shape[0] == 256
    window.editor.undo()
    assert window.editor.toPlainText() == original


def test_a_block_argument_expression_is_edited_in_the_block(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    window.select_path(("networks", "D", "layers", 2))  # the first conv of repeat ×2 of down
    field = window.form.fields["out"]
    assert field.text() == "${ch}"
    field.setText("${ch * 2}")
    field.editingFinished.emit()
    assert 'conv: {out: "${ch * 2}", kernel: 4, stride: 2' in window.editor.toPlainText()
