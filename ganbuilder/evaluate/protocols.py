"""Inception protocols: how images become Inception inputs, and which files of a folder count.

A score is comparable with a published one only when it was measured the same way. Each
protocol is named as its project names it and reproduces that project's choices:

- `clean` (clean-fid's "clean" mode, Parmar et al. 2022): every image quantised to uint8 (as
  a saved PNG would be), resized by PIL's bicubic filter on each channel in float ("F" mode,
  antialiased when shrinking), clipped to [0, 255], then mapped to [-1, 1] as the TF graph
  does, (x - 128) / 128. Folders are listed recursively (hidden entries skipped) with
  clean-fid's extensions: bmp, jpg, jpeg, pgm, png, ppm, tif, tiff, webp in lower case, and
  JPEG, JPG, PNG in upper case.
- `pytorch-fid` (mseitzer/pytorch-fid, the FID most papers report): the uint8 image scaled
  to [0, 1] by u / 255 in float32, resized by bilinear interpolation on floats
  (`F.interpolate(..., mode="bilinear", align_corners=False)`, no antialiasing), then
  2 x - 1. Folders are listed at their top level only, with the lower-case extensions bmp, jpg,
  jpeg, pgm, png, ppm, tif, tiff, webp (a name ending `.PNG` is not read).

Both score every image of a folder unless `--n-real` caps the count; grey and RGBA images
are converted to RGB first, as both projects do.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganbuilder.registry import Registry

CLEAN_FID_EXTENSIONS = ("bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff", "webp",
                        "JPEG", "JPG", "PNG")
PYTORCH_FID_EXTENSIONS = ("bmp", "jpg", "jpeg", "pgm", "png", "ppm", "tif", "tiff", "webp")


@dataclass(frozen=True)
class Protocol:
    """`inputs(images, size)` maps uint8 H x W x 3 images (any sizes) to the network's
    [N, 3, size, size] float32 inputs in [-1, 1]; `list_images(folder)` the files a folder
    contributes, sorted. `preprocess` and `listing` say both in words for the report;
    `compares_with` names the numbers a score under this protocol is comparable with."""

    name: str
    inputs: Callable[[list[np.ndarray], int], torch.Tensor]
    list_images: Callable[[Path], list[Path]]
    preprocess: str
    listing: str
    compares_with: str


PROTOCOLS: Registry[Protocol] = Registry("Inception protocol")
DEFAULT = "clean"


def clean_resize(image: np.ndarray, size: int) -> np.ndarray:
    """uint8 H x W x 3 -> float32 3 x size x size in [0, 255] (PIL bicubic, per channel)."""
    from PIL import Image

    channels = [np.asarray(Image.fromarray(image[..., c].astype(np.float32), mode="F")
                           .resize((size, size), resample=Image.Resampling.BICUBIC))
                for c in range(3)]
    return np.clip(np.stack(channels), 0.0, 255.0).astype(np.float32)


def clean_inputs(images: list[np.ndarray], size: int) -> torch.Tensor:
    """clean-fid's inputs: PIL bicubic in float, then (x - 128) / 128."""
    x = torch.from_numpy(np.stack([clean_resize(im, size) for im in images]))
    return (x - 128.0) / 128.0


def unit_scale(image: np.ndarray) -> torch.Tensor:
    """uint8 H x W x 3 -> float32 3 x H x W in [0, 1], u / 255 as torchvision's ToTensor."""
    return torch.from_numpy(np.array(image, np.uint8)).permute(2, 0, 1).float().div(255)


def bilinear_resize(x: torch.Tensor, size: int) -> torch.Tensor:
    """[N, 3, H, W] floats -> [N, 3, size, size]: bilinear, align_corners=False, no antialias."""
    return torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear",
                                           align_corners=False)


def pytorch_fid_inputs(images: list[np.ndarray], size: int) -> torch.Tensor:
    """pytorch-fid's inputs: u / 255, bilinear on floats, then 2 x - 1 (per image, so that
    images of different sizes can share a batch)."""
    return torch.cat([2 * bilinear_resize(unit_scale(im)[None], size) - 1 for im in images])


def _hidden(name: str) -> bool:
    return name.startswith(".")


def clean_fid_files(folder: Path) -> list[Path]:
    """Files under `folder`, recursively, whose names end in one of clean-fid's extensions
    (case as listed); hidden files and folders are skipped, as glob skips them."""
    found = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if not _hidden(d)]
        found += [os.path.join(dirpath, f) for f in filenames
                  if not _hidden(f) and f.rsplit(".", 1)[-1] in CLEAN_FID_EXTENSIONS
                  and "." in f]
    return [Path(p) for p in sorted(found)]


def pytorch_fid_files(folder: Path) -> list[Path]:
    """Files at the top level of `folder` whose names end in `.<ext>` for a lower-case
    pytorch-fid extension (hidden files included, as pathlib's glob includes them)."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and "." in p.name
                  and p.name.rsplit(".", 1)[-1] in PYTORCH_FID_EXTENSIONS)


PROTOCOLS.add("clean", Protocol(
    name="clean", inputs=clean_inputs, list_images=clean_fid_files,
    preprocess="uint8, PIL bicubic resize per channel in float to {size}x{size}, clipped to "
               "[0, 255], (x - 128) / 128 (clean-fid's clean mode)",
    listing="recursive; bmp jpg jpeg pgm png ppm tif tiff webp JPEG JPG PNG (clean-fid's)",
    compares_with="clean-fid's compute_fid(mode='clean') and its published tables"))
PROTOCOLS.add("pytorch-fid", Protocol(
    name="pytorch-fid", inputs=pytorch_fid_inputs, list_images=pytorch_fid_files,
    preprocess="uint8, u / 255, bilinear F.interpolate on floats to {size}x{size} "
               "(align_corners=False), 2 x - 1 (pytorch-fid's)",
    listing="top level only; bmp jpg jpeg pgm png ppm tif tiff webp, lower case "
            "(pytorch-fid's)",
    compares_with="pytorch-fid's calculate_fid_given_paths (python -m pytorch_fid) and the "
                  "FIDs most papers report"))


def protocol(name: str | None) -> Protocol:
    """The protocol called `name` (None: the default, clean); an unknown name is a
    UserError listing the known ones."""
    from ganbuilder.errors import UserError

    try:
        return PROTOCOLS.get(name or DEFAULT)
    except KeyError as exc:
        raise UserError(f"--protocol: {exc.args[0]}; known: {', '.join(PROTOCOLS.names())}"
                        ) from None
