"""The Layer graph on long networks (issue 27): at the default 1400 x 900 it has most of the
right-hand column, the property form stays in view under it, and Fit shows a long network
(CycleGAN's generator with 9 residual blocks, StyleGAN2's) whole with its text readable."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect

from gui.graph_tools import min_scale
from tests.gui.conftest import SPECS, settled


def _fitted(qtbot, window, spec: str, network: str, size: tuple[int, int]):
    """The layer canvas of `network` in the window fitted to a screen of `size`, after Fit."""
    window._fit_screen(QRect(0, 0, *size))
    window.open_file(SPECS / f"{spec}.yaml", ask=False)
    settled(qtbot, window)
    window.layer_graph.show_network(network)
    view = window.layer_graph.view
    qtbot.waitUntil(lambda: view.network == network and bool(view.items))
    view.controls.fit_button.click()
    qtbot.wait(20)
    return view


def _outside(view) -> list[str]:
    """The first lines of the drawn nodes not wholly inside what the view shows."""
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    return [item.node.lines[0] for item in set(view.items.values())
            if not shown.contains(item.sceneBoundingRect())]


@pytest.mark.parametrize(("spec", "network"), [("cyclegan", "G_AB"), ("stylegan2", "G")])
def test_at_1024_fit_shows_a_long_network_whole_and_readable(qtbot, window, spec, network):
    view = _fitted(qtbot, window, spec, network, (1024, 700))
    assert view.viewport().width() < 400  # the small canvas of issue 27
    assert _outside(view) == []
    assert view.transform().m11() >= min_scale(view) - 1e-6


@pytest.mark.parametrize(("spec", "network"), [("cyclegan", "G_AB"), ("stylegan2", "G")])
def test_fit_shows_a_long_network_whole_and_readable(qtbot, window, spec, network):
    window._fit_screen(QRect(0, 0, 1400, 900))
    window.open_file(SPECS / f"{spec}.yaml", ask=False)
    settled(qtbot, window)
    panel = window.layer_graph
    assert not window.layer_graph_dock.visibleRegion().isEmpty()  # shown by default
    panel.show_network(network)
    view = panel.view
    qtbot.waitUntil(lambda: view.network == network and bool(view.items))
    assert view.viewport().width() >= 450 and view.viewport().height() >= 400
    view.controls.fit_button.click()
    qtbot.wait(20)
    shown = view.mapToScene(view.viewport().rect()).boundingRect()
    for item in set(view.items.values()):
        assert shown.contains(item.sceneBoundingRect()), item.node.lines[0]
    assert view.transform().m11() >= min_scale(view) - 1e-6
    # A node chosen on the canvas and its fields, both in view.
    window.select_path(("networks", network, "layers", 1))
    assert window.form.fields and not window.form_dock.visibleRegion().isEmpty()
    assert not window.layer_graph_dock.visibleRegion().isEmpty()


def test_at_1024_the_canvas_bar_never_widens_the_window(qtbot, window, dcgan):
    window._fit_screen(QRect(0, 0, 1024, 700))
    window.open_file(dcgan, ask=False)
    settled(qtbot, window)
    window.layer_graph.show_network("G")
    qtbot.waitUntil(lambda: bool(window.layer_graph.view.items))
    qtbot.wait(50)
    assert window.width() <= 1024 and window.minimumSizeHint().width() <= 1024
    assert window.library_dock.width() >= 120  # the library keeps its names readable
