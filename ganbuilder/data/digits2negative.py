"""The `digits2negative` source: a built-in unpaired two-domain task, no files needed.

Both domains show sklearn's 8x8 digits, bilinearly upsampled to image_size (1 channel by
default); they differ in appearance only, so a translation should keep the digit:

- A: the digits as the `digits` source gives them: thin white strokes on a black background.
- B: the digits with thicker strokes (grayscale dilation with a 3x3 window at 32x32, about one
  pixel) and inverted: dark strokes on a light background.

With `split: train` (the default) A and B come from disjoint halves of the 1438 training digits
(719 each, halves of the same fixed seeded permutation that defines the held-out split), so no
digit appears in both domains and the task is truly unpaired. With `split: test` both sides hold
all 359 held-out digits (never used for training), for evaluation. Batches carry real_A,
real_B and the digit classes label_A and label_B (for a "label kept" score).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganbuilder.data import keys
from ganbuilder.data.digits import (
    CLASS_NAMES,
    N_TEST,
    load_raw_digits,
    split_indices,
    split_key,
    split_order,
    upsample,
)
from ganbuilder.data.images import dilate, set_channels, stroke_kernel
from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import Batch, DataSource
from ganbuilder.data.twodomain import TwoDomainSource

SCHEMA: dict = {
    "split": split_key("train", ("train", "test")),
    "image_size": keys.image_size(32),
    "channels": keys.channels(1),
}


def shapes(cfg: dict) -> dict[str, list[int]]:
    size, channels = cfg["image_size"], cfg["channels"]
    return {
        "real_A": [channels, size, size],
        "real_B": [channels, size, size],
        "label_A": [],
        "label_B": [],
    }


def domain_indices(split: str) -> tuple[Any, Any]:
    """Sorted digit indices of the A and B domains for a split."""
    import torch

    if split == "test":
        test = split_indices("test")
        return test, test.clone()
    train = torch.from_numpy(split_order()[N_TEST:]).long()
    half = len(train) // 2
    return train[:half].sort().values, train[half:].sort().values


def negative_style(digit: Any) -> Any:
    """Thicker, inverted strokes: [B, 1, H, W] digits in [-1, 1] to the B domain's look."""
    return -dilate(digit, stroke_kernel(digit.shape[-1]))


def open_digits2negative(cfg: dict, base_dir: Path) -> DataSource:
    images, labels = load_raw_digits()
    index_A, index_B = domain_indices(cfg["split"])
    return DigitDomains(images[index_A], labels[index_A], images[index_B], labels[index_B], cfg)


class DigitDomains(TwoDomainSource):
    """The two digit domains held in memory at 8x8; styled per batch."""

    def __init__(self, raw_A: Any, label_A: Any, raw_B: Any, label_B: Any, cfg: dict):
        self.num_classes, self.class_names = 10, list(CLASS_NAMES)
        self.raw_A, self.label_A, self.raw_B, self.label_B = raw_A, label_A, raw_B, label_B
        self.size_A, self.size_B = len(raw_A), len(raw_B)
        self.image_size, self.channels = cfg["image_size"], cfg["channels"]

    def domain_batch(self, index_A: Any, index_B: Any, generator: Any | None) -> Batch:
        a = upsample(self.raw_A[index_A], self.image_size)
        b = negative_style(upsample(self.raw_B[index_B], self.image_size))
        return {
            "real_A": set_channels(a, self.channels),
            "real_B": set_channels(b, self.channels),
            "label_A": self.label_A[index_A],
            "label_B": self.label_B[index_B],
        }


SOURCES.add(
    "digits2negative",
    SourceDef(
        SCHEMA,
        (),
        shapes,
        open_digits2negative,
        "Built-in unpaired task: thin white digits (A) and thick inverted digits (B), labelled.",
        held_out={"split": "test"},
    ),
)
