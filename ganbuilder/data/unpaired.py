"""The `unpaired` source (CycleGAN): two folders of images, root/<phase>A and root/<phase>B.

As in pytorch-CycleGAN-and-pix2pix (horse2zebra/trainA, trainB, testA, testB). A and B are drawn
independently, each side from its own permutation (`serial: true` pairs them by index instead);
each image gets its own random crop and flip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganbuilder._lazy import torch
from ganbuilder.data.folder import IMAGE_EXTENSIONS, check_sizes, find_root, list_images
from ganbuilder.data.imagefiles import BadImages, describe_sizes, read_image, to_tensor
from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import Batch, DataSource
from ganbuilder.data.twodomain import (
    TwoDomainSource,
    crop_flip,
    file_schema,
    file_shapes,
    side_modes,
)
from ganbuilder.errors import DataError

SCHEMA: dict = {
    **file_schema("It holds the folders <phase>A and <phase>B (trainA, trainB, testA, testB)."),
    "serial": {
        "type": "boolean",
        "default": False,
        "description": "false: B images are drawn independently of A (their own random order); "
        "true: item i pairs A[i] with B[i] (modulo each side's size).",
    },
}

KINDS = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)


def open_unpaired(cfg: dict, base_dir: Path) -> DataSource:
    check_sizes(cfg)
    root = find_root(cfg, base_dir)
    sides = []
    for side in "AB":
        folder = root / f"{cfg['phase']}{side}"
        files = list_images(folder) if folder.is_dir() else []
        if not files:
            why = "" if folder.is_dir() else " (the folder does not exist)"
            raise DataError(
                f"no images found in {folder}{why}; the unpaired layout needs images "
                f"({KINDS}) in both {root / (cfg['phase'] + 'A')} and "
                f"{root / (cfg['phase'] + 'B')}",
                path="data.root",
            )
        sides.append(files)
    if cfg["direction"] == "BtoA":
        sides.reverse()
    return UnpairedSource(sides[0], sides[1], cfg)


class UnpairedSource(TwoDomainSource):
    """Two lists of image files decoded on demand."""

    decodes = True  # made per item, in data.workers processes

    def __init__(self, files_A: list[Path], files_B: list[Path], cfg: dict):
        self.files_A, self.files_B = files_A, files_B
        self.size_A, self.size_B = len(files_A), len(files_B)
        self.serial = cfg["serial"]
        self.modes = side_modes(cfg)
        self.image_size = cfg["image_size"]
        self.load_size = cfg["load_size"] or cfg["image_size"]
        self.flip = cfg["flip"]
        self.bad = (BadImages(cfg["bad_images"], files_A), BadImages(cfg["bad_images"], files_B))

    def describe(self) -> str:
        """How many images each side holds and the range of their sizes."""
        return "; ".join(
            f"{files[0].parent}: {len(files)} images, {describe_sizes(files)}"
            for files in (self.files_A, self.files_B)
        )

    def domain_batch(self, index_A: Any, index_B: Any, generator: Any | None) -> Batch:
        return {
            "real_A": torch.stack([self._load(0, int(i), generator) for i in index_A]),
            "real_B": torch.stack([self._load(1, int(i), generator) for i in index_B]),
        }

    def _load(self, side: int, index: int, generator: Any | None) -> Any:
        files, mode = (self.files_A, self.files_B)[side], self.modes[side]
        _, x = self.bad[side].read(
            index, lambda i: to_tensor(read_image(files[i]), mode, self.load_size)
        )
        return crop_flip([x], self.image_size, self.flip, generator)[0]


SOURCES.add(
    "unpaired",
    SourceDef(
        SCHEMA,
        ("root",),
        file_shapes,
        open_unpaired,
        "Two unpaired image folders (CycleGAN): <phase>A/ and <phase>B/.",
        path_keys=("root",), images=True,
    ),
)
