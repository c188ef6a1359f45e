"""The torch side of ganbuilder-example: imported by the layer's builder, never at
registration."""

from __future__ import annotations

import torch
from torch import nn


class AddCoords(nn.Module):
    """x with two more channels: each position's column and row, scaled to [-1, 1]."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        ys = torch.linspace(-1.0, 1.0, h, device=x.device, dtype=x.dtype)
        xs = torch.linspace(-1.0, 1.0, w, device=x.device, dtype=x.dtype)
        grid_y, grid_x = torch.meshgrid(ys, xs, indexing="ij")
        coords = torch.stack([grid_x, grid_y]).expand(n, 2, h, w)
        return torch.cat([x, coords], dim=1)
