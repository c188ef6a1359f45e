"""The `edges2digits` source: a built-in paired task (edge map -> digit), no files needed.

Built from sklearn's 8x8 digits like pix2pix's edges2shoes: B is the digit as the `digits`
source gives it (bilinear upsampling to image_size, white strokes on black, in [-1, 1]); A is
its outline: the digit is thresholded at half intensity and A is the morphological gradient
(dilation minus erosion, 3x3 at 32x32) of that mask, the image border counting as background:
a binary map of closed 2-pixel white contour lines on black. `label` holds the digit class,
for evaluation. `split` selects the fixed held-out 20% (`test`, 359 digits) or the rest
(`train`, 1438), the same split as the `digits` source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganbuilder._lazy import F
from ganbuilder.data import keys
from ganbuilder.data.digits import (
    CLASS_NAMES,
    load_raw_digits,
    split_indices,
    split_key,
    upsample,
)
from ganbuilder.data.images import dilate, erode, set_channels, stroke_kernel
from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import Batch, DataSource, TensorSource
from ganbuilder.data.twodomain import DIRECTION

SCHEMA: dict = {
    "split": split_key("train", ("train", "test")),
    "image_size": keys.image_size(32),
    "channels": keys.channels(1),
    "direction": {
        **DIRECTION,
        "description": "AtoB: real_A is the edge map and real_B the digit; BtoA swaps them.",
    },
}


def shapes(cfg: dict) -> dict[str, list[int]]:
    size, channels = cfg["image_size"], cfg["channels"]
    return {"real_A": [channels, size, size], "real_B": [channels, size, size], "label": []}


def edge_map(digit: Any) -> Any:
    """The outline of [B, 1, H, W] digits in [-1, 1], as a binary map in {-1, 1}."""
    k = stroke_kernel(digit.shape[-1])
    # Padded with background, so that strokes touching the border get a closed outline too.
    mask = F.pad((digit > 0.0).float(), (k // 2,) * 4)  # half intensity
    edges = dilate(mask, k) - erode(mask, k)
    return edges[..., k // 2 : -(k // 2), k // 2 : -(k // 2)] * 2.0 - 1.0


def open_edges2digits(cfg: dict, base_dir: Path) -> DataSource:
    images, labels = load_raw_digits()
    chosen = split_indices(cfg["split"])
    size, channels = cfg["image_size"], cfg["channels"]
    swap = cfg["direction"] == "BtoA"

    def transform(rows: Batch) -> Batch:
        digit = upsample(rows["digit"], size)
        edges = edge_map(digit)
        a, b = (digit, edges) if swap else (edges, digit)
        return {
            "real_A": set_channels(a, channels),
            "real_B": set_channels(b, channels),
            "label": rows["label"],
        }

    return TensorSource(
        {"digit": images[chosen], "label": labels[chosen]},
        transform,
        num_classes=10,
        class_names=list(CLASS_NAMES),
    )


SOURCES.add(
    "edges2digits",
    SourceDef(
        SCHEMA,
        (),
        shapes,
        open_edges2digits,
        "Built-in paired task: digit outlines (A) to sklearn digits (B), with labels.",
        held_out={"split": "test"},
    ),
)
