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
from ganbuilder.data.imagefiles import BAD_IMAGES, BadImages, describe_sizes, read_image, to_tensor
from ganbuilder.data.registry import SOURCES, SourceDef, resolve_path
from ganbuilder.data.source import Batch, DataSource
from ganbuilder.errors import DataError
from ganbuilder.files import is_regular

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
    "classes": {
        "type": ["array", "null"],
        "items": {"type": "string", "minLength": 1},
        "minItems": 1,
        "uniqueItems": True,
        "default": None,
        "description": "The class subfolder names the spec expects, in label order (label i is "
        "classes[i]); opening the data is an error when the folder's classes differ. If null, "
        "the sorted subfolder names are the classes.",
    },
    "bad_images": BAD_IMAGES,
}


def is_image(name: str) -> bool:
    return name.lower().endswith(IMAGE_EXTENSIONS)


def list_images(folder: Path) -> list[Path]:
    """Image files under `folder`, recursively, sorted; hidden files and folders are skipped."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        # Regular files only: a FIFO named x.png would block the first read forever.
        found += [Path(dirpath) / f for f in filenames if is_image(f) and not f.startswith(".")
                  and is_regular(Path(dirpath) / f)]
    return sorted(found)


def has_images(folder: Path) -> bool:
    """Whether any image lies under `folder`; stops at the first one."""
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        if any(is_image(f) and not f.startswith(".") and is_regular(Path(dirpath) / f)
               for f in filenames):
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


def check_classes(cfg: dict) -> None:
    """Declared classes need labels to come from subfolders."""
    if cfg.get("classes") is not None and cfg["labels"] == "none":
        raise DataError(
            "classes are listed but labels is 'none'; remove one of them", path="data.classes"
        )


def shapes(cfg: dict) -> dict[str, list[int]]:
    check_sizes(cfg)
    check_classes(cfg)
    size = cfg["image_size"]
    out = {"real": [cfg["channels"], size, size]}
    labelled = cfg["labels"] == "subfolders" or cfg["classes"] is not None
    if cfg["labels"] == "auto" and not labelled:
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


def ordered_classes(cfg: dict, root: Path) -> list[Path]:
    """The class subfolders, in the order of `classes` if the spec lists them.

    A listed class without a subfolder, or a subfolder the list lacks, is an error naming both
    lists: labels would otherwise silently mean something else than the spec says.
    """
    found = class_folders(root) if cfg["labels"] != "none" else []
    wanted = cfg.get("classes")
    if wanted is None:
        return found
    by_name = {p.name: p for p in found}
    if set(wanted) != set(by_name):
        missing = [c for c in wanted if c not in by_name]
        extra = [n for n in by_name if n not in wanted]
        detail = "; ".join(
            part
            for part in (
                f"no subfolder for {', '.join(missing)}" if missing else "",
                f"not in the list: {', '.join(extra)}" if extra else "",
            )
            if part
        )
        raise DataError(
            f"the spec's classes {list(wanted)} differ from the class subfolders of {root} "
            f"{list(by_name)} ({detail})",
            path="data.classes",
        )
    return [by_name[c] for c in wanted]


def open_folder(cfg: dict, base_dir: Path) -> DataSource:
    check_sizes(cfg)
    check_classes(cfg)
    root = find_root(cfg, base_dir)
    kinds = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
    classes = ordered_classes(cfg, root)
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

    decodes = True  # made per item, in data.workers processes

    def __init__(
        self, files: list[Path], labels: list[int] | None, class_names: list[str] | None, cfg: dict
    ):
        self.files = files
        self.labels = labels
        self.class_names = class_names
        self.num_classes = len(class_names) if class_names else None
        self.root = Path(cfg["root"])
        self.image_size = cfg["image_size"]
        self.load_size = cfg["load_size"] or cfg["image_size"]
        self.mode = "L" if cfg["channels"] == 1 else "RGB"
        self.flip = cfg["flip"]
        self.bad = BadImages(cfg["bad_images"], files)

    def __len__(self) -> int:
        return len(self.files)

    def describe(self) -> str:
        """Where the images are, how many, their classes and the range of their sizes."""
        text = f"{self.root}: {len(self.files)} images"
        if self.class_names:
            text += f", {len(self.class_names)} classes ({', '.join(self.class_names)})"
        return f"{text}, {describe_sizes(self.files)}"

    def batch(self, indices: Any, generator: Any | None) -> Batch:
        # A skipped file's stand-in brings its own label, so read before labelling.
        items = [self.bad.read(int(i), self._decode) for i in indices]
        out = {"real": torch.stack([self._augment(x, generator) for _, x in items])}
        if self.labels is not None:
            out["label"] = torch.tensor([self.labels[i] for i, _ in items], dtype=torch.int64)
        return out

    def _decode(self, index: int) -> Any:
        return to_tensor(read_image(self.files[index]), self.mode, self.load_size)

    def _augment(self, x: Any, generator: Any | None) -> Any:
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
        path_keys=("root",), images=True,
    ),
)
