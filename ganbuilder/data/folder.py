"""The `folder` source: image files under a folder, read lazily per batch with PIL.

When the root has subfolders holding images, each such subfolder is a class (sorted names give
the label index) and images lying loose in the root are ignored, as torchvision's ImageFolder does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ganbuilder._lazy import torch
from ganbuilder.data import keys
from ganbuilder.data.registry import SOURCES, SourceDef, resolve_path
from ganbuilder.data.source import Batch, DataSource
from ganbuilder.errors import DataError

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")

SCHEMA: dict = {
    "root": keys.ROOT,
    "image_size": keys.image_size(64),
    "channels": keys.channels(3),
    "load_size": {
        "type": ["integer", "null"],
        "minimum": 1,
        "default": None,
        "description": "If set, images are resized to load_size x load_size and then cropped to "
        "image_size (random crops for training, center crops for sample grids); "
        "if null, images are resized straight to image_size.",
    },
    "flip": {
        "type": "boolean",
        "default": False,
        "description": "Randomly flip training images left-right.",
    },
    "labels": {
        "type": "string",
        "enum": ["auto", "subfolders", "none"],
        "default": "auto",
        "description": "Where labels come from: 'subfolders' (one class per subfolder), 'none', "
        "or 'auto' (subfolders if the root has subfolders with images).",
    },
}


def is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def list_images(folder: Path) -> list[Path]:
    """Image files under `folder`, recursively, sorted; hidden files and folders are skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        found += [Path(dirpath) / f for f in filenames if is_image(f) and not f.startswith(".")]
    return sorted(found)


def has_images(folder: Path) -> bool:
    """Whether any image lies under `folder`; stops at the first one."""
    for _dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if any(is_image(f) and not f.startswith(".") for f in filenames):
            return True
    return False


def class_folders(root: Path) -> list[Path]:
    """The root's (non-hidden) subfolders that hold images, sorted by name."""
    subdirs = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    return [p for p in subdirs if has_images(p)]


def check_sizes(cfg: dict) -> None:
    load_size = cfg.get("load_size")
    if load_size is not None and load_size < cfg["image_size"]:
        raise DataError(
            f"load_size ({load_size}) must be at least image_size ({cfg['image_size']})",
            path="data.load_size",
        )


def shapes(cfg: dict) -> dict[str, list[int]]:
    check_sizes(cfg)
    size = cfg["image_size"]
    out = {"real": [cfg["channels"], size, size]}
    labelled = cfg["labels"] == "subfolders"
    if cfg["labels"] == "auto":
        # Only a folder that can be looked at tells; a missing one fails later, at open.
        root = Path(cfg["root"]).expanduser()
        labelled = root.is_dir() and bool(class_folders(root))
    if labelled:
        out["label"] = []
    return out


def find_root(cfg: dict, base_dir: Path) -> Path:
    root = resolve_path(cfg["root"], base_dir)
    if not root.is_dir():
        raise DataError(f"data folder not found: {root}", path="data.root")
    return root


def open_folder(cfg: dict, base_dir: Path) -> DataSource:
    check_sizes(cfg)
    root = find_root(cfg, base_dir)
    kinds = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
    classes = class_folders(root) if cfg["labels"] != "none" else []
    if cfg["labels"] == "subfolders" and not classes:
        raise DataError(f"no class subfolders with images found under {root}", path="data.root")
    if classes:
        files, labels = [], []
        for index, folder in enumerate(classes):
            found = list_images(folder)
            files += found
            labels += [index] * len(found)
        names: list[str] | None = [c.name for c in classes]
    else:
        files, labels, names = list_images(root), None, None
    if not files:
        raise DataError(f"no images ({kinds}) found under {root}", path="data.root")
    return FolderSource(files, labels, names, cfg)


class FolderSource(DataSource):
    """Image files decoded on demand; only the file list is held in memory."""

    def __init__(
        self, files: list[Path], labels: list[int] | None, class_names: list[str] | None, cfg: dict
    ):
        self.files = files
        self.labels = labels
        self.class_names = class_names
        self.num_classes = len(class_names) if class_names else None
        self.image_size = cfg["image_size"]
        self.load_size = cfg["load_size"] or cfg["image_size"]
        self.mode = "L" if cfg["channels"] == 1 else "RGB"
        self.flip = cfg["flip"]

    def __len__(self) -> int:
        return len(self.files)

    def batch(self, indices: Any, generator: Any | None) -> Batch:
        images = [self._load(int(i), generator) for i in indices]
        out = {"real": torch.stack(images)}
        if self.labels is not None:
            out["label"] = torch.tensor([self.labels[int(i)] for i in indices], dtype=torch.int64)
        return out

    def _load(self, index: int, generator: Any | None) -> Any:
        import numpy as np
        from PIL import Image

        path = self.files[index]
        try:
            with Image.open(path) as im:
                im = im.convert(self.mode).resize(
                    (self.load_size, self.load_size), Image.Resampling.BILINEAR
                )
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
            # PIL signals corrupt files with any of these, depending on the format.
            raise DataError(f"cannot read image {path}: {err}", path="data.root") from err
        array = np.asarray(im, dtype=np.uint8)
        x = torch.from_numpy(array.copy()).reshape(self.load_size, self.load_size, -1)
        x = x.permute(2, 0, 1).float() * (2.0 / 255.0) - 1.0
        spare = self.load_size - self.image_size
        if generator is None:
            top = left = spare // 2
        else:
            top, left = (int(v) for v in torch.randint(spare + 1, (2,), generator=generator))
        x = x[:, top : top + self.image_size, left : left + self.image_size]
        if self.flip and generator is not None and torch.rand(1, generator=generator).item() < 0.5:
            x = x.flip(-1)
        return x


SOURCES.add(
    "folder",
    SourceDef(
        SCHEMA,
        ("root",),
        shapes,
        open_folder,
        "A folder of images (png, jpg, bmp, webp); subfolders become classes.",
    ),
)
