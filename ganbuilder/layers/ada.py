"""Adaptive augmentation of what a critic sees (StyleGAN2-ADA), as its first layer."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule
from ganbuilder.layers.augment import SIZES
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import Shape, ShapeError, format_shape, layer, rank

ada_modules = LazyModule("ganbuilder.layers.ada_modules")

OPS = ("xflip", "rotate90", "translation", "color", "cutout")


def _image(p: dict, inputs: list[Shape]) -> Shape:
    rank(inputs[0], 3, "ada", "(C, H, W) image")
    if "rotate90" in p["ops"] and inputs[0][1] != inputs[0][2]:
        raise ShapeError(f"ada: rotate90 keeps the shape of square images only, got "
                         f"{format_shape(inputs[0])}")
    return inputs[0]


@layer("ada", _image, {
    "ops": {"type": "array", "items": {"enum": list(OPS)}, "uniqueItems": True,
            "default": ["xflip", "rotate90", "translation", "color"],
            "description": "augmentations, each applied to a sample with probability p, in "
                           "this order: xflip (mirror left-right), rotate90 (by 0, 90, 180 or "
                           "270 degrees), translation (whole pixels, zero fill), color "
                           "(brightness, saturation, contrast: DiffAugment's), cutout"},
    "target": {"type": "number", "exclusiveMinimum": -1, "exclusiveMaximum": 1, "default": 0.6,
               "description": "the wanted E[sign(D(real))]: p rises while the critic's real "
                              "outputs are on the real side more often than this (ADA: 0.6)"},
    "interval": {"type": "integer", "minimum": 1, "default": 4,
                 "description": "critic steps between adjustments of p (ADA: 4)"},
    "ramp": {"type": "integer", "minimum": 1, "default": 500000,
             "description": "images over which p can go from 0 to 1 (ADA: 500,000); each "
                            "adjustment moves p by batch size x interval / ramp"},
    "p": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.0,
          "description": "the probability at the start of training"},
    **SIZES,
}, primary="ops", group="augmentation",
   adapted="probability p, moved from the critic's outputs on real images")
def ada(p: dict, inputs: list[Shape]):
    """Adaptive discriminator augmentation (Karras et al. 2020, StyleGAN2-ADA): while training,
    each augmentation is applied to each sample with probability p, and the trainer adjusts p
    from the sign of the critic's outputs on real images: up while the critic is too sure of
    them (it overfits), down otherwise. Put it first in the critic; p is logged as
    `aug/<critic>/p` and kept in checkpoints."""
    return construct(ada_modules.AdaptiveAugment, p["ops"], p["target"], p["interval"],
                     p["ramp"], p["p"], p["translation"], p["cutout"])
