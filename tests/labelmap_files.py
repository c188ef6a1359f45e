"""A tiny SPADE-style label-map data set on disk, for the data tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

COLOURS = np.array([[0, 0, 0], [200, 0, 0], [0, 200, 0], [0, 0, 200]], dtype=np.uint8)


def write_labelmaps(base: Path, n: int = 5, classes: int = 3, dontcare: int | None = 255,
                    size: int = 8, instances: bool = False) -> Path:
    """images/i.jpg-free PNGs whose colour encodes each pixel's class (COLOURS[id], dontcare
    drawn as class `classes`), labels/i.png with the ids (L mode), and with `instances`
    instances/i.png (each column pair one instance)."""
    rng = np.random.default_rng(0)
    for folder in ("images", "labels") + (("instances",) if instances else ()):
        (base / folder).mkdir(parents=True, exist_ok=True)
    for i in range(n):
        ids = rng.integers(0, classes + (dontcare is not None), (size, size))
        values = np.where(ids == classes, dontcare if dontcare is not None else 0, ids)
        Image.fromarray(COLOURS[ids], "RGB").save(base / "images" / f"{i}.png")
        Image.fromarray(values.astype(np.uint8), "L").save(base / "labels" / f"{i}.png")
        if instances:
            inst = np.tile(np.arange(size) // 2, (size, 1)).astype(np.uint8)
            Image.fromarray(inst, "L").save(base / "instances" / f"{i}.png")
    return base
