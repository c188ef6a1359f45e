"""Live training curves: losses, discriminator accuracy and learning rates (pyqtgraph).

One curve per metric key, grouped by prefix: `loss/...` (every term and each objective's total,
totals drawn thicker, with any other family a loss term logs, such as InfoGAN's `mse/Q/u`),
`acc/...` (each critic on real and on fake, InfoGAN's Q on its code) and `lr/...`. Curves are
smoothed with an exponential moving average on display only; the CSV export holds the raw values.
"""

from __future__ import annotations

import csv
import math
import time
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.design.curves import GROUPS, Smoother, is_smoothed, plot_group
from ganbuilder.runs.history import MetricTable
from ganbuilder.train.events import StepMetrics

# A redraw of a long run costs tens of ms on the GUI thread, which shares the CPU with training:
# redraws are spaced so they take at most 1/REDRAW_SHARE of the time, and at least MIN_REDRAW_MS.
REDRAW_SHARE = 10
MIN_REDRAW_MS, MAX_REDRAW_MS = 100, 3000
# Tableau 10: neighbouring curves stay apart in hue and lightness.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")


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
        self.smooth_slider.setMaximumWidth(160)
        self.smooth_slider.setToolTip("Exponential moving average weight (display only)")
        self.smooth_label = QLabel()
        self.smooth_slider.valueChanged.connect(lambda v: self.set_smoothing(v / 100))
        self.log_box = QCheckBox("Log scale")
        self.log_box.setToolTip("Logarithmic y axis for the losses")
        self.log_box.toggled.connect(self.set_log_scale)
        csv_button = QPushButton("Export CSV…")
        csv_button.clicked.connect(self._export_csv_dialog)
        png_button = QPushButton("Export PNG…")
        png_button.clicked.connect(self._export_png_dialog)
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smooth_slider)
        bar.addWidget(self.smooth_label)
        bar.addWidget(self.log_box)
        bar.addStretch(1)
        bar.addWidget(csv_button)
        bar.addWidget(png_button)

        self.canvas = _TimedCanvas()
        self.canvas.setBackground("w")
        self.plots: dict[str, pg.PlotItem] = {}
        for row, (prefix, title) in enumerate(GROUPS):
            plot = self.canvas.addPlot(row=row, col=0, title=title)
            plot.showGrid(x=True, y=True, alpha=0.2)
            plot.addLegend(offset=(-5, 5), labelTextSize="8pt", brush=(255, 255, 255, 210))
            plot.setDownsampling(auto=True, mode="peak")
            plot.setClipToView(True)
            plot.setLabel("bottom", "step")
            if row:
                plot.setXLink(self.plots[GROUPS[0][0]])
            self.plots[prefix] = plot
        self.plots["acc/"].setYRange(0, 1, padding=0.05)
        self.plots["lr/"].enableAutoRange(y=False)  # from 0, so a constant rate reads as one
        self.canvas.ci.layout.setRowStretchFactor(0, 3)
        self.canvas.ci.layout.setRowStretchFactor(1, 2)
        self.canvas.ci.layout.setRowStretchFactor(2, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
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
            plot = self.plots[plot_group(key)]
            plot.removeItem(curve)
            plot.legend.removeItem(curve)
        self.curves.clear()

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

    def _redraw(self) -> None:
        steps = np.asarray(self.steps, dtype=float)
        for key, column in self.values.items():
            group = plot_group(key)
            if group is None:
                continue
            curve = self.curves.get(key)
            if curve is None:
                curve = self._new_curve(key, group)
            if is_smoothed(key) and self.smoothing > 0:
                smoother = self._smoothers.get(key)
                if smoother is None:
                    smoother = self._smoothers[key] = Smoother(self.smoothing)
                column = smoother.extend(column)
            values = np.asarray(column, dtype=float)
            curve.setData(steps, values, connect="finite")
        rates = [np.nanmax(c) for k, c in self.values.items()
                 if k.startswith("lr/") and not np.isnan(c).all()]
        if rates:
            self.plots["lr/"].setYRange(0, max(rates) * 1.1 or 1, padding=0)

    def _new_curve(self, key: str, group: str) -> pg.PlotDataItem:
        index = sum(plot_group(k) == group for k in self.curves)
        total = key.count("/") == 1 and group == "loss/"
        pen = pg.mkPen(PALETTE[index % len(PALETTE)], width=2.5 if total else 1.3)
        name = key[len(group):] if key.startswith(group) else key
        curve = self.plots[group].plot(name=name, pen=pen)
        curve.setDownsampling(auto=True, method="peak")
        curve.setClipToView(True)
        self.curves[key] = curve
        return curve

    def export_csv(self, path: Path) -> None:
        """Every logged step and metric as CSV (raw values, empty where not logged)."""
        keys = list(self.values)
        with open(path, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["step", *keys])
            for i, step in enumerate(self.steps):
                writer.writerow([step, *("" if math.isnan(v) else repr(v)
                                         for v in (self.values[k][i] for k in keys))])
        self.exported.emit(str(path))

    def export_png(self, path: Path) -> None:
        """The three plots as one image."""
        self.canvas.grab().save(str(path))
        self.exported.emit(str(path))

    def _export_csv_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export metrics", "metrics.csv",
                                              "CSV (*.csv)")
        if name:
            self.export_csv(Path(name))

    def _export_png_dialog(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export plots", "plots.png", "PNG (*.png)")
        if name:
            self.export_png(Path(name))


class _TimedCanvas(pg.GraphicsLayoutWidget):
    """Remembers how long its last paint took (painting happens later, in the event loop)."""

    paint_ms = 0.0

    def paintEvent(self, event) -> None:
        start = time.perf_counter()
        super().paintEvent(event)
        self.paint_ms = (time.perf_counter() - start) * 1000
