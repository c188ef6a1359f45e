"""The `mnist` source: MNIST IDX files as distributed (or as torchvision stores them)."""

from __future__ import annotations

from pathlib import Path

from ganbuilder.data import keys
from ganbuilder.data.folder import find_root
from ganbuilder.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from ganbuilder.data.images import resize, set_channels, to_signed_unit
from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import Batch, DataSource, TensorSource
from ganbuilder.errors import DataError

SCHEMA: dict = {
    "root": keys.ROOT,
    "image_size": keys.image_size(28),
    "channels": keys.channels(1),
    "split": {
        "type": "string",
        "enum": ["train", "test"],
        "default": "train",
        "description": "Which MNIST split to read: train (60000 images) or test (10000).",
    },
}

PREFIX = {"train": "train", "test": "t10k"}


def file_names(split: str) -> tuple[str, str]:
    """The (images, labels) file names of a split, without the optional .gz."""
    return f"{PREFIX[split]}-images-idx3-ubyte", f"{PREFIX[split]}-labels-idx1-ubyte"


def find_file(root: Path, name: str) -> Path | None:
    """`name` or `name.gz`, in root or in torchvision's root/MNIST/raw/."""
    for folder in (root, root / "MNIST" / "raw"):
        for candidate in (folder / name, folder / f"{name}.gz"):
            if candidate.is_file():
                return candidate
    return None


def shapes(cfg: dict) -> dict[str, list[int]]:
    size = cfg["image_size"]
    return {"real": [cfg["channels"], size, size], "label": []}


def open_mnist(cfg: dict, base_dir: Path) -> DataSource:
    import torch

    root = find_root(cfg, base_dir)
    names = file_names(cfg["split"])
    paths = [find_file(root, n) for n in names]
    if None in paths:
        raise DataError(
            f"MNIST files not found under {root}: expected {names[0]} and {names[1]} "
            "(each optionally .gz), in that folder or in its MNIST/raw/",
            path="data.root",
        )
    images = read_idx(paths[0], IMAGES_MAGIC)
    labels = read_idx(paths[1], LABELS_MAGIC)
    if len(images) != len(labels):
        raise DataError(
            f"{paths[0]} holds {len(images)} images but {paths[1]} holds {len(labels)} labels",
            path="data.root",
        )
    if len(labels) and int(labels.max()) > 9:
        raise DataError(
            f"{paths[1]} holds label {int(labels.max())}; MNIST labels are the digits 0..9",
            path="data.root",
        )
    if 0 in images.shape[1:]:
        raise DataError(
            f"{paths[0]} declares images of {images.shape[1]}x{images.shape[2]} pixels; "
            "its header is damaged",
            path="data.root",
        )
    size, channels = cfg["image_size"], cfg["channels"]

    def transform(rows: Batch) -> Batch:
        real = set_channels(resize(to_signed_unit(rows["real"], 255.0), size), channels)
        return {"real": real, "label": rows["label"]}

    # Kept as uint8 (47 MB for the train split) and converted per batch.
    return TensorSource(
        {
            "real": torch.from_numpy(images.copy()).unsqueeze(1),
            "label": torch.from_numpy(labels.astype("int64")),
        },
        transform,
        num_classes=10,
        class_names=[str(d) for d in range(10)],
    )


SOURCES.add(
    "mnist",
    SourceDef(
        SCHEMA,
        ("root",),
        shapes,
        open_mnist,
        "MNIST from its IDX files (train/t10k, optionally .gz).",
        path_keys=("root",), held_out={"split": "test"},
    ),
)
