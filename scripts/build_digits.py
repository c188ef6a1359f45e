"""Write ganbuilder/data/digits.npz, the packaged copy of sklearn's 8x8 digits.

The `digits` sources read that file, so training never imports scikit-learn or scipy. The
images are stored as uint8 (sklearn's float64 values are the integers 0..16) and the labels as
uint8 (0..9); `load_raw_digits` turns them into the same float32/int64 tensors as before.

The archive is written with a fixed timestamp, so rebuilding it from the same scikit-learn
data gives the same bytes and leaves git with nothing to commit.

Usage: python scripts/build_digits.py   (or `make digits-data`; needs scikit-learn, the dev extra)
"""

from __future__ import annotations

import io
import sys
import zipfile
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganbuilder.data.digits import DATA_FILE, NUM_DIGITS  # noqa: E402


def digit_arrays() -> dict[str, np.ndarray]:
    """sklearn's digits as the packaged arrays, checked to convert back without loss."""
    data = load_digits()
    images = data.images.astype(np.uint8)
    labels = data.target.astype(np.uint8)
    if images.shape != (NUM_DIGITS, 8, 8) or not np.array_equal(images, data.images):
        sys.exit("sklearn's digits are no longer 1797 8x8 images of integers 0..16")
    if not np.array_equal(labels, data.target):
        sys.exit("sklearn's digit labels are no longer 0..9")
    return {"images": images, "labels": labels}


def write_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """An .npz that np.load reads, with a fixed date in every member (reproducible bytes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            buffer = io.BytesIO()
            np.lib.format.write_array(buffer, array, allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, buffer.getvalue(), compresslevel=9)


def main() -> int:
    path = ROOT / "ganbuilder" / "data" / DATA_FILE
    write_npz(path, digit_arrays())
    print(f"wrote {path.relative_to(ROOT)} ({path.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
