"""Using a trained translation model (pix2pix, CycleGAN, DiscoGAN) on the user's images."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ganbuilder.errors import UserError
from ganbuilder.runs.grid import save_png, to_uint8
from ganbuilder.sampling import load_model
from ganbuilder.spec import Spec
from ganbuilder.spec.analysis import DIRECTIONS

_IMAGE_TYPES = {".png", ".jpg", ".jpeg", ".bmp", ".webp"}


def find_generator(spec: Spec, direction: str) -> str:
    """The network that maps real_A to B (AtoB) or real_B to A (BtoA), as the analysis says."""
    net = spec.analysis.generator(direction)
    if net is None:
        source = DIRECTIONS[direction][0]
        raise UserError(f"model '{spec.name}' has no generator for {direction} (no forward "
                        f"tensor computed as NET({source}) that a loss ties to the other domain)")
    return net


def _inputs(path: Path) -> list[Path]:
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in _IMAGE_TYPES)
        if not files:
            raise UserError(f"no images (png, jpg, bmp, webp) in {path}")
        return files
    if not path.is_file():
        raise UserError(f"input not found: {path}")
    return [path]


def _load(path: Path, channels: int, size: int) -> torch.Tensor:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img = img.convert("L" if channels == 1 else "RGB").resize(
                (size, size), Image.Resampling.BICUBIC)
            array = np.asarray(img, dtype=np.float32)
    except (OSError, UnidentifiedImageError) as exc:
        raise UserError(f"cannot read image {path}: {exc}") from None
    array = array[None] if array.ndim == 2 else array.transpose(2, 0, 1)
    return torch.from_numpy(array / 127.5 - 1.0)


@torch.no_grad()
def translate_checkpoint(checkpoint: str | Path, source: str | Path, out: str | Path,
                         direction: str = "AtoB", device: str = "cpu") -> list[Path]:
    """Translate an image or a folder of images; outputs keep the input file names (as PNG)."""
    spec, gan, _ = load_model(checkpoint, device)
    net_name = find_generator(spec, direction)
    net = gan.nets[net_name].eval()
    channels, size, _ = spec.analysis.networks[net_name].input_shapes[0]
    out = Path(out)
    written = []
    param = next(net.parameters())
    for path in _inputs(Path(source)):
        x = _load(path, channels, size).unsqueeze(0).to(param.device)
        image = to_uint8(net(x).float().cpu().numpy())[0]
        target = out / (path.stem + ".png")
        save_png(image, target)
        written.append(target)
    return written
