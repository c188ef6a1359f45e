"""The `labelmaps` source (SPADE, pix2pixHD): images with their segmentation maps.

Layout, in root/<phase>/ when that folder exists, else in root itself: `images/` and `labels/`
holding files with matching names (the extension may differ: images/x.jpg pairs with
labels/x.png), and with `instances: true` an `instances/` folder of instance-id maps. A label
file holds one class id per pixel (a grey or palette PNG, 8 or 16 bits), 0..classes-1; the
value `dontcare` (SPADE's 255) becomes one more class. The batch carries `real` (the image),
`seg` (the one-hot map, made per item: classes channels, one more for `dontcare`, one more
for the instance edges) and `seg_image` (the map in a fixed palette, to look at). Image, label
and instance map get the same resize (labels nearest), crop and flip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganbuilder._lazy import torch
from ganbuilder.data import keys
from ganbuilder.data.folder import IMAGE_EXTENSIONS, check_sizes, find_root, list_images
from ganbuilder.data.imagefiles import (
    BAD_IMAGES,
    BadImages,
    UnreadableImageError,
    describe_sizes,
    read_image,
    to_tensor,
)
from ganbuilder.data.registry import SOURCES, SourceDef
from ganbuilder.data.source import Batch, DataSource
from ganbuilder.data.twodomain import FLIP, LOAD_SIZE, PHASE, crop_flip
from ganbuilder.errors import DataError
from ganbuilder.files import is_regular

SCHEMA: dict = {
    "root": {**keys.ROOT, "description": keys.ROOT["description"] + " It holds images/ and "
             "labels/ with matching file names (and instances/ with `instances`); "
             "root/<phase>/ is used when it exists."},
    "phase": PHASE,
    "classes": {"type": "integer", "minimum": 1, "maximum": 65536,
                "description": "How many label classes the maps hold (ids 0..classes-1); a "
                               "larger id is an error naming the file."},
    "dontcare": {"type": ["integer", "null"], "minimum": 0, "maximum": 65535, "default": None,
                 "description": "A label value meaning 'unknown' (SPADE: 255), made one more "
                                "class (channel `classes`); null: none."},
    "instances": {"type": "boolean", "default": False,
                  "description": "Read instance-id maps from instances/ and add their edges "
                                 "as one more channel of seg (SPADE's instance edge map)."},
    "image_size": keys.image_size(256),
    "load_size": LOAD_SIZE,
    "flip": FLIP,
    "channels": {**keys.channels(3), "description": "Channels of `real`: 1 grey, 3 RGB."},
    "bad_images": BAD_IMAGES,
}

LABEL_MODES = ("L", "P", "I", "I;16", "I;16B", "I;16L")


def seg_channels(classes: int, dontcare: Any, instances: bool) -> int:
    """Channels of the one-hot `seg`: the classes, one for `dontcare`, one for instance edges."""
    return classes + (dontcare is not None) + bool(instances)


def shapes(cfg: dict) -> dict[str, list[int]]:
    check_sizes(cfg)
    size = cfg["image_size"]
    seg = seg_channels(cfg["classes"], cfg["dontcare"], cfg["instances"])
    return {"real": [cfg["channels"], size, size], "seg": [seg, size, size],
            "seg_image": [3, size, size]}


def palette(n: int) -> Any:
    """[n, 3] colours in [-1, 1], one per class: the same on every machine (a fixed stream),
    class 0 black, the rest well apart in RGB (Pascal VOC's bit-interleaving scheme)."""
    colours = torch.zeros(n, 3)
    for c in range(n):
        rgb, value = [0, 0, 0], c
        for bit in range(8):
            for channel in range(3):
                rgb[channel] |= ((value >> channel) & 1) << (7 - bit)
            value >>= 3
        colours[c] = torch.tensor(rgb, dtype=torch.float32)
    return colours * (2.0 / 255.0) - 1.0


def one_hot(ids: Any, channels: int) -> Any:
    """[B, H, W] int64 class ids as a [B, channels, H, W] float one-hot map."""
    return torch.nn.functional.one_hot(ids, channels).permute(0, 3, 1, 2).float()


def coloured(ids: Any, colours: Any) -> Any:
    """[B, H, W] class ids as [B, 3, H, W] palette colours in [-1, 1]."""
    return colours[ids].permute(0, 3, 1, 2).contiguous()


def instance_edges(ids: Any) -> Any:
    """[B, 1, H, W] 0/1 float: pixels whose 4-neighbour has another instance id (SPADE's
    instance edge map)."""
    t = ids.unsqueeze(1)
    edge = torch.zeros_like(t, dtype=torch.bool)
    dx = t[..., :, 1:] != t[..., :, :-1]
    dy = t[..., 1:, :] != t[..., :-1, :]
    edge[..., :, 1:] |= dx
    edge[..., :, :-1] |= dx
    edge[..., 1:, :] |= dy
    edge[..., :-1, :] |= dy
    return edge.float()


def read_ids(path: Path, size: int) -> Any:
    """A label or instance file's values as an [H, W] int64 tensor, resized (nearest) to size;
    an UnreadableImageError (at data.root) for a file that is not a one-value-per-pixel map."""
    import numpy as np
    from PIL import Image

    if not is_regular(path):
        raise UnreadableImageError(f"cannot read label map {path}: not a regular file",
                                   path="data.root")
    try:
        with Image.open(path) as im:
            im.load()
            if im.mode not in LABEL_MODES:
                raise DataError(f"{path} is a {im.mode} image; a label map holds one class id "
                                "per pixel (a grey or palette PNG)", path="data.root")
            if im.size != (size, size):
                im = im.resize((size, size), Image.Resampling.NEAREST)
            values = np.asarray(im).astype(np.int64)
    except (OSError, ValueError, SyntaxError, EOFError) as err:
        raise UnreadableImageError(f"cannot read label map {path}: {err}",
                                   path="data.root") from None
    return torch.from_numpy(values.copy())


def class_ids(values: Any, path: Path, classes: int, dontcare: Any,
              advice: str = "raise data.classes or set data.dontcare",
              key: str = "data.classes") -> Any:
    """Label values as class ids (`dontcare` -> `classes`); a value out of range is a
    DataError (at spec path `key`) naming the file, the value and the classes."""
    known = (values != dontcare if dontcare is not None
             else torch.ones_like(values, dtype=torch.bool))
    bad = known & ((values < 0) | (values >= classes))
    if bool(bad.any()):
        value = int(values[bad].max())
        unknown = f" and {dontcare} (dontcare)" if dontcare is not None else ""
        raise DataError(f"{path} holds label {value}, but data.classes is {classes} (ids "
                        f"0..{classes - 1}{unknown}); {advice}", path=key)
    return torch.where(known, values, torch.full_like(values, classes))


def by_stem(folder: Path) -> dict[str, Path]:
    """The images under `folder` keyed by their relative path without extension."""
    found: dict[str, Path] = {}
    for path in list_images(folder):
        stem = path.relative_to(folder).with_suffix("").as_posix()
        if stem in found:
            raise DataError(f"{found[stem]} and {path} have the same name; each name must "
                            "appear once per folder", path="data.root")
        found[stem] = path
    return found


def find_items(cfg: dict, base_dir: Path) -> list[tuple[Path, ...]]:
    """(image, label[, instance]) files matched by name; a name missing in one folder is an
    error naming the file and the folder."""
    root = find_root(cfg, base_dir)
    base = root / cfg["phase"] if (root / cfg["phase"]).is_dir() else root
    names = ["images", "labels"] + (["instances"] if cfg["instances"] else [])
    for name in names:
        if not (base / name).is_dir():
            raise DataError(f"{base / name} is not a folder; a label-map data set holds "
                            f"{', '.join(n + '/' for n in names)} with matching file names",
                            path="data.root")
    files = [by_stem(base / name) for name in names]
    if not files[0]:
        kinds = ", ".join(e.lstrip(".") for e in IMAGE_EXTENSIONS)
        raise DataError(f"no images ({kinds}) found in {base / 'images'}", path="data.root")
    for found in files:
        for other_name, other in zip(names, files, strict=True):
            for stem in sorted(set(found) - set(other)):
                raise DataError(f"{found[stem]} has no partner in {base / other_name} "
                                f"(expected {stem}.<ext> there)", path="data.root")
    return [tuple(f[stem] for f in files) for stem in sorted(files[0])]


def open_labelmaps(cfg: dict, base_dir: Path) -> DataSource:
    check_sizes(cfg)
    return LabelMapSource(find_items(cfg, base_dir), cfg)


class LabelMapSource(DataSource):
    """Images and label maps decoded on demand; only the file list is held in memory."""

    decodes = True  # made per item, in data.workers processes

    def __init__(self, items: list[tuple[Path, ...]], cfg: dict):
        self.items = items
        self.classes, self.dontcare = cfg["classes"], cfg["dontcare"]
        self.instances = cfg["instances"]
        self.channels = seg_channels(self.classes, self.dontcare, False)
        self.mode = "L" if cfg["channels"] == 1 else "RGB"
        self.image_size = cfg["image_size"]
        self.load_size = cfg["load_size"] or cfg["image_size"]
        self.flip = cfg["flip"]
        self.colours = palette(self.channels)
        self.bad = BadImages(cfg["bad_images"], [item[0] for item in items])

    def __len__(self) -> int:
        return len(self.items)

    def describe(self) -> str:
        """How many image/label pairs, the classes and the image sizes."""
        sizes = describe_sizes([item[0] for item in self.items])
        return (f"{self.items[0][0].parent.parent}: {len(self.items)} images with label maps, "
                f"{self.classes} classes, {sizes}")

    def batch(self, indices: Any, generator: Any | None) -> Batch:
        made = [self._load(int(i), generator) for i in indices]
        real = torch.stack([m[0] for m in made])
        ids = torch.stack([m[1] for m in made])
        seg = one_hot(ids, self.channels)
        if self.instances:
            seg = torch.cat([seg, instance_edges(torch.stack([m[2] for m in made]))], dim=1)
        return {"real": real, "seg": seg, "seg_image": coloured(ids, self.colours)}

    def _load(self, index: int, generator: Any | None) -> list[Any]:
        """[image, ids(, instance ids)] of one item, cropped and flipped alike."""
        _, parts = self.bad.read(index, self._decode)
        # Ids travel as floats through the shared crop and flip, which keep them exact.
        maps = [p.unsqueeze(0).float() for p in parts[1:]]
        out = crop_flip([parts[0], *maps], self.image_size, self.flip, generator)
        return [out[0], *(m[0].long() for m in out[1:])]

    def _decode(self, index: int) -> list[Any]:
        image, label, *instance = self.items[index]
        real = to_tensor(read_image(image), self.mode, self.load_size)
        ids = class_ids(read_ids(label, self.load_size), label, self.classes, self.dontcare)
        return [real, ids, *(read_ids(p, self.load_size) for p in instance)]


def label_input(path: Path, data: dict) -> Any:
    """One label file as the [C, S, S] one-hot map a model trained on `data` (a `labelmaps`
    or `labels2digits` section, defaults filled) reads as `seg`: ids checked against its
    classes, resized (nearest) to its image_size; for applying SPADE to new label maps
    (`translate`). Instance edges need the instance map, so a model trained with
    `instances: true` is refused."""
    if data["source"] == "labels2digits":
        classes, dontcare = 4, None
    else:
        classes, dontcare = data["classes"], data["dontcare"]
        if data["instances"]:
            raise DataError(f"{path}: this model also reads instance edges; a label map "
                            "alone is not enough", path="data.instances")
    size = data["image_size"]
    # The model is trained: its classes are fixed, so the file is what to fix.
    ids = class_ids(read_ids(path, size), path, classes, dontcare,
                    "the model was trained on these classes only", key="")
    return one_hot(ids.unsqueeze(0), seg_channels(classes, dontcare, False))[0]


SOURCES.add(
    "labelmaps",
    SourceDef(
        SCHEMA,
        ("root", "classes"),
        shapes,
        open_labelmaps,
        "Images with segmentation maps (SPADE): images/ and labels/ of matching names; "
        "one-hot `seg` made per item.",
        path_keys=("root",), images=True, file_inputs={"seg": label_input},
    ),
)
