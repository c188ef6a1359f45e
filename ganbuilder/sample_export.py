"""Samples out, for external tools: `ganbuilder sample CKPT --out-dir DIR`.

Writes `n` generated images, drawn `batch` at a time with one seed, either as individual files
`000000.png`, `000001.png`, ... in DIR (the layout pytorch-fid, clean-fid and torch-fidelity
read a folder in: images directly in it; grey models give grey PNGs) or as one `samples.npz`
holding `images`, uint8 [N, H, W, C] (C = the model's channels). A conditional model is asked
for `label` only when one is given, else for the classes in turn (balanced); the labels are
written beside the images (`labels.csv`: file,label; or `labels` in the .npz).

A generator of 2D points (ring8, grid25) exports its samples as `points`, float32 [N, 2], in
one .npz.

DIR must be empty or absent; with `force`, an earlier export in it is replaced: the files it
wrote are listed in DIR/.ganbuilder-export.json (written before the first sample), and only
those are ever removed or replaced. A file of the same name that no export wrote is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from ganbuilder.errors import UserError
from ganbuilder.files import (
    MAX_TEXT_BYTES,
    ensure_folder,
    is_regular,
    os_error,
    read_bounded,
    remove_file,
    write_file,
)
from ganbuilder.spec import Spec

FORMATS = ("png", "npz")
MANIFEST = ".ganbuilder-export.json"
_OURS = re.compile(r"^(\d{6,}\.png|samples\.npz|labels\.csv)$")
MAX_FILES = 1_000_000  # one PNG each: more is no sample set for any metric
MAX_NPZ_BYTES = 2**31  # one .npz is built in memory


@dataclass(frozen=True)
class Exported:
    """What an export wrote: the folder, the tensor drawn, how many, and the label latent."""

    out_dir: Path
    tensor: str
    count: int
    label: str | None


def export_tensor(spec: Spec) -> tuple[str, bool]:
    """The first sampled tensor drawn from latents alone that is an image or a 2D point, and
    whether it is points."""
    from ganbuilder.runs.samples import sample_groups

    a = spec.analysis
    for name in [n for group in sample_groups(spec) for n in group] + list(a.order):
        shape = tuple(a.tensor_shapes.get(name) or ())
        if name not in a.forward or a.needs_data([name]):
            continue
        if len(shape) == 3 and shape[0] in (1, 3):
            return name, False
        if shape == (2,):
            return name, True
    raise UserError(f"model '{spec.name}' draws no image or 2D point from latents alone (a "
                    "translation model needs inputs: use `ganbuilder translate`)")


def image_tensor(spec: Spec) -> str:
    """The first sampled tensor that is an image drawn from latents alone."""
    name, points = export_tensor(spec)
    if points:
        raise UserError(f"model '{spec.name}' draws 2D points, not images")
    return name


@dataclass(frozen=True)
class Files:
    """The files an export writes into its folder: `000000.png` ... for `pngs` images, and
    `others` (samples.npz, labels.csv); what its manifest records."""

    pngs: int
    others: frozenset[str]

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str) or not _OURS.match(name):
            return False
        return name in self.others if not name[0].isdigit() else int(name[:-4]) < self.pngs

    def record(self) -> str:
        return json.dumps({"pngs": self.pngs, "files": sorted(self.others)}) + "\n"

    def union(self, other: Files) -> Files:
        return Files(max(self.pngs, other.pngs), self.others | other.others)


def planned_files(n: int, fmt: str, labelled: bool) -> Files:
    """The files an export of `n` samples writes."""
    if fmt == "npz":
        return Files(0, frozenset({"samples.npz"}))
    return Files(n, frozenset({"labels.csv"} if labelled else ()))


def _earlier_export(out_dir: Path) -> Files:
    """The files the manifest of an earlier export lists; none without a readable one."""
    none = Files(0, frozenset())
    manifest = out_dir / MANIFEST
    if not is_regular(manifest):
        return none
    try:
        record = json.loads(read_bounded(manifest, MAX_TEXT_BYTES, "manifest"))
        pngs, names = record["pngs"], record["files"]
    except (UserError, ValueError, TypeError, KeyError, UnicodeDecodeError):
        return none
    if not isinstance(pngs, int) or not isinstance(names, list):
        return none
    return Files(max(0, min(pngs, MAX_FILES)), frozenset(
        n for n in names if isinstance(n, str) and _OURS.match(n) and not n[0].isdigit()))


def prepare_dir(out_dir: Path, force: bool, planned: Files) -> None:
    """Refuse a folder holding files unless `force`; with it, refuse files of the names to be
    written that no earlier export wrote, then remove the earlier export's other files and
    record what this export writes."""
    if out_dir.exists() and not out_dir.is_dir():
        raise UserError(f"--out-dir {out_dir} is a file: name a folder")
    try:
        entries = [e.name for e in out_dir.iterdir() if e.name != MANIFEST] \
            if out_dir.is_dir() else []
    except OSError as exc:
        raise os_error(exc, "read the folder", out_dir) from None
    if entries and not force:
        raise UserError(f"--out-dir {out_dir} is not empty ({len(entries)} entries): "
                        "choose an empty folder, or pass --force to replace an earlier "
                        "export there")
    earlier = _earlier_export(out_dir)
    foreign = sorted(e for e in entries if e in planned and e not in earlier)
    if foreign:
        more = f" and {len(foreign) - 3} more" if len(foreign) > 3 else ""
        raise UserError(f"--out-dir {out_dir} holds {', '.join(foreign[:3])}{more}, which no "
                        "ganbuilder export wrote there (it is not in its manifest, "
                        f"{MANIFEST}): it is never replaced, even with --force; choose "
                        "another folder")
    ensure_folder(out_dir)
    # The new list first, the old one's files included, so that a crash at any point leaves
    # every file of ours listed (and a later --force free to replace it).
    write_file(out_dir / MANIFEST, planned.union(earlier).record())
    for name in sorted(e for e in entries if e in earlier and e not in planned):
        if is_regular(out_dir / name):
            remove_file(out_dir / name)
    write_file(out_dir / MANIFEST, planned.record())


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
    from ganbuilder.sampling import check_seed, load_model

    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if not 1 <= n <= MAX_FILES or batch < 1:
        raise UserError(f"--n must be in 1..{MAX_FILES} and --batch at least 1, got {n} and "
                        f"{batch}")
    check_seed(seed)
    out_dir = Path(out_dir)
    spec, gan, _ = load_model(checkpoint, device, ema, psi)
    tensor, points = export_tensor(spec)
    shape = spec.analysis.tensor_shapes[tensor]
    if points and fmt != "npz":
        raise UserError(f"model '{spec.name}' draws 2D points ('{tensor}'), not images: "
                        "export them with --format npz")
    size = n * int(np.prod(shape)) * (4 if points else 1)
    if fmt == "npz" and size > MAX_NPZ_BYTES:
        raise UserError(f"--n {n}: one .npz of {n} samples of {tuple(shape)} would take "
                        f"{size / 2**30:.1f} GiB of memory, over {MAX_NPZ_BYTES // 2**30} GiB: "
                        "export fewer, or PNG files (--format png)")
    label_name, labels = _labels(spec, n, label)
    prepare_dir(out_dir, force, planned_files(n, fmt, labels is not None))
    dev = next(gan.parameters()).device
    generator = torch.Generator().manual_seed(seed)
    stacked = (np.empty((n, *shape), np.float32) if points else
               np.empty((n, shape[1], shape[2], shape[0]), np.uint8) if fmt == "npz" else None)
    rows = []
    for start in range(0, n, batch):
        count = min(batch, n - start)
        inputs = sample_latent(spec.tree.get("latent") or {}, count, generator, dev)
        if labels is not None:
            inputs[label_name] = labels[start:start + count].to(dev)
        drawn = generate(gan, inputs, [tensor])[0].float().cpu()
        if points:
            assert stacked is not None
            stacked[start:start + count] = drawn.numpy()
            continue
        pixels = ((drawn.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        pixels = pixels.permute(0, 2, 3, 1).numpy()
        if stacked is not None:
            stacked[start:start + count] = pixels
        else:
            for i, image in enumerate(pixels, start):
                name = f"{i:06d}.png"
                grey = image[..., 0] if shape[0] == 1 else image
                write_file(out_dir / name,
                           lambda f, im=grey: Image.fromarray(im).save(f, format="PNG"))
                if labels is not None:
                    rows.append(f"{name},{int(labels[i])}")
        if progress is not None:
            progress(start + count, n)
    if stacked is not None:
        arrays = {"points" if points else "images": stacked}
        if labels is not None:
            arrays["labels"] = labels.numpy()
        write_file(out_dir / "samples.npz", lambda f: np.savez(f, **arrays))
        if points and progress is not None:
            progress(n, n)
    elif rows:
        write_file(out_dir / "labels.csv", "file,label\n" + "\n".join(rows) + "\n")
    return Exported(out_dir, tensor, n, label_name)
