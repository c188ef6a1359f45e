"""Live training curves: losses, discriminator accuracy, learning rates, the share of step
time spent waiting for data, and training.eval's figures (pyqtgraph).

One curve per metric key, grouped by prefix: `loss/...` (every term and each objective's total,
totals drawn thicker, with any other family a loss term logs, such as InfoGAN's `mse/Q/u`),
`acc/...` (each critic on real and on fake, InfoGAN's Q on its code), `lr/...`, the data share
(once the trainer logs it) and one plot per `eval/<metric>` (once one arrives). Curves are
smoothed with an exponential moving average on display only; the CSV export holds the raw values.

The plots flow into as many columns as the width allows, each at least ROW_HEIGHT px tall:
what does not fit scrolls (the page sits in a scroll area), it is never squashed. Each plot's
legend sits in its own column beside the data, never over it; tick labels that would touch
are left out (ReadableAxis). An objective of one term is one curve, not the same line twice; a
legend name says whose objective a curve is and, for an adversarial term, its critic
(`G: adversarial (critic D)`: G's objective, its term against D). Hovering shows every
plotted value at the nearest logged step; the x axis is the step or the wall time.
"""

from __future__ import annotations

import csv
import io
import math
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.design.curves import (
    DATA_SHARE,
    GROUPS,
    Smoother,
    data_share,
    duplicate_terms,
    elapsed_seconds,
    format_value,
    group_title,
    is_smoothed,
    plot_group,
    series_name,
    values_at,
)
from ganbuilder.errors import UserError
from ganbuilder.files import write_file
from ganbuilder.runs.history import MetricTable
from ganbuilder.train.events import StepMetrics

# A redraw of a long run costs tens of ms on the GUI thread, which shares the CPU with training:
# redraws are spaced so they take at most 1/REDRAW_SHARE of the time, and at least MIN_REDRAW_MS.
REDRAW_SHARE = 10
MIN_REDRAW_MS, MAX_REDRAW_MS = 100, 3000
# Tableau 10: neighbouring curves stay apart in hue and lightness.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
X_AXES = (("step", "step"), ("wall time", "wall time (min)"))
ALWAYS = ("loss/", "acc/", "lr/")  # shown from the start; the others once they have data
ROW_HEIGHT = 200  # a plot's least height: title, x axis and >= 120 px of data
CELL_WIDTH = 520  # a plot and its legend; the plots flow into as many columns as fit
LEGEND_WIDTH = 175  # "G: adversarial (critic D)" at 9 pt, whole
NARROW = 500  # px: below this the legends go under their plots
TITLE_COLOUR, AXIS_COLOUR = "#212121", "#424242"  # dark: readable on white
TICK_GAP = 6  # px kept free between two tick labels


class ReadableAxis(pg.AxisItem):
    """An axis whose tick labels never touch: a label that would come within TICK_GAP px of
    one already placed (a coarser level's, or its left/lower neighbour's) is left out."""

    def generateDrawSpecs(self, p):
        specs = super().generateDrawSpecs(p)
        if specs is None:
            return None
        axis, ticks, texts = specs
        kept: list = []
        for spec in texts:
            grown = spec[0].adjusted(-TICK_GAP / 2, -1, TICK_GAP / 2, 1)
            if not any(grown.intersects(other[0]) for other in kept):
                kept.append(spec)
        return axis, ticks, kept


