"""Samples out, for external tools: `ganbuilder sample CKPT --out-dir DIR`.

Writes `n` generated images, drawn `batch` at a time with one seed, either as individual files
`000000.png`, `000001.png`, ... in DIR (the layout pytorch-fid, clean-fid and torch-fidelity
read a folder in: images directly in it; grey models give grey PNGs) or as one `samples.npz`
holding `images`, uint8 [N, H, W, C] (C = the model's channels). A conditional model is asked
for `label` only when one is given, else for the classes in turn (balanced); the labels are
written beside the images (`labels.csv`: file,label; or `labels` in the .npz).

DIR must be empty or absent; with `force`, an earlier export in it (its NNNNNN.png files,
samples.npz, labels.csv) is removed first, and nothing else in it is touched.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganbuilder.errors import UserError
from ganbuilder.spec import Spec

FORMATS = ("png", "npz")
_OURS = re.compile(r"^(\d{6,}\.png|samples\.npz|labels\.csv)$")


@dataclass(frozen=True)
class Exported:
    """What an export wrote: the folder, the tensor drawn, how many, and the label latent."""

    out_dir: Path
    tensor: str
    count: int
    label: str | None


def image_tensor(spec: Spec) -> str:
    """The first sampled tensor that is an image drawn from latents alone."""
    from ganbuilder.runs.samples import sample_groups

    a = spec.analysis
    for name in [n for group in sample_groups(spec) for n in group] + list(a.order):
        shape = tuple(a.tensor_shapes.get(name) or ())
        if name in a.forward and len(shape) == 3 and shape[0] in (1, 3) \
                and not a.needs_data([name]):
            return name
    raise UserError(f"model '{spec.name}' draws no image from latents alone (a translation "
                    "model needs inputs: use `ganbuilder translate`)")


def prepare_dir(out_dir: Path, force: bool) -> None:
    """Refuse a folder holding files unless `force`; then remove only an earlier export."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out-dir {out_dir} is a file: name a folder")
    if out_dir.is_dir():
        entries = list(out_dir.iterdir())
        if entries and not force:
            raise UserError(f"--out-dir {out_dir} is not empty ({len(entries)} entries): "
                            "choose an empty folder, or pass --force to replace an earlier "
                            "export there")
        for entry in entries:
            if entry.is_file() and _OURS.match(entry.name):
                entry.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def _labels(spec: Spec, n: int, label: int | None) -> tuple[str | None, torch.Tensor | None]:
    from ganbuilder.sampling import label_latent

    try:
        name, classes = label_latent(spec)
    except UserError:
        if label is not None:
            raise
        return None, None
    if label is not None and not 0 <= label < classes:
        raise UserError(f"--label must be in 0..{classes - 1}, got {label}")
    return name, (torch.full((n,), label) if label is not None else torch.arange(n) % classes)


def export_samples(checkpoint: str | Path, out_dir: str | Path, n: int, fmt: str = "png",
                   batch: int = 250, seed: int = 0, device: str = "cpu",
                   label: int | None = None, ema: bool = True, force: bool = False,
                   progress: Callable[[int, int], None] | None = None,
                   psi: float | None = None) -> Exported:
    """Write `n` samples of a checkpoint's generator to `out_dir` (see the module doc)."""
    from PIL import Image

    from ganbuilder.data.latent import sample_latent
    from ganbuilder.runs.samples import generate
    from ganbuilder.sampling import load_model

    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if n < 1 or batch < 1:
        raise UserError(f"--n and --batch must be at least 1, got {n} and {batch}")
    out_dir = Path(out_dir)
    spec, gan, _ = load_model(checkpoint, device, ema, psi)
    tensor = image_tensor(spec)
    label_name, labels = _labels(spec, n, label)
    prepare_dir(out_dir, force)
    dev = next(gan.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    channels, height, width = spec.analysis.tensor_shapes[tensor]
    stacked = np.empty((n, height, width, channels), np.uint8) if fmt == "npz" else None
    rows = []
    for start in range(0, n, batch):
        count = min(batch, n - start)
        inputs = sample_latent(spec.tree.get("latent") or {}, count, generator, dev)
        if labels is not None:
            inputs[label_name] = labels[start:start + count].to(dev)
        images = generate(gan, inputs, [tensor])[0].float().cpu()
        pixels = ((images.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        pixels = pixels.permute(0, 2, 3, 1).numpy()
        if stacked is not None:
            stacked[start:start + count] = pixels
        else:
            for i, image in enumerate(pixels, start):
                name = f"{i:06d}.png"
                Image.fromarray(image[..., 0] if channels == 1 else image).save(out_dir / name)
                if labels is not None:
                    rows.append(f"{name},{int(labels[i])}")
        if progress is not None:
            progress(start + count, n)
    if stacked is not None:
        arrays = {"images": stacked}
        if labels is not None:
            arrays["labels"] = labels.numpy()
        with (out_dir / "samples.npz").open("wb") as f:
            np.savez(f, **arrays)
    elif rows:
        (out_dir / "labels.csv").write_text("file,label\n" + "\n".join(rows) + "\n",
                                            encoding="utf-8")
    return Exported(out_dir, tensor, n, label_name)
