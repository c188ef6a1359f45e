"""The dashboard at the window sizes people use (fresh settings): every plot tall enough or
reached by scrolling, tick labels apart, nothing drawn over the curves, tabs that keep still.

The measures are the widgets' own: the plots' view boxes, the axes' tick label rectangles as
pyqtgraph lays them out, the legends' and labels' scene rectangles.
"""

from __future__ import annotations

import math
from itertools import combinations

import pytest
from PySide6.QtCore import QRect, QSettings
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QScrollArea

from ganbuilder.train.events import StepMetrics
from gui.main_window import MainWindow

SIZES = [(1024, 700), (1400, 900), (1920, 1080)]
MIN_PLOT = 120


def metrics(last: int = 2500) -> list[StepMetrics]:
    """A long run's metrics: losses, accuracy, learning rates, timing and training.eval."""
    out = []
    for step in range(25, last + 1, 25):
        values = {"loss/D": 1 + math.sin(step / 50), "loss/D/adv_D": 1 + math.sin(step / 50),
                  "loss/G": 2 + math.cos(step / 30), "loss/G/adv_D": 2 + math.cos(step / 30),
                  "acc/D/real": 0.5 + 0.4 * math.sin(step / 40), "acc/D/fake": 0.45,
                  "lr/G": 2e-4, "lr/D": 1e-4, "time/step": 0.05, "time/data": 0.01}
        if step % 500 == 0:
            values |= {"eval/fid": 300 - step / 10, "eval/kid": 0.2 - step / 20000}
        out.append(StepMetrics(step, values))
    return out


