"""Fully connected layers, label inputs and reshaping."""

from __future__ import annotations

import math

from ganbuilder._lazy import LazyModule, nn
from ganbuilder.layers.construct import construct, wrap_if
from ganbuilder.layers.equalized_lr import EQUALIZED_LR, check_equalized, maybe_equalize
from ganbuilder.layers.registry import (
    Shape,
    ShapeError,
    bool_param,
    format_shape,
    int_param,
    layer,
)

modules = LazyModule("ganbuilder.layers.modules")


def _linear_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    if not x:
        raise ShapeError("linear: expects a feature vector, got a scalar per sample")
    if p.get("in") is not None and p["in"] != x[-1]:
        raise ShapeError(f"linear: expects {p['in']} input features, got {x[-1]}")
    check_equalized("linear", p)
    return (*x[:-1], p["out"])


def _linear_params(p: dict, inputs: list[Shape]) -> int:
    # Spectral norm and equalized lr reparametrize the weight: same count, extra buffers only.
    return inputs[0][-1] * p["out"] + (p["out"] if p["bias"] else 0)


@layer(
    "linear",
    _linear_shape,
    {
        "out": int_param("output features", minimum=1),
        "in": int_param("input features; inferred when left out, checked when given", minimum=1),
        "bias": bool_param("learn an additive bias", True),
        "spectral_norm": bool_param("wrap in spectral normalization (Miyato et al. 2018)", False),
        **EQUALIZED_LR,
    },
    required=("out",),
    primary="out",
    param_count=_linear_params,
    output_overwritable=True,
    group="convolution",
    fit_params=lambda received: {"out": received[-1]} if received else {},
)
def linear(p: dict, inputs: list[Shape]):
    """Fully connected layer on the last dimension (nn.Linear)."""
    module = construct(nn.Linear, inputs[0][-1], p["out"], bias=p["bias"])
    return maybe_equalize(wrap_if(p["spectral_norm"], modules.spectral_norm, module), p)


def _label_shape(name: str):
    def rule(p: dict, inputs: list[Shape]) -> Shape:
        if inputs[0] != ():
            raise ShapeError(f"{name}: expects one integer label per sample, got "
                             f"{format_shape(inputs[0])}")
        return (p["dim"] if name == "embedding" else p["classes"],)

    return rule


@layer(
    "embedding",
    _label_shape("embedding"),
    {"classes": int_param("number of labels", minimum=1),
     "dim": int_param("embedding size", minimum=1)},
    required=("classes", "dim"),
    param_count=lambda p, inputs: p["classes"] * p["dim"],
    group="convolution",
    fit_params=lambda received: {"classes": 10, "dim": 16},
)
def embedding(p: dict, inputs: list[Shape]):
    """A learned vector per integer label (nn.Embedding)."""
    return construct(nn.Embedding, p["classes"], p["dim"])



@layer(
    "one_hot",
    _label_shape("one_hot"),
    {"classes": int_param("number of labels", minimum=1)},
    required=("classes",),
    primary="classes",
    group="shape",
    fit_params=lambda received: {"classes": 10},
)
def one_hot(p: dict, inputs: list[Shape]):
    """Integer label -> one-hot float vector (no parameters)."""
    return construct(modules.OneHot, p["classes"])


@layer("flatten", lambda p, inputs: (math.prod(inputs[0]),), group="shape")
def flatten(p: dict, inputs: list[Shape]):
    """Flatten everything but the batch dimension."""
    return construct(nn.Flatten)


def _reshape_shape(p: dict, inputs: list[Shape]) -> Shape:
    target = list(p["shape"])
    total = math.prod(inputs[0])
    if target.count(-1) > 1:
        raise ShapeError("reshape: at most one -1 in shape")
    if 0 in target:
        raise ShapeError(f"reshape: sizes are >= 1 (or one -1), got {target}")
    if -1 in target:
        known = math.prod(s for s in target if s != -1)
        if total % known:
            raise ShapeError(f"reshape: cannot reshape {format_shape(inputs[0])} to {target}")
        target[target.index(-1)] = total // known
    if math.prod(target) != total:
        raise ShapeError(f"reshape: cannot reshape {format_shape(inputs[0])} ({total} values) "
                         f"to {format_shape(tuple(target))} ({math.prod(target)} values)")
    return tuple(target)


@layer(
    "reshape",
    _reshape_shape,
    {"shape": {"type": "array", "items": {"type": "integer", "minimum": -1}, "minItems": 1,
               "description": "per-sample shape; one entry may be -1"}},
    required=("shape",),
    primary="shape",
    group="shape",
    fit_params=lambda received: {"shape": list(received)} if received else {},
)
def reshape(p: dict, inputs: list[Shape]):
    """Reshape each sample (nn.Unflatten after a flatten)."""
    unflatten = construct(nn.Unflatten, 1, _reshape_shape(p, inputs))
    if len(inputs[0]) == 1:
        return unflatten
    return construct(nn.Sequential, construct(nn.Flatten), unflatten)
