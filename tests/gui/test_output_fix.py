"""dcgan with G's last layer set to `out: 3` (issue 27): the problem on G's layer carries a
one-click fix, and the fix makes the spec valid again."""

from __future__ import annotations

from tests.gui.conftest import settled


def test_a_wrong_generator_output_has_a_one_click_fix(qtbot, window, dcgan):
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    original = window.editor.toPlainText()
    window.editor.setPlainText(original.replace('conv_transpose: {out: "${nc}"',
                                                "conv_transpose: {out: 3"))
    settled(qtbot, window)
    buttons = window.problems_list.fix_buttons
    button = next(b for b in buttons if b.text().startswith("Set out to"))
    assert "${nc}" in button.text()
    button.click()
    assert window.editor.toPlainText() == original
    settled(qtbot, window)
    assert not window.problems and window.spec is not None
