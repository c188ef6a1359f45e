"""The nn.Modules of SPADE (Park et al. 2019) and of VAE-style encoders that torch lacks
(imports torch)."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F


class SPADE(nn.Module):
    """Spatially-adaptive normalisation: a parameter-free norm of x, then a per-pixel scale
    1 + gamma and shift beta, both convolutions of a shared hidden map of the segmentation map
    (resized, nearest, to x's size). Submodule names follow NVlabs/SPADE, so its state dicts
    map one to one."""

    def __init__(self, channels: int, label_channels: int, hidden: int = 128, kernel: int = 3,
                 norm: str = "batch", eps: float = 1e-5, momentum: float = 0.1):
        super().__init__()
        if norm == "batch":
            self.param_free_norm = nn.BatchNorm2d(channels, eps=eps, momentum=momentum,
                                                  affine=False)
        else:
            self.param_free_norm = nn.InstanceNorm2d(channels, eps=eps, affine=False)
        pad = kernel // 2
        self.mlp_shared = nn.Sequential(nn.Conv2d(label_channels, hidden, kernel, padding=pad),
                                        nn.ReLU())
        self.mlp_gamma = nn.Conv2d(hidden, channels, kernel, padding=pad)
        self.mlp_beta = nn.Conv2d(hidden, channels, kernel, padding=pad)

    def forward(self, x: torch.Tensor, segmap: torch.Tensor) -> torch.Tensor:
        normalized = self.param_free_norm(x)
        segmap = F.interpolate(segmap, size=x.shape[2:], mode="nearest")
        hidden = self.mlp_shared(segmap)
        return normalized * (1 + self.mlp_gamma(hidden)) + self.mlp_beta(hidden)


class Reparameterize(nn.Module):
    """z = mu + eps * exp(logvar / 2), eps ~ N(0, 1) (Kingma & Welling 2014): a sample of the
    encoder's Gaussian that gradients flow through to mu and logvar. Drawn in eval mode too,
    as SPADE's encoder does at test time."""

    def forward(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        return mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
