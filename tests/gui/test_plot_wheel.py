"""The wheel over the plots (issue 27): the dashboard is a scrolling page, so the wheel alone
scrolls it wherever the pointer is, and Ctrl+wheel zooms the plot under the pointer."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from tests.gui.test_dashboard_sizes import dashboard, metrics  # noqa: F401  (fixture)


def _wheel(widget, at: QPoint, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    event = QWheelEvent(QPointF(at), QPointF(widget.mapToGlobal(at)), QPoint(0, 0),
                        QPoint(0, -120), Qt.MouseButton.NoButton, modifiers,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(widget, event)


def test_the_wheel_scrolls_the_page_and_ctrl_wheel_zooms(qtbot, dashboard):  # noqa: F811
    plots = dashboard.plots
    area = plots.parentWidget().parentWidget()
    bar = area.verticalScrollBar()
    if bar.maximum() == 0:  # the page fits (a large window): make it scroll
        plots.canvas.setMinimumHeight(area.viewport().height() * 2)
        qtbot.wait(50)
    bar.setValue(0)
    loss = plots.plots["loss/"]
    before = loss.vb.viewRange()
    centre = plots.canvas.mapFromScene(loss.vb.sceneBoundingRect().center())
    _wheel(plots.canvas.viewport(), centre)
    assert bar.value() > 0  # the page moved
    assert loss.vb.viewRange() == before  # the plot did not zoom
    scrolled = bar.value()
    centre = plots.canvas.mapFromScene(loss.vb.sceneBoundingRect().center())
    _wheel(plots.canvas.viewport(), centre, Qt.KeyboardModifier.ControlModifier)
    assert loss.vb.viewRange() != before  # zoomed
    assert bar.value() == scrolled
