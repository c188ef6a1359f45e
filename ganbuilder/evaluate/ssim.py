"""SSIM (Wang et al. 2004) of image pairs, as the paper's reference code computes it (and
scikit-image with gaussian_weights=True, use_sample_covariance=False): images mapped from
[-1, 1] to [0, 1], an 11x11 Gaussian window (sigma 1.5) over the valid region,
C1 = (0.01 L)^2 and C2 = (0.03 L)^2 with L = 1, the SSIM map averaged over pixels and
channels per image, then over images. Images smaller than the window use a window of their
own size (odd, at least 3)."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

WINDOW = 11
SIGMA = 1.5
C1, C2 = 0.01 ** 2, 0.03 ** 2


def _window(size: int, channels: int) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-x ** 2 / (2 * SIGMA ** 2))
    g = g / g.sum()
    return (g[:, None] * g[None, :]).expand(channels, 1, size, size).contiguous()


def _tensor(images: Any) -> torch.Tensor:
    x = images if torch.is_tensor(images) else torch.as_tensor(np.asarray(images))
    return x.detach().cpu().double()


def ssim_per_image(a: Any, b: Any) -> torch.Tensor:
    """SSIM of each pair of [N, C, H, W] images in [-1, 1]."""
    x, y = (_tensor(a) + 1) / 2, (_tensor(b) + 1) / 2
    if x.shape != y.shape or x.ndim != 4:
        raise ValueError(f"SSIM needs two [N, C, H, W] batches of one shape, got "
                         f"{tuple(x.shape)} and {tuple(y.shape)}")
    size = min(WINDOW, *x.shape[-2:])
    size = max(3, size if size % 2 else size - 1)
    w = _window(size, x.shape[1])

    def blur(t: torch.Tensor) -> torch.Tensor:
        return F.conv2d(t, w, groups=x.shape[1])

    mx, my = blur(x), blur(y)
    vx, vy, cxy = blur(x * x) - mx ** 2, blur(y * y) - my ** 2, blur(x * y) - mx * my
    ssim_map = ((2 * mx * my + C1) * (2 * cxy + C2)) / ((mx ** 2 + my ** 2 + C1) * (vx + vy + C2))
    return ssim_map.mean(dim=(1, 2, 3))


def ssim(a: Any, b: Any) -> float:
    """Mean SSIM over the pairs."""
    return float(ssim_per_image(a, b).mean())
