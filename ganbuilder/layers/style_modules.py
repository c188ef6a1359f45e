"""The nn.Modules of StyleGAN (Karras et al. 2019) that torch lacks (imports torch)."""

from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn.utils import parametrize


class RuntimeScale(nn.Module):
    """A parametrization multiplying a tensor by a constant: equalized learning rate's
    runtime scaling of weights (He's constant) and biases (the learning-rate multiplier)."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale

    def forward(self, value: torch.Tensor) -> torch.Tensor:
        return value * self.scale

    def extra_repr(self) -> str:
        return f"scale={self.scale:.4g}"


def equalize(module: nn.Module, gain: float = math.sqrt(2.0), lr_mul: float = 1.0,
             bias_init: float = 0.0) -> nn.Module:
    """Equalized learning rate (Karras et al. 2018) on a linear or conv layer, in place.

    Stored weights are drawn from N(0, 1/lr_mul) and multiplied at run time by
    gain * lr_mul / sqrt(fan_in), so the effective weights start as He's initialisation while
    every stored weight gets the same effective learning rate under Adam. Biases start at
    bias_init (stored as bias_init / lr_mul) and are multiplied by lr_mul.
    """
    fan_in = module.weight[0].numel()
    with torch.no_grad():
        module.weight.normal_(0.0, 1.0 / lr_mul)
    parametrize.register_parametrization(module, "weight",
                                         RuntimeScale(gain * lr_mul / math.sqrt(fan_in)))
    if module.bias is not None:
        with torch.no_grad():
            module.bias.fill_(bias_init / lr_mul)
        if lr_mul != 1.0:
            parametrize.register_parametrization(module, "bias", RuntimeScale(lr_mul))
    return module


def is_equalized(module: nn.Module) -> bool:
    """Whether `equalize` was applied to the module."""
    return parametrize.is_parametrized(module, "weight") and any(
        isinstance(p, RuntimeScale) for p in module.parametrizations.weight)


class PixelNorm(nn.Module):
    """Scales each sample's feature vector (each pixel's, for images) to unit mean square."""

    def __init__(self, eps: float):
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + self.eps)


class Constant(nn.Module):
    """A learned tensor, the same for every sample; its input only sets the batch size."""

    def __init__(self, shape: tuple[int, ...], bias: bool = False):
        super().__init__()
        self.value = nn.Parameter(torch.randn(shape))
        # Redundant in function (the constant could absorb it), but NVlabs' StyleGAN learns
        # one, so its parameters and their updates match the reference.
        self.bias = nn.Parameter(torch.zeros(shape[0])) if bias else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        value = self.value
        if self.bias is not None:
            value = value + self.bias.view(-1, *[1] * (value.dim() - 1))
        return value.unsqueeze(0).expand(x.shape[0], *value.shape)


class NoiseInjection(nn.Module):
    """x + scale[c] * n, one N(0, 1) value n per pixel shared by all channels; scale starts 0
    (one scale for all channels when built with channels=1).

    `fixed`, when set to a (1 or N, 1, H, W) tensor, is used in place of fresh noise: the same
    noise for a projection or a comparison with another implementation."""

    def __init__(self, channels: int):
        super().__init__()
        self.scale = nn.Parameter(torch.zeros(channels))
        self.fixed: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.fixed is not None:
            noise = self.fixed
        else:
            noise = torch.randn(x.shape[0], 1, *x.shape[2:], device=x.device, dtype=x.dtype)
        return x + self.scale.view(1, -1, 1, 1) * noise


class AdaIN(nn.Module):
    """Adaptive instance normalization: instance_norm(x) * s + b, with (s, b) per sample and
    channel from an affine map of the style vector w (equalized, gain 1; s starts at 1)."""

    def __init__(self, channels: int, style: int, eps: float):
        super().__init__()
        self.eps = eps
        self.affine = equalize(nn.Linear(style, 2 * channels), gain=1.0)
        with torch.no_grad():
            self.affine.bias[:channels] = 1.0

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        scale, bias = self.affine(w).unsqueeze(-1).unsqueeze(-1).chunk(2, dim=1)
        return nn.functional.instance_norm(x, eps=self.eps) * scale + bias


class MinibatchStd(nn.Module):
    """Appends one channel: the standard deviation of each feature over a group of samples,
    averaged over features and pixels (Karras et al. 2018). A batch the group size does not
    divide is one group."""

    def __init__(self, group: int):
        super().__init__()
        self.group = group

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, h, w = x.shape
        group = self.group if n % self.group == 0 else n
        grouped = x.reshape(group, n // group, *x.shape[1:])
        std = (grouped.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))
        stat = std.view(1, -1, 1, 1, 1).expand(group, -1, 1, h, w).reshape(n, 1, h, w)
        return torch.cat([x, stat], dim=1)
