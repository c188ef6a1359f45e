"""The latent explorer tab: seeds, frames and buttons over `ganbuilder.design.latent_explorer`
(interpolation, class sweep, vector arithmetic, InfoGAN code traversal, StyleGAN2's style
mixing) and a truncation slider (psi) for models that have one. Every picture is captioned:
what it shows, and what each column (and row) holds."""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.design.explorer_labels import (
    arithmetic_labels,
    interpolation_labels,
    mixing_labels,
    sweep_labels,
    traversal_labels,
)
from ganbuilder.design.latent_explorer import ExplorerModel, frames_image, parse_seeds
from ganbuilder.errors import UserError
from ganbuilder.latent_ops import MODES
from gui._combo import replace_items
from gui.samples_view import ImageLabel


class LatentExplorer(QWidget):
    """Interpolation, class sweep and vector arithmetic on a checkpoint's generator.

    Signals:
        framesShown(object): the frames tensor (N, C, H, W) now shown.
    """

    framesShown = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model: ExplorerModel | None = None
        self.checkpoint: Path | None = None
        self._loaded: tuple[Path, float] | None = None

        self.source = QLabel("no model: train, or open a checkpoint")
        # A checkpoint's path wraps (or is cut) here; it never widens the panel.
        self.source.setWordWrap(True)
        self.source.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        open_button = QPushButton("Open checkpoint…")
        open_button.clicked.connect(self._open_dialog)
        top = QHBoxLayout()
        top.addWidget(self.source, 1)
        top.addWidget(open_button)

        self.seed_a, self.seed_b = _seed_box(0), _seed_box(1)
        self.frames = QSpinBox()
        self.frames.setRange(2, 16)
        self.frames.setValue(8)
        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.mode.setCurrentText("slerp")
        interpolate_button = QPushButton("Interpolate")
        interpolate_button.clicked.connect(self.interpolate)
        self.sweep_button = QPushButton("Class sweep")
        self.sweep_button.setToolTip("Sample A's noise with every class label")
        self.sweep_button.clicked.connect(self.sweep)
        self.group_a, self.group_b, self.group_c = (QLineEdit("0 1 2"), QLineEdit("3 4 5"),
                                                    QLineEdit("6 7 8"))
        arithmetic_button = QPushButton("Groups: A − B + C")
        arithmetic_button.clicked.connect(self.arithmetic)
        self.code_box = QComboBox()
        self.code_box.setToolTip("InfoGAN code to vary; train or open an InfoGAN checkpoint")
        self.code_rows = QSpinBox()
        self.code_rows.setRange(1, 10)
        self.code_rows.setValue(4)
        self.code_rows.setToolTip("Rows: samples A, A + 1, ... each with its own noise")
        self.traverse_button = QPushButton("Code traversal")
        self.traverse_button.setToolTip("Vary one InfoGAN code along each row, the rest fixed")
        self.traverse_button.clicked.connect(self.traverse)
        self.psi = QSlider(Qt.Orientation.Horizontal)
        self.psi.setRange(0, 150)  # psi x 100
        self.psi.setValue(100)
        self.psi.setTracking(False)
        self.psi.valueChanged.connect(self._psi_changed)
        self.psi_label = QLabel("1.00")
        self.mix_button = QPushButton("Style mixing")
        self.mix_button.clicked.connect(self.style_mixing)
        self._last = None  # the picture shown (make, labels): a new psi redraws it
        self._enable_style(None)

        # One column of fields and two rows of buttons: the tab fits a dock a third of a
        # 1024 px window wide, every control in view.
        grid = QVBoxLayout()
        walk = QFormLayout()
        walk.addRow("Sample A (seed)", self.seed_a)
        walk.addRow("Sample B (seed)", self.seed_b)
        walk.addRow("Frames", self.frames)
        walk.addRow("Path", self.mode)
        truncation = QHBoxLayout()
        truncation.addWidget(self.psi, 1)
        truncation.addWidget(self.psi_label)
        walk.addRow("Truncation ψ", truncation)
        grid.addLayout(walk)
        sums = QFormLayout()
        sums.addRow("Group A seeds", self.group_a)
        sums.addRow("Group B seeds", self.group_b)
        sums.addRow("Group C seeds", self.group_c)
        grid.addLayout(sums)
        codes = QFormLayout()
        codes.addRow("InfoGAN code", self.code_box)
        codes.addRow("Rows", self.code_rows)
        grid.addLayout(codes)
        buttons = QGridLayout()
        for i, button in enumerate((interpolate_button, self.sweep_button, arithmetic_button,
                                    self.traverse_button, self.mix_button)):
            buttons.addWidget(button, i // 2, i % 2)
        self._enable_codes()

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.image = ImageLabel()
        self.caption = QLabel()
        self.caption.setWordWrap(True)
        self.caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.caption.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.caption)
        layout.addWidget(self.image, 1)

    def set_checkpoint(self, path: Path) -> None:
        """Explore this checkpoint; it is (re)loaded when next used, so a run's last.pt
        follows training."""
        self.checkpoint = Path(path)
        self.source.setText(f"model: {self.checkpoint}")

    def _model(self) -> ExplorerModel:
        if self.checkpoint is None:
            raise UserError("no model: train, or open a checkpoint")
        stamp = (self.checkpoint, self.checkpoint.stat().st_mtime)
        if self.model is None or self._loaded != stamp:
            self.model = ExplorerModel.load(self.checkpoint)
            self._loaded = stamp
            self.source.setText(f"model: {self.checkpoint} (step {self.model.step})")
            self.sweep_button.setEnabled(self.model.labels is not None)
            self._fill_codes()
            self._enable_style(self.model)
        if self.model.truncates:
            self.model.set_psi(self.psi.value() / 100)
        return self.model

    def _enable_style(self, model: ExplorerModel | None) -> None:
        """The truncation slider and style mixing work only on a model with a truncation
        (style_mix) layer; without, they are off and say why."""
        truncates = model is None or model.truncates
        self.psi.setEnabled(truncates)
        self.psi.setToolTip("Truncation psi: pulls the styles towards the mean w (1: none, 0: "
                            "every sample the mean style's image); redraws on release"
                            if truncates else "no truncation layer: psi does not apply to this "
                            "model")
        mixes = model is None or model.style_layers > 0
        self.mix_button.setEnabled(mixes)
        self.mix_button.setToolTip("Sample A's styles, then sample B's from each layer on"
                                   if mixes else "no style_mix layer: this model has one style")

    def _psi_changed(self, value: int) -> None:
        self.psi_label.setText(f"{value / 100:.2f}")
        if self._last is not None:
            self._show(*self._last)

    def _fill_codes(self) -> None:
        codes = self.model.codes
        replace_items(self.code_box, [label for label, _, _ in codes],
                      [(name, element) for _, name, element in codes])
        self._enable_codes()

    def _enable_codes(self) -> None:
        """The InfoGAN controls work only on a model with codes; without, they are off and
        say why."""
        has = self.code_box.count() > 0
        for widget in (self.code_box, self.code_rows, self.traverse_button):
            widget.setEnabled(has)
        self.code_box.setToolTip("InfoGAN code to vary" if has else
                                 "no InfoGAN code: this model has no mutual_info term")

    def _show(self, make, labels) -> torch.Tensor | None:
        """Render `make(model)` and caption it with `labels(model)`: (title, column labels)
        or (title, column labels, row labels)."""
        try:
            model = self._model()
            frames = make(model)
        except (UserError, OSError) as exc:
            self.message.setText(f"<span style='color:#c62828'>{exc}</span>")
            return None
        self._last = (make, labels)
        frames, columns = frames if isinstance(frames, tuple) else (frames, None)
        self.message.clear()
        self.set_caption(*labels(model))
        self.image.set_image(frames_image(frames, columns))
        self.framesShown.emit(frames)
        return frames

    def set_caption(self, title: str, columns: list[str], rows: list[str] | None = None
                    ) -> None:
        """Say what the picture shows: its title, then its columns (and rows) in order."""
        text = f"<b>{title}</b><br>Columns, left to right: {' · '.join(columns)}"
        if rows:
            text += f"<br>Rows, top to bottom: {' · '.join(rows)}"
        self.caption.setText(text)

    def interpolate(self) -> torch.Tensor | None:
        """Show (and return) the frames from sample A to sample B."""
        a, b, n, mode = (self.seed_a.value(), self.seed_b.value(), self.frames.value(),
                         self.mode.currentText())
        return self._show(lambda m: m.interpolation(a, b, n, mode),
                          lambda m: interpolation_labels(a, b, n, mode))

    def sweep(self) -> torch.Tensor | None:
        """Show sample A once per class."""
        seed = self.seed_a.value()
        return self._show(lambda m: m.sweep(seed),
                          lambda m: sweep_labels(seed, *m.labels))

    def arithmetic(self) -> torch.Tensor | None:
        """Show mean(A), mean(B), mean(C) and mean(A) - mean(B) + mean(C)."""
        try:
            a, b, c = (parse_seeds(self.group_a.text()), parse_seeds(self.group_b.text()),
                       parse_seeds(self.group_c.text()))
        except UserError as exc:
            self.message.setText(f"<span style='color:#c62828'>{exc}</span>")
            return None
        return self._show(lambda m: m.arithmetic(a, b, c), lambda m: arithmetic_labels(a, b, c))

    def traverse(self) -> torch.Tensor | None:
        """Show the chosen InfoGAN code varied along rows of samples A, A + 1, ..."""
        def make(model: ExplorerModel):
            if self.code_box.count() == 0:
                raise UserError(f"model '{model.spec.name}' has no InfoGAN code (no "
                                "mutual_info term names a latent)")
            name, element = self.code_box.currentData()
            return model.traversal(self.seed_a.value(), self.code_rows.value(), name, element,
                                   self.frames.value())

        def labels(model: ExplorerModel):
            name, element = self.code_box.currentData()
            cfg = model.latent[name]
            classes = cfg["classes"] if cfg.get("dist") == "categorical" else None
            code = name if classes is not None else f"{name}[{element}]"
            return traversal_labels(self.seed_a.value(), self.code_rows.value(), code,
                                    self.frames.value(), classes)

        return self._show(make, labels)

    def style_mixing(self) -> torch.Tensor | None:
        """Show (and return) sample A with sample B's styles from each layer on."""
        a, b = self.seed_a.value(), self.seed_b.value()
        return self._show(lambda m: m.style_mixing(a, b),
                          lambda m: mixing_labels(a, b, m.style_layers))

    def _open_dialog(self) -> None:
        start = str(self.checkpoint.parent if self.checkpoint else Path.cwd())
        name, _ = QFileDialog.getOpenFileName(self, "Open checkpoint", start,
                                              "Checkpoints (*.pt)")
        if name:
            self.set_checkpoint(Path(name))
            self.interpolate()


def _seed_box(value: int) -> QSpinBox:
    box = QSpinBox()
    box.setRange(0, 2**31 - 1)
    box.setValue(value)
    return box
