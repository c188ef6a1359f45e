"""The latent explorer's model: walks between samples of a checkpoint's generator.

Samples are named by seed: seed s draws the spec's latents as `ganbuilder sample --seed s` draws
its first sample. Interpolation walks every continuous latent (linear or spherical) and keeps
categorical ones at sample A's label; a class sweep keeps A's noise and runs the label through
every class; arithmetic takes mean(A) - mean(B) + mean(C) over groups of seeds. For InfoGAN,
a code traversal varies one code (every value of a categorical code, or one continuous code
from -2 to 2) along each row, with the rest of a row's latents fixed.

It needs torch, so `ganbuilder.design` does not import it: import this module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganbuilder.compile.model import GAN
from ganbuilder.data.latent import sample_latent
from ganbuilder.errors import UserError
from ganbuilder.latent_ops import arithmetic, class_sweep, code_traversal, interpolate
from ganbuilder.layers.stylegan2 import (
    capture_styles,
    mix_styles,
    set_truncation,
    style_mix_layers,
    truncation_layers,
)
from ganbuilder.runs.grid import image_grid
from ganbuilder.runs.samples import generate, sample_groups
from ganbuilder.sampling import label_latent, latent_codes, load_model
from ganbuilder.spec import Spec


class ExplorerModel:
    """A generator to explore: the spec, its networks, and the tensor the explorer draws."""

    def __init__(self, spec: Spec, gan: GAN, step: int = 0):
        self.spec, self.gan, self.step = spec, gan, step
        self.latent: dict = spec.tree.get("latent") or {}
        self.output = sample_groups(spec)[0][0]
        shape = spec.analysis.tensor_shapes.get(self.output) or ()
        if len(shape) != 3 or spec.analysis.needs_data([self.output]) or not self.continuous:
            raise UserError(f"model '{spec.name}': the explorer needs an image generated from "
                            "latents alone")
        self.device = next(gan.parameters()).device
        self.psi = 1.0  # the truncation every picture is drawn with (1: none)

    @classmethod
    def load(cls, checkpoint: Path) -> ExplorerModel:
        """The model stored in a checkpoint file (its spec, weights and step)."""
        return cls(*load_model(checkpoint))

    @property
    def continuous(self) -> list[str]:
        """The latents that are walked and averaged (every one but categorical labels)."""
        return [n for n, cfg in self.latent.items() if cfg.get("dist") != "categorical"]

    @property
    def labels(self) -> tuple[str, int] | None:
        """The categorical latent and its class count, for conditional models."""
        try:
            return label_latent(self.spec)
        except UserError:
            return None

    @property
    def codes(self) -> list[tuple[str, str, int]]:
        """(label, latent name, element) of every InfoGAN code one can traverse: a categorical
        code once, a continuous one per element."""
        out = []
        for code in latent_codes(self.spec):
            if code.categorical:
                out.append((f"{code.name} ({code.size} values)", code.name, 0))
            else:
                out += [(f"{code.name}[{i}] (-2 … 2)", code.name, i) for i in range(code.size)]
        return out

    @property
    def truncates(self) -> bool:
        """Whether the generator has a truncation layer (psi applies)."""
        return bool(truncation_layers(self.gan))

    def set_psi(self, psi: float) -> None:
        """Draw every picture with styles pulled towards the mean w by psi (StyleGAN2's
        truncation trick); an error on a model without a truncation layer."""
        if not set_truncation(self.gan, psi):
            raise UserError(f"model '{self.spec.name}' has no truncation layer: psi does not "
                            "apply")
        self.psi = float(psi)

    @property
    def style_layers(self) -> int:
        """How many per-layer styles the generator's style_mix layer has (0: none)."""
        layers = style_mix_layers(self.gan)
        return layers[0].layers if layers else 0

    def style_mixing(self, seed_a: int, seed_b: int) -> torch.Tensor:
        """One frame per crossover k = layers ... 0: sample A's styles before layer k,
        sample B's from k on (A itself, then B's fine styles, ..., then B itself)."""
        layers = style_mix_layers(self.gan)
        if not layers:
            raise UserError(f"model '{self.spec.name}' has no style_mix layer: no style "
                            "mixing")
        a, b = self.latents(seed_a), self.latents(seed_b)
        count = layers[0].layers + 1
        try:
            capture_styles(self.gan)
            self.render({k: v[None].expand(count, *v.shape).clone() for k, v in b.items()})
            mix_styles(layers, torch.arange(count - 1, -1, -1, device=self.device))
            return self.render({k: v[None].expand(count, *v.shape).clone()
                                for k, v in a.items()})
        finally:
            for m in layers:
                m.crossover, m.second = None, None

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


def parse_seeds(text: str) -> list[int]:
    """Seeds typed as whole numbers separated by spaces or commas: "0 1, 2" -> [0, 1, 2]."""
    try:
        return [int(part) for part in text.replace(",", " ").split()]
    except ValueError:
        raise UserError(f"seeds must be whole numbers separated by spaces: '{text}'") from None


__all__ = ["ExplorerModel", "frames_image", "parse_seeds"]
