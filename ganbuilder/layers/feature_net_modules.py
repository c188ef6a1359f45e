"""Modules of pretrained feature networks that torch lacks (imports torch)."""

from __future__ import annotations

import torch
from torch import nn


class ImageNormalize(nn.Module):
    """Images in [low, high] -> [0, 1] -> (x - mean) / std per channel, as an ImageNet-trained
    network expects its input; a one-channel image is first repeated to len(mean) channels.
    mean and std are fixed buffers, not part of the state dict."""

    def __init__(self, mean: list[float], std: list[float], low: float = -1.0,
                 high: float = 1.0):
        super().__init__()
        self.low, self.high = low, high
        self.register_buffer("mean", torch.tensor(mean).view(1, -1, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(std).view(1, -1, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] == 1 and self.mean.shape[1] != 1:
            x = x.expand(-1, self.mean.shape[1], -1, -1)
        x = (x - self.low) / (self.high - self.low)
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"range=[{self.low}, {self.high}]"
