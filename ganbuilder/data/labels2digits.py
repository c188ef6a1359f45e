"""The `labels2digits` source: a built-in label-map task (segmentation map -> image) for
SPADE, no files needed.

Built from sklearn's 8x8 digits (the `digits` source's fixed split): each digit, upsampled to
image_size, gives a map of 4 classes: 0 sky and 1 ground (the background above and below a
horizon whose row varies from digit to digit), 2 the digit's stroke (half intensity and
up) and 3 its halo (the ring one stroke-kernel wide around it). The image paints each class
its colour: a sky darkening upwards, flat ground, a halo, and a stroke whose brightness
follows the digit's own intensity and whose hue (yellow to white) varies with the digit's
index, a style the label map does not fix (what SPADE's encoder is for). The batch carries
`real` (3 channels), `seg` (the 4-channel one-hot map), `seg_image` (the map in the
`labelmaps` palette) and `label` (the digit's class).
"""

from __future__ import annotations

from pathlib import Path

from ganbuilder._lazy import torch
from ganbuilder.data import keys
from ganbuilder.data.digits import CLASS_NAMES, load_raw_digits, split_indices, split_key, upsample
from ganbuilder.data.images import dilate, stroke_kernel
from ganbuilder.data.labelmaps import coloured, label_input, one_hot, palette
from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import Batch, DataSource, TensorSource

CLASSES = ("sky", "ground", "stroke", "halo")

SCHEMA: dict = {
    "split": split_key("train", ("train", "test")),
    "image_size": keys.image_size(32),
}

# Colours in [-1, 1]: sky (at the horizon; it darkens upwards), ground, halo, and the stroke
# hue's two ends.
SKY, GROUND, HALO = (-0.5, 0.0, 0.9), (-0.6, 0.3, -0.7), (0.7, -0.7, -0.5)
STROKE_YELLOW, STROKE_WHITE = (1.0, 0.8, -0.6), (1.0, 1.0, 1.0)


def shapes(cfg: dict) -> dict[str, list[int]]:
    size = cfg["image_size"]
    return {"real": [3, size, size], "seg": [len(CLASSES), size, size],
            "seg_image": [3, size, size], "label": []}


def _rgb(values: tuple[float, float, float]) -> torch.Tensor:
    return torch.tensor(values).view(1, 3, 1, 1)


def scene(digit: torch.Tensor, index: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(class ids [B, H, W], image [B, 3, H, W] in [-1, 1]) of [B, 1, H, W] digits in
    [-1, 1]; `index` (the digits' indices in the data set) sets the horizon and the hue."""
    size = digit.shape[-1]
    stroke = digit > 0.0
    halo = (dilate(stroke.float(), stroke_kernel(size)) > 0) & ~stroke
    rows = torch.arange(size).view(1, 1, size, 1)
    horizon = (size // 2 + (index * 5) % (size // 4 + 1) - size // 8).view(-1, 1, 1, 1)
    ids = torch.where(rows >= horizon, 1, 0).expand_as(digit).clone()
    ids[halo], ids[stroke] = 3, 2
    height = (rows.float() / max(1, size - 1)).expand_as(digit)  # 0 at the top, 1 at the bottom
    hue = ((index % 5).float() / 4).view(-1, 1, 1, 1)
    stroke_rgb = (1 - hue) * _rgb(STROKE_YELLOW) + hue * _rgb(STROKE_WHITE)
    shade = 0.6 + 0.4 * digit  # the digit's own intensity, 0.6..1 over the stroke
    image = ((ids == 0) * _rgb(SKY) * (0.4 + 0.6 * height) + (ids == 1) * _rgb(GROUND)
             + (ids == 3) * _rgb(HALO) + (ids == 2) * (stroke_rgb * shade - (1 - shade)))
    return ids[:, 0], image.clamp(-1.0, 1.0)


def open_labels2digits(cfg: dict, base_dir: Path) -> DataSource:
    images, labels = load_raw_digits()
    chosen = split_indices(cfg["split"])
    size = cfg["image_size"]
    colours = palette(len(CLASSES))

    def transform(rows: Batch) -> Batch:
        ids, image = scene(upsample(rows["digit"], size), rows["index"])
        return {"real": image, "seg": one_hot(ids, len(CLASSES)),
                "seg_image": coloured(ids, colours), "label": rows["label"]}

    return TensorSource({"digit": images[chosen], "index": chosen, "label": labels[chosen]},
                        transform, num_classes=10, class_names=list(CLASS_NAMES))


SOURCES.add(
    "labels2digits",
    SourceDef(
        SCHEMA,
        (),
        shapes,
        open_labels2digits,
        "Built-in label-map task (SPADE): 4-class maps (sky, ground, stroke, halo) of sklearn "
        "digits to coloured scenes.",
        held_out={"split": "test"},
        file_inputs={"seg": label_input},
    ),
)
