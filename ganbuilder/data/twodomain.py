"""Shared parts of the image-to-image translation sources: keys, image reading, augmentation.

Every translation batch carries `real_A` and `real_B` ([C, image_size, image_size] floats in
[-1, 1]). Paired sources (`paired`, `edges2digits`) hold A and B at the same index and use the
plain BatchSampler, so a pair always travels together and gets the same crop and flip.
Two-domain sources (`unpaired`, `digits2negative`) hold two sets of different sizes; their
`TwoDomainSampler` walks an independent permutation of each side, so A and B are drawn
independently (or by the same index with `serial: true`).
"""

from __future__ import annotations

from typing import Any

from ganbuilder._lazy import torch
from ganbuilder.data import keys
from ganbuilder.data.folder import check_sizes
from ganbuilder.data.imagefiles import BAD_IMAGES
from ganbuilder.data.source import Batch, BatchSampler, DataSource
from ganbuilder.errors import DataError

DIRECTION: dict = {
    "type": "string",
    "enum": ["AtoB", "BtoA"],
    "default": "AtoB",
    "description": "AtoB keeps the sides as stored; BtoA swaps them, so real_A holds the B "
    "images (channels_A and channels_B always describe real_A and real_B of the batch).",
}

PHASE: dict = {
    "type": "string",
    "minLength": 1,
    "default": "train",
    "description": "Which part of the data set to read (train, test, val, ...).",
}

LOAD_SIZE: dict = {
    "type": ["integer", "null"],
    "minimum": 1,
    "default": None,
    "description": "If set, images are resized to load_size x load_size and then cropped to "
    "image_size (random crops for training, center crops for sample grids); if null, images "
    "are resized straight to image_size. Must be at least image_size.",
}

FLIP: dict = {
    "type": "boolean",
    "default": True,
    "description": "Randomly flip training images left-right (a pair gets the same flip).",
}


def channels_key(side: str) -> dict:
    """The `channels_A` / `channels_B` key; without a default, so `channels` can set both."""
    schema = {
        **keys.channels(3),
        "description": f"Channels of real_{side}: 1 for grayscale, 3 for RGB; "
        "defaults to `channels`.",
    }
    del schema["default"]
    return schema


def side_channels(cfg: dict) -> tuple[int, int]:
    """Channels of real_A and real_B: per side if given, else `channels` (default 3)."""
    both = cfg.get("channels", 3)
    return cfg.get("channels_A", both), cfg.get("channels_B", both)


def file_schema(layout: str) -> dict:
    """The keys that the folder-reading translation sources share."""
    return {
        "root": {**keys.ROOT, "description": keys.ROOT["description"] + " " + layout},
        "phase": PHASE,
        "direction": DIRECTION,
        "image_size": keys.image_size(256),
        "load_size": LOAD_SIZE,
        "flip": FLIP,
        "channels": {**keys.channels(3),
                     "description": "Channels of both sides: 1 for grayscale, 3 for RGB."},
        "channels_A": channels_key("A"),
        "channels_B": channels_key("B"),
        "bad_images": BAD_IMAGES,
    }


def file_shapes(cfg: dict) -> dict[str, list[int]]:
    check_sizes(cfg)
    size = cfg["image_size"]
    channels_A, channels_B = side_channels(cfg)
    return {"real_A": [channels_A, size, size], "real_B": [channels_B, size, size]}


def side_modes(cfg: dict) -> tuple[str, str]:
    """PIL modes for real_A and real_B."""
    channels_A, channels_B = side_channels(cfg)
    return ("L" if channels_A == 1 else "RGB"), ("L" if channels_B == 1 else "RGB")


def crop_flip(images: list[Any], size: int, flip: bool, generator: Any | None) -> list[Any]:
    """Crop every image to size x size at one position and flip all or none of them.

    With a generator the crop is random and the flip a coin toss (if `flip`); without one the
    crop is centred and nothing is flipped.
    """
    spare = images[0].shape[-1] - size
    if generator is None:
        top = left = spare // 2
    else:
        top, left = (int(v) for v in torch.randint(spare + 1, (2,), generator=generator))
    out = [x[:, top : top + size, left : left + size] for x in images]
    if flip and generator is not None and torch.rand(1, generator=generator).item() < 0.5:
        out = [x.flip(-1) for x in out]
    return out


class TwoDomainSource(DataSource):
    """Two image sets A and B of their own sizes; an epoch is max(len A, len B) items.

    Subclasses set size_A, size_B and serial and implement `domain_batch`.
    """

    size_A: int
    size_B: int
    serial: bool = False

    def __len__(self) -> int:
        return max(self.size_A, self.size_B)

    def domain_batch(self, index_A: Any, index_B: Any, generator: Any | None) -> Batch:
        """A batch of A items at index_A and B items at index_B (int64 tensors, same length)."""
        raise NotImplementedError

    def batch(self, indices: Any, generator: Any | None) -> Batch:
        """Item i is A[i % len A] with B[i % len B] (serial, or no generator) or a random B."""
        index_A = indices % self.size_A
        if self.serial or generator is None:
            index_B = indices % self.size_B
        else:
            index_B = torch.randint(self.size_B, (len(indices),), generator=generator)
        return self.domain_batch(index_A, index_B, generator)

    def sampler(self, batch_size: int, seed: int) -> BatchSampler:
        return TwoDomainSampler(self, batch_size, seed)


class TwoDomainSampler(BatchSampler):
    """A BatchSampler whose B side walks its own permutations of B, independent of A's order.

    A follows the usual epoch permutation (of max(len A, len B) items, taken modulo len A). B
    items are taken from successive random permutations of B, each used up before the next is
    drawn, so every B image is seen once per pass over B. With `serial` B follows A's index.
    """

    source: TwoDomainSource

    def __init__(self, source: TwoDomainSource, batch_size: int, seed: int):
        super().__init__(source, batch_size, seed)
        self._perm_B = torch.empty(0, dtype=torch.int64)
        self._pos_B = 0

    @staticmethod
    def decode(source: DataSource, index: tuple, generator: Any | None) -> Batch:
        return source.domain_batch(index[0], index[1], generator)

    def _indices(self) -> tuple:
        src = self.source
        indices = self._take()
        if src.serial:
            index_B = indices % src.size_B
        else:
            parts, wanted = [], self.batch_size
            while wanted:
                if self._pos_B == len(self._perm_B):
                    self._perm_B = torch.randperm(src.size_B, generator=self._gen)
                    self._pos_B = 0
                part = self._perm_B[self._pos_B : self._pos_B + wanted]
                self._pos_B += len(part)
                wanted -= len(part)
                parts.append(part)
            index_B = torch.cat(parts)
        return indices % src.size_A, index_B

    def _state(self) -> dict:
        return {**super()._state(), "perm_B": self._perm_B.clone(), "pos_B": self._pos_B}

    def load_state_dict(self, state: dict) -> None:
        super().load_state_dict(state)
        perm_B = state["perm_B"].clone().to(torch.int64)
        if len(perm_B) not in (0, self.source.size_B):
            raise DataError(
                f"the saved sampler state is for a B side of {len(perm_B)} items, but this one "
                f"has {self.source.size_B}; did the data change since the checkpoint?",
                path="data",
            )
        self._perm_B = perm_B
        self._pos_B = int(state["pos_B"])
