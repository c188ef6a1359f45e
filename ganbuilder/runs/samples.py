"""Sample grids from fixed inputs, so grids of one run are comparable step to step."""

from __future__ import annotations

import numpy as np
import torch

from ganbuilder.compile.model import GAN, TensorCache
from ganbuilder.data.latent import sample_latent
from ganbuilder.runs.grid import image_grid, scatter
from ganbuilder.spec import Spec

_POINTS = 512  # 2D samples are drawn as a scatter plot, which needs more than a grid's 64


def sample_inputs(spec: Spec, data, n: int, device: torch.device, seed: int | None = None,
                  rows_by: str | None = None, nrow: int = 8,
                  fixed_labels: dict[str, int] | None = None) -> dict[str, torch.Tensor]:
    """A fixed data batch and latent draw of size n (the same for the same seed);
    `fixed_labels` pins categorical latents to one label."""
    seed = spec.training["seed"] + 2 if seed is None else seed
    generator = torch.Generator().manual_seed(seed)
    fixed = {k: v.to(device) for k, v in data.fixed_batch(n).items()}
    latent = sample_latent(spec.tree.get("latent") or {}, n, generator, device, rows_by, nrow)
    for name, label in (fixed_labels or {}).items():
        latent[name] = torch.full((n,), label, dtype=torch.long, device=device)
    return {**fixed, **latent}


def sample_groups(spec: Spec) -> list[list[str]]:
    """`sampling.tensors` as groups of names drawn side by side."""
    return [[g] if isinstance(g, str) else list(g) for g in spec.sampling["tensors"]]


@torch.no_grad()
def generate(gan: GAN, inputs: dict[str, torch.Tensor], names: list[str]) -> list[torch.Tensor]:
    """Evaluate forward tensors in eval mode (batch norm uses its running statistics)."""
    was_training = gan.training
    gan.eval()
    try:
        cache = TensorCache(gan, inputs)
        return [cache.get(name) for name in names]
    finally:
        gan.train(was_training)


def render_samples(gan: GAN, data, spec: Spec, device: torch.device, seed: int | None = None,
                   n: int | None = None, fixed_labels: dict[str, int] | None = None
                   ) -> np.ndarray:
    """The spec's sample grid as a uint8 RGB image."""
    sampling = spec.sampling
    groups = sample_groups(spec)
    names = [name for group in groups for name in group]
    nrow, rows_by = sampling["nrow"], sampling.get("rows_by")
    n = n or sampling["n"]
    if rows_by in (fixed_labels or {}):
        rows_by = None
    elif rows_by:
        n = spec.tree["latent"][rows_by]["classes"] * nrow
    points = spec.analysis.tensor_shapes.get(names[0]) == (2,)
    if points:
        n = max(n, _POINTS)
    inputs = sample_inputs(spec, data, n, device, seed, rows_by, nrow, fixed_labels)
    values = dict(zip(names, generate(gan, inputs, names), strict=True))
    arrays = {k: v.float().cpu().numpy() for k, v in values.items()}
    if points:
        return scatter(inputs["real"].cpu().numpy(), arrays[names[0]])
    if groups == [[names[0]]]:
        return image_grid(arrays[names[0]], nrow)
    return image_grid(*side_by_side([[arrays[k] for k in g] for g in groups], nrow, n))


def _enlarge(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """(N, C, h, w) images at (height, width), each pixel repeated (nearest neighbour)."""
    h, w = images.shape[-2:]
    if (h, w) == (height, width):
        return images
    rows, cols = np.arange(height) * h // height, np.arange(width) * w // width
    return images[..., rows[:, None], cols[None, :]]


def side_by_side(groups: list[list[np.ndarray]], nrow: int, n: int) -> tuple[np.ndarray, int]:
    """Rows of (a, b, c) triplets per sample, groups alternating row by row.

    For translation: a row of (real_A, fake_B, rec_A) for a few samples, then a row of
    (real_B, fake_A, rec_B) for the same samples, and so on. Smaller images (a super-
    resolution model's LR input) are enlarged to the largest, nearest-neighbour, so that
    their pixels show.
    """
    height = max(t.shape[-2] for g in groups for t in g)
    width_px = max(t.shape[-1] for g in groups for t in g)
    groups = [[_enlarge(t, height, width_px) for t in g] for g in groups]
    width = max(len(g) for g in groups)
    per_row = max(1, nrow // width)
    rows = max(1, min(n // per_row, 8 // len(groups)))
    tiles = []
    for r in range(rows):
        for group in groups:
            for j in range(r * per_row, (r + 1) * per_row):
                tiles += [t[j % len(t)] for t in group]
                tiles += [np.ones_like(group[0][0])] * (width - len(group))
    return np.stack(tiles), per_row * width
