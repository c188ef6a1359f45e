"""Form edits change the YAML text in place, keep comments, and undo in one step."""

from __future__ import annotations

from PySide6.QtWidgets import QSpinBox

from tests.gui.conftest import settled


def _select(qtbot, window, path):
    window.select_path(path)
    assert window.form.layer is not None and tuple(window.form.layer.path) == path


def test_a_form_edit_changes_the_yaml_and_undo_restores_it(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    original = window.editor.toPlainText()
    _select(qtbot, window, ("networks", "D", "layers", 0))
    kernel = window.form.fields["kernel"]
    assert isinstance(kernel, QSpinBox) and kernel.isEnabled() and kernel.minimum() == 1
    assert window.form.fields["out"].text() == "${ndf}"  # an expression, shown as written
    kernel.setValue(3)
    text = window.editor.toPlainText()
    assert '- conv: {out: "${ndf}", kernel: 3, stride: 2, padding: 1, bias: false}' in text
    assert text.replace("kernel: 3, stride: 2, padding: 1, bias: false}\n      - leaky", "") == \
        original.replace("kernel: 4, stride: 2, padding: 1, bias: false}\n      - leaky", "")
    settled(qtbot, window)
    assert "kernel=3" in window.architecture._items[("networks", "D", "layers", 0)].text(0)
    window.editor.undo()
    assert window.editor.toPlainText() == original


def test_form_edits_on_shorthand_and_bare_layers(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    original = window.editor.toPlainText()
    _select(qtbot, window, ("networks", "D", "layers", 1))  # - leaky_relu: 0.2
    window.form.fields["slope"].setValue(0.3)
    assert "      - leaky_relu: 0.3\n      - repeat" in window.editor.toPlainText()
    settled(qtbot, window)
    _select(qtbot, window, ("networks", "G", "layers", 1))  # - batch_norm
    window.form.fields["affine"].setChecked(False)
    assert "      - batch_norm: {affine: false}\n      - relu" in window.editor.toPlainText()
    window.editor.undo()
    window.editor.undo()
    assert window.editor.toPlainText() == original


def test_the_palette_inserts_a_layer_after_the_selection(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    _select(qtbot, window, ("networks", "G", "layers", 10))  # - tanh
    window.form.palette.setCurrentText("conv")
    window.form.insert_button.click()
    assert "      - tanh\n      - conv: {out: 1, kernel: 1}\n  D:" in window.editor.toPlainText()
    settled(qtbot, window)
    assert window.problems_list.rows() == []
    window.editor.undo()
    assert "      - tanh\n  D:" in window.editor.toPlainText()
