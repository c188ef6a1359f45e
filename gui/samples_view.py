"""Sample grids of a run: the latest one, and a slider back through every earlier one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QImage, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.errors import UserError
from ganbuilder.runs.grid import save_gif
from ganbuilder.runs.grid import save_png as write_png
from ganbuilder.train.events import SampleGrid


def to_qimage(image: np.ndarray) -> QImage:
    """A uint8 H x W x 3 array as a QImage that owns its pixels."""
    image = np.ascontiguousarray(image)
    h, w, _ = image.shape
    return QImage(image.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class ImageLabel(QLabel):
    """Shows one image scaled to fit, keeping its aspect; small images stay pixel-sharp."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._pixmap = QPixmap()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setMinimumSize(120, 120)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)

    def set_image(self, image: np.ndarray | None) -> None:
        self._pixmap = QPixmap.fromImage(to_qimage(image)) if image is not None else QPixmap()
        self._rescale()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._rescale()

    def _rescale(self) -> None:
        if self._pixmap.isNull():
            self.clear()
            return
        size = self._pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        enlarging = size.width() > self._pixmap.width()
        mode = (Qt.TransformationMode.FastTransformation if enlarging
                else Qt.TransformationMode.SmoothTransformation)
        self.setPixmap(self._pixmap.scaled(size, Qt.AspectRatioMode.KeepAspectRatio, mode))


class SamplesView(QWidget):
    """Every sample grid of the run, newest shown unless the user moved the slider back.

    Signals:
        shown(int): the step of the grid now shown.
    """

    shown = Signal(int)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.grids: list[SampleGrid] = []
        self.image = ImageLabel()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slider.valueChanged.connect(self.show_index)
        self.step_label = QLabel("no samples yet")
        self.step_label.setMinimumWidth(150)
        self.save_button = QPushButton("Save PNG…")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._save_dialog)
        self.gif_button = QPushButton("Save GIF…")
        self.gif_button.setToolTip("Every grid up to the one shown, as an animation")
        self.gif_button.setEnabled(False)
        self.gif_button.clicked.connect(self._save_gif_dialog)
        bar = QHBoxLayout()
        bar.addWidget(self.slider, 1)
        bar.addWidget(self.step_label)
        bar.addWidget(self.save_button)
        bar.addWidget(self.gif_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.image, 1)
        layout.addLayout(bar)

    @property
    def index(self) -> int:
        return self.slider.value() if self.grids else -1

    @property
    def current(self) -> SampleGrid | None:
        return self.grids[self.index] if self.grids else None

    def clear(self) -> None:
        self.grids.clear()
        self.slider.blockSignals(True)
        self.slider.setRange(0, 0)
        self.slider.blockSignals(False)
        self.slider.setEnabled(False)
        self.save_button.setEnabled(False)
        self.gif_button.setEnabled(False)
        self.image.set_image(None)
        self.step_label.setText("no samples yet")

    def add(self, grid: SampleGrid) -> None:
        """Keep a new grid; follow it if the newest grid was being shown."""
        following = not self.grids or self.slider.value() == len(self.grids) - 1
        self.grids.append(grid)
        self.slider.blockSignals(True)
        self.slider.setRange(0, len(self.grids) - 1)
        self.slider.blockSignals(False)
        self.slider.setEnabled(len(self.grids) > 1)
        self.save_button.setEnabled(True)
        self.gif_button.setEnabled(len(self.grids) > 1)
        if following:
            self.slider.blockSignals(True)
            self.slider.setValue(len(self.grids) - 1)
            self.slider.blockSignals(False)
            self.show_index(len(self.grids) - 1)
        else:
            self._update_label()

    def show_index(self, index: int) -> None:
        """Show the grid at `index` (0 is the first of the run)."""
        if not 0 <= index < len(self.grids):
            return
        if self.slider.value() != index:
            self.slider.setValue(index)  # comes back here through valueChanged
            return
        grid = self.grids[index]
        self.image.set_image(grid.image)
        self._update_label()
        self.shown.emit(grid.step)

    def _update_label(self) -> None:
        grid = self.current
        if grid is not None:
            self.step_label.setText(f"step {grid.step}  ({self.index + 1}/{len(self.grids)})")

    def save_png(self, path: Path) -> None:
        """Write the grid being shown, whole or not at all (a full disk keeps the old file)."""
        grid = self.current
        if grid is not None:
            write_png(grid.image, path)

    def _save_dialog(self) -> None:
        grid = self.current
        if grid is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save samples", f"step_{grid.step:06d}.png",
                                              "PNG (*.png)")
        if name:
            self._saving(self.save_png, Path(name))

    def save_gif(self, path: Path, frame_ms: int = 250) -> None:
        """Write the grids from the first up to the one shown as a looping animation."""
        if self.grids:
            save_gif([g.image for g in self.grids[: self.index + 1]], path, frame_ms)

    def _save_gif_dialog(self) -> None:
        grid = self.current
        if grid is None:
            return
        name, _ = QFileDialog.getSaveFileName(self, "Save animation",
                                              f"samples_to_step_{grid.step:06d}.gif",
                                              "GIF (*.gif)")
        if name:
            self._saving(self.save_gif, Path(name))

    def _saving(self, save, path: Path) -> None:
        """Run a save the user asked for; what the disk refused is said, never raised."""
        try:
            save(path)
        except UserError as exc:
            QMessageBox.warning(self, "Cannot save", str(exc))
