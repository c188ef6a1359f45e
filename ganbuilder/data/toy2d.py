"""2D Gaussian mixtures (`ring8`, `grid25`): the classic mode-collapse test beds."""

from __future__ import annotations

import math
from functools import partial
from pathlib import Path

from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import DataSource, TensorSource

SCHEMA: dict = {
    "size": {
        "type": "integer",
        "minimum": 1,
        "default": 10000,
        "description": "Number of points, drawn once when the data is opened.",
    },
    "seed": {
        "type": "integer",
        "minimum": 0,
        "default": 0,
        "description": "Random seed for drawing the points (separate from the training seed).",
    },
}

RING8_MEANS = [(math.cos(2 * math.pi * k / 8), math.sin(2 * math.pi * k / 8)) for k in range(8)]
GRID25_MEANS = [(float(x), float(y)) for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)]


def shapes(cfg: dict) -> dict[str, list[int]]:
    return {"real": [2], "label": []}


def open_mixture(
    cfg: dict, base_dir: Path, means: list[tuple[float, float]], std: float
) -> DataSource:
    import torch

    gen = torch.Generator().manual_seed(cfg["seed"])
    centres = torch.tensor(means, dtype=torch.float32)
    label = torch.randint(len(means), (cfg["size"],), generator=gen, dtype=torch.int64)
    noise = torch.randn(cfg["size"], 2, generator=gen, dtype=torch.float32) * std
    return TensorSource({"real": centres[label] + noise, "label": label}, num_classes=len(means))


SOURCES.add(
    "ring8",
    SourceDef(
        SCHEMA,
        (),
        shapes,
        partial(open_mixture, means=RING8_MEANS, std=0.01),
        "8 Gaussians (std 0.01) on the unit circle; label = component.",
    ),
)
SOURCES.add(
    "grid25",
    SourceDef(
        SCHEMA,
        (),
        shapes,
        partial(open_mixture, means=GRID25_MEANS, std=0.05),
        "25 Gaussians (std 0.05) on the grid {-4,-2,0,2,4}^2; label = component.",
    ),
)
