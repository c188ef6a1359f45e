"""The super-resolution networks' layers: sub-pixel upsampling (PixelShuffle) and PReLU."""

from __future__ import annotations

from ganbuilder._lazy import nn
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import (
    Shape,
    ShapeError,
    bool_param,
    format_shape,
    int_param,
    layer,
    num_param,
    rank,
)


def _pixel_shuffle_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    rank(x, 3, "pixel_shuffle", "(C, H, W)")
    r = p["factor"]
    if x[0] % (r * r):
        raise ShapeError(f"pixel_shuffle: {x[0]} channels do not divide by factor² = {r * r} "
                         f"(input {format_shape(x)}); give the conv before it "
                         f"{r * r} x the channels wanted")
    return (x[0] // (r * r), x[1] * r, x[2] * r)


@layer(
    "pixel_shuffle",
    _pixel_shuffle_shape,
    {"factor": int_param("upscale factor r: (C·r², H, W) -> (C, H·r, W·r)", 2, minimum=1)},
    primary="factor",
    output_overwritable=True,
    group="shape",
)
def pixel_shuffle(p: dict, inputs: list[Shape]):
    """Sub-pixel upsampling (Shi et al. 2016): r² channels become an r x r block of pixels
    (nn.PixelShuffle; SRGAN's upsampler after a conv with 4x the channels)."""
    return construct(nn.PixelShuffle, p["factor"])


def _prelu_shape(p: dict, inputs: list[Shape]) -> Shape:
    if p["per_channel"] and not inputs[0]:
        raise ShapeError("prelu: per_channel needs channels; the input is one value per sample")
    return inputs[0]


def _prelu_count(p: dict, inputs: list[Shape]) -> int:
    return inputs[0][0] if p["per_channel"] else 1


@layer(
    "prelu",
    _prelu_shape,
    {"per_channel": bool_param("one learned slope per channel (the first per-sample "
                               "dimension) instead of one for the layer", False),
     "init": num_param("the slopes' first value (He et al. 2015: 0.25)", 0.25)},
    param_count=_prelu_count,
    group="activation",
)
def prelu(p: dict, inputs: list[Shape]):
    """PReLU (He et al. 2015): x for x > 0, a·x below, a learned (SRGAN's activation)."""
    count = inputs[0][0] if p["per_channel"] else 1
    return construct(nn.PReLU, count, p["init"])