class MetricsPlots(QWidget):
    """The run's metrics as curves, with smoothing, log scale and CSV/PNG export.

    Signals:
        exported(str): a file was written (CSV or PNG).
    """

    exported = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.table = MetricTable()
        self._smoothers: dict[str, Smoother] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.smoothing = 0.0

        self.smooth_slider = QSlider(Qt.Orientation.Horizontal)
        self.smooth_slider.setRange(0, 99)
        self.smooth_slider.setMaximumWidth(120)
        self.smooth_slider.setMinimumWidth(50)
        self.smooth_slider.setToolTip("Exponential moving average weight (display only)")
        self.smooth_label = QLabel()
        self.smooth_slider.valueChanged.connect(lambda v: self.set_smoothing(v / 100))
        self.log_box = QCheckBox("Log scale")
        self.log_box.setToolTip("Logarithmic y axis for the losses")
        self.log_box.toggled.connect(self.set_log_scale)
        # One menu button rather than two: the bar must fit a dock beside the editor.
        export = QToolButton()
        export.setText("Export")
        export.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(export)
        menu.addAction("Metrics as CSV…", self._export_csv_dialog)
        menu.addAction("Plots as PNG…", self._export_png_dialog)
        export.setMenu(menu)
        # Two short rows rather than one long one: the page fits a dock a third of a 1024 px
        # window wide without scrolling sideways.
        bar = QHBoxLayout()
        smooth = QHBoxLayout()
        smooth.addWidget(QLabel("Smoothing"))
        smooth.addWidget(self.smooth_slider)
        smooth.addWidget(self.smooth_label)
        smooth.addStretch(1)
        bar.addWidget(self.log_box)
        bar.addStretch(1)
        bar.addWidget(export)

        self.x_box = QComboBox()
        self.x_box.addItems([name for name, _ in X_AXES])
        self.x_box.setToolTip("The x axis: logged step, or wall time since the run started")
        self.x_box.currentIndexChanged.connect(lambda _: self._redraw())
        bar.insertWidget(0, self.x_box)
        bar.insertWidget(0, QLabel("x:"))
        self.hover_label = QLabel(" ")
        self.hover_label.setStyleSheet("color: #333;")
        self.hover_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # Cut at the edge rather than widening the plots (a run with many terms makes a long
        # line); the whole line is its tool tip. Not wrapped: a wrapped label's height for a
        # narrow width would make the page scroll.
        self.hover_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

        self.canvas = _TimedCanvas()
        self.canvas.setBackground("w")
        self.canvas.setToolTip("Ctrl+wheel zooms a plot, the wheel scrolls the page; "
                               "drag to pan, right-click for the plot's menu")
        self.plots: dict[str, pg.PlotItem] = {}
        self.legends: dict[str, pg.LegendItem] = {}
        self.cursors: dict[str, pg.InfiniteLine] = {}
        self._columns: tuple[int, bool] | None = None
        for group in ALWAYS:
            self._plot(group)
        self.plots["acc/"].setYRange(0, 1, padding=0.05)
        # A critic that tells real from fake no better than chance sits on this line; it is
        # named in the legend, not by a label drawn over the curves.
        dash = pg.mkPen("#616161", width=1, style=Qt.PenStyle.DashLine)
        self.chance = pg.InfiniteLine(0.5, angle=0, pen=dash)
        self.plots["acc/"].addItem(self.chance, ignoreBounds=True)
        self.legends["acc/"].addItem(pg.PlotDataItem(pen=dash), "chance 0.5")
        self.plots["lr/"].enableAutoRange(y=False)  # from 0, so a constant rate reads as one
        self.plots["lr/"].getAxis("left").setWidth(56)  # room for 2e-04 when it first appears
        self.merged: dict[str, str] = {}
        self._xs: list[float] = []
        self._mouse = pg.SignalProxy(self.canvas.scene().sigMouseMoved, rateLimit=30,
                                     slot=lambda args: self._hover(args[0]))

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addLayout(smooth)
        layout.addWidget(self.canvas, 1)
        layout.addWidget(self.hover_label)
        self._place()
        self._update_smooth_label()
        self._last_redraw = -math.inf
        self.redraw_interval_ms = MIN_REDRAW_MS
        self._redraw_timer = QTimer(self)
        self._redraw_timer.setSingleShot(True)
        self._redraw_timer.timeout.connect(self.flush)

    @property
    def steps(self) -> list[int]:
        return self.table.steps

    @property
    def values(self) -> dict[str, list[float]]:
        """Raw logged values by metric key, NaN where a key was not logged."""
        return self.table.columns

    def clear(self) -> None:
        """Forget every curve (a new run)."""
        self.table.clear()
        self._smoothers.clear()
        self._redraw_timer.stop()
        self._last_redraw, self.redraw_interval_ms = -math.inf, MIN_REDRAW_MS
        for key, curve in self.curves.items():
            group = plot_group(key)
            self.plots[group].removeItem(curve)
            self.legends[group].removeItem(curve)
        self.curves.clear()
        for group in [g for g in self.plots if g not in ALWAYS]:
            plot, legend = self.plots.pop(group), self.legends.pop(group)
            del self.cursors[group]
            for item in (plot, legend):
                self.canvas.ci.layout.removeItem(item)
                self.canvas.scene().removeItem(item)
        self._columns = None
        self._place()
        self.merged, self._xs = {}, []
        self.hover_label.setText(" ")

    def _plot(self, group: str) -> pg.PlotItem:
        """A new plot (and its legend and hover cursor) for `group`, placed by _place."""
        plot = pg.PlotItem(axisItems={"bottom": ReadableAxis("bottom"),
                                      "left": ReadableAxis("left")})
        plot.setTitle(group_title(group), color=TITLE_COLOUR, size="10pt")
        plot.showGrid(x=True, y=True, alpha=0.2)
        plot.setDownsampling(auto=True, mode="peak")
        plot.setClipToView(True)
        plot.setLabel("bottom", X_AXES[self.wall_time][1], color=AXIS_COLOUR)
        plot.getAxis("bottom").enableAutoSIPrefix(False)
        plot.getAxis("left").enableAutoSIPrefix(False)
        for side in ("bottom", "left"):
            plot.getAxis(side).setTextPen(AXIS_COLOUR)
        plot.setMinimumHeight(ROW_HEIGHT)
        if group == "time/":
            plot.setYRange(0, 1, padding=0.05)
        # Not x-linked: pyqtgraph links side-by-side plots by screen position, which would
        # show the accuracy and the learning rate over different steps.
        legend = pg.LegendItem(labelTextSize="9pt", labelTextColor=TITLE_COLOUR,
                               brush=(255, 255, 255, 0))
        legend.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        legend.setMinimumWidth(LEGEND_WIDTH)
        legend.setMaximumWidth(LEGEND_WIDTH)
        for item in (plot, legend):
            item.setParentItem(self.canvas.ci)
        cursor = pg.InfiniteLine(angle=90, pen=pg.mkPen("#9e9e9e", width=1))
        cursor.setVisible(False)
        plot.addItem(cursor, ignoreBounds=True)
        self.plots[group], self.legends[group], self.cursors[group] = plot, legend, cursor
        self._columns = None  # place again
        return plot

    def _place(self) -> None:
        """Lay the plots out in as many columns as the width allows (at least one), each
        with its legend in the column after it; the canvas is tall enough for every row, so
        the page scrolls rather than squashing a plot below ROW_HEIGHT."""
        width = self.canvas.width() if self.isVisible() else CELL_WIDTH
        columns = max(1, int(width // CELL_WIDTH))
        # Too narrow for a legend beside its plot: each legend goes under its plot instead.
        under = width < NARROW
        if (columns, under) == self._columns:
            return
        self._columns = (columns, under)
        grid = self.canvas.ci.layout
        while grid.count():
            grid.removeAt(grid.count() - 1)
        order = [g for g, _ in GROUPS if g in self.plots] + sorted(
            g for g in self.plots if g not in dict(GROUPS))
        for n, group in enumerate(order):
            row, col = divmod(n, columns)
            legend = self.legends[group]
            legend.setColumnCount(1)  # names are long ("G: adversarial (critic D)")
            legend.setMaximumWidth(width if under else LEGEND_WIDTH)
            legend.setMinimumWidth(0 if under else LEGEND_WIDTH)
            grid.addItem(self.plots[group], 2 * row if under else row, 2 * col)
            grid.addItem(legend, 2 * row + 1 if under else row, 2 * col + (0 if under else 1))
            grid.setAlignment(legend, Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        rows = -(-len(order) // columns)
        for row in range(grid.rowCount()):
            plot_row = row % 2 == 0 if under else True
            grid.setRowStretchFactor(row, 1 if plot_row and row < rows * (2 if under else 1)
                                     else 0)
        for col in range(grid.columnCount()):
            grid.setColumnStretchFactor(col, 1 if col % 2 == 0 and col < 2 * columns else 0)
        legends = rows * 70 if under else 0  # two or three legend lines under each plot
        self.canvas.setMinimumHeight(rows * (ROW_HEIGHT + 8) + legends)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self._place()

    def add(self, records: list[StepMetrics]) -> None:
        """Append logged steps; redraw now, or once the redraw interval has passed."""
        for record in records:
            self.table.append(record.step, record.metrics)
        wait_ms = self.redraw_interval_ms - (time.perf_counter() - self._last_redraw) * 1000
        if wait_ms <= 0:
            self.flush()
        elif not self._redraw_timer.isActive():
            self._redraw_timer.start(int(wait_ms))

    def flush(self) -> None:
        """Redraw and paint now; the time it took sets the interval to the next redraw."""
        self._redraw_timer.stop()
        start = time.perf_counter()
        self._redraw()
        self._last_redraw = time.perf_counter()
        cost_ms = (self._last_redraw - start) * 1000 + self.canvas.paint_ms
        self.redraw_interval_ms = min(MAX_REDRAW_MS, max(MIN_REDRAW_MS, cost_ms * REDRAW_SHARE))

    def curve(self, key: str) -> pg.PlotDataItem | None:
        """The curve showing metric `key`, if it is plotted."""
        return self.curves.get(key)

    def set_smoothing(self, weight: float) -> None:
        self.smoothing = weight
        self._smoothers.clear()
        if self.smooth_slider.value() != round(weight * 100):
            self.smooth_slider.setValue(round(weight * 100))
        self._update_smooth_label()
        self._redraw()

    def set_log_scale(self, on: bool) -> None:
        self.plots["loss/"].setLogMode(y=on)
        if self.log_box.isChecked() != on:
            self.log_box.setChecked(on)

    def _update_smooth_label(self) -> None:
        self.smooth_label.setText(f"{self.smoothing:.2f}")

    @property
    def wall_time(self) -> bool:
        """The x axis is the wall time (minutes) rather than the step."""
        return self.x_box.currentIndex() == 1

    def set_wall_time(self, on: bool) -> None:
        self.x_box.setCurrentIndex(1 if on else 0)

    def _redraw(self) -> None:
        if self.wall_time:
            xs = np.asarray(elapsed_seconds(self.steps, self.values), dtype=float) / 60
        else:
            xs = np.asarray(self.steps, dtype=float)
        self._xs = xs.tolist()
        merged = duplicate_terms(self.values)
        if merged != self.merged:  # a term that stopped matching its total gets its own line
            for key in set(merged) | set(self.merged):
                self._drop_curve(key)
            for total in set(merged.values()) | set(self.merged.values()):
                self._drop_curve(total)
            self.merged = merged
        columns = dict(self.values)
        share = data_share(columns)
        if share is not None:
            columns[DATA_SHARE] = share
        added = False
        for key, column in columns.items():
            group = plot_group(key)
            if group is None or key in merged:
                continue
            if group not in self.plots:
                self._plot(group)
                added = True
            curve = self.curves.get(key)
            if curve is None:
                curve = self._new_curve(key, group)
            if is_smoothed(key) and self.smoothing > 0:
                smoother = self._smoothers.get(key)
                if smoother is None:
                    smoother = self._smoothers[key] = Smoother(self.smoothing)
                column = smoother.extend(column)
            values = np.asarray(column, dtype=float)
            curve.setData(xs, values, connect="finite")
        if added:
            self._place()
        label = X_AXES[self.wall_time][1]
        for plot in self.plots.values():
            if plot.getAxis("bottom").labelText != label:
                plot.setLabel("bottom", label)
        rates = [np.nanmax(c) for k, c in self.values.items()
                 if k.startswith("lr/") and not np.isnan(c).all()]
        if rates:
            self.plots["lr/"].setYRange(0, max(rates) * 1.1 or 1, padding=0)

    def _drop_curve(self, key: str) -> None:
        curve = self.curves.pop(key, None)
        if curve is not None:
            group = plot_group(key)
            self.plots[group].removeItem(curve)
            self.legends[group].removeItem(curve)

    def _new_curve(self, key: str, group: str) -> pg.PlotDataItem:
        index = sum(plot_group(k) == group for k in self.curves)
        total = key.count("/") == 1 and group == "loss/"
        pen = pg.mkPen(PALETTE[index % len(PALETTE)], width=2.5 if total else 1.3)
        curve = self.plots[group].plot(pen=pen)
        self.legends[group].addItem(curve, series_name(key, group, self.merged))
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        self.curves[key] = curve
        return curve

    def series(self) -> dict[str, list[str]]:
        """The legend names of each plot's curves, as drawn."""
        return {group: [label.text for _, label in legend.items]
                for group, legend in self.legends.items()}

    def values_text(self, x: float) -> str:
        """The raw values of every drawn curve at the logged row nearest to `x` (on the
        current x axis), as the hover line shows them."""
        keys = list(self.curves)
        found = values_at(self._xs, self.values, x, keys)
        if found is None:
            return ""
        row, values = found
        head = f"step {self.steps[row]}"
        if self.wall_time and math.isfinite(self._xs[row]):
            head += f" · {self._xs[row]:.1f} min"
        parts: dict[str, list[str]] = {}
        for key, value in values.items():
            group = plot_group(key)
            parts.setdefault(group, []).append(
                f"{series_name(key, group, self.merged)} {format_value(value)}")
        return head + " — " + " | ".join(f"{group_title(g).lower()}: {', '.join(parts[g])}"
                                         for g in self.plots if g in parts)

    def _hover(self, pos) -> None:
        for plot in self.plots.values():
            if plot.sceneBoundingRect().contains(pos):
                x = plot.vb.mapSceneToView(pos).x()
                text = self.values_text(x)
                self.hover_label.setText(text or " ")
                self.hover_label.setToolTip(text)
                found = values_at(self._xs, self.values, x, ())
                for cursor in self.cursors.values():
                    cursor.setVisible(found is not None)
                    if found is not None:
                        cursor.setPos(self._xs[found[0]])
                return

    def export_csv(self, path: Path) -> None:
        """Every logged step and metric as CSV (raw values, empty where not logged)."""
        keys = list(self.values)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(["step", *keys])
        for i, step in enumerate(self.steps):
            writer.writerow([step, *("" if math.isnan(v) else repr(v)
                                     for v in (self.values[k][i] for k in keys))])
        write_file(path, text.getvalue())  # whole or not at all
        self.exported.emit(str(path))

    def export_png(self, path: Path) -> None:
        """The plots as one image, written whole or not at all."""
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        self.canvas.grab().save(buffer, "PNG")
        buffer.close()
        write_file(path, bytes(data))
        self.exported.emit(str(path))

    def _export_csv_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export metrics", "metrics.csv",
                                              "CSV (*.csv)")
        if name:
            self._exporting(self.export_csv, Path(name))

    def _export_png_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export plots", "plots.png", "PNG (*.png)")
        if name:
            self._exporting(self.export_png, Path(name))

    def _exporting(self, export, path: Path) -> None:
        """Run an export the user asked for; what the disk refused is said, never raised."""
        try:
            export(path)
        except UserError as exc:
            QMessageBox.warning(self, "Cannot export", str(exc))


def wheel_zooms(event) -> bool:
    """Whether a wheel turn over a plot zooms it: with Ctrl held. Without, the wheel scrolls
    the page the plots are on, as over any other part of a page; a plot never catches the
    wheel of someone scrolling past it."""
    return bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)


def scroll_page(widget: QWidget, event) -> None:
    """Hand a wheel turn over `widget` to the scroll area holding it (the page), if any."""
    area = widget.parentWidget()
    while area is not None and not isinstance(area, QScrollArea):
        area = area.parentWidget()
    if area is None:
        event.ignore()
        return
    bar = area.verticalScrollBar()
    if not bar.isVisible() and area.horizontalScrollBar().isVisible():
        bar = area.horizontalScrollBar()
    QApplication.sendEvent(bar, event)
    event.accept()


class PagePlotWidget(pg.PlotWidget):
    """A plot on a scrolling page: Ctrl+wheel zooms it, the wheel alone scrolls the page."""

    def wheelEvent(self, event) -> None:
        if wheel_zooms(event):
            super().wheelEvent(event)
        else:
            scroll_page(self, event)


class _TimedCanvas(pg.GraphicsLayoutWidget):
    """Remembers how long its last paint took (painting happens later, in the event loop);
    Ctrl+wheel zooms the plot under the pointer, the wheel alone scrolls the page."""

    paint_ms = 0.0

    def wheelEvent(self, event) -> None:
        if wheel_zooms(event):
            super().wheelEvent(event)
        else:
            scroll_page(self, event)

    def paintEvent(self, event) -> None:
        start = time.perf_counter()
        super().paintEvent(event)
        self.paint_ms = (time.perf_counter() - start) * 1000
