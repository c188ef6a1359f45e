"""The `digit_domains` source: a built-in multi-domain task (StarGAN's), no files needed.

Every digit of sklearn's 8x8 set (bilinearly upsampled to image_size) appears once in each of
the listed `domains`, looks that keep the digit:

- plain: thin white strokes on black (the `digits` source's look)
- inverted: dark strokes on a light background
- thick: strokes dilated (3x3 at 32x32, about one pixel)
- outline: the strokes' outline (edges2digits' edge map)
- dim: grey strokes on black (half the brightness)

Batches carry `real` (the styled digit), `label` (its domain, the index in `domains`),
`attributes` (the domain as a one-hot vector, for the multi-label loss) and `digit` (its
class, for judging that a translation keeps it). `split` selects the fixed held-out 20% of the
digits (`test`) or the rest (`train`), as the `digits` source does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganbuilder._lazy import F, torch
from ganbuilder.data import keys
from ganbuilder.data.digits import load_raw_digits, split_indices, split_key, upsample
from ganbuilder.data.edges2digits import edge_map
from ganbuilder.data.images import dilate, set_channels, stroke_kernel
from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import Batch, DataSource, TensorSource

LOOKS = ("plain", "inverted", "thick", "outline", "dim")

SCHEMA: dict = {
    "split": split_key("train", ("train", "test")),
    "image_size": keys.image_size(32),
    "channels": keys.channels(1),
    "domains": {
        "type": "array", "items": {"enum": list(LOOKS)}, "minItems": 2, "uniqueItems": True,
        "default": list(LOOKS),
        "description": "the domains, in label order (label i is domains[i]): plain, inverted, "
                       "thick, outline, dim",
    },
}


def shapes(cfg: dict) -> dict[str, list[int]]:
    size, channels = cfg["image_size"], cfg["channels"]
    return {"real": [channels, size, size], "label": [], "attributes": [len(cfg["domains"])],
            "digit": []}


def styled(digit: Any, look: str) -> Any:
    """[B, 1, H, W] digits in [-1, 1] in one of the LOOKS."""
    if look == "inverted":
        return -digit
    if look == "thick":
        return dilate(digit, stroke_kernel(digit.shape[-1]))
    if look == "outline":
        return edge_map(digit)
    if look == "dim":
        return digit * 0.5 - 0.5
    return digit


def open_digit_domains(cfg: dict, base_dir: Path) -> DataSource:
    images, labels = load_raw_digits()
    chosen = split_indices(cfg["split"])
    domains = list(cfg["domains"])
    n = len(domains)
    # Item i is digit i // n in domain i % n: each digit once in every domain.
    digit = images[chosen].repeat_interleave(n, 0)
    domain = torch.arange(n).repeat(len(chosen))
    size, channels = cfg["image_size"], cfg["channels"]

    def transform(rows: Batch) -> Batch:
        up = upsample(rows["digit"], size)
        real = torch.empty_like(up)
        for k, look in enumerate(domains):
            rows_k = rows["label"] == k
            if rows_k.any():
                real[rows_k] = styled(up[rows_k], look)
        return {"real": set_channels(real, channels), "label": rows["label"],
                "attributes": F.one_hot(rows["label"], n).float(), "digit": rows["class"]}

    return TensorSource({"digit": digit, "label": domain,
                         "class": labels[chosen].repeat_interleave(n, 0)},
                        transform, num_classes=n, class_names=domains)


SOURCES.add(
    "digit_domains",
    SourceDef(
        SCHEMA,
        (),
        shapes,
        open_digit_domains,
        "Built-in multi-domain task: every digit in each of a few looks (plain, inverted, "
        "thick, outline, dim), labelled with its domain and digit.",
        held_out={"split": "test"},
    ),
)
