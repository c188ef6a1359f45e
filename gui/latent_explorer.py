"""The latent explorer: walks between samples of a checkpoint's generator.

Samples are named by seed: seed s draws the spec's latents as `ganbuilder sample --seed s` draws
its first sample. Interpolation walks every continuous latent (linear or spherical) and keeps
categorical ones at sample A's label; a class sweep keeps A's noise and runs the label through
every class; arithmetic takes mean(A) - mean(B) + mean(C) over groups of seeds. For InfoGAN,
a code traversal varies one code (every value of a categorical code, or one continuous code
from -2 to 2) along each row, with the rest of a row's latents fixed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.compile.model import GAN
from ganbuilder.data.latent import sample_latent
from ganbuilder.errors import UserError
from ganbuilder.latent_ops import MODES, arithmetic, class_sweep, code_traversal, interpolate
from ganbuilder.runs.grid import image_grid
from ganbuilder.runs.samples import generate, sample_groups
from ganbuilder.spec import Spec
from gui._combo import replace_items
from gui.samples_view import ImageLabel


class Model:
    """A generator to explore: the spec, its networks, and the tensor the explorer draws."""

    def __init__(self, spec: Spec, gan: GAN, step: int = 0):
        from ganbuilder.sampling import needs_data

        self.spec, self.gan, self.step = spec, gan, step
        self.latent: dict = spec.tree.get("latent") or {}
        self.output = sample_groups(spec)[0][0]
        shape = spec.analysis.tensor_shapes.get(self.output) or ()
        if len(shape) != 3 or needs_data(spec, [self.output]) or not self.continuous:
            raise UserError(f"model '{spec.name}': the explorer needs an image generated from "
                            "latents alone")
        self.device = next(gan.parameters()).device

    @classmethod
    def load(cls, checkpoint: Path) -> Model:
        from ganbuilder.sampling import load_model

        return cls(*load_model(checkpoint))

    @property
    def continuous(self) -> list[str]:
        return [n for n, cfg in self.latent.items() if cfg.get("dist") != "categorical"]

    @property
    def labels(self) -> tuple[str, int] | None:
        """The categorical latent and its class count, for conditional models."""
        from ganbuilder.sampling import label_latent

        try:
            return label_latent(self.spec)
        except UserError:
            return None

    @property
    def codes(self) -> list[tuple[str, str, int]]:
        """(label, latent name, element) of every InfoGAN code one can traverse: a categorical
        code once, a continuous one per element."""
        from ganbuilder.sampling import latent_codes

        out = []
        for code in latent_codes(self.spec):
            if code.categorical:
                out.append((f"{code.name} ({code.size} values)", code.name, 0))
            else:
                out += [(f"{code.name}[{i}] (-2 … 2)", code.name, i) for i in range(code.size)]
        return out

    def latents(self, seed: int) -> dict[str, torch.Tensor]:
        """Sample `seed`'s latents, without the batch dimension."""
        drawn = sample_latent(self.latent, 1, torch.Generator().manual_seed(seed), self.device)
        return {k: v[0] for k, v in drawn.items()}

    def render(self, inputs: dict[str, torch.Tensor]) -> torch.Tensor:
        """The output tensor for a batch of latents (eval mode), as floats in [-1, 1]."""
        return generate(self.gan, inputs, [self.output])[0]

    def interpolation(self, seed_a: int, seed_b: int, steps: int, mode: str) -> torch.Tensor:
        """`steps` frames from sample A to sample B."""
        a, b = self.latents(seed_a), self.latents(seed_b)
        inputs = {}
        for name, value in a.items():
            if name in self.continuous:
                inputs[name] = interpolate(value, b[name], steps, mode)
            else:
                inputs[name] = value.expand(steps).clone()
        return self.render(inputs)

    def sweep(self, seed: int) -> torch.Tensor:
        """Sample `seed`'s noise drawn once per class."""
        labels = self.labels
        if labels is None:
            raise UserError(f"model '{self.spec.name}' takes no label: no class sweep")
        name, classes = labels
        inputs = {}
        for key, value in self.latents(seed).items():
            if key == name:
                inputs[key] = class_sweep(value, classes)[1]
            else:
                inputs[key] = class_sweep(value, classes)[0]
        return self.render(inputs)

    def traversal(self, seed: int, rows: int, code: str, element: int, steps: int
                  ) -> tuple[torch.Tensor, int]:
        """Rows for samples seed .. seed + rows - 1, each varying `code` (its `element` if
        continuous) across the columns; returns the frames and the number of columns."""
        cfg = self.latent.get(code)
        if cfg is None:
            raise UserError(f"model '{self.spec.name}' has no latent '{code}'")
        drawn = [self.latents(seed + r) for r in range(rows)]
        stacked = {name: torch.stack([d[name] for d in drawn]) for name in self.latent}
        classes = cfg["classes"] if cfg.get("dist") == "categorical" else None
        inputs = code_traversal(stacked, code, classes=classes, dim=element, steps=steps)
        return self.render(inputs), len(inputs[code]) // rows

    def arithmetic(self, a: list[int], b: list[int], c: list[int]) -> torch.Tensor:
        """Four frames: mean of A, of B, of C, and mean(A) - mean(B) + mean(C)."""
        groups = [[self.latents(s) for s in seeds] for seeds in (a, b, c)]
        if not all(groups):
            raise UserError("vector arithmetic needs at least one seed in each of A, B and C")
        inputs = {}
        for name in self.latent:
            stacks = [torch.stack([g[name] for g in group]) for group in groups]
            if name in self.continuous:
                means = [s.mean(0) for s in stacks]
                inputs[name] = torch.stack([*means, arithmetic(*stacks)])
            else:  # a label cannot be averaged: every frame keeps A's first one
                inputs[name] = stacks[0][0].expand(4).clone()
        return self.render(inputs)


