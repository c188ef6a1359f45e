"""Loss term forms: built from the term's schema, edits are one-line text edits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

from tests.gui.conftest import SPECS, settled


@pytest.fixture
def cyclegan(tmp_path) -> Path:
    return Path(shutil.copy(SPECS / "cyclegan.yaml", tmp_path / "cyclegan.yaml"))


def _line_of(window, needle: str) -> int:
    text = window.editor.toPlainText()
    return text[: text.index(needle)].count("\n") + 1


def test_a_loss_weight_edit_changes_the_yaml_and_undo_restores_it(qtbot, window, cyclegan):
    window.open_file(cyclegan, ask=False)
    settled(qtbot, window)
    original = window.editor.toPlainText()
    window.graph.items["l:D:0"].setSelected(True)  # the data-flow graph's loss node
    form = window.form
    assert form.term is not None and form.term.path == ("objectives", "D", "loss", 0)
    assert form.term.kind == "adversarial"
    weight, history = form.fields["weight"], form.fields["history"]
    assert isinstance(weight, QDoubleSpinBox) and weight.value() == 0.5
    assert isinstance(history, QSpinBox) and history.value() == 50 and history.minimum() == 0
    assert isinstance(form.fields["critic"], QComboBox)
    assert form.fields["critic"].currentText() == "D_A"
    weight.setValue(0.25)
    text = window.editor.toPlainText()
    assert "- adversarial: {critic: D_A, real: real_A, fake: fake_A, history: 50, weight: 0.25}" \
        in text
    assert text.replace("weight: 0.25}", "weight: 0.5}", 1) == original
    settled(qtbot, window)
    assert window.spec.tree["objectives"]["D"]["loss"][0]["adversarial"]["weight"] == 0.25
    window.editor.undo()
    assert window.editor.toPlainText() == original


def test_the_cursor_on_a_loss_line_shows_its_form(qtbot, window, cyclegan):
    window.open_file(cyclegan, ask=False)
    settled(qtbot, window)
    original = window.editor.toPlainText()
    window.goto(_line_of(window, "- cycle: {pred: rec_A"), 5)
    form = window.form
    assert form.term.path == ("objectives", "G", "loss", 2)
    assert form.fields["weight"].text() == "${lambda_cycle}"  # an expression, as written
    assert form.fields["pred"].currentText() == "rec_A"
    form.fields["target"].setCurrentText("real_B")
    assert "- cycle: {pred: rec_A, target: real_B, weight:" in window.editor.toPlainText()
    window.editor.undo()
    window.goto(_line_of(window, "- adversarial: {critic: D_B, fake: fake_B}"), 5)
    assert form.term.path == ("objectives", "G", "loss", 0)
    form.fields["weight"].setValue(2.0)  # not written yet: added to the flow mapping
    assert "- adversarial: {critic: D_B, fake: fake_B, weight: 2.0}" in \
        window.editor.toPlainText()
    window.editor.undo()
    assert window.editor.toPlainText() == original
