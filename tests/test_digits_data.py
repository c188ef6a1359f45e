"""The packaged digits: equal to scikit-learn's, loaded without scikit-learn or scipy."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from ganbuilder.data.digits import DATA_FILE, NUM_DIGITS, load_raw_digits

ROOT = Path(__file__).resolve().parents[1]


def test_packaged_digits_equal_sklearn_exactly():
    from sklearn.datasets import load_digits

    data = load_digits()
    images, labels = load_raw_digits()
    assert images.dtype == torch.float32 and labels.dtype == torch.int64
    assert images.shape == (NUM_DIGITS, 1, 8, 8) and labels.shape == (NUM_DIGITS,)
    # What the sources built from sklearn's copy before: float64 -> float32, int64.
    want = torch.from_numpy(data.images).float().unsqueeze(1)
    assert torch.equal(images, want)
    assert torch.equal(labels, torch.from_numpy(data.target).long())


def test_packaged_file_holds_uint8_arrays():
    with np.load(ROOT / "ganbuilder" / "data" / DATA_FILE) as data:
        assert sorted(data.files) == ["images", "labels"]
        assert data["images"].dtype == np.uint8 and data["labels"].dtype == np.uint8
        assert data["images"].max() == 16 and sorted(set(data["labels"].tolist())) == list(
            range(10)
        )


def test_packaged_file_is_declared_package_data():
    tomllib = pytest.importorskip("tomllib")  # stdlib from Python 3.11
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)
    assert f"data/{DATA_FILE}" in project["tool"]["setuptools"]["package-data"]["ganbuilder"]
    runtime = [d.split(">")[0].split("=")[0].strip() for d in project["project"]["dependencies"]]
    assert "scikit-learn" not in runtime and "scipy" not in runtime


@pytest.mark.parametrize("source", ["digits", "edges2digits", "digits2negative"])
def test_digit_batches_do_not_import_sklearn_or_scipy(source):
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from ganbuilder.data import BatchSampler, open_source\n"
        f"src = open_source({{'source': {source!r}, 'image_size': 16}}, Path('.'))\n"
        "batch = BatchSampler(src, 4, seed=0).next()\n"
        "assert all(v.shape[0] == 4 for v in batch.values()), batch\n"
        "print(sorted(m for m in ('sklearn', 'scipy') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