@pytest.fixture(params=SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def dashboard(request, qtbot, tmp_path):
    width, height = request.param
    settings = QSettings(str(tmp_path / "fresh.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, delay_ms=20)
    win._fit_screen(QRect(0, 0, width, height))
    win.show()
    win.resize(width, height)
    win.show_training()
    win.plots.add(metrics())
    win.plots.flush()
    qtbot.waitUntil(lambda: win.plots.legends["lr/"].sceneBoundingRect().left() > 0)
    qtbot.wait(50)
    yield win
    win.editor.document().setModified(False)
    win.close()
    win.deleteLater()


def tick_labels(axis) -> list:
    """The rectangles of an axis's tick labels, as pyqtgraph would draw them now."""
    image = QImage(10, 10, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [] if specs is None else [rect for rect, _, _ in specs[2]]


def test_every_plot_is_tall_enough_or_scrolled_to(dashboard):
    plots = dashboard.plots
    assert set(plots.plots) == {"loss/", "acc/", "lr/", "time/", "eval/fid", "eval/kid"}
    area = plots.parentWidget().parentWidget()
    assert isinstance(area, QScrollArea)
    bar = area.verticalScrollBar()
    for group, plot in plots.plots.items():
        box = plot.vb.sceneBoundingRect()
        assert box.height() >= MIN_PLOT, (group, box.height())
        assert box.width() >= MIN_PLOT, (group, box.width())
        # Reachable: the page scrolls far enough to show the whole plot.
        top = plots.canvas.mapTo(area.widget(), plots.canvas.mapFromScene(
            box.topLeft().toPoint()))
        bottom = top.y() + box.height()
        assert bottom - bar.maximum() <= area.viewport().height() + 1, group


def test_no_two_tick_labels_overlap(dashboard):
    for group, plot in dashboard.plots.plots.items():
        for side in ("bottom", "left"):
            rects = tick_labels(plot.getAxis(side))
            assert rects, (group, side)
            for a, b in combinations(rects, 2):
                assert not a.intersects(b), (group, side, a, b)


def test_no_legend_or_label_over_the_curves(dashboard):
    plots = dashboard.plots
    boxes = {g: p.vb.sceneBoundingRect() for g, p in plots.plots.items()}
    for group, legend in plots.legends.items():
        rect = legend.sceneBoundingRect()
        assert rect.width() > 0
        assert rect.right() <= plots.canvas.width() + 1, group  # seen whole, not cut off
        for other, box in boxes.items():
            assert not rect.intersects(box), (group, other)
    # The chance line is named in the legend, not by a label drawn on the data.
    assert getattr(plots.chance, "label", None) is None
    assert "chance 0.5" in plots.series()["acc/"]


def test_titles_and_tick_labels_are_dark(dashboard):
    for plot in dashboard.plots.plots.values():
        colour = plot.titleLabel.item.defaultTextColor()
        assert colour.lightness() < 80, colour.name()
        assert plot.getAxis("left").textPen().color().lightness() < 100


def test_switching_tabs_keeps_the_dock_split(qtbot, dashboard):
    win = dashboard
    docks = (win.training_dock, win.graph_dock, win.library_dock, win.problems_dock)

    def split():
        return [d.geometry().getRect() for d in docks] + [win.editor.width()]

    before = split()
    for i in [*range(win.train_tabs.count()), 0]:
        win.train_tabs.setCurrentIndex(i)
        qtbot.wait(20)
        assert split() == before, win.train_tabs.tabText(i)
    win.architecture_dock.raise_()
    qtbot.wait(20)
    win.training_dock.raise_()
    qtbot.wait(20)
    assert split() == before


def test_runs_view_legend_names_and_grids(qtbot, dashboard, tmp_path):
    import yaml

    from tests.test_run_history import write_run

    runs = dashboard.runs
    for i, lr in enumerate((1e-4, 2e-4, 4e-4, 8e-4)):
        run = write_run(tmp_path / f"run{i}", [{"step": s, "loss/D": lr * s} for s in
                                                range(0, 500, 25)])
        (run / "spec.yaml").write_text(yaml.safe_dump(
            {"version": 1, "name": "a_long_spec_name_for_a_gan",
             "objectives": {"D": {"optimizer": {"adam": {"lr": lr}}}}}), encoding="utf-8")
        runs.add_run(run)
    dashboard.show_runs()
    qtbot.wait(50)
    item = runs.plot.getPlotItem()
    data = item.vb.sceneBoundingRect()
    legend = item.legend.sceneBoundingRect()
    assert legend.height() > 0 and not legend.intersects(data)
    assert data.height() >= MIN_PLOT
    # Whose learning rate, said in full; the list wraps a name rather than clipping it.
    assert all("D's lr=" in label for label in runs.labels)
    width = runs.run_list.viewport().width()
    for i in range(runs.run_list.count()):
        rect = runs.run_list.visualItemRect(runs.run_list.item(i))
        needed = runs.run_list.fontMetrics().boundingRect(
            0, 0, width - 24, 1000, 0x1000, runs.labels[i])  # Qt.TextWordWrap
        assert rect.height() >= needed.height(), runs.labels[i]
    for _caption, image in runs.sample_cells:
        assert image.width() >= 120 and image.height() >= 120


def test_latent_explorer_fits_the_dock_and_codes_wait_for_a_model_with_codes(qtbot, dashboard,
                                                                            tmp_path):
    from PySide6.QtWidgets import QPushButton

    explorer = dashboard.explorer
    explorer.set_checkpoint(tmp_path / "runs" / "a_spec_with_a_long_name" / "20260102-030405"
                            / "checkpoints" / "last.pt")  # a long path, as after training
    dashboard.train_tabs.setCurrentWidget(explorer)
    qtbot.wait(50)
    area = explorer.parentWidget().parentWidget()
    assert area.horizontalScrollBar().maximum() == 0  # nothing cut at the right edge
    for button in explorer.findChildren(QPushButton):
        right = button.mapTo(area.viewport(), button.rect().topRight()).x()
        assert right <= area.viewport().width(), button.text()
    # No model loaded, so no InfoGAN code: the code controls are off.
    assert not explorer.code_box.isEnabled() and not explorer.traverse_button.isEnabled()
