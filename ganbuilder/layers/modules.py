"""The few nn.Modules torch lacks that compiled networks are made of (imports torch)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


def spectral_norm(module: nn.Module, enabled: bool = True) -> nn.Module:
    """`module` with spectral normalization of its weight (Miyato et al. 2018) when enabled."""
    return nn.utils.parametrizations.spectral_norm(module) if enabled else module


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
    """Sums its inputs, broadcast at the channels."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        out = xs[0]
        for x in xs[1:]:
            # A lower-rank tensor gains trailing singleton dimensions (a (C,) bias per channel).
            out = out + (x.reshape(*x.shape, *([1] * (out.dim() - x.dim())))
                         if x.dim() < out.dim() else x)
        return out


class Residual(nn.Sequential):
    """x + body(x), the ResNet block."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + super().forward(x)


class Projection(nn.Module):
    """linear(h) + <embed(y), h> (Miyato & Koyama 2018, cGANs with projection discriminator)."""

    def __init__(self, features: int, classes: int, enabled: bool):
        super().__init__()
        self.linear = spectral_norm(nn.Linear(features, 1), enabled)
        self.embed = spectral_norm(nn.Embedding(classes, features), enabled)

    def forward(self, h: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self.linear(h) + (self.embed(y) * h).sum(dim=1, keepdim=True)


class Chunk(nn.Module):
    """Part `index` of `chunks` equal parts along the first per-sample dimension."""

    def __init__(self, chunks: int, index: int):
        super().__init__()
        self.chunks, self.index = chunks, index

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        size = x.shape[1] // self.chunks
        return x.narrow(1, self.index * size, size)

    def extra_repr(self) -> str:
        return f"chunks={self.chunks}, index={self.index}"


class GlobalPool(nn.Module):
    """Sums or averages each channel over all positions: (N, C, H, W) -> (N, C)."""

    def __init__(self, mode: str):
        super().__init__()
        self.mode = mode

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.sum(dim=(2, 3)) if self.mode == "sum" else x.mean(dim=(2, 3))

    def extra_repr(self) -> str:
        return f"mode={self.mode}"


class ConditionalBatchNorm(nn.Module):
    """Batch norm whose scale and shift are linear in a conditioning vector (BigGAN's ccbn):
    BN(x) * (1 + gain(c)) + bias(c), the normalization itself without learned affine."""

    def __init__(self, channels: int, rank: int, cond: int, eps: float, momentum: float,
                 enabled: bool):
        super().__init__()
        norm = nn.BatchNorm2d if rank == 3 else nn.BatchNorm1d
        self.norm = norm(channels, eps=eps, momentum=momentum, affine=False)
        self.gain = spectral_norm(nn.Linear(cond, channels, bias=False), enabled)
        self.bias = spectral_norm(nn.Linear(cond, channels, bias=False), enabled)

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        shape = (x.shape[0], x.shape[1]) + (1,) * (x.dim() - 2)
        return self.norm(x) * (1 + self.gain(c).view(shape)) + self.bias(c).view(shape)


class SelfAttention(nn.Module):
    """Non-local self-attention (SAGAN, Zhang et al. 2019; BigGAN): every position attends
    to all others; x + gamma * out, with gamma learned from 0 so the block starts as identity."""

    def __init__(self, channels: int, reduction: int, enabled: bool, pool: int = 1):
        super().__init__()
        self.pool = pool

        def conv(cin: int, cout: int) -> nn.Module:
            return spectral_norm(nn.Conv2d(cin, cout, 1, bias=False), enabled)

        self.query = conv(channels, channels // reduction)
        self.key = conv(channels, channels // reduction)
        self.value = conv(channels, channels // 2)
        self.out = conv(channels // 2, channels)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        q, k, v = self.query(x), self.key(x), self.value(x)
        if self.pool > 1:  # fewer keys: each attends to pooled neighbourhoods (BigGAN)
            k, v = F.max_pool2d(k, self.pool), F.max_pool2d(v, self.pool)
        q, k, v = q.flatten(2), k.flatten(2), v.flatten(2)
        attn = torch.softmax(q.transpose(1, 2) @ k, dim=-1)  # (N, HW queries, HW keys)
        o = (v @ attn.transpose(1, 2)).view(n, -1, h, w)
        return x + self.gamma * self.out(o)
