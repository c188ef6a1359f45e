"""Tests for ganbuilder.data: shapes, ranges, reproducible sampling, resume, errors, schema."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from jsonschema import Draft202012Validator
from PIL import Image

from ganbuilder.data import SOURCES, data_schema, open_source, tensor_shapes
from ganbuilder.errors import DataError
from tests.conftest import expect_data_error
from tests.labelmap_files import write_labelmaps

# --- fixtures: tiny data sets on disk -------------------------------------------------------


def write_png(path: Path, seed: int, size: tuple[int, int] = (12, 10), mode: str = "RGB") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(path)


@pytest.fixture(scope="module")
def image_dirs(tmp_path_factory) -> Path:
    """classes/{cat,dog}/... (labelled) and flat/... (unlabelled), mixed extensions and case."""
    base = tmp_path_factory.mktemp("images")
    for i in range(5):
        write_png(base / "classes" / "cat" / f"c{i}.png", i)
        write_png(base / "classes" / "dog" / "nested" / f"d{i}.PNG", 10 + i, mode="L")
    (base / "classes" / "empty").mkdir()
    (base / "classes" / "notes.txt").write_text("not an image")
    for i in range(6):
        write_png(base / "flat" / f"f{i}.png", 20 + i)
    Image.new("RGB", (9, 9), (1, 2, 3)).save(base / "flat" / "g.JPG")
    return base


def idx_bytes(array: np.ndarray, magic: int) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.astype(np.uint8).tobytes()


def write_mnist(folder: Path, n: int, prefix: str = "train", gz: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(n)
    files = {
        f"{prefix}-images-idx3-ubyte": idx_bytes(rng.integers(0, 256, (n, 28, 28)), 2051),
        f"{prefix}-labels-idx1-ubyte": idx_bytes(rng.integers(0, 10, (n,)), 2049),
    }
    for name, data in files.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)


@pytest.fixture(scope="module")
def label_dirs(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("labelmaps")
    write_labelmaps(base / "plain")
    write_labelmaps(base / "instances" / "train", n=4, dontcare=None, instances=True)
    return base


@pytest.fixture(scope="module")
def mnist_dirs(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("mnist")
    write_mnist(base / "raw", 40)
    write_mnist(base / "raw", 20, prefix="t10k")
    write_mnist(base / "gz", 30, gz=True)
    write_mnist(base / "tv" / "MNIST" / "raw", 25, gz=True)
    return base


ATTRIBUTES = ["Black_Hair", "Blond_Hair", "Male"]


def write_celeba(folder: Path, n: int) -> None:
    """CelebA's layout: list_attr_celeba.txt (count, names, +1/-1 rows) and img_align_celeba/."""
    names = ["5_o_Clock_Shadow", *ATTRIBUTES, "Young"]
    rows = [f"{i:06d}.jpg " + " ".join("1" if (i + k) % 3 == 0 else "-1"
                                       for k in range(len(names))) for i in range(n)]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "list_attr_celeba.txt").write_text("\n".join([str(n), " ".join(names), *rows]))
    for i in range(n):
        write_png(folder / "img_align_celeba" / f"{i:06d}.jpg", i, size=(18, 22))


