"""Sample grids as uint8 RGB arrays: image tiles, or a scatter plot for 2D points."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ganbuilder.files import write_file

_PAD = 2
_MIN_CELL = 32  # small images (8x8 digits) are enlarged so a person can see them


def to_uint8(images: np.ndarray) -> np.ndarray:
    """[-1, 1] float images (N, C, H, W) -> uint8 (N, H, W, 3)."""
    x = np.clip((images + 1.0) * 127.5, 0, 255).round().astype(np.uint8)
    x = x.transpose(0, 2, 3, 1)
    if x.shape[-1] == 1:
        x = np.repeat(x, 3, axis=-1)
    return x[..., :3]


def image_grid(images: np.ndarray, nrow: int) -> np.ndarray:
    """Tile N images (N, C, H, W) in [-1, 1] into rows of `nrow`, enlarging tiny ones."""
    tiles = to_uint8(images)
    n, h, w, _ = tiles.shape
    scale = max(1, math.ceil(_MIN_CELL / max(h, w)))
    if scale > 1:
        tiles = tiles.repeat(scale, axis=1).repeat(scale, axis=2)
        h, w = h * scale, w * scale
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    out = np.full((rows * (h + _PAD) + _PAD, cols * (w + _PAD) + _PAD, 3), 255, np.uint8)
    for k in range(n):
        r, c = divmod(k, cols)
        y, x = _PAD + r * (h + _PAD), _PAD + c * (w + _PAD)
        out[y : y + h, x : x + w] = tiles[k]
    return out


def scatter(real: np.ndarray, fake: np.ndarray, size: int = 320) -> np.ndarray:
    """2D points: real in grey, generated in blue, on a white canvas framed by the real data."""
    out = np.full((size, size, 3), 255, np.uint8)
    lo = real.min(axis=0)
    hi = real.max(axis=0)
    span = (hi - lo).max() * 1.3 + 1e-6
    centre = (hi + lo) / 2

    def plot(points: np.ndarray, colour: tuple[int, int, int], radius: int) -> None:
        px = ((points - centre) / span + 0.5) * (size - 1)
        for x, y in px.round().astype(int):
            y = size - 1 - y
            if 0 <= x < size and 0 <= y < size:
                out[max(0, y - radius) : y + radius + 1, max(0, x - radius) : x + radius + 1] = (
                    colour)

    plot(real, (170, 170, 170), 2)
    plot(fake, (30, 90, 200), 1)
    return out


def save_png(image: np.ndarray, path: Path) -> None:
    """Write a uint8 image as a PNG, whole or not at all (see ganbuilder.files)."""
    from PIL import Image

    write_file(path, lambda f: Image.fromarray(image).save(f, format="PNG"))


def save_gif(images: list[np.ndarray], path: Path, frame_ms: int = 250) -> None:
    """An animated GIF of sample grids (uint8 H x W x 3), looping, the last frame held longer.

    Grids of different sizes are padded to the largest with white; every frame gets its own
    palette, so colour grids stay faithful."""
    from PIL import Image

    if not images:
        raise ValueError("an animation needs at least one image")
    h = max(im.shape[0] for im in images)
    w = max(im.shape[1] for im in images)
    frames = []
    for im in images:
        canvas = np.full((h, w, 3), 255, dtype=np.uint8)
        canvas[: im.shape[0], : im.shape[1]] = im
        frames.append(Image.fromarray(canvas).quantize(256, dither=Image.Dither.NONE))
    durations = [frame_ms] * (len(frames) - 1) + [frame_ms * 4]
    write_file(path, lambda f: frames[0].save(
        f, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
        optimize=False, disposal=1))


def load_png(path: Path) -> np.ndarray:
    """A saved grid back as uint8 H x W x 3."""
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im.convert("RGB"))
