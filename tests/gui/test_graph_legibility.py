"""Graphs that stay legible: the user's zoom survives resizes and redraws, fits never shrink
text below 80 % of the system font, nodes can be searched and hovering gives parameters."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QHelpEvent, QWheelEvent
from PySide6.QtWidgets import QApplication, QGraphicsSimpleTextItem, QToolTip

from gui.graph_tools import MIN_TEXT, min_scale
from tests.gui.conftest import SPECS, settled


def wheel(view, up: bool) -> None:
    centre = QPointF(view.viewport().rect().center())
    event = QWheelEvent(centre, QPointF(view.viewport().mapToGlobal(centre.toPoint())),
                        QPoint(), QPoint(0, 120 if up else -120), Qt.MouseButton.NoButton,
                        Qt.KeyboardModifier.NoModifier, Qt.ScrollPhase.NoScrollPhase, False)
    view.wheelEvent(event)


def smallest_text_on_screen(view) -> float:
    sizes = [item.font().pointSizeF() for item in view.scene().items()
             if isinstance(item, QGraphicsSimpleTextItem) and item.isVisible()]
    return min(sizes) * view.transform().m11()


@pytest.fixture
def cyclegan(window, qtbot, tmp_path):
    path = Path(shutil.copy(SPECS / "cyclegan.yaml", tmp_path / "cyclegan.yaml"))
    window.open_file(path, ask=False)
    settled(qtbot, window)
    window.graph_dock.raise_()
    qtbot.waitUntil(lambda: window.graph.nodes != {})
    return window


def test_cyclegans_data_flow_is_drawn_readable(cyclegan):
    view = cyclegan.graph
    system = QApplication.font().pointSizeF()
    assert smallest_text_on_screen(view) >= MIN_TEXT * system - 1e-6
    for _ in range(30):  # zooming out stops where the text would get too small
        wheel(view, up=False)
    assert smallest_text_on_screen(view) >= MIN_TEXT * system - 1e-6
    assert view.transform().m11() == pytest.approx(min_scale(view))


def test_wheel_zoom_survives_resizes_and_redraws_until_fit(qtbot, cyclegan):
    view = cyclegan.graph
    fitted = view.transform().m11()
    for _ in range(3):
        wheel(view, up=True)
    zoomed = view.transform().m11()
    assert zoomed == pytest.approx(fitted * 1.15 ** 3)
    cyclegan.graph_dock.resize(cyclegan.graph_dock.width() - 60, cyclegan.graph_dock.height())
    view.resize(view.width() - 80, view.height() - 40)
    qtbot.wait(20)
    assert view.transform().m11() == pytest.approx(zoomed)
    cyclegan.editor.insertPlainText(" ")  # a redraw after an edit keeps the zoom too
    settled(qtbot, cyclegan)
    assert view.transform().m11() == pytest.approx(zoomed)
    view.controls.fit_button.click()
    assert not view.user_zoomed and view.transform().m11() == pytest.approx(fitted)


def test_search_selects_and_shows_a_node(qtbot, cyclegan):
    view = cyclegan.graph
    names = view.labels()
    target = next(n for n in names if n.startswith("fake"))
    view.controls.search.setText(target)
    item = view.items[view.controls.find()]
    assert item.isSelected() and item.node.lines[0] == target
    visible = view.mapToScene(view.viewport().rect()).boundingRect()
    assert visible.contains(item.sceneBoundingRect().center())
    view.controls.search.setText("no such node")
    assert view.controls.find() is None


def test_hovering_a_layer_shows_its_full_parameters(qtbot, window, tmp_path):
    path = Path(shutil.copy(SPECS / "dcgan.yaml", tmp_path / "dcgan.yaml"))
    window.open_file(path, ask=False)
    settled(qtbot, window)
    window.layer_graph_dock.raise_()
    view = window.layer_graph.view
    qtbot.waitUntil(lambda: view.items != {})
    layers = window.spec.analysis.layers
    item = next(i for i in view.items.values()
                if getattr(layers.get(tuple(i.node.path)), "kind", "") == "conv_transpose")
    view.centerOn(item)
    at = view.mapFromScene(item.sceneBoundingRect().center())
    event = QHelpEvent(QEvent.Type.ToolTip, at, view.viewport().mapToGlobal(at))
    assert view.viewportEvent(event)
    tip = QToolTip.text()
    assert "kernel: 4" in tip and "output_padding: 0" in tip and "output: (256, 4, 4)" in tip
