"""The `superres` source: high-resolution (HR) patches from a folder of images, and their
low-resolution (LR) versions, for super-resolution (SRGAN, ESRGAN).

HR images are every image under `root`, in any layout the `folder` source reads (class
subfolders are just folders here). A training item is a random `image_size` crop at the
image's own resolution (nothing is resized: that would remove the detail SR learns), flipped
left-right with `flip`; fixed batches take the center crop. LR is made from the HR crop with
PIL's bicubic filter at `factor`, or read from `lr_root`, a folder of the same layout whose
files match the HR files by relative path and stem (any image extension), each `factor` times
smaller (an HR image may be larger by less than `factor` pixels, which are cropped off, as SR
benchmarks' modcrop does). A fixed share of the files (`held_out`, chosen by a hash of each
file's relative path, so adding files never moves the others) is the test split.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ganbuilder._lazy import torch
from ganbuilder.data import keys
from ganbuilder.data.bicubic import downscale
from ganbuilder.data.folder import IMAGE_EXTENSIONS, find_root, list_images
from ganbuilder.data.imagefiles import BAD_IMAGES, BadImages, describe_sizes, read_image
from ganbuilder.data.registry import SOURCES, SourceDef, resolve_path
from ganbuilder.data.source import Batch, DataSource
from ganbuilder.errors import DataError

FACTOR: dict = {
    "type": "integer",
    "minimum": 2,
    "maximum": 16,
    "default": 4,
    "description": "Upscale factor: LR images are this many times smaller than HR per side "
    "(SRGAN, ESRGAN: 4). image_size must divide by it.",
}

SPLIT: dict = {
    "type": "string",
    "enum": ["train", "test", "all"],
    "default": "train",
    "description": "Which files: 'train', 'test' (the held_out share, never trained on; "
    "evaluate scores it) or 'all'.",
}

SCHEMA: dict = {
    "root": {**keys.ROOT, "description": "Folder of high-resolution images (any layout; "
             "subfolders are searched); a relative path starts at the spec file's folder."},
    "lr_root": {
        "type": ["string", "null"],
        "minLength": 1,
        "default": None,
        "description": "Folder of matching low-resolution images (same relative paths and "
        "stems as under root, factor times smaller); if null, LR is made from HR with PIL's "
        "bicubic filter.",
    },
    "factor": FACTOR,
    "image_size": {**keys.image_size(96), "description": "Side of the square HR patches a "
                   "batch carries (SRGAN: 96, ESRGAN: 128); LR patches are image_size / factor."},
    "channels": keys.channels(3),
    "flip": {"type": "boolean", "default": True,
             "description": "Randomly flip training patches left-right (HR and LR together)."},
    "split": SPLIT,
    "held_out": {
        "type": "number",
        "minimum": 0,
        "exclusiveMaximum": 1,
        "default": 0.1,
        "description": "Share of the files kept out of training as the test split (picked by "
        "a hash of each relative path).",
    },
    "bad_images": BAD_IMAGES,
}


def check_factor(cfg: dict) -> None:
    """The HR side must be a multiple of the factor, so that LR has whole pixels."""
    if cfg["image_size"] % cfg["factor"]:
        raise DataError(f"image_size {cfg['image_size']} must divide by factor {cfg['factor']}",
                        path="data.image_size")


def sr_shapes(cfg: dict) -> dict[str, list[int]]:
    """`lr` and `hr` per-sample shapes of a super-resolution source."""
    check_factor(cfg)
    size, channels = cfg["image_size"], cfg["channels"]
    low = size // cfg["factor"]
    return {"lr": [channels, low, low], "hr": [channels, size, size]}


def in_test_split(relative: str, share: float) -> bool:
    """Whether the file at `relative` (a posix path under root) belongs to the test split."""
    digest = hashlib.sha256(relative.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def _split(files: list[Path], root: Path, cfg: dict) -> list[Path]:
    if cfg["split"] == "all":
        return files
    test = cfg["split"] == "test"
    return [f for f in files
            if in_test_split(f.relative_to(root).as_posix(), cfg["held_out"]) == test]


def _match_lr(files: list[Path], root: Path, lr_root: Path) -> list[Path]:
    """The LR file for each HR file: the same relative folder and stem, any image extension."""
    by_key: dict[str, Path] = {}
    for path in list_images(lr_root):
        by_key.setdefault(path.relative_to(lr_root).with_suffix("").as_posix(), path)
    out, missing = [], []
    for path in files:
        key = path.relative_to(root).with_suffix("").as_posix()
        if key in by_key:
            out.append(by_key[key])
        else:
            missing.append(key)
    if missing:
        shown = ", ".join(missing[:3]) + (", ..." if len(missing) > 3 else "")
        raise DataError(f"{len(missing)} HR image(s) have no LR image of the same name under "
                        f"{lr_root} ({shown})", path="data.lr_root")
    return out


def open_superres(cfg: dict, base_dir: Path) -> DataSource:
    """The HR files of the split (and their LR partners) as a SuperResSource."""
    check_factor(cfg)
    root = find_root(cfg, base_dir)
    files = _split(list_images(root), root, cfg)
    if not files:
        kinds = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
        raise DataError(f"no images ({kinds}) of split '{cfg['split']}' found under {root}",
                        path="data.root")
    lr_files = None
    if cfg["lr_root"] is not None:
        lr_root = resolve_path(cfg["lr_root"], base_dir)
        if not lr_root.is_dir():
            raise DataError(f"LR folder not found: {lr_root}", path="data.lr_root")
        lr_files = _match_lr(files, root, lr_root)
    return SuperResSource(files, lr_files, root, cfg)


class SuperResSource(DataSource):
    """HR files (and matching LR files) decoded on demand into (lr, hr) patch pairs."""

    decodes = True  # made per item, in data.workers processes

    def __init__(self, files: list[Path], lr_files: list[Path] | None, root: Path, cfg: dict):
        self.files, self.lr_files, self.root = files, lr_files, root
        self.size, self.factor = cfg["image_size"], cfg["factor"]
        self.mode = "L" if cfg["channels"] == 1 else "RGB"
        self.flip = cfg["flip"]
        self.bad = BadImages(cfg["bad_images"], files)

    def __len__(self) -> int:
        return len(self.files)

    def describe(self) -> str:
        """Where the images are, how many, their sizes, and where LR comes from."""
        lr = "LR from matching files" if self.lr_files else f"LR by bicubic / {self.factor}"
        return f"{self.root}: {len(self.files)} HR images, {describe_sizes(self.files)}, {lr}"

    def batch(self, indices: Any, generator: Any | None) -> Batch:
        items = [self.bad.read(int(i), lambda j: self._pair(j, generator)) for i in indices]
        return {"lr": torch.stack([lr for _, (lr, _) in items]),
                "hr": torch.stack([hr for _, (_, hr) in items])}

    def _pair(self, index: int, generator: Any | None) -> tuple[Any, Any]:
        hr = read_image(self.files[index]).convert(self.mode)
        f, low = self.factor, self.size // self.factor
        if self.lr_files is None:
            width, height = hr.size
            self._fits(index, width, height, self.size)
            top, left = self._corner(height - self.size, width - self.size, generator)
            hr = hr.crop((left, top, left + self.size, top + self.size))
            lr = downscale(hr, f)
        else:
            lr = read_image(self.lr_files[index], key="data.lr_root").convert(self.mode)
            width, height = lr.size
            if hr.size[0] < width * f or hr.size[1] < height * f:
                raise DataError(f"{self.files[index]} is {hr.size[0]}x{hr.size[1]}, smaller than "
                                f"factor {f} x its LR image {self.lr_files[index]} "
                                f"({width}x{height})", path="data.lr_root")
            self._fits(index, width * f, height * f, self.size)
            top, left = self._corner(height - low, width - low, generator)
            lr = lr.crop((left, top, left + low, top + low))
            hr = hr.crop((left * f, top * f, (left + low) * f, (top + low) * f))
        flip = (generator is not None and self.flip
                and torch.rand(1, generator=generator).item() < 0.5)
        return _tensor(lr, flip), _tensor(hr, flip)

    def _fits(self, index: int, width: int, height: int, size: int) -> None:
        if width < size or height < size:
            raise DataError(f"{self.files[index]} ({width}x{height}) is smaller than the "
                            f"{size}x{size} HR patches of data.image_size", path="data.image_size")

    @staticmethod
    def _corner(spare_h: int, spare_w: int, generator: Any | None) -> tuple[int, int]:
        """A random crop's top-left corner while training, the center one for fixed batches."""
        if generator is None:
            return spare_h // 2, spare_w // 2
        top = int(torch.randint(spare_h + 1, (1,), generator=generator))
        left = int(torch.randint(spare_w + 1, (1,), generator=generator))
        return top, left


def _tensor(im: Any, flip: bool) -> Any:
    """An 8-bit PIL image as a [C, H, W] float tensor in [-1, 1]."""
    import numpy as np

    array = np.asarray(im, dtype=np.uint8)
    x = torch.from_numpy(array.copy()).reshape(im.size[1], im.size[0], -1).permute(2, 0, 1)
    x = x.float() * (2.0 / 255.0) - 1.0
    return x.flip(-1) if flip else x


SOURCES.add(
    "superres",
    SourceDef(
        SCHEMA,
        ("root",),
        sr_shapes,
        open_superres,
        "Super-resolution pairs: HR patches from a folder of images, LR by PIL's bicubic "
        "filter or from a matching LR folder.",
        path_keys=("root", "lr_root"),
        images=True,
        held_out={"split": "test"},
    ),
)
