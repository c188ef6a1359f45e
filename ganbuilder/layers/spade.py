"""Spatially-adaptive normalisation (SPADE, Park et al. 2019), the resize that brings a
segmentation map to a generator's first size, and the reparameterised sample of a VAE
encoder (SPADE's style encoder)."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule, nn
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import (
    Shape,
    ShapeError,
    format_shape,
    int_param,
    layer,
    num_param,
    rank,
)

spade_modules = LazyModule("ganbuilder.layers.spade_modules")


def _spade_shape(p: dict, inputs: list[Shape]) -> Shape:
    x, seg = inputs
    rank(x, 3, "spade", "(C, H, W)")
    if len(seg) != 3:
        raise ShapeError(f"spade: 'with' must name a segmentation map (classes, H, W), got "
                         f"{format_shape(seg)}")
    if p["kernel"] % 2 == 0:
        raise ShapeError(f"spade: kernel {p['kernel']} is even; an odd kernel keeps the size")
    return x


def _spade_params(p: dict, inputs: list[Shape]) -> int:
    (channels, *_), (labels, *_) = inputs
    k2, hidden = p["kernel"] ** 2, p["hidden"]
    # The shared conv (labels -> hidden), then gamma and beta convs (hidden -> channels).
    return labels * hidden * k2 + hidden + 2 * (hidden * channels * k2 + channels)


@layer(
    "spade",
    _spade_shape,
    {"with": {"type": "string", "description": "id or network input holding the "
                                               "segmentation map (one-hot classes, H, W)"},
     "hidden": int_param("channels of the shared hidden map (NVlabs: 128)", 128, minimum=1),
     "kernel": int_param("kernel of the three convolutions (odd)", 3, minimum=1),
     "norm": {"enum": ["batch", "instance"], "default": "batch",
              "description": "the parameter-free normalisation: batch (SPADE's syncbatch) or "
                             "instance"},
     "eps": num_param("added to the variance for stability", 1e-5, minimum=0),
     "momentum": num_param("running statistics momentum (batch norm)", 0.1, minimum=0)},
    required=("with",),
    primary="with",
    refs=("with",),
    param_count=_spade_params,
    group="normalisation",
)
def spade(p: dict, inputs: list[Shape]):
    """Spatially-adaptive normalisation (SPADE): a parameter-free norm of x, then
    x * (1 + gamma) + beta with gamma and beta convolutions of a hidden map of the segmentation
    map `with`, resized (nearest) to x's size."""
    (channels, *_), (labels, *_) = inputs
    return construct(spade_modules.SPADE, channels, labels, p["hidden"], p["kernel"],
                     p["norm"], p["eps"], p["momentum"])


def _resize_shape(p: dict, inputs: list[Shape]) -> Shape:
    rank(inputs[0], 3, "resize", "(C, H, W)")
    return (inputs[0][0], *p["size"])


@layer(
    "resize",
    _resize_shape,
    {"size": {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 2,
              "maxItems": 2, "description": "[H, W] of the output"},
     "mode": {"enum": ["nearest", "bilinear"], "default": "nearest",
              "description": "nearest (a label map stays one-hot) or bilinear"}},
    required=("size",),
    primary="size",
    group="shape",
    fit_params=lambda received: {"size": list(received[1:])} if len(received) == 3 else {},
)
def resize(p: dict, inputs: list[Shape]):
    """Resamples a (C, H, W) map to `size` (SPADE's generator starts from the label map at
    its first size)."""
    return construct(nn.Upsample, size=tuple(p["size"]), mode=p["mode"])


def _reparameterize_shape(p: dict, inputs: list[Shape]) -> Shape:
    mu, logvar = inputs
    if mu != logvar:
        raise ShapeError(f"reparameterize: mu {format_shape(mu)} and logvar "
                         f"{format_shape(logvar)} must have one shape")
    return mu


@layer(
    "reparameterize",
    _reparameterize_shape,
    {"logvar": {"type": "string", "description": "id of the log-variances (the input is "
                                                 "the means)"}},
    required=("logvar",),
    primary="logvar",
    refs=("logvar",),
    group="merge",  # combines two tensors, as affine does
    stochastic=True,
)
def reparameterize(p: dict, inputs: list[Shape]):
    """z = mu + eps * exp(logvar / 2), eps ~ N(0, 1): a VAE encoder's sample that gradients
    reach mu and logvar through (SPADE's style encoder); drawn in eval mode too."""
    return construct(spade_modules.Reparameterize)
