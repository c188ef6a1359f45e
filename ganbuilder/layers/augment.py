"""Differentiable augmentation of what a critic sees (DiffAugment), as its first layer."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import Shape, layer, rank

diffaugment_module = LazyModule("ganbuilder.layers.diffaugment")

POLICIES = ("color", "translation", "cutout")


def _image(p: dict, inputs: list[Shape]) -> Shape:
    rank(inputs[0], 3, "diffaugment", "(C, H, W) image")
    return inputs[0]


# The translation and cutout sizes, shared with the `ada` layer, which draws the same ops.
SIZES = {
    "translation": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.125,
                    "description": "largest shift, as a fraction of the image size"},
    "cutout": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "default": 0.5,
               "description": "side of the cut-out square, as a fraction of the image size"},
}


@layer("diffaugment", _image, {
    "policy": {"type": "array", "items": {"enum": list(POLICIES)}, "uniqueItems": True,
               "default": list(POLICIES),
               "description": "transformations, applied in this order: color (brightness, "
                              "saturation, contrast), translation, cutout"},
    **SIZES,
}, primary="policy", group="augmentation")
def diffaugment(p: dict, inputs: list[Shape]):
    """DiffAugment (Zhao et al. 2020): random colour, translation and cutout per sample, while
    training only. Put it first in the critic: every image the critic judges, real and fake,
    in both objectives, is augmented with its own draw, and G learns through it."""
    return construct(diffaugment_module.DiffAugment, p["policy"], p["translation"], p["cutout"])
