"""ganbuilder-example: one layer and one loss term, registered when ganbuilder imports this
module (its `ganbuilder.plugins` entry point names it).

Nothing here imports torch: `ganbuilder validate` and `summary` import this module and stay
quick. The layer's module lives in `modules.py`, which the builder imports when a network is
built; the term's compute uses only tensor methods.
"""

from __future__ import annotations

from ganbuilder.layers import construct, layer
from ganbuilder.layers.registry import Shape, ShapeError, format_shape
from ganbuilder.losses import loss_term
from ganbuilder.losses.params import TENSOR


def _add_coords_shape(p: dict, inputs: list[Shape]) -> Shape:
    """(C, H, W) -> (C + 2, H, W): two channels more, in plain Python (no torch)."""
    if len(inputs[0]) != 3:
        raise ShapeError(f"add_coords: expects a (C, H, W) input, got {format_shape(inputs[0])}")
    c, h, w = inputs[0]
    return (c + 2, h, w)


@layer("add_coords", _add_coords_shape, group="plugins: example")
def add_coords(p: dict, inputs: list[Shape]):
    """Appends each position's x and y in [-1, 1] as two channels (CoordConv, Liu et al.
    2018), so the convolution after it knows where it is."""
    from ganbuilder_example.modules import AddCoords  # torch, only when a network is built

    return construct(AddCoords)


def tv(x):
    """The mean absolute difference of vertically and horizontally neighbouring pixels."""
    return (x[..., 1:, :] - x[..., :-1, :]).abs().mean() + \
        (x[..., :, 1:] - x[..., :, :-1]).abs().mean()


@loss_term("total_variation", {"input": TENSOR}, required=("input",), tensors=("input",))
def total_variation(p: dict, ctx):
    """Total variation of an image tensor: smooth images (a generator-side regulariser)."""
    value = tv(ctx.tensor(p["input"]))
    return value, {}
