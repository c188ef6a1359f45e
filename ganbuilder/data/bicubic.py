"""PIL's bicubic resampling, the one definition of "bicubic" for super-resolution: how low-
resolution inputs are made from high-resolution images (the `superres` and `digits_sr`
sources) and the baseline `evaluate` reports beside a model (the LR input upsampled)."""

from __future__ import annotations

from typing import Any

from ganbuilder._lazy import torch


def downscale(im: Any, factor: int) -> Any:
    """A PIL image shrunk by an integer `factor` with PIL's bicubic filter (antialiased), the
    way SR data sets make their LR images; its size must divide by the factor."""
    from PIL import Image

    width, height = im.size
    return im.resize((width // factor, height // factor), Image.Resampling.BICUBIC)


def resize_batch(x: Any, size: tuple[int, int]) -> Any:
    """[N, C, H, W] float images in [-1, 1] resized to (height, width) with PIL's bicubic
    filter, channel by channel in float (mode F, no rounding), clamped to [-1, 1]."""
    import numpy as np
    from PIL import Image

    height, width = size
    array = x.detach().cpu().float().numpy()
    out = np.empty((*array.shape[:2], height, width), dtype=np.float32)
    for i in range(array.shape[0]):
        for c in range(array.shape[1]):
            im = Image.fromarray(np.ascontiguousarray(array[i, c]))  # float32: mode F
            out[i, c] = np.asarray(im.resize((width, height), Image.Resampling.BICUBIC))
    return torch.from_numpy(out).clamp(-1.0, 1.0)
