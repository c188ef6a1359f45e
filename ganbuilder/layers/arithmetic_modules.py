"""The nn.Modules of the arithmetic layers (imports torch)."""

from __future__ import annotations

import torch
from torch import nn

from ganbuilder.layers.modules import Add


def aligned(x: torch.Tensor, rank: int) -> torch.Tensor:
    """`x` with trailing singleton dimensions up to `rank`, so it broadcasts at the channels."""
    return x.reshape(*x.shape, *([1] * (rank - x.dim()))) if x.dim() < rank else x


class Scale(nn.Module):
    """Multiplies by a constant."""

    def __init__(self, by: float):
        super().__init__()
        self.by = by

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.by

    def extra_repr(self) -> str:
        return f"by={self.by!r}"


class Mul(nn.Module):
    """The element-wise product of its inputs, broadcast at the channels."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out * aligned(x, out.dim())
        return out


class Affine(nn.Module):
    """x * (offset + scale) + shift, broadcast at the channels."""

    def __init__(self, offset: float):
        super().__init__()
        self.offset = offset

    def extra_repr(self) -> str:
        return f"offset={self.offset!r}"

    def forward(self, x: torch.Tensor, scale: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
        scale, shift = aligned(scale, x.dim()), aligned(shift, x.dim())
        return x * (scale + self.offset) + shift


def apply_builtin(fn: str, args: list) -> torch.Tensor:
    """A forward expression's built-in (concat, add, mul, scale, affine) on its arguments, with
    the arithmetic layers' broadcasting."""
    if fn == "concat":
        return torch.cat(args, dim=1)
    if fn == "scale":
        return args[0] * args[1]
    if fn == "affine":
        return Affine(args[3] if len(args) > 3 else 0.0)(*args[:3])
    return (Mul() if fn == "mul" else Add())(*args)
