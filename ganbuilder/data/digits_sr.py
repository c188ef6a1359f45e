"""The `digits_sr` source: a built-in super-resolution task made from the digits, no files
needed.

`hr` is the digit as the `digits` source gives it (bilinear from 8x8 to image_size), stored
as 8-bit as a PNG would keep it; `lr` is that 8-bit image shrunk by `factor` with PIL's
bicubic filter, as the `superres` source makes LR from image files (32 px HR, 8 px LR at
x4 by default). `split` selects the digits' fixed held-out 20% (`test`, 359) or the rest
(`train`, 1438), the split of every digit source.
"""

from __future__ import annotations

from pathlib import Path

from ganbuilder.data import keys
from ganbuilder.data.bicubic import downscale
from ganbuilder.data.digits import load_raw_digits, split_indices, split_key, upsample
from ganbuilder.data.images import set_channels
from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import Batch, DataSource, TensorSource
from ganbuilder.data.superres import FACTOR, check_factor, sr_shapes

SCHEMA: dict = {
    "split": split_key("train", ("train", "test")),
    "image_size": {**keys.image_size(32), "description": "Side of the HR digits; LR digits "
                   "are image_size / factor."},
    "factor": FACTOR,
    "channels": keys.channels(1),
}


def _pairs(cfg: dict) -> tuple:
    """(lr, hr) uint8 tensors [N, 1, S, S] of the split's digits."""
    import numpy as np
    import torch
    from PIL import Image

    images, _ = load_raw_digits()
    hr = upsample(images[split_indices(cfg["split"])], cfg["image_size"])
    hr8 = ((hr + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    lr8 = torch.stack([
        torch.from_numpy(np.array(downscale(Image.fromarray(x[0].numpy()), cfg["factor"])))
        .unsqueeze(0) for x in hr8])
    return lr8, hr8


def open_digits_sr(cfg: dict, base_dir: Path) -> DataSource:
    """The split's digits as (lr, hr) pairs in [-1, 1], held in memory."""
    check_factor(cfg)
    lr8, hr8 = _pairs(cfg)
    channels = cfg["channels"]

    def transform(rows: Batch) -> Batch:
        return {name: set_channels(rows[name].float() * (2.0 / 255.0) - 1.0, channels)
                for name in ("lr", "hr")}

    return TensorSource({"lr": lr8, "hr": hr8}, transform)


SOURCES.add(
    "digits_sr",
    SourceDef(
        SCHEMA,
        (),
        sr_shapes,
        open_digits_sr,
        "Built-in super-resolution task: digits (HR) and their PIL-bicubic shrunk copies (LR).",
        held_out={"split": "test"},
    ),
)
