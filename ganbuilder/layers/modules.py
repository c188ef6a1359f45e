"""The few nn.Modules torch lacks that compiled networks are made of (imports torch)."""

from __future__ import annotations

import torch
from torch import nn


class OneHot(nn.Module):
    """Integer labels -> one-hot float vectors."""

    def __init__(self, classes: int):
        super().__init__()
        self.classes = classes

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        return nn.functional.one_hot(y, self.classes).float()

    def extra_repr(self) -> str:
        return f"classes={self.classes}"


class Concat(nn.Module):
    """Concatenates its inputs along the channel (first per-sample) dimension."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)


class Add(nn.Module):
    """Sums its inputs."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            out = out + x
        return out


class Residual(nn.Sequential):
    """x + body(x), the ResNet block."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + super().forward(x)


class Projection(nn.Module):
    """linear(h) + <embed(y), h> (Miyato & Koyama 2018, cGANs with projection discriminator)."""

    def __init__(self, features: int, classes: int, spectral_norm: bool):
        super().__init__()
        self.linear = nn.Linear(features, 1)
        self.embed = nn.Embedding(classes, features)
        if spectral_norm:
            self.linear = nn.utils.parametrizations.spectral_norm(self.linear)
            self.embed = nn.utils.parametrizations.spectral_norm(self.embed)

    def forward(self, h: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.linear(h) + (self.embed(y) * h).sum(dim=1, keepdim=True)
