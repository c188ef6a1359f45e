"""The `celeba_attributes` source: images with binary attributes, CelebA's layout, for
multi-domain models (StarGAN's domains are sets of attributes).

`root` holds `list_attr_celeba.txt` (a count line, a line of attribute names, then one line
per image: its file name and +1/-1 per attribute) and the images in `images`
(img_align_celeba/). The spec's `attributes` pick the domains, in order: batches carry `real`,
`attributes` (1 where the image has the attribute, else 0, one value per chosen attribute) and
`target`, the attributes of another image of the split drawn at random (StarGAN's shuffled
batch labels: the domains to translate to). The last `test_size` listed images (StarGAN holds
out 2000) are the `test` split, the rest `train`. Images are center-cropped to `crop_size`
(CelebA's faces: 178), resized to `image_size` and, in training, flipped at random.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganbuilder._lazy import torch
from ganbuilder.data import keys
from ganbuilder.data.digits import split_key
from ganbuilder.data.imagefiles import BAD_IMAGES, BadImages, describe_sizes, read_image
from ganbuilder.data.registry import SOURCES, SourceDef, resolve_path
from ganbuilder.data.source import Batch, DataSource
from ganbuilder.errors import DataError, UserError
from ganbuilder.files import read_bounded
from ganbuilder.registry import did_you_mean

LIST_FILE = "list_attr_celeba.txt"

SCHEMA: dict = {
    "root": {**keys.ROOT, "description": f"folder holding {LIST_FILE} and the images folder"},
    "images": {"type": "string", "minLength": 1, "default": "img_align_celeba",
               "description": "the images' folder, relative to root"},
    "attributes": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1,
                   "uniqueItems": True,
                   "description": "the attributes that are the domains, in label order "
                                  "(StarGAN: Black_Hair, Blond_Hair, Brown_Hair, Male, Young)"},
    "split": split_key("train", ("train", "test")),
    "test_size": {"type": "integer", "minimum": 0, "default": 2000,
                  "description": "the last this many listed images are the test split"},
    "image_size": keys.image_size(128),
    "crop_size": {"type": "integer", "minimum": 1, "default": 178,
                  "description": "side of the center crop taken before resizing"},
    "channels": keys.channels(3),
    "flip": {"type": "boolean", "default": True,
             "description": "randomly flip training images left-right"},
    "bad_images": BAD_IMAGES,
}


def shapes(cfg: dict) -> dict[str, list[int]]:
    size, k = cfg["image_size"], len(cfg["attributes"])
    return {"real": [cfg["channels"], size, size], "attributes": [k], "target": [k]}


def read_attributes(path: Path, wanted: list[str]) -> tuple[list[str], Any]:
    """(file names, [N, K] 0/1 attributes in `wanted` order) from a list_attr_celeba.txt."""
    try:
        text = read_bounded(path, limit=2**28, what="attribute list").decode("utf-8")
    except UserError as exc:
        raise DataError(str(exc), path="data.root") from None
    except UnicodeDecodeError:
        raise DataError(f"{path} is not a text file", path="data.root") from None
    lines = text.splitlines()
    if len(lines) < 2:
        raise DataError(f"{path}: expected a count line and a line of attribute names",
                        path="data.root")
    names = lines[1].split()
    for i, name in enumerate(wanted):
        if name not in names:
            raise DataError(f"{path} has no attribute '{name}'{did_you_mean(name, set(names))}",
                            path=f"data.attributes.{i}")
    columns = [names.index(n) for n in wanted]
    files, rows = [], []
    for number, line in enumerate(lines[2:], start=3):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != len(names) + 1 or any(v not in ("1", "-1") for v in parts[1:]):
            raise DataError(f"{path}:{number}: expected a file name and {len(names)} values of "
                            "1 or -1", path="data.root")
        files.append(parts[0])
        rows.append([parts[1 + c] == "1" for c in columns])
    if not files:
        raise DataError(f"{path} lists no images", path="data.root")
    return files, torch.tensor(rows, dtype=torch.float32)


def open_celeba(cfg: dict, base_dir: Path) -> DataSource:
    root = resolve_path(cfg["root"], base_dir)
    if not root.is_dir():
        raise DataError(f"data folder not found: {root}", path="data.root")
    files, attributes = read_attributes(root / LIST_FILE, list(cfg["attributes"]))
    held = min(cfg["test_size"], len(files))
    part = slice(len(files) - held, None) if cfg["split"] == "test" else slice(
        0, len(files) - held)
    files, attributes = files[part], attributes[part]
    if not files:
        raise DataError(f"the {cfg['split']} split of {root / LIST_FILE} is empty (test_size "
                        f"{cfg['test_size']})", path="data.test_size")
    folder = root / cfg["images"]
    if not folder.is_dir():
        raise DataError(f"images folder not found: {folder}", path="data.images")
    return AttributeSource([folder / f for f in files], attributes, cfg)


class AttributeSource(DataSource):
    """Image files with attribute vectors; only the list is held in memory."""

    decodes = True  # made per item, in data.workers processes

    def __init__(self, files: list[Path], attributes: Any, cfg: dict):
        self.files, self.attributes = files, attributes
        self.class_names = list(cfg["attributes"])
        self.image_size, self.crop_size = cfg["image_size"], cfg["crop_size"]
        self.mode = "L" if cfg["channels"] == 1 else "RGB"
        self.flip = cfg["flip"]
        self.bad = BadImages(cfg["bad_images"], files)

    def __len__(self) -> int:
        return len(self.files)

    def describe(self) -> str:
        return (f"{self.files[0].parent}: {len(self.files)} images, attributes "
                f"{', '.join(self.class_names)}, {describe_sizes(self.files)}")

    def batch(self, indices: Any, generator: Any | None) -> Batch:
        # A skipped file's stand-in brings its own attributes, so read before labelling.
        items = [self.bad.read(int(i), self._decode) for i in indices]
        real = []
        for _, x in items:
            if self.flip and generator is not None and torch.rand(
                    1, generator=generator).item() < 0.5:
                x = x.flip(-1)
            real.append(x)
        n = len(self.files)
        if generator is None:  # sample grids: a fixed other image's attributes
            others = [(i + 1) % n for i, _ in items]
        else:
            others = [int(v) for v in torch.randint(n, (len(items),), generator=generator)]
        return {"real": torch.stack(real), "attributes": self.attributes[[i for i, _ in items]],
                "target": self.attributes[others]}

    def _decode(self, index: int) -> Any:
        import numpy as np
        from PIL import Image

        im = read_image(self.files[index], "data.images").convert(self.mode)
        w, h = im.size
        side = min(self.crop_size, w, h)
        left, top = round((w - side) / 2), round((h - side) / 2)
        im = im.crop((left, top, left + side, top + side))
        im = im.resize((self.image_size, self.image_size), Image.Resampling.BILINEAR)
        array = np.asarray(im, dtype=np.uint8).copy()
        x = torch.from_numpy(array).reshape(self.image_size, self.image_size, -1)
        return x.permute(2, 0, 1).float() * (2.0 / 255.0) - 1.0


SOURCES.add(
    "celeba_attributes",
    SourceDef(
        SCHEMA,
        ("root", "attributes"),
        shapes,
        open_celeba,
        "CelebA-style images with binary attributes (list_attr_celeba.txt): the chosen "
        "attributes as label vectors, and a random image's as the target domain.",
        path_keys=("root",),
        images=False,
        held_out={"split": "test"},
    ),
)
