"""Conditioning: the projection discriminator (Miyato & Koyama 2018) for critics, and
class-conditional batch norm (BigGAN, Brock et al. 2019) for generators."""

from __future__ import annotations

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
)

modules = LazyModule("ganbuilder.layers.modules")


def _projection_shape(p: dict, inputs: list[Shape]) -> Shape:
    features, label = inputs
    if len(features) != 1:
        raise ShapeError(f"projection: expects a feature vector, got {format_shape(features)}; "
                         "flatten or pool first")
    if label != ():
        raise ShapeError(f"projection: 'with' must name an integer label, got "
                         f"{format_shape(label)}")
    return (1,)


@layer(
    "projection",
    _projection_shape,
    {"classes": int_param("number of labels", minimum=1),
     "with": {"type": "string", "description": "id or network input holding the label"},
     "spectral_norm": bool_param("spectral normalization on both parts", False)},
    required=("classes", "with"),
    refs=("with",),
    # linear(h): features weights and a bias; embed(y): a features-vector per class.
    param_count=lambda p, inputs: inputs[0][0] + 1 + p["classes"] * inputs[0][0],
    group="attention/style",
    fit_params=lambda received: {"classes": 10},
)
def projection(p: dict, inputs: list[Shape]):
    """Critic output linear(h) + <embed(y), h>: conditions D on a label by projection."""
    return construct(modules.Projection, inputs[0][0], p["classes"], p["spectral_norm"])


def _cond_batch_norm_shape(p: dict, inputs: list[Shape]) -> Shape:
    x, cond = inputs
    if len(x) not in (1, 3):
        raise ShapeError(f"cond_batch_norm: expects (C,) or (C, H, W) input, got "
                         f"{format_shape(x)}")
    if len(cond) != 1:
        raise ShapeError(f"cond_batch_norm: 'with' must name a feature vector, got "
                         f"{format_shape(cond)}; embed labels first")
    return x


@layer(
    "cond_batch_norm",
    _cond_batch_norm_shape,
    {"with": {"type": "string", "description": "id or network input holding the conditioning "
                                               "vector (BigGAN: class embedding and a z chunk)"},
     "eps": num_param("added to the variance for stability", 1e-5, minimum=0),
     "momentum": num_param("running statistics momentum", 0.1, minimum=0),
     "spectral_norm": bool_param("spectral normalization on the gain and bias projections",
                                 False)},
    required=("with",),
    refs=("with",),
    # Bias-free gain and bias projections c -> C; the normalization itself is not affine.
    param_count=lambda p, inputs: 2 * inputs[1][0] * inputs[0][0],
    group="normalisation",
)
def cond_batch_norm(p: dict, inputs: list[Shape]):
    """Batch norm with scale 1 + gain(c) and shift bias(c), both linear in a conditioning
    vector c: how BigGAN's generator is told the class (and its share of z)."""
    x, cond = inputs
    return construct(modules.ConditionalBatchNorm, x[0], len(x), cond[0], p["eps"],
                     p["momentum"], p["spectral_norm"])
