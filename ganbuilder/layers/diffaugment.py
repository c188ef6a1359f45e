"""DiffAugment (Zhao et al., "Differentiable Augmentation for Data-Efficient GAN Training",
NeurIPS 2020): colour, translation and cutout as differentiable tensor operations, following the
authors' PyTorch code (DiffAugment_pytorch.py). Each call draws its own transformation per
sample, so real and fake batches, judged in separate critic calls, get independent draws."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def _per_sample(x: torch.Tensor) -> torch.Tensor:
    return torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device)


def brightness(x: torch.Tensor) -> torch.Tensor:
    """Adds U(-0.5, 0.5) per sample."""
    return x + (_per_sample(x) - 0.5)


def saturation(x: torch.Tensor) -> torch.Tensor:
    """Scales each pixel's distance from its channel mean by U(0, 2) per sample."""
    mean = x.mean(dim=1, keepdim=True)
    return (x - mean) * (_per_sample(x) * 2) + mean


def contrast(x: torch.Tensor) -> torch.Tensor:
    """Scales each sample's distance from its mean by U(0.5, 1.5)."""
    mean = x.mean(dim=[1, 2, 3], keepdim=True)
    return (x - mean) * (_per_sample(x) + 0.5) + mean


def translation(x: torch.Tensor, ratio: float = 0.125) -> torch.Tensor:
    """Shifts each sample by up to `ratio` of its size in each direction, filling with zeros."""
    b, _, h, w = x.shape
    sx, sy = int(h * ratio + 0.5), int(w * ratio + 0.5)
    tx = torch.randint(-sx, sx + 1, size=[b, 1, 1], device=x.device)
    ty = torch.randint(-sy, sy + 1, size=[b, 1, 1], device=x.device)
    gb, gx, gy = torch.meshgrid(torch.arange(b, device=x.device), torch.arange(h, device=x.device),
                                torch.arange(w, device=x.device), indexing="ij")
    gx = torch.clamp(gx + tx + 1, 0, h + 1)
    gy = torch.clamp(gy + ty + 1, 0, w + 1)
    padded = F.pad(x, [1, 1, 1, 1, 0, 0, 0, 0])
    return padded.permute(0, 2, 3, 1).contiguous()[gb, gx, gy].permute(0, 3, 1, 2)


def cutout(x: torch.Tensor, ratio: float = 0.5) -> torch.Tensor:
    """Zeroes one square of `ratio` times the image size at a random place per sample."""
    b, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ox = torch.randint(0, h + (1 - ch % 2), size=[b, 1, 1], device=x.device)
    oy = torch.randint(0, w + (1 - cw % 2), size=[b, 1, 1], device=x.device)
    gb, gx, gy = torch.meshgrid(torch.arange(b, device=x.device), torch.arange(ch, device=x.device),
                                torch.arange(cw, device=x.device), indexing="ij")
    gx = torch.clamp(gx + ox - ch // 2, min=0, max=h - 1)
    gy = torch.clamp(gy + oy - cw // 2, min=0, max=w - 1)
    mask = torch.ones(b, h, w, dtype=x.dtype, device=x.device)
    mask[gb, gx, gy] = 0
    return x * mask.unsqueeze(1)


class DiffAugment(nn.Module):
    """Applies the policy's transformations in order while training; the identity in eval
    mode. The critic's first layer, so every image it sees is augmented, real and fake, in
    both objectives, and G's gradients flow back through the (differentiable) operations."""

    def __init__(self, policy: list[str], translation_ratio: float, cutout_ratio: float):
        super().__init__()
        self.policy = list(policy)
        self.translation_ratio = translation_ratio
        self.cutout_ratio = cutout_ratio

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        for name in self.policy:
            if name == "color":
                x = contrast(saturation(brightness(x)))
            elif name == "translation":
                x = translation(x, self.translation_ratio)
            else:
                x = cutout(x, self.cutout_ratio)
        return x

    def extra_repr(self) -> str:
        return f"policy={','.join(self.policy)}"
