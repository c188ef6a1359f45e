"""Past runs compared: their curves overlaid in one plot, their sample grids side by side at
one step. Runs are read from their folders (metrics.jsonl, samples/), so runs trained headless
on a server compare as well as the app's own. Each run is named by its spec and what differs
from the other runs (`dcgan · lr=0.0001`); two checked runs' resolved specs can be diffed."""

from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.design.curves import ema, is_smoothed, metric_choices
from ganbuilder.design.run_names import resolved_spec, run_names, spec_diff
from ganbuilder.errors import UserError
from ganbuilder.runs.grid import load_png
from ganbuilder.runs.history import RunHistory, read_run
from gui._combo import replace_items
from gui.plots import PALETTE, PagePlotWidget
from gui.samples_view import ImageLabel

MAX_SIDE_BY_SIDE = 4
GRID_SIDE = 140  # px: a sample grid compared side by side is no smaller
PLOT_HEIGHT = 260  # px: the compared curves, their legend underneath


class RunsView(QWidget):
    """The runs the user opened; the checked ones are overlaid and compared.

    Signals:
        runsChanged(): a run was added, removed, reloaded, checked or unchecked.
        failed(str): a folder could not be read (the message says why).
    """

    runsChanged = Signal()
    failed = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.runs: list[RunHistory] = []
        self.labels: list[str] = []  # one per run: spec name and what differs
        self._specs: dict[Path, tuple[str, object]] = {}
        self._images: dict[Path, np.ndarray] = {}
        self._sample_steps: list[int] = []

        self.run_list = QListWidget()
        self.run_list.setWordWrap(True)  # a long run name wraps: read whole, never clipped
        self.run_list.itemChanged.connect(lambda _: self._update())
        add = QPushButton("Add run…")
        add.setToolTip("Add a run folder (one with metrics.jsonl and samples/)")
        add.clicked.connect(self._add_dialog)
        remove = QPushButton("Remove")
        remove.clicked.connect(self._remove_selected)
        reload = QPushButton("Reload")
        reload.setToolTip("Read every run's folder again (a run in progress grows)")
        reload.clicked.connect(self.reload)
        self.diff_button = QPushButton("Diff specs…")
        self.diff_button.setToolTip("The differences of the two checked runs' resolved specs")
        self.diff_button.clicked.connect(self.show_diff)
        # Two rows of buttons, so the list stays narrow and the dock fits beside the editor.
        buttons = QGridLayout()
        for i, button in enumerate((add, remove, reload, self.diff_button)):
            buttons.addWidget(button, i // 2, i % 2)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel("Runs (checked ones are compared)")
        title.setWordWrap(True)
        left_layout.addWidget(title)
        left_layout.addWidget(self.run_list, 1)
        left_layout.addLayout(buttons)

        self.metric_box = QComboBox()
        self.metric_box.setMinimumContentsLength(12)
        self.metric_box.currentTextChanged.connect(lambda _: self._draw_curves())
        self.smooth_slider = QSlider(Qt.Orientation.Horizontal)
        self.smooth_slider.setRange(0, 99)
        self.smooth_slider.setMaximumWidth(120)
        self.smooth_slider.setToolTip("Exponential moving average weight (display only)")
        self.smooth_slider.valueChanged.connect(lambda _: self._draw_curves())
        bar = QHBoxLayout()
        bar.addWidget(QLabel("Metric"))
        bar.addWidget(self.metric_box, 1)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smooth_slider)
        self.plot = PagePlotWidget(background="w")
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        # The legend goes under the data, in the plot's own layout: it never covers a curve.
        item = self.plot.getPlotItem()
        item.legend = pg.LegendItem(labelTextSize="8pt", labelTextColor="#212121")
        item.legend.setColumnCount(2)
        item.layout.addItem(item.legend, 5, 1)
        item.setTitle("", color="#212121")
        self.plot.setLabel("bottom", "step")
        self.plot.getPlotItem().setDownsampling(auto=True, mode="peak")
        self.plot.getPlotItem().setClipToView(True)
        curves = QWidget()
        curves_layout = QVBoxLayout(curves)
        curves_layout.setContentsMargins(0, 0, 0, 0)
        curves_layout.addLayout(bar)
        curves_layout.addWidget(self.plot, 1)

        self.step_slider = QSlider(Qt.Orientation.Horizontal)
        self.step_slider.setEnabled(False)
        self.step_slider.valueChanged.connect(self._show_samples)
        self.step_label = QLabel("no samples")
        self.step_label.setMinimumWidth(90)
        self.sample_grid = QGridLayout()
        self.sample_cells: list[tuple[QLabel, ImageLabel]] = []
        for i in range(MAX_SIDE_BY_SIDE):
            caption, image = QLabel(), ImageLabel()
            # Two to a row, each big enough to see the samples; the page scrolls if need be.
            image.setMinimumSize(GRID_SIDE, GRID_SIDE)
            caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
            caption.setWordWrap(True)
            # A long run name wraps or is cut, never widening the panel.
            caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            row, col = divmod(i, 2)
            self.sample_grid.addWidget(caption, 2 * row, col)
            self.sample_grid.addWidget(image, 2 * row + 1, col)
            self.sample_grid.setRowStretch(2 * row + 1, 1)
            self.sample_cells.append((caption, image))
        step_bar = QHBoxLayout()
        step_bar.addWidget(QLabel("Samples at"))
        step_bar.addWidget(self.step_slider, 1)
        step_bar.addWidget(self.step_label)
        samples = QWidget()
        samples_layout = QVBoxLayout(samples)
        samples_layout.setContentsMargins(0, 0, 0, 0)
        samples_layout.addLayout(step_bar)
        samples_layout.addLayout(self.sample_grid, 1)

        # One column: the list, the curves, the grids, each the dock's full width; a short
        # dock scrolls (the page sits in a scroll area) rather than squashing the plot.
        self.plot.setMinimumHeight(PLOT_HEIGHT)
        left.setMinimumHeight(110)
        split = QSplitter(Qt.Orientation.Vertical)
        split.setChildrenCollapsible(False)
        for part in (left, curves, samples):
            split.addWidget(part)
        split.setStretchFactor(1, 1)
        split.setSizes([130, PLOT_HEIGHT + 40, 2 * GRID_SIDE + 80])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(split)
        self._update()

    # -- the list of runs --------------------------------------------------------------------
    def add_run(self, run_dir: Path) -> RunHistory | None:
        """Open a run folder (checked); an already open one is read again. None, with
        `failed` emitted, when the folder is not a readable run."""
        run_dir = Path(run_dir).resolve()
        try:
            history = read_run(run_dir)
        except UserError as exc:
            self.failed.emit(str(exc))
            return None
        for i, run in enumerate(self.runs):
            if run.run_dir == run_dir:
                self.runs[i] = history
                self._update()
                return history
        self.runs.append(history)
        item = QListWidgetItem(history.label)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        self.run_list.blockSignals(True)
        self.run_list.addItem(item)
        item.setCheckState(Qt.CheckState.Checked)
        self.run_list.blockSignals(False)
        self._update()
        return history

    def _name_runs(self) -> None:
        """Label each run by its spec's name and what differs from the other runs."""
        for run in self.runs:
            if run.run_dir not in self._specs:
                self._specs[run.run_dir] = resolved_spec(run.run_dir)
        self.labels = run_names([run.name for run in self.runs],
                                [self._specs[run.run_dir][1] for run in self.runs],
                                [run.run_dir.name for run in self.runs])
        self.run_list.blockSignals(True)
        for i, label in enumerate(self.labels):
            item = self.run_list.item(i)
            item.setText(label)
            origin = self.runs[i].origin
            item.setToolTip(f"{label}\n{self.runs[i].run_dir}" + (f"\n{origin}" if origin else ""))
        self.run_list.blockSignals(False)

    def label(self, run: RunHistory) -> str:
        """The run's name as the list shows it."""
        return self.labels[self.runs.index(run)] if run in self.runs else run.label

    def diff_lines(self) -> list[str] | None:
        """The unified difference of the two checked runs' resolved specs; None unless exactly
        two runs are checked."""
        runs = self.checked()
        if len(runs) != 2:
            return None
        a, b = runs
        return spec_diff(self._specs[a.run_dir][0], self._specs[b.run_dir][0],
                         self.label(a), self.label(b))

    def show_diff(self) -> None:
        """A window with the two checked runs' spec differences, coloured as a diff."""
        lines = self.diff_lines()
        if lines is None:
            return
        colours = {"+": "#1b5e20", "-": "#b71c1c", "@": "#6a1b9a"}
        html = "".join(
            f"<div style='color:{colours.get(line[:1], '#333')};white-space:pre'>"
            f"{line.replace('&', '&amp;').replace('<', '&lt;')}</div>" for line in lines)
        dialog = QDialog(self)
        dialog.setWindowTitle("Resolved specs compared")
        view = QTextBrowser()
        view.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        view.setHtml(html or "<p>The two runs' resolved specs are the same.</p>")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.close)
        layout = QVBoxLayout(dialog)
        layout.addWidget(view)
        layout.addWidget(buttons)
        dialog.resize(760, 560)
        self.diff_dialog = dialog
        dialog.show()

    def remove_run(self, index: int) -> None:
        del self.runs[index]
        self.run_list.takeItem(index)
        self._update()

    def reload(self) -> None:
        """Read every open run again."""
        self._images.clear()
        self._specs.clear()
        for run in list(self.runs):
            self.add_run(run.run_dir)

    def checked(self) -> list[RunHistory]:
        """The runs being compared, in list order."""
        return [run for i, run in enumerate(self.runs)
                if self.run_list.item(i).checkState() == Qt.CheckState.Checked]

    def _add_dialog(self) -> None:
        start = str(self.runs[-1].run_dir.parent if self.runs else Path.cwd())
        name = QFileDialog.getExistingDirectory(self, "Add run folder", start)
        if name:
            self.add_run(Path(name))

    def _remove_selected(self) -> None:
        row = self.run_list.currentRow()
        if row >= 0:
            self.remove_run(row)

    # -- views -------------------------------------------------------------------------------
    def _update(self) -> None:
        self._name_runs()
        self.diff_button.setEnabled(len(self.checked()) == 2)
        replace_items(self.metric_box,
                      metric_choices(k for run in self.runs for k in run.metrics.columns))
        self._draw_curves()
        previous = self.step
        following = previous is None or self.step_slider.value() == self.step_slider.maximum()
        self._sample_steps = sorted({s for run in self.checked() for s, _ in run.samples})
        last = max(0, len(self._sample_steps) - 1)
        self.step_slider.blockSignals(True)
        self.step_slider.setRange(0, last)
        self.step_slider.setValue(last if following else max(0, bisect.bisect_right(
            self._sample_steps, previous) - 1))
        self.step_slider.blockSignals(False)
        self.step_slider.setEnabled(len(self._sample_steps) > 1)
        self._show_samples()
        self.runsChanged.emit()

    def set_metric(self, key: str) -> None:
        self.metric_box.setCurrentText(key)

    def _draw_curves(self) -> None:
        self.plot.clear()
        key = self.metric_box.currentText()
        weight = self.smooth_slider.value() / 100
        for i, run in enumerate(self.checked()):
            column = run.metrics.columns.get(key)
            if column is None:
                continue
            values = ema(column, weight) if is_smoothed(key) else column
            pen = pg.mkPen(PALETTE[i % len(PALETTE)], width=1.6)
            self.plot.plot(np.asarray(run.metrics.steps, dtype=float),
                           np.asarray(values, dtype=float), pen=pen, name=self.label(run),
                           connect="finite")
        self.plot.setTitle(key or "no runs", color="#212121")

    def curve_count(self) -> int:
        return len(self.plot.getPlotItem().listDataItems())

    def set_step(self, step: int) -> None:
        """Show every compared run's grid at `step` (each its newest at or before it)."""
        if self._sample_steps:
            index = max(0, min(range(len(self._sample_steps)),
                               key=lambda i: abs(self._sample_steps[i] - step)))
            self.step_slider.setValue(index)

    @property
    def step(self) -> int | None:
        return self._sample_steps[self.step_slider.value()] if self._sample_steps else None

    def _show_samples(self) -> None:
        step = self.step
        runs = self.checked()[:MAX_SIDE_BY_SIDE]
        self.step_label.setText("no samples" if step is None else f"step {step}")
        for i, (caption, image) in enumerate(self.sample_cells):
            entry = runs[i].sample_at(step) if i < len(runs) and step is not None else None
            caption.setVisible(i < len(runs))
            image.setVisible(i < len(runs))
            if i < len(runs):
                caption.setText(self.label(runs[i])
                                + (f"\nstep {entry[0]}" if entry else "\nno samples"))
            image.set_image(self._image(entry[1]) if entry else None)

    def shown_steps(self) -> list[int | None]:
        """The step of the grid each compared run shows (None where it has none)."""
        step = self.step
        return [(run.sample_at(step) or (None,))[0] if step is not None else None
                for run in self.checked()[:MAX_SIDE_BY_SIDE]]

    def _image(self, path: Path) -> np.ndarray | None:
        if path not in self._images:
            try:
                self._images[path] = load_png(path)
            except OSError:  # deleted or half written: show nothing rather than fail
                return None
        return self._images[path]
