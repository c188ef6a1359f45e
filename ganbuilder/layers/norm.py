"""Normalization layers."""

from __future__ import annotations

import math

from ganbuilder._lazy import nn
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import Shape, ShapeError, bool_param, layer, num_param, rank

_EPS = num_param("added to the variance for stability", 1e-5, minimum=0)
_MOMENTUM = num_param("running statistics momentum", 0.1, minimum=0)


def _affine_params(p: dict, inputs: list[Shape]) -> int:
    """Scale and shift per channel when affine; running statistics are buffers."""
    return 2 * inputs[0][0] if p["affine"] else 0


def _batch_norm_shape(p: dict, inputs: list[Shape]) -> Shape:
    if len(inputs[0]) not in (1, 3):
        raise ShapeError(f"batch_norm: expects (C,) or (C, H, W) input, got rank {len(inputs[0])}")
    return inputs[0]


@layer(
    "batch_norm",
    _batch_norm_shape,
    {"eps": _EPS, "momentum": _MOMENTUM, "affine": bool_param("learn scale and shift", True)},
    param_count=_affine_params,
    output_overwritable=True,
    group="normalisation",
)
def batch_norm(p: dict, inputs: list[Shape]):
    """Batch normalization over channels (BatchNorm1d or BatchNorm2d by input rank)."""
    cls = nn.BatchNorm2d if len(inputs[0]) == 3 else nn.BatchNorm1d
    return construct(cls, inputs[0][0], eps=p["eps"], momentum=p["momentum"],
                     affine=p["affine"])


def _instance_norm_shape(p: dict, inputs: list[Shape]) -> Shape:
    rank(inputs[0], 3, "instance_norm", "(C, H, W)")
    return inputs[0]


@layer(
    "instance_norm",
    _instance_norm_shape,
    {"eps": _EPS, "affine": bool_param("learn scale and shift (CycleGAN: no)", False),
     "track_running_stats": bool_param("keep running statistics for eval mode", False)},
    param_count=_affine_params,
    output_overwritable=True,
    group="normalisation",
)
def instance_norm(p: dict, inputs: list[Shape]):
    """Instance normalization (nn.InstanceNorm2d), as in CycleGAN and pix2pix."""
    return construct(nn.InstanceNorm2d, inputs[0][0], eps=p["eps"], affine=p["affine"],
                     track_running_stats=p["track_running_stats"])


@layer(
    "layer_norm",
    lambda p, inputs: inputs[0],
    {"eps": _EPS, "affine": bool_param("learn scale and shift", True)},
    # A scale and a shift per element of the normalized shape.
    param_count=lambda p, inputs: 2 * math.prod(inputs[0]) if p["affine"] else 0,
    output_overwritable=True,
    group="normalisation",
)
def layer_norm(p: dict, inputs: list[Shape]):
    """Layer normalization over all per-sample dimensions (nn.LayerNorm)."""
    return construct(nn.LayerNorm, list(inputs[0]), eps=p["eps"],
                     elementwise_affine=p["affine"])
