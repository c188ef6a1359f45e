"""StyleGAN's layers (Karras et al. 2019): the mapping network's pixel norm, the synthesis
network's learned constant, noise injection and AdaIN, and the critic's minibatch std."""

from __future__ import annotations

import math

from ganbuilder._lazy import LazyModule
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

style_modules = LazyModule("ganbuilder.layers.style_modules")

_EPS = num_param("added to the mean square for stability", 1e-8, minimum=0)


def _pixel_norm_shape(p: dict, inputs: list[Shape]) -> Shape:
    if len(inputs[0]) not in (1, 3):
        raise ShapeError(f"pixel_norm: expects (C,) or (C, H, W) input, got "
                         f"{format_shape(inputs[0])}")
    return inputs[0]


@layer("pixel_norm", _pixel_norm_shape, {"eps": _EPS}, group="normalisation")
def pixel_norm(p: dict, inputs: list[Shape]):
    """x / sqrt(mean over channels of x^2 + eps): StyleGAN normalizes z with it."""
    return construct(style_modules.PixelNorm, p["eps"])


@layer(
    "constant",
    lambda p, inputs: tuple(p["shape"]),
    {"shape": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1,
               "description": "per-sample shape of the learned tensor, e.g. [512, 4, 4]"},
     "bias": {"type": "boolean", "default": False,
              "description": "add a learned per-channel bias (starting at 0), as the layer "
                             "after StyleGAN's constant does in NVlabs' code"}},
    required=("shape",),
    primary="shape",
    param_count=lambda p, inputs: math.prod(p["shape"]) + (p["shape"][0] if p["bias"] else 0),
    group="attention/style",
    fit_params=lambda received: {"shape": list(received)} if received else {},
)
def constant(p: dict, inputs: list[Shape]):
    """A learned tensor, N(0, 1) at first, the same for every sample: StyleGAN's synthesis
    input. It reads its input only for the batch size."""
    return construct(style_modules.Constant, tuple(p["shape"]), p["bias"])


def _noise_shape(p: dict, inputs: list[Shape]) -> Shape:
    rank(inputs[0], 3, "noise", "(C, H, W)")
    return inputs[0]


@layer(
    "noise",
    _noise_shape,
    {"per_channel": bool_param("one learned strength per channel (StyleGAN); false: one for "
                               "the layer (StyleGAN2)", True)},
    primary="per_channel",
    param_count=lambda p, inputs: inputs[0][0] if p["per_channel"] else 1,
    group="attention/style",
    stochastic=True,
)
def noise(p: dict, inputs: list[Shape]):
    """Adds per-pixel N(0, 1) noise, shared by the channels, times a learned strength (per
    channel, or one) that starts at 0 (StyleGAN's stochastic variation). Noise is drawn in eval
    mode too."""
    return construct(style_modules.NoiseInjection, inputs[0][0] if p["per_channel"] else 1)


def _adain_shape(p: dict, inputs: list[Shape]) -> Shape:
    x, w = inputs
    rank(x, 3, "adain", "(C, H, W)")
    if len(w) != 1:
        raise ShapeError(f"adain: 'with' must name a style vector, got {format_shape(w)}")
    return x


@layer(
    "adain",
    _adain_shape,
    {"with": {"type": "string", "description": "id or network input holding the style w"},
     "eps": num_param("added to the variance for stability", 1e-5, minimum=0)},
    required=("with",),
    primary="with",
    refs=("with",),
    # The affine map w -> (s, b): a weight and a bias for each of 2C outputs.
    param_count=lambda p, inputs: (inputs[1][0] + 1) * 2 * inputs[0][0],
    group="attention/style",
)
def adain(p: dict, inputs: list[Shape]):
    """Adaptive instance norm: instance_norm(x) * s + b with per-channel (s, b) from an
    equalized affine map of the style `with` (s starts at 1, b at 0)."""
    return construct(style_modules.AdaIN, inputs[0][0], inputs[1][0], p["eps"])


def _minibatch_std_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    rank(x, 3, "minibatch_std", "(C, H, W)")
    return (x[0] + 1, *x[1:])


@layer(
    "minibatch_std",
    _minibatch_std_shape,
    {"group": int_param("samples per group; a batch it does not divide is one group", 4,
                        minimum=1)},
    primary="group",
    group="attention/style",
    # Export traces one batch; the layer reads the batch size in Python.
    batch_dependent="it groups samples by the batch size (group size or the whole batch), "
                    "which an exported graph fixes at the example batch",
)
def minibatch_std(p: dict, inputs: list[Shape]):
    """Appends a channel holding the features' standard deviation over a group of samples,
    so the critic sees variety (Karras et al. 2018; fights mode collapse)."""
    return construct(style_modules.MinibatchStd, p["group"])