def frames_image(frames: torch.Tensor, columns: int | None = None) -> np.ndarray:
    """Frames (N, C, H, W) in [-1, 1] as a uint8 image: side by side, or in rows of
    `columns`."""
    return image_grid(frames.float().cpu().numpy(), columns or len(frames))


def _seeds(text: str) -> list[int]:
    try:
        return [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise UserError(f"seeds must be whole numbers separated by spaces: '{text}'") from None


class LatentExplorer(QWidget):
    """Interpolation, class sweep and vector arithmetic on a checkpoint's generator.

    Signals:
        framesShown(object): the frames tensor (N, C, H, W) now shown.
    """

    framesShown = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.model: Model | None = None
        self.checkpoint: Path | None = None
        self._loaded: tuple[Path, float] | None = None

        self.source = QLabel("no model: train, or open a checkpoint")
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
        arithmetic_button = QPushButton("A − B + C")
        arithmetic_button.clicked.connect(self.arithmetic)
        self.code_box = QComboBox()
        self.code_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.code_box.setToolTip("InfoGAN code to vary; train or open an InfoGAN checkpoint")
        self.code_rows = QSpinBox()
        self.code_rows.setRange(1, 10)
        self.code_rows.setValue(4)
        self.code_rows.setToolTip("Rows: samples A, A + 1, ... each with its own noise")
        self.traverse_button = QPushButton("Code traversal")
        self.traverse_button.setToolTip("Vary one InfoGAN code along each row, the rest fixed")
        self.traverse_button.clicked.connect(self.traverse)

        grid = QGridLayout()
        walk = QFormLayout()
        walk.addRow("Sample A (seed)", self.seed_a)
        walk.addRow("Sample B (seed)", self.seed_b)
        walk.addRow("Frames", self.frames)
        walk.addRow("Path", self.mode)
        grid.addLayout(walk, 0, 0)
        sums = QFormLayout()
        sums.addRow("Group A seeds", self.group_a)
        sums.addRow("Group B seeds", self.group_b)
        sums.addRow("Group C seeds", self.group_c)
        grid.addLayout(sums, 0, 1)
        codes = QFormLayout()
        codes.addRow("InfoGAN code", self.code_box)
        codes.addRow("Rows", self.code_rows)
        grid.addLayout(codes, 0, 2)
        buttons = QHBoxLayout()
        buttons.addWidget(interpolate_button)
        buttons.addWidget(self.sweep_button)
        buttons.addStretch(1)
        buttons.addWidget(arithmetic_button)
        buttons.addWidget(self.traverse_button)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.image = ImageLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(top)
        layout.addLayout(grid)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.image, 1)

    def set_checkpoint(self, path: Path) -> None:
        """Explore this checkpoint; it is (re)loaded when next used, so a run's last.pt
        follows training."""
        self.checkpoint = Path(path)
        self.source.setText(f"model: {self.checkpoint}")

    def _model(self) -> Model:
        if self.checkpoint is None:
            raise UserError("no model: train, or open a checkpoint")
        stamp = (self.checkpoint, self.checkpoint.stat().st_mtime)
        if self.model is None or self._loaded != stamp:
            self.model = Model.load(self.checkpoint)
            self._loaded = stamp
            self.source.setText(f"model: {self.checkpoint} (step {self.model.step})")
            self.sweep_button.setEnabled(self.model.labels is not None)
            self._fill_codes()
        return self.model

    def _fill_codes(self) -> None:
        codes = self.model.codes
        replace_items(self.code_box, [label for label, _, _ in codes],
                      [(name, element) for _, name, element in codes])
        self.traverse_button.setEnabled(self.code_box.count() > 0)

    def _show(self, make) -> torch.Tensor | None:
        try:
            frames = make(self._model())
        except (UserError, OSError) as exc:
            self.message.setText(f"<span style='color:#c62828'>{exc}</span>")
            return None
        frames, columns = frames if isinstance(frames, tuple) else (frames, None)
        self.message.clear()
        self.image.set_image(frames_image(frames, columns))
        self.framesShown.emit(frames)
        return frames

    def interpolate(self) -> torch.Tensor | None:
        """Show (and return) the frames from sample A to sample B."""
        return self._show(lambda m: m.interpolation(self.seed_a.value(), self.seed_b.value(),
                                                    self.frames.value(), self.mode.currentText()))

    def sweep(self) -> torch.Tensor | None:
        """Show sample A once per class."""
        return self._show(lambda m: m.sweep(self.seed_a.value()))

    def arithmetic(self) -> torch.Tensor | None:
        """Show mean(A), mean(B), mean(C) and mean(A) - mean(B) + mean(C)."""
        return self._show(lambda m: m.arithmetic(_seeds(self.group_a.text()),
                                                 _seeds(self.group_b.text()),
                                                 _seeds(self.group_c.text())))

    def traverse(self) -> torch.Tensor | None:
        """Show the chosen InfoGAN code varied along rows of samples A, A + 1, ..."""
        def make(model: Model):
            if self.code_box.count() == 0:
                raise UserError(f"model '{model.spec.name}' has no InfoGAN code (no "
                                "mutual_info term names a latent)")
            name, element = self.code_box.currentData()
            return model.traversal(self.seed_a.value(), self.code_rows.value(), name, element,
                                   self.frames.value())

        return self._show(make)

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
