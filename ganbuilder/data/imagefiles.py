"""Image files for every source that reads them and for `translate`: one decoder, one policy.

PIL refuses an image over twice `Image.MAX_IMAGE_PIXELS` (DecompressionBombError) but only warns
above the limit itself; both are errors here, so an oversized file is refused before it is
decoded instead of slowly exhausting memory.

`bad_images` (the sources' key) decides what an unreadable file does in the middle of a run:
`fail` stops at the first one, `skip` warns once per file and takes the next readable item, and
still stops when more than MAX_BAD_SHARE of the files (at least one is always tolerated) turn
out to be unreadable, since that is a broken data set rather than a few damaged files.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ganbuilder._lazy import torch
from ganbuilder.errors import DataError
from ganbuilder.files import is_regular

T = TypeVar("T")

MAX_BAD_SHARE = 0.01

BAD_IMAGES: dict = {
    "type": "string",
    "enum": ["skip", "fail"],
    "default": "skip",
    "description": "What an unreadable (truncated, corrupt or oversized) image file does: "
    "'skip' warns once per file and uses the next readable one, and stops the run when more "
    "than 1% of the files (at least one is always tolerated) are unreadable; 'fail' stops at "
    "the first with an error naming it.",
}


class UnreadableImageError(DataError):
    """A file that cannot be decoded; the only error `bad_images: skip` skips (a wrong layout,
    such as a square image where an aligned pair belongs, still stops the run)."""


class BadImageWarning(UserWarning):
    """An unreadable image was skipped (`bad_images: skip`); the message names the file."""


# PIL reports damaged files with any of these, depending on the format and where it breaks.
_DECODE_ERRORS = (OSError, ValueError, SyntaxError, EOFError)


def read_image(path: Path, key: str = "data.root") -> Any:
    """The decoded PIL image at `path`, or a DataError (at spec path `key`) naming it."""
    from PIL import Image

    if not is_regular(path):  # a FIFO would block the open forever; a device never ends
        raise UnreadableImageError(f"cannot read image {path}: not a regular file", path=key)
    try:
        # catch_warnings is process-wide; only PIL's bomb warning is affected, for one file.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                im.load()
                return _eight_bit(im.copy())
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise UnreadableImageError(
            f"cannot read image {path}: it is too large to decode safely ({err}); images over "
            f"{Image.MAX_IMAGE_PIXELS} pixels are refused",
            path=key,
        ) from None
    except _DECODE_ERRORS as err:
        raise UnreadableImageError(f"cannot read image {path}: {err}", path=key) from None


def _eight_bit(im: Any) -> Any:
    """An image PIL would convert unfaithfully, made 8-bit first: 16-bit grey scaled (PIL's
    convert clips it to 0..255, a gradient turning white), a palette with transparency as
    RGBA (which PIL otherwise warns about on every conversion)."""
    import numpy as np
    from PIL import Image

    if im.mode.startswith("I;16") or im.mode == "I":
        wide = np.asarray(im).astype(np.float64)
        # A 32-bit "I" image holding 8-bit values (a converted L image) stays as it is.
        top = 65535.0 if im.mode != "I" or wide.max(initial=0) > 255 else 255.0
        return Image.fromarray(np.clip(wide * (255.0 / top), 0, 255).round().astype(np.uint8))
    if im.mode == "F":
        values = np.asarray(im, dtype=np.float64)
        top = 255.0 if values.max(initial=0) > 1.0 else 1.0
        return Image.fromarray(np.clip(np.nan_to_num(values) * (255.0 / top), 0, 255)
                               .round().astype(np.uint8))
    if im.mode == "P" and "transparency" in im.info:
        return im.convert("RGBA")
    return im


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) from the file's header without decoding it; None if it cannot be read."""
    from PIL import Image

    if not is_regular(path):
        return None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                return im.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, *_DECODE_ERRORS):
        return None


def to_tensor(im: Any, mode: str, size: int) -> Any:
    """A PIL image as a [C, size, size] float tensor in [-1, 1] (bilinear resize if needed)."""
    import numpy as np
    from PIL import Image

    im = im.convert(mode)
    if im.size != (size, size):
        im = im.resize((size, size), Image.Resampling.BILINEAR)
    array = np.asarray(im, dtype=np.uint8)
    x = torch.from_numpy(array.copy()).reshape(size, size, -1)
    return x.permute(2, 0, 1).float() * (2.0 / 255.0) - 1.0


def describe_sizes(files: Sequence[Path], most: int = 200) -> str:
    """The range of image sizes among up to `most` files spread over the list, read from headers.

    Only headers are read, so this stays quick on large data sets; unreadable ones are counted.
    """
    step = max(1, len(files) // most)
    looked = files[::step][:most]
    sizes = [image_size(p) for p in looked]
    found = sorted((s for s in sizes if s is not None), key=lambda s: (s[0] * s[1], s))
    parts = []
    if found:
        small, large = found[0], found[-1]
        parts.append(f"size {small[0]}x{small[1]}" if small == large
                     else f"sizes {small[0]}x{small[1]} to {large[0]}x{large[1]}")
    unreadable = len(sizes) - len(found)
    if unreadable:
        parts.append(f"{unreadable} unreadable")
    text = ", ".join(parts)
    if len(looked) < len(files):
        text += f" (in {len(looked)} of the files)"
    return text


class BadImages:
    """The `bad_images` policy over one list of files; remembers which proved unreadable."""

    def __init__(self, policy: str, files: Sequence[Path]):
        self.policy = policy
        self.files = files
        self.bad: set[int] = set()
        self.tolerated = max(1, int(len(files) * MAX_BAD_SHARE))

    def read(self, index: int, read: Callable[[int], T]) -> tuple[int, T]:
        """(index, read(index)); under 'skip' the first readable item from `index` on, wrapping.

        `read` raises an UnreadableImageError for an unreadable item. Skipping walks forward by
        index, so the item that stands in is the same whatever was read before (a resumed run
        matches).
        """
        n = len(self.files)
        last: UnreadableImageError | None = None
        for offset in range(n):
            i = (index + offset) % n
            if i in self.bad:
                continue
            try:
                return i, read(i)
            except UnreadableImageError as err:
                last = err
                self._failed(i, err)
        reason = f": {last.problems[0].message}" if last else ""
        raise DataError(f"none of the {n} image files could be read{reason}", path="data.root")

    def _failed(self, index: int, err: UnreadableImageError) -> None:
        message = err.problems[0].message
        if self.policy == "fail":
            raise DataError(
                f"{message} (set data.bad_images: skip to skip unreadable files)",
                path=err.problems[0].path,
            ) from None
        self.bad.add(index)
        if len(self.bad) > self.tolerated:
            raise DataError(
                f"{len(self.bad)} of {len(self.files)} image files are unreadable, more than "
                f"data.bad_images: skip tolerates ({MAX_BAD_SHARE:.0%}, at least one); the "
                f"last: {message}",
                path=err.problems[0].path,
            ) from None
        if len(self.bad) == len(self.files):
            return  # nothing can stand in: `read` raises, and a warning would only repeat it
        warnings.warn(f"skipping an unreadable file: {message}", BadImageWarning, stacklevel=4)
