"""Reader for the IDX files MNIST ships in (optionally gzipped)."""

from __future__ import annotations

import gzip
import io
import math
import zlib
from pathlib import Path
from typing import Any

from ganbuilder.errors import DataError, UserError
from ganbuilder.files import read_bounded

IMAGES_MAGIC = 2051  # unsigned bytes, 3 dimensions
LABELS_MAGIC = 2049  # unsigned bytes, 1 dimension
MAX_BYTES = 2**31  # EMNIST's largest file holds a quarter of this


def read_idx(path: Path, magic: int, key: str = "data.root") -> Any:
    """The uint8 array stored in an IDX file, checked against the expected magic number."""
    import numpy as np

    try:
        raw = read_bounded(path, MAX_BYTES, "IDX file")
        if path.suffix == ".gz":
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
                raw = unzipped.read(MAX_BYTES + 1)
    except UserError as err:
        raise DataError(err.problems[0].message, path=key) from None
    except (OSError, EOFError, zlib.error) as err:  # a bad gzip header or deflate block
        raise DataError(f"cannot read {path}: it is damaged ({err})", path=key) from None
    if len(raw) > MAX_BYTES:
        raise DataError(f"{path} unpacks to more than {MAX_BYTES // 2**30} GiB: not an IDX "
                        "file of images a GAN trains on", path=key)
    ndim = magic & 0xFF
    header = 4 + 4 * ndim
    if len(raw) < 4:
        raise DataError(f"{path} is truncated ({len(raw)} bytes)", path=key)
    found = int.from_bytes(raw[:4], "big")
    if found != magic:
        raise DataError(
            f"{path} is not an IDX file of the expected kind "
            f"(magic number {found}, expected {magic})",
            path=key,
        )
    if len(raw) < header:
        raise DataError(f"{path} is truncated ({len(raw)} bytes)", path=key)
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    # Python ints: a damaged header's product (up to 2**96) must not wrap round as int64 would.
    count = math.prod(dims)
    if len(raw) < header + count:
        raise DataError(
            f"{path} is truncated or its header is damaged: shape {dims} needs "
            f"{header + count} bytes, found {len(raw)}",
            path=key,
        )
    return np.frombuffer(raw, dtype=np.uint8, count=count, offset=header).reshape(dims)
