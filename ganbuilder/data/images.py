"""Tensor helpers shared by the image sources (torch is imported on first use)."""

from __future__ import annotations

from typing import Any

from ganbuilder._lazy import F


def to_signed_unit(x: Any, max_value: float) -> Any:
    """Scale values in [0, max_value] to float32 in [-1, 1]."""
    return x.float() * (2.0 / max_value) - 1.0


def resize(x: Any, size: int) -> Any:
    """Bilinear resize of a [B, C, H, W] float batch to size x size, kept in [-1, 1]."""
    if tuple(x.shape[-2:]) == (size, size):
        return x
    # Antialias only when shrinking, where plain bilinear sampling would alias.
    shrink = size < x.shape[-1] or size < x.shape[-2]
    out = F.interpolate(
        x, size=(size, size), mode="bilinear", align_corners=False, antialias=shrink
    )
    return out.clamp(-1.0, 1.0)


def set_channels(x: Any, channels: int) -> Any:
    """Replicate a single channel to `channels` (1 -> 3); others pass through."""
    if x.shape[1] == channels:
        return x
    return x.expand(-1, channels, -1, -1).contiguous()


def stroke_kernel(size: int) -> int:
    """Odd kernel side for the digit style operations: 3 at 32x32 (a 1-pixel reach), scaled."""
    return 2 * max(1, round(size / 32)) + 1


def dilate(x: Any, kernel: int) -> Any:
    """Grayscale dilation (max over a kernel x kernel window) of a [B, C, H, W] batch."""
    return F.max_pool2d(x, kernel, stride=1, padding=kernel // 2)


def erode(x: Any, kernel: int) -> Any:
    """Grayscale erosion (min over a kernel x kernel window) of a [B, C, H, W] batch."""
    return -F.max_pool2d(-x, kernel, stride=1, padding=kernel // 2)
