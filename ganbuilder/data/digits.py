"""The `digits` source: sklearn's 1797 8x8 handwritten digits (bundled, no download).

The digits ship with the package as digits.npz (uint8 images 0..16 and labels), written from
scikit-learn's copy by scripts/build_digits.py, so loading them imports neither scikit-learn
nor scipy.

Also the digit helpers the built-in translation tasks share: the fixed held-out split and the
bilinear upsampling to the batch size.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from ganbuilder.data import keys
from ganbuilder.data.images import resize, set_channels, to_signed_unit
from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import Batch, DataSource, TensorSource

NUM_DIGITS = 1797
DATA_FILE = "digits.npz"  # next to this module; built by scripts/build_digits.py
TEST_SHARE = 0.2
SPLIT_SEED = 0
N_TEST = round(NUM_DIGITS * TEST_SHARE)  # 359 held-out digits; 1438 for training
CLASS_NAMES = [str(d) for d in range(10)]


def split_key(default: str, choices: tuple[str, ...]) -> dict:
    """The `split` key of the digit sources."""
    return {
        "type": "string",
        "enum": list(choices),
        "default": default,
        "description": f"Which digits: 'train' ({NUM_DIGITS - N_TEST}), 'test' ({N_TEST}, a fixed "
        "held-out 20% never used for training)"
        + (f" or 'all' ({NUM_DIGITS})" if "all" in choices else "")
        + ".",
    }


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
    "split": split_key("all", ("train", "test", "all")),
    "subset": {
        "type": ["integer", "null"],
        "minimum": 1,
        "default": None,
        "description": "Keep only this many digits of the split (after `classes`), the same "
        "ones on every machine (a fixed shuffle): a small data set, as for adaptive "
        "augmentation. If null, all of them.",
    },
}


def split_order() -> Any:
    """A fixed permutation of the digit indices: the first N_TEST are the held-out test split.

    numpy's legacy RandomState stream is frozen, so the split is the same on every machine and
    version.
    """
    import numpy as np

    return np.random.RandomState(SPLIT_SEED).permutation(NUM_DIGITS)


def split_indices(split: str) -> Any:
    """Sorted int64 tensor of the digit indices in `split` (train, test or all)."""
    import torch

    order = torch.from_numpy(split_order()).long()
    if split == "all":
        return torch.arange(NUM_DIGITS)
    part = order[:N_TEST] if split == "test" else order[N_TEST:]
    return part.sort().values


def load_raw_digits() -> tuple[Any, Any]:
    """(images [1797, 1, 8, 8] float32 in 0..16, labels [1797] int64)."""
    import numpy as np
    import torch

    # Through importlib.resources, so the file is found in any installed form of the package.
    with resources.files(__package__).joinpath(DATA_FILE).open("rb") as f, np.load(f) as data:
        images, labels = data["images"], data["labels"]
    # uint8 -> float32 is exact for 0..16: the same tensors as from sklearn's float64 copy.
    return torch.from_numpy(images).float().unsqueeze(1), torch.from_numpy(labels).long()


def upsample(raw: Any, size: int) -> Any:
    """Raw 0..16 digits to [-1, 1] at size x size (bilinear), as the `digits` source gives them."""
    return resize(to_signed_unit(raw, 16.0), size)


def shapes(cfg: dict) -> dict[str, list[int]]:
    size = cfg["image_size"]
    return {"real": [cfg["channels"], size, size], "label": []}


def open_digits(cfg: dict, base_dir: Path) -> DataSource:
    import torch

    images, digits = load_raw_digits()
    chosen = split_indices(cfg["split"])
    images, digits = images[chosen], digits[chosen]
    classes = sorted(cfg["classes"])
    keep = torch.isin(digits, torch.tensor(classes))
    # Renumber so that a conditional model's label range matches the kept classes.
    lookup = torch.full((10,), -1, dtype=torch.int64)
    lookup[torch.tensor(classes)] = torch.arange(len(classes))
    size, channels = cfg["image_size"], cfg["channels"]

    def transform(rows: Batch) -> Batch:
        real = set_channels(upsample(rows["real"], size), channels)
        return {"real": real, "label": rows["label"]}

    images, digits = images[keep], digits[keep]
    if cfg["subset"] is not None:
        # A fixed shuffle (not the first n, which follow the order the digits were written in).
        order = torch.randperm(len(digits), generator=torch.Generator().manual_seed(SPLIT_SEED))
        images, digits = images[order[:cfg["subset"]]], digits[order[:cfg["subset"]]]
    return TensorSource(
        {"real": images, "label": lookup[digits]},
        transform,
        num_classes=len(classes),
        class_names=[str(c) for c in classes],
    )


SOURCES.add(
    "digits",
    SourceDef(SCHEMA, (), shapes, open_digits, "sklearn's 8x8 handwritten digits, labelled 0-9.",
              held_out={"split": "test"}),
)
