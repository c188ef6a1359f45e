"""Tensor arithmetic on named tensors: scale by a constant, multiply, affine forms (the sum is
`add`, in merge.py). Shapes broadcast aligned at the channels: a (C,) tensor acts on each
channel of a (C, H, W) one, and a size of 1 stretches to any size."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import ForwardUse, Shape, ShapeError, format_shape, layer

arithmetic_modules = LazyModule("ganbuilder.layers.arithmetic_modules")


def broadcast(name: str, shapes: list[Shape]) -> Shape:
    """The common per-sample shape of tensors aligned at their first (channel) dimension,
    each padded with trailing 1s to the longest rank; sizes must agree or be 1."""
    rank = max(len(s) for s in shapes)
    out = []
    for d in range(rank):
        sizes = {s[d] if d < len(s) else 1 for s in shapes} - {1}
        if len(sizes) > 1:
            raise ShapeError(f"{name}: inputs must have the same shape or broadcast (sizes equal "
                             f"or 1, aligned at the channels), got "
                             f"{', '.join(format_shape(s) for s in shapes)}")
        out.append(sizes.pop() if sizes else 1)
    return tuple(out)


def same_as_first(name: str, shapes: list[Shape]) -> Shape:
    """The shape of a layer combining its input with earlier tensors that broadcast to it."""
    out = broadcast(name, shapes)
    if out != shapes[0]:
        raise ShapeError(f"{name}: the result {format_shape(out)} would differ from the layer's "
                         f"input {format_shape(shapes[0])}; broadcast the smaller tensors")
    return out


@layer(
    "scale",
    lambda p, inputs: inputs[0],
    {"by": {"type": "number", "description": "the constant to multiply by, e.g. ${2 ** -0.5}"}},
    required=("by",),
    primary="by",
    output_overwritable=True,
    group="merge",
    fit_params=lambda received: {"by": 1.0},
    forward=ForwardUse("scale(x, number)", 2, 2, numbers=(1,)),
)
def scale(p: dict, inputs: list[Shape]):
    """x * by, a constant (a residual sum scaled by 1/sqrt(2), ESRGAN's 0.2)."""
    return construct(arithmetic_modules.Scale, float(p["by"]))


_WITH = {
    "with": {
        "description": "id (or list of ids) of earlier layers or network inputs",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"},
                                       "minItems": 1}],
    }
}


@layer("mul", lambda p, inputs: same_as_first("mul", inputs), _WITH, required=("with",),
       primary="with", refs=("with",), group="merge", merge=True,
       forward=ForwardUse("mul(a, b, ...)", 2))
def mul(p: dict, inputs: list[Shape]):
    """Element-wise product with earlier tensors, broadcast at the channels (a (C,) gate on a
    (C, H, W) map)."""
    return construct(arithmetic_modules.Mul)


def _affine_shape(p: dict, inputs: list[Shape]) -> Shape:
    return same_as_first("affine", inputs)


@layer(
    "affine",
    _affine_shape,
    {"scale": {"type": "string", "description": "id of the tensor that multiplies the input"},
     "shift": {"type": "string", "description": "id of the tensor added after the product"},
     "offset": {"type": "number", "default": 0,
                "description": "added to scale before multiplying (SPADE, AdaIN: 1)"}},
    required=("scale", "shift"),
    refs=("scale", "shift"),
    group="merge",
    forward=ForwardUse("affine(x, scale, shift[, offset])", 3, 4, numbers=(3,)),
)
def affine(p: dict, inputs: list[Shape]):
    """x * (offset + scale) + shift with tensors named by id, broadcast at the channels
    (SPADE's x * (1 + gamma) + beta)."""
    return construct(arithmetic_modules.Affine, float(p["offset"]))
