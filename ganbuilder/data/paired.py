"""The `paired` source (pix2pix): aligned A/B image pairs read from files.

Two layouts, looked for in root/<phase>/ when that folder exists, else in root itself:

- aligned: each image holds A and B side by side (A left, B right), as in
  pytorch-CycleGAN-and-pix2pix's data sets (facades/train/1.jpg, ...); it is split down the middle.
- two folders: A/ and B/ holding files with matching names (the extension may differ), e.g.
  A/x.png pairs with B/x.jpg. A/<phase>/ and B/<phase>/ are used when both exist.

Both images of a pair are resized to load_size and get the same crop and the same flip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganbuilder._lazy import torch
from ganbuilder.data.folder import IMAGE_EXTENSIONS, check_sizes, find_root, list_images
from ganbuilder.data.imagefiles import BadImages, describe_sizes, read_image, to_tensor
from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import Batch, DataSource
from ganbuilder.data.twodomain import crop_flip, file_schema, file_shapes, side_modes
from ganbuilder.errors import DataError

SCHEMA: dict = file_schema(
    "It holds aligned A|B images (each twice as wide as high), or folders A/ and B/ with "
    "matching file names; root/<phase>/ is used when it exists."
)

KINDS = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)


def by_stem(folder: Path) -> dict[str, Path]:
    """The images under `folder` keyed by their relative path without extension."""
    found: dict[str, Path] = {}
    for path in list_images(folder):
        stem = path.relative_to(folder).with_suffix("").as_posix()
        if stem in found:
            raise DataError(
                f"{found[stem]} and {path} have the same name; in the A/ B/ layout each name "
                "must appear once per folder",
                path="data.root",
            )
        found[stem] = path
    return found


def match_files(dir_A: Path, dir_B: Path) -> list[tuple[Path, Path | None]]:
    """(A file, B file) pairs matched by name; a name on one side only is an error."""
    files_A, files_B = by_stem(dir_A), by_stem(dir_B)
    if not files_A and not files_B:
        raise DataError(f"no images ({KINDS}) found in {dir_A} or {dir_B}", path="data.root")
    for mine, other, other_dir in ((files_A, files_B, dir_B), (files_B, files_A, dir_A)):
        for stem in sorted(mine):
            if stem not in other:
                raise DataError(
                    f"{mine[stem]} has no partner in {other_dir} (expected a file named "
                    f"{stem}.<ext> there); A/ and B/ must hold the same file names",
                    path="data.root",
                )
    return [(files_A[stem], files_B[stem]) for stem in sorted(files_A)]


def find_pairs(cfg: dict, base_dir: Path) -> list[tuple[Path, Path | None]]:
    """(A, B) file pairs, or (aligned file, None) for the side-by-side layout."""
    root = find_root(cfg, base_dir)
    phase = cfg["phase"]
    base = root / phase if (root / phase).is_dir() else root
    dir_A, dir_B = base / "A", base / "B"
    if dir_A.is_dir() or dir_B.is_dir():
        if not (dir_A.is_dir() and dir_B.is_dir()):
            have, lack = (dir_A, dir_B) if dir_A.is_dir() else (dir_B, dir_A)
            raise DataError(
                f"found {have} but not {lack}: the two-folder layout needs both A/ and B/",
                path="data.root",
            )
        if (dir_A / phase).is_dir() and (dir_B / phase).is_dir():
            dir_A, dir_B = dir_A / phase, dir_B / phase
        return match_files(dir_A, dir_B)
    files = list_images(base)
    if not files:
        raise DataError(
            f"no images ({KINDS}) found under {base}; expected aligned A|B images "
            "or folders A/ and B/",
            path="data.root",
        )
    return [(f, None) for f in files]


def open_paired(cfg: dict, base_dir: Path) -> DataSource:
    check_sizes(cfg)
    return PairedSource(find_pairs(cfg, base_dir), cfg)


class PairedSource(DataSource):
    """Image pairs decoded on demand; only the file list is held in memory."""

    decodes = True  # made per item, in data.workers processes

    def __init__(self, pairs: list[tuple[Path, Path | None]], cfg: dict):
        self.pairs = pairs
        self.swap = cfg["direction"] == "BtoA"
        self.modes = side_modes(cfg)
        self.image_size = cfg["image_size"]
        self.load_size = cfg["load_size"] or cfg["image_size"]
        self.flip = cfg["flip"]
        self.bad = BadImages(cfg["bad_images"], [a for a, _ in pairs])

    def __len__(self) -> int:
        return len(self.pairs)

    def describe(self) -> str:
        """How many pairs, in which layout, and the range of the (A or aligned) image sizes."""
        aligned = self.pairs[0][1] is None
        layout = "aligned A|B images" if aligned else "A/ and B/ files"
        sizes = describe_sizes([a for a, _ in self.pairs])
        return f"{self.pairs[0][0].parent}: {len(self.pairs)} pairs ({layout}), {sizes}"

    def batch(self, indices: Any, generator: Any | None) -> Batch:
        items = [self._load(int(i), generator) for i in indices]
        return {
            "real_A": torch.stack([a for a, _ in items]),
            "real_B": torch.stack([b for _, b in items]),
        }

    def _load(self, index: int, generator: Any | None) -> tuple[Any, Any]:
        _, (a, b) = self.bad.read(index, self._decode)
        a, b = crop_flip([a, b], self.image_size, self.flip, generator)
        return a, b

    def _decode(self, index: int) -> tuple[Any, Any]:
        path_A, path_B = self.pairs[index]
        if path_B is None:
            im_A, im_B = split_aligned(read_image(path_A), path_A)
        else:
            im_A, im_B = read_image(path_A), read_image(path_B)
        if self.swap:
            im_A, im_B = im_B, im_A
        return to_tensor(im_A, self.modes[0], self.load_size), to_tensor(
            im_B, self.modes[1], self.load_size
        )


def split_aligned(im: Any, path: Path, key: str = "data.root") -> tuple[Any, Any]:
    """The A (left) and B (right) halves of an aligned pair image, or a DataError naming it."""
    w, h = im.size
    if w < 2 or w <= h:
        raise DataError(
            f"{path} is {w}x{h}; an aligned pair holds A and B side by side, so it "
            "should be about twice as wide as high (or use folders A/ and B/)",
            path=key,
        )
    return im.crop((0, 0, w // 2, h)), im.crop((w // 2, 0, w, h))


SOURCES.add(
    "paired",
    SourceDef(
        SCHEMA,
        ("root",),
        file_shapes,
        open_paired,
        "Aligned image pairs (pix2pix): A|B side by side, or folders A/ and B/.",
        path_keys=("root",), images=True,
    ),
)
