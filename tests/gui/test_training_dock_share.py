"""The training dock at 1024 x 700 (issue 27): it takes most of its column while training, the
property form keeps a usable share under it (or collapses with one click and comes back), the
editor keeps its width and the canvas is one tab away."""

from __future__ import annotations

from PySide6.QtCore import QRect

from tests.gui.conftest import settled


def test_the_training_dock_shares_its_column_sensibly(qtbot, window, dcgan):
    window._fit_screen(QRect(0, 0, 1024, 700))
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    editor = window.editor.geometry()
    window.show_training()
    qtbot.wait(120)
    train, form = window.training_dock.height(), window.form_dock.height()
    assert train >= 400 and train >= 0.65 * (train + form)
    assert form >= 120 and not window.form_dock.visibleRegion().isEmpty()
    assert window.editor.geometry() == editor  # the text is not squeezed by training
    window.fill_button.click()  # collapse the form: the plots get the column
    qtbot.wait(50)
    assert not window.form_dock.isVisible()
    assert window.training_dock.height() >= train + form - 10
    window.fill_button.click()  # and back
    qtbot.wait(120)
    assert window.form_dock.isVisible() and window.form_dock.height() >= 120
    window.layer_graph_dock.raise_()  # the canvas, one tab away, keeps the room
    qtbot.wait(50)
    assert window.layer_graph.view.viewport().height() >= 300
