"""The `digits` source: sklearn's 1797 8x8 handwritten digits (bundled, no download)."""

from __future__ import annotations

from pathlib import Path

from ganbuilder.data import keys
from ganbuilder.data.images import resize, set_channels, to_signed_unit
from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import Batch, DataSource, TensorSource

SCHEMA: dict = {
    "image_size": keys.image_size(32),
    "channels": keys.channels(1),
    "classes": {
        "type": "array",
        "items": {"type": "integer", "minimum": 0, "maximum": 9},
        "minItems": 1,
        "uniqueItems": True,
        "default": list(range(10)),
        "description": "Digits to keep; labels are renumbered 0..n-1 in the order of the sorted "
        "digits (class_names holds the digits).",
    },
}


def shapes(cfg: dict) -> dict[str, list[int]]:
    size = cfg["image_size"]
    return {"real": [cfg["channels"], size, size], "label": []}


def open_digits(cfg: dict, base_dir: Path) -> DataSource:
    import torch
    from sklearn.datasets import load_digits

    data = load_digits()
    images = torch.from_numpy(data.images).float().unsqueeze(1)  # [N, 1, 8, 8], values 0..16
    digits = torch.from_numpy(data.target).long()
    classes = sorted(cfg["classes"])
    keep = torch.isin(digits, torch.tensor(classes))
    # Renumber so that a conditional model's label range matches the kept classes.
    lookup = torch.full((10,), -1, dtype=torch.int64)
    lookup[torch.tensor(classes)] = torch.arange(len(classes))
    size, channels = cfg["image_size"], cfg["channels"]

    def transform(rows: Batch) -> Batch:
        real = set_channels(resize(to_signed_unit(rows["real"], 16.0), size), channels)
        return {"real": real, "label": rows["label"]}

    return TensorSource(
        {"real": images[keep], "label": lookup[digits[keep]]},
        transform,
        num_classes=len(classes),
        class_names=[str(c) for c in classes],
    )


SOURCES.add(
    "digits",
    SourceDef(SCHEMA, (), shapes, open_digits, "sklearn's 8x8 handwritten digits, labelled 0-9."),
)
