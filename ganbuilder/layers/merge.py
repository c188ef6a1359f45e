"""Layers that merge the current tensor with earlier ones named by `id` (skips, conditioning)."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule
from ganbuilder.layers.arithmetic import same_as_first
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import ForwardUse, Shape, ShapeError, format_shape, layer

modules = LazyModule("ganbuilder.layers.modules")

_WITH = {
    "with": {
        "description": "id (or list of ids) of earlier layers or network inputs",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"},
                                       "minItems": 1}],
    }
}


def _describe(shapes: list[Shape]) -> str:
    return ", ".join(format_shape(s) for s in shapes)


def _concat_shape(p: dict, inputs: list[Shape]) -> Shape:
    first = inputs[0]
    if not first:
        raise ShapeError("concat: cannot concatenate one scalar per sample; use one_hot first")
    for other in inputs[1:]:
        if len(other) != len(first) or other[1:] != first[1:]:
            raise ShapeError(f"concat: inputs differ beyond the channel dimension: "
                             f"{_describe(inputs)}")
    return (sum(s[0] for s in inputs), *first[1:])


@layer("concat", _concat_shape, _WITH, required=("with",), primary="with", refs=("with",),
       output_overwritable=True, group="merge", merge=True,
       forward=ForwardUse("concat(a, b, ...)", 2))
def concat(p: dict, inputs: list[Shape]):
    """Concatenate along channels with earlier tensors (U-Net skips, label maps)."""
    return construct(modules.Concat)


def _add_shape(p: dict, inputs: list[Shape]) -> Shape:
    return same_as_first("add", inputs)


@layer("add", _add_shape, _WITH, required=("with",), primary="with", refs=("with",),
       output_overwritable=True, group="merge", merge=True,
       forward=ForwardUse("add(a, b, ...)", 2))
def add(p: dict, inputs: list[Shape]):
    """Element-wise sum with earlier tensors, broadcast at the channels (a (C,) bias on a
    (C, H, W) map)."""
    return construct(modules.Add)