@pytest.fixture(scope="module")
def celeba_dir(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("celeba")
    write_celeba(base, 9)
    return base


# Each case: (id, cfg with {images}/{mnist}/{pairs}/{labels}/{celeba} placeholders in root,
# expected length, classes).
CASES = [
    ("digits", {"source": "digits", "image_size": 16}, 1797, 10),
    ("digits-rgb-subset", {"source": "digits", "channels": 3, "classes": [7, 1]}, 361, 2),
    ("ring8", {"source": "ring8", "size": 300}, 300, 8),
    ("grid25", {"source": "grid25", "size": 300, "seed": 3}, 300, 25),
    ("folder-classes", {"source": "folder", "root": "{images}/classes", "image_size": 8}, 10, 2),
    (
        "folder-flat-gray",
        {"source": "folder", "root": "{images}/flat", "image_size": 6, "channels": 1},
        7,
        None,
    ),
    (
        "folder-crop-flip",
        {
            "source": "folder",
            "root": "{images}/classes",
            "image_size": 8,
            "load_size": 11,
            "flip": True,
        },
        10,
        2,
    ),
    (
        "folder-no-labels",
        {"source": "folder", "root": "{images}/classes", "image_size": 8, "labels": "none"},
        10,
        None,
    ),
    ("mnist-raw", {"source": "mnist", "root": "{mnist}/raw"}, 40, 10),
    ("mnist-test", {"source": "mnist", "root": "{mnist}/raw", "split": "test"}, 20, 10),
    (
        "mnist-gz-resized",
        {"source": "mnist", "root": "{mnist}/gz", "image_size": 16, "channels": 3},
        30,
        10,
    ),
    ("mnist-torchvision", {"source": "mnist", "root": "{mnist}/tv", "image_size": 32}, 25, 10),
    ("digits-test", {"source": "digits", "split": "test", "image_size": 8}, 359, 10),
    (
        "paired-aligned-crop",
        {"source": "paired", "root": "{pairs}/aligned", "image_size": 8, "load_size": 12},
        5,
        None,
    ),
    (
        "paired-folders-gray-BtoA",
        {
            "source": "paired",
            "root": "{pairs}/folders",
            "image_size": 6,
            "channels_A": 1,
            "direction": "BtoA",
            "flip": False,
        },
        4,
        None,
    ),
    (
        "unpaired",
        {"source": "unpaired", "root": "{pairs}/unpaired", "image_size": 6, "load_size": 8},
        6,
        None,
    ),
    (
        "unpaired-test-serial",
        {
            "source": "unpaired",
            "root": "{pairs}/unpaired",
            "phase": "test",
            "serial": True,
            "image_size": 8,
            "channels_B": 1,
        },
        3,
        None,
    ),
    ("edges2digits", {"source": "edges2digits", "image_size": 16}, 1438, 10),
    (
        "edges2digits-test-rgb-BtoA",
        {"source": "edges2digits", "split": "test", "channels": 3, "direction": "BtoA"},
        359,
        10,
    ),
    ("digits2negative", {"source": "digits2negative", "image_size": 16}, 719, 10),
    ("labelmaps", {"source": "labelmaps", "root": "{labels}/plain", "classes": 3, "dontcare": 255,
                   "image_size": 6, "load_size": 8}, 5, None),
    ("labelmaps-instances", {"source": "labelmaps", "root": "{labels}/instances", "classes": 3,
                             "instances": True, "image_size": 8}, 4, None),
    ("labels2digits", {"source": "labels2digits", "image_size": 16}, 1438, 10),
    ("digit_domains", {"source": "digit_domains", "image_size": 16}, 1438 * 5, 5),
    ("digit_domains-test-rgb",
     {"source": "digit_domains", "split": "test", "channels": 3, "domains": ["dim", "plain"]},
     359 * 2, 2),
    ("celeba_attributes", {"source": "celeba_attributes", "root": "{celeba}",
                           "attributes": ATTRIBUTES, "image_size": 8, "crop_size": 16,
                           "test_size": 2}, 7, None),
    (
        "digits2negative-test-rgb",
        {"source": "digits2negative", "split": "test", "channels": 3},
        359,
        10,
    ),
    ("digits_sr", {"source": "digits_sr", "image_size": 16}, 1438, None),
    ("digits_sr-test-rgb-x2", {"source": "digits_sr", "split": "test", "factor": 2,
                               "channels": 3}, 359, None),
    ("superres-flat", {"source": "superres", "root": "{images}/flat", "image_size": 8,
                       "factor": 2, "split": "all"}, 7, None),
]


def test_cases_cover_every_source():
    assert {cfg["source"] for _, cfg, _, _ in CASES} == set(SOURCES.names())


@pytest.fixture
def make_cfg(image_dirs, mnist_dirs, pair_dirs, label_dirs, celeba_dir):
    def fill(cfg: dict) -> dict:
        out = dict(cfg)
        if "root" in out:
            out["root"] = out["root"].format(images=image_dirs, mnist=mnist_dirs, pairs=pair_dirs,
                                             labels=label_dirs, celeba=celeba_dir)
        return out

    return fill


@pytest.mark.parametrize(
    ("cfg", "length", "classes"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_batches_match_declared_shapes(make_cfg, cfg, length, classes):
    cfg = make_cfg(cfg)
    shapes = tensor_shapes(cfg)
    src = open_source(cfg, Path("."))
    assert len(src) == length
    assert src.num_classes == classes
    for batch in (src.sampler(min(4, len(src)), seed=0).next(), src.fixed_batch(3)):
        assert set(batch) == set(shapes)
        for name, shape in shapes.items():
            assert list(batch[name].shape[1:]) == shape, name
            if name.startswith("label") and not shape:
                assert batch[name].dtype == torch.int64
                assert int(batch[name].min()) >= 0 and int(batch[name].max()) < classes
            elif batch[name].dtype == torch.int64:  # another class index (a digit_domains digit)
                assert int(batch[name].min()) >= 0
            else:
                assert batch[name].dtype == torch.float32
                if len(shape) == 3:  # images live in [-1, 1]
                    assert batch[name].min() >= -1.0 and batch[name].max() <= 1.0


@pytest.mark.parametrize("cfg", [c[1] for c in CASES], ids=[c[0] for c in CASES])
def test_sampler_reproducible_and_resumable(make_cfg, cfg, tmp_path):
    src = open_source(make_cfg(cfg), Path("."))
    batch_size = 4 if len(src) >= 8 else 3  # small sets cross epoch boundaries on purpose

    def draw(sampler, n):
        return [sampler.next() for _ in range(n)]

    a, b = src.sampler(batch_size, seed=7), src.sampler(batch_size, seed=7)
    first_a, first_b = draw(a, 3), draw(b, 3)
    for x, y in zip(first_a, first_b, strict=True):
        for name in x:
            assert torch.equal(x[name], y[name])

    torch.save(a.state_dict(), tmp_path / "state.pt")
    expected = draw(a, 2)
    fresh = src.sampler(batch_size, seed=123)
    fresh.load_state_dict(torch.load(tmp_path / "state.pt", weights_only=True))
    for x, y in zip(expected, draw(fresh, 2), strict=True):
        for name in x:
            assert torch.equal(x[name], y[name])


def test_epochs_are_permutations_and_drop_the_tail():
    src = open_source({"source": "ring8", "size": 10}, Path("."))
    sampler = src.sampler(3, seed=1)
    seen = [sampler.next()["real"] for _ in range(3)]
    points = torch.cat(seen)
    assert len(torch.unique(points, dim=0)) == 9  # no repeats within an epoch
    sampler.next()
    assert sampler.epoch == 2


def test_different_seeds_differ_and_fixed_batch_is_deterministic(make_cfg):
    src = open_source(make_cfg({"source": "digits"}), Path("."))
    assert not torch.equal(src.sampler(8, 1).next()["real"], src.sampler(8, 2).next()["real"])
    assert torch.equal(src.fixed_batch(5)["label"], torch.tensor([0, 1, 2, 3, 4]))
    small = open_source(
        make_cfg({"source": "folder", "root": "{images}/flat", "image_size": 4}), Path(".")
    )
    cycled = small.fixed_batch(9)["real"]
    assert torch.equal(cycled[0], cycled[7]) and torch.equal(small.fixed_batch(9)["real"], cycled)


def test_folder_classes_and_relative_root(image_dirs):
    cfg = {"source": "folder", "root": "classes", "image_size": 8}
    assert tensor_shapes(cfg, image_dirs) == {"real": [3, 8, 8], "label": []}
    src = open_source(cfg, image_dirs)
    assert src.class_names == ["cat", "dog"]
    assert src.fixed_batch(10)["label"].tolist() == [0] * 5 + [1] * 5


def test_digits_are_bilinear_upsampled():
    import torch.nn.functional as F
    from sklearn.datasets import load_digits

    src = open_source({"source": "digits", "image_size": 24}, Path("."))
    raw = torch.from_numpy(load_digits().images[:2]).float().unsqueeze(1) / 8.0 - 1.0
    want = F.interpolate(raw, size=(24, 24), mode="bilinear", align_corners=False)
    assert torch.allclose(src.fixed_batch(2)["real"], want, atol=1e-5)


def test_toy_mixtures_sit_on_their_means():
    ring = open_source({"source": "ring8", "size": 2000}, Path(".")).fixed_batch(2000)
    assert torch.allclose(ring["real"].norm(dim=1), torch.ones(2000), atol=0.06)
    grid = open_source({"source": "grid25", "size": 2000}, Path(".")).fixed_batch(2000)
    means = torch.tensor([[x, y] for x in (-4, -2, 0, 2, 4) for y in (-4, -2, 0, 2, 4)]).float()
    assert (grid["real"] - means[grid["label"]]).abs().max() < 0.3


# --- errors -----------------------------------------------------------------------------------


def test_folder_errors(tmp_path):
    expect_data_error(
        {"source": "folder", "root": "nope"},
        tmp_path,
        "data.root",
        f"data folder not found: {tmp_path / 'nope'}",
    )
    (tmp_path / "empty" / "sub").mkdir(parents=True)
    (tmp_path / "empty" / "a.txt").write_text("x")
    expect_data_error(
        {"source": "folder", "root": "empty"},
        tmp_path,
        "data.root",
        f"no images (png, jpg, jpeg, bmp, webp) found under {tmp_path / 'empty'}",
    )
    expect_data_error(
        {"source": "folder", "root": "empty", "labels": "subfolders"},
        tmp_path,
        "data.root",
        "no class subfolders",
    )
    write_png(tmp_path / "bad" / "good.png", 0)
    (tmp_path / "bad" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nnot really")
    expect_data_error(
        {"source": "folder", "root": "bad", "bad_images": "fail"},
        tmp_path,
        "data.root",
        "cannot read image",
        "broken.png",
    )
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (5, 6, 7)).save(buf, "PNG")
    (tmp_path / "trunc").mkdir()
    (tmp_path / "trunc" / "t.png").write_bytes(buf.getvalue()[:60])
    expect_data_error({"source": "folder", "root": "trunc"}, tmp_path, "data.root", "t.png")
    expect_data_error(
        {"source": "folder", "root": "bad", "image_size": 32, "load_size": 16},
        tmp_path,
        "data.load_size",
        "load_size (16) must be at least image_size",
    )


def test_mnist_errors(tmp_path, mnist_dirs):
    (tmp_path / "m").mkdir()
    expect_data_error(
        {"source": "mnist", "root": "m"},
        tmp_path,
        "data.root",
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "MNIST/raw",
    )
    expect_data_error(
        {"source": "mnist", "root": "m", "split": "test"},
        tmp_path,
        "data.root",
        "t10k-images-idx3-ubyte",
    )
    expect_data_error(
        {"source": "mnist", "root": "missing"}, tmp_path, "data.root", "data folder not found"
    )
    write_mnist(tmp_path / "m", 5)
    images = tmp_path / "m" / "train-images-idx3-ubyte"
    images.write_bytes(images.read_bytes()[:-10])
    expect_data_error(
        {"source": "mnist", "root": "m"},
        tmp_path,
        "data.root",
        "train-images-idx3-ubyte is truncated",
    )
    labels = tmp_path / "m" / "train-labels-idx1-ubyte"
    images.write_bytes(labels.read_bytes())
    expect_data_error(
        {"source": "mnist", "root": "m"}, tmp_path, "data.root", "magic number 2049, expected 2051"
    )
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "train-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    (tmp_path / "g" / "train-labels-idx1-ubyte").write_bytes(labels.read_bytes())
    expect_data_error(
        {"source": "mnist", "root": "g"},
        tmp_path,
        "data.root",
        "cannot read",
        "train-images-idx3-ubyte.gz",
    )


def test_config_errors(tmp_path):
    expect_data_error({"source": "digitz"}, tmp_path, "data.source", "did you mean 'digits'")
    expect_data_error(
        {"source": "digits", "imagesize": 8},
        tmp_path,
        "data.imagesize",
        "unknown key 'imagesize'",
        "did you mean 'image_size'",
    )
    expect_data_error({"source": "digits", "channels": 2}, tmp_path, "data.channels")
    expect_data_error({"source": "digits", "batch_size": 0}, tmp_path, "data.batch_size")
    src = open_source({"source": "ring8", "size": 5}, tmp_path)
    with pytest.raises(DataError) as info:
        src.sampler(6, seed=0)
    assert info.value.problems[0].path == "data.batch_size"
    assert "batch_size 6 is larger than the data set (5 items)" in str(info.value)
    state = src.sampler(2, seed=0).state_dict()
    with pytest.raises(DataError, match="data set of 5 items"):
        open_source({"source": "ring8", "size": 6}, tmp_path).sampler(2, 0).load_state_dict(state)


# --- schema and the torch-free side ------------------------------------------------------------


def test_schema_accepts_good_and_rejects_bad_configs():
    validator = Draft202012Validator(data_schema())
    Draft202012Validator.check_schema(data_schema())
    for _, cfg, _, _ in CASES:
        assert not list(validator.iter_errors({**cfg, "batch_size": 8})), cfg
    bad = [
        {"source": "digits", "unknown": 1},
        {"source": "digits", "root": "x"},  # a key of another source
        {"source": "folder"},  # root required
        {"source": "folder", "root": "x", "flip": "yes"},
        {"source": "mnist", "root": "x", "split": "val"},
        {"source": "digits", "batch_size": 0},
        {"source": "nope"},
        {"image_size": 8},
    ]
    for cfg in bad:
        assert list(validator.iter_errors(cfg)), cfg


def test_every_key_documents_type_default_and_description():
    for name, src in SOURCES.items():
        for key, prop in src.schema.items():
            assert "type" in prop and "description" in prop, (name, key)
            derived = "defaults to" in prop["description"]  # e.g. channels_A from channels
            assert key in src.required or "default" in prop or derived, (name, key)


def test_tensor_shapes_defaults():
    assert tensor_shapes({"source": "digits"}) == {"real": [1, 32, 32], "label": []}
    assert tensor_shapes({"source": "mnist", "root": "x"}) == {"real": [1, 28, 28], "label": []}
    assert tensor_shapes({"source": "ring8"}) == {"real": [2], "label": []}
    assert tensor_shapes({"source": "folder", "root": "missing"}) == {"real": [3, 64, 64]}
    assert tensor_shapes({"source": "folder", "root": "x", "labels": "subfolders"})["label"] == []


def test_schema_and_shapes_do_not_import_torch(image_dirs):
    code = (
        "import sys, ganbuilder.data as d\n"
        "d.data_schema()\n"
        "d.tensor_shapes({'source': 'digits', 'image_size': 16})\n"
        f"d.tensor_shapes({{'source': 'folder', 'root': {str(image_dirs / 'classes')!r}}})\n"
        "d.tensor_shapes({'source': 'mnist', 'root': 'x'})\n"
        "for s in ('edges2digits', 'digits2negative'):\n"
        "    d.tensor_shapes({'source': s})\n"
        "for s in ('paired', 'unpaired'):\n"
        "    d.tensor_shapes({'source': s, 'root': 'x', 'load_size': 300})\n"
        "print(sorted(m for m in ('torch', 'PIL', 'sklearn') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_digits_subset_is_small_fixed_and_keeps_every_class():
    cfg = {"source": "digits", "split": "train", "subset": 200}
    first, again = open_source(cfg, Path(".")), open_source(cfg, Path("."))
    assert len(first) == 200
    assert torch.equal(first.tensors["real"], again.tensors["real"])
    assert set(first.tensors["label"].tolist()) == set(range(10))
    assert len(open_source({**cfg, "subset": None}, Path("."))) == 1438
