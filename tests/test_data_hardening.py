"""Bad data gives one clear error (or, with `bad_images: skip`, a warning per file), never a
traceback: damaged and oversized images, damaged IDX headers, classes that differ from the spec."""

import io
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganbuilder.cli import main
from ganbuilder.data import open_source, tensor_shapes
from ganbuilder.data.imagefiles import BadImageWarning
from ganbuilder.errors import DataError
from tests.conftest import TINY


def write_gray(path: Path, value: int, size: tuple[int, int] = (8, 8)) -> None:
    """A flat gray image whose value identifies it in a batch."""
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("L", size, value).save(path)


def write_truncated(path: Path) -> None:
    """A PNG cut off after its header: opens, fails while decoding."""
    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)).save(
        buf, "PNG"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue()[:60])


def write_bomb(path: Path, side: int = 100_000) -> None:
    """A tiny PNG whose header claims side x side pixels (a decompression bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 16))
        + chunk(b"IEND", b"")
    )


def folder(root: Path, **keys) -> dict:
    return {"source": "folder", "root": str(root), "image_size": 8, "channels": 1, **keys}


def values(batch: dict) -> list[int]:
    """The gray value of each image of a batch."""
    return ((batch["real"].mean((1, 2, 3)) + 1) * 127.5).round().long().tolist()


# --- bad_images -------------------------------------------------------------------------------


def test_skip_uses_the_next_image_and_warns_once_per_file(tmp_path):
    for i in range(10):
        write_gray(tmp_path / f"{i:02d}.png", 10 * i)
    write_truncated(tmp_path / "04b.png")  # sorts between 04 and 05
    src = open_source(folder(tmp_path), tmp_path)
    assert src.files[5].name == "04b.png"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first = values(src.fixed_batch(len(src)))
        second = values(src.fixed_batch(len(src)))
    assert first == second == [0, 10, 20, 30, 40, 50, 50, 60, 70, 80, 90]
    skipped = [w for w in caught if issubclass(w.category, BadImageWarning)]
    assert len(skipped) == 1
    assert "04b.png" in str(skipped[0].message)


def test_skip_keeps_the_label_of_the_stand_in(tmp_path):
    write_gray(tmp_path / "a" / "1.png", 10)
    write_truncated(tmp_path / "a" / "2.png")
    write_gray(tmp_path / "b" / "1.png", 200)
    src = open_source(folder(tmp_path), tmp_path)
    with pytest.warns(BadImageWarning, match="2.png"):
        batch = src.fixed_batch(3)
    assert values(batch) == [10, 200, 200]
    assert batch["label"].tolist() == [0, 1, 1]


def test_skip_stops_when_more_than_one_percent_are_bad(tmp_path):
    for i in range(8):
        write_gray(tmp_path / f"{i}.png", i)
    write_truncated(tmp_path / "bad1.png")
    write_truncated(tmp_path / "bad2.png")
    src = open_source(folder(tmp_path), tmp_path)
    with pytest.raises(DataError) as info, warnings.catch_warnings():
        warnings.simplefilter("ignore", BadImageWarning)
        src.fixed_batch(len(src))
    problem = info.value.problems[0]
    assert problem.path == "data.root"
    assert "2 of 10 image files are unreadable" in problem.message
    assert "bad2.png" in problem.message


def test_fail_names_the_file(tmp_path):
    write_gray(tmp_path / "a.png", 1)
    write_truncated(tmp_path / "b.png")
    src = open_source(folder(tmp_path, bad_images="fail"), tmp_path)
    with pytest.raises(DataError) as info:
        src.fixed_batch(2)
    message = info.value.problems[0].message
    assert f"cannot read image {tmp_path / 'b.png'}" in message
    assert "bad_images: skip" in message


def test_bad_images_is_checked_by_the_schema(tmp_path):
    with pytest.raises(DataError) as info:
        tensor_shapes(folder(tmp_path, bad_images="ignore"))
    assert info.value.problems[0].path == "data.bad_images"


def test_paired_and_unpaired_skip_too(tmp_path):
    for i in range(3):
        Image.new("L", (16, 8), 20 * i).save(tmp_path / f"p{i}.png")
    write_truncated(tmp_path / "p1b.png")
    paired = open_source(
        {"source": "paired", "root": str(tmp_path), "image_size": 8, "channels": 1}, tmp_path
    )
    with pytest.warns(BadImageWarning, match="p1b.png"):
        batch = paired.fixed_batch(4)
    assert ((batch["real_A"].mean((1, 2, 3)) + 1) * 127.5).round().tolist() == [0, 20, 40, 40]
    for side in "AB":
        for i in range(3):
            write_gray(tmp_path / "u" / f"train{side}" / f"{i}.png", 30 * i)
    write_truncated(tmp_path / "u" / "trainB" / "0b.png")
    unpaired = open_source(
        {"source": "unpaired", "root": str(tmp_path / "u"), "image_size": 8, "channels": 1},
        tmp_path,
    )
    with pytest.warns(BadImageWarning, match="0b.png"):
        batch = unpaired.fixed_batch(4)
    assert ((batch["real_B"].mean((1, 2, 3)) + 1) * 127.5).round().tolist() == [0, 30, 30, 60]


def test_a_wrong_layout_is_not_skipped(tmp_path):
    # A square image where an aligned pair belongs is a layout mistake, not a damaged file.
    Image.new("L", (16, 8)).save(tmp_path / "a.png")
    Image.new("L", (8, 8)).save(tmp_path / "b.png")
    src = open_source({"source": "paired", "root": str(tmp_path), "image_size": 8}, tmp_path)
    with pytest.raises(DataError, match="side by side"):
        src.fixed_batch(2)


@pytest.fixture
def tiny_dcgan_on(tmp_path):
    """CLI arguments that train the tiny DCGAN on a folder of 16x16 gray images."""

    def args(root: Path, *extra: str) -> list[str]:
        sets = [*TINY["dcgan"], "params.nc=1", "data.source=folder", f"data.root={root}",
                "data.batch_size=4", "training.sample_every=100", *extra]
        return ["run", "specs/dcgan.yaml", "--steps", "3", "--out", str(tmp_path / "run"),
                *[a for s in sets for a in ("--set", s)]]

    return args


def test_a_run_reports_its_data_and_survives_a_bad_file(tmp_path, tiny_dcgan_on, capsys):
    for i in range(12):
        write_gray(tmp_path / "data" / ("a" if i < 6 else "b") / f"{i:02d}.png", 10 * i, (16, 12))
    write_gray(tmp_path / "data" / "b" / "big.png", 1, (40, 30))
    (tmp_path / "data" / "a" / "03b.png").write_bytes(b"not an image")
    assert main(tiny_dcgan_on(tmp_path / "data")) == 0
    err = capsys.readouterr().err
    # The sample grid alone asks for it several times; it is reported once, as one line.
    bad = tmp_path / "data" / "a" / "03b.png"
    warned = [line for line in err.splitlines() if line.startswith("warning:")]
    assert len(warned) == 1
    assert warned[0].startswith(f"warning: skipping an unreadable file: cannot read image {bad}: ")
    assert f"data: {tmp_path / 'data'}: 14 images, 2 classes (a, b), " in err
    assert "sizes 16x12 to 40x30, 1 unreadable" in err
    assert (tmp_path / "run" / "checkpoints" / "last.pt").is_file()


def test_a_run_with_bad_images_fail_stops_with_the_file_named(tmp_path, tiny_dcgan_on, capsys):
    for i in range(6):
        write_gray(tmp_path / "data" / f"{i}.png", i, (16, 16))
    write_truncated(tmp_path / "data" / "2b.png")
    assert main(tiny_dcgan_on(tmp_path / "data", "data.bad_images=fail")) == 2
    err = capsys.readouterr().err
    assert f"cannot read image {tmp_path / 'data' / '2b.png'}" in err
    assert "Traceback" not in err


# --- oversized images -------------------------------------------------------------------------


def test_a_decompression_bomb_is_refused(tmp_path):
    write_gray(tmp_path / "a.png", 1)
    write_bomb(tmp_path / "bomb.png")
    src = open_source(folder(tmp_path, bad_images="fail"), tmp_path)
    with pytest.raises(DataError) as info:
        src.fixed_batch(2)
    message = info.value.problems[0].message
    assert f"cannot read image {tmp_path / 'bomb.png'}: it is too large" in message
    assert "10000000000 pixels" in message


def test_an_image_over_the_warning_limit_is_refused_too(tmp_path, monkeypatch):
    # PIL only warns between MAX_IMAGE_PIXELS and twice that; the warning must not slip by.
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    write_gray(tmp_path / "a.png", 1, (12, 10))
    src = open_source(folder(tmp_path, bad_images="fail"), tmp_path)
    with pytest.raises(DataError, match="too large"), warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing else may leak out as a warning
        src.fixed_batch(1)


# --- classes ----------------------------------------------------------------------------------


def test_classes_that_differ_from_the_subfolders_name_both_lists(tmp_path):
    for name in ("cat", "dog"):
        write_gray(tmp_path / name / "1.png", 1)
    with pytest.raises(DataError) as info:
        open_source(folder(tmp_path, classes=["cat", "bird"]), tmp_path)
    problem = info.value.problems[0]
    assert problem.path == "data.classes"
    assert "['cat', 'bird'] differ from the class subfolders" in problem.message
    assert "['cat', 'dog']" in problem.message
    assert "no subfolder for bird; not in the list: dog" in problem.message


def test_classes_given_in_the_spec_set_the_label_order(tmp_path):
    write_gray(tmp_path / "cat" / "1.png", 10)
    write_gray(tmp_path / "dog" / "1.png", 20)
    src = open_source(folder(tmp_path, classes=["dog", "cat"]), tmp_path)
    assert src.class_names == ["dog", "cat"]
    batch = src.fixed_batch(2)
    assert list(zip(values(batch), batch["label"].tolist(), strict=True)) == [(20, 0), (10, 1)]
    # Declared classes make the label's shape known without looking at the folder.
    assert "label" in tensor_shapes(folder(tmp_path / "missing", classes=["x"]))


def test_classes_without_subfolders_or_with_labels_none(tmp_path):
    write_gray(tmp_path / "flat.png", 1)
    with pytest.raises(DataError, match=r"\['a'\] differ .* \[\]"):
        open_source(folder(tmp_path, classes=["a"]), tmp_path)
    with pytest.raises(DataError) as info:
        tensor_shapes(folder(tmp_path, classes=["a"], labels="none"))
    assert info.value.problems[0].path == "data.classes"


def test_a_run_with_other_classes_points_at_the_spec(tmp_path, tiny_dcgan_on, capsys):
    for name in ("cat", "dog"):
        write_gray(tmp_path / "data" / name / "1.png", 1, (16, 16))
    args = tiny_dcgan_on(tmp_path / "data", "data.classes=[cat, fox]")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "data.classes: the spec's classes ['cat', 'fox'] differ" in err
    assert "['cat', 'dog']" in err and "Traceback" not in err


# --- IDX headers ------------------------------------------------------------------------------


def write_idx_header(path: Path, magic: int, dims: list[int], payload: bytes = b"") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + payload
    )


@pytest.mark.parametrize(
    "dims",
    [
        [2**31, 2**31, 2**31],  # the product wraps round to 0 in int64
        [2**32 - 1, 2**32 - 1, 2**32 - 1],
        [2**32 - 1, 2**32 - 1, 3],  # wraps round to a small negative number
    ],
)
def test_an_idx_header_whose_dimensions_overflow(tmp_path, dims):
    write_idx_header(tmp_path / "train-images-idx3-ubyte", 2051, dims, bytes(64))
    write_idx_header(tmp_path / "train-labels-idx1-ubyte", 2049, [1], b"\0")
    with pytest.raises(DataError) as info:
        open_source({"source": "mnist", "root": str(tmp_path)}, tmp_path)
    problem = info.value.problems[0]
    assert problem.path == "data.root"
    assert "train-images-idx3-ubyte is truncated or its header is damaged" in problem.message
    assert str(dims) in problem.message


def test_idx_images_of_no_pixels(tmp_path):
    write_idx_header(tmp_path / "train-images-idx3-ubyte", 2051, [2, 0, 28])
    write_idx_header(tmp_path / "train-labels-idx1-ubyte", 2049, [2], b"\0\1")
    with pytest.raises(DataError, match="declares images of 0x28 pixels"):
        open_source({"source": "mnist", "root": str(tmp_path)}, tmp_path)


def test_a_lone_unreadable_file_is_one_error_without_a_warning(tmp_path):
    write_truncated(tmp_path / "only.png")
    src = open_source(folder(tmp_path), tmp_path)
    with pytest.raises(DataError) as info, warnings.catch_warnings():
        warnings.simplefilter("error")
        src.fixed_batch(1)
    assert "none of the 1 image files could be read: cannot read image" in str(info.value)
    assert "only.png" in str(info.value)


def test_idx_labels_outside_the_digits(tmp_path):
    write_idx_header(tmp_path / "train-images-idx3-ubyte", 2051, [2, 2, 2], bytes(8))
    write_idx_header(tmp_path / "train-labels-idx1-ubyte", 2049, [2], b"\3\xc8")
    with pytest.raises(DataError, match=r"holds label 200; MNIST labels are the digits 0\.\.9"):
        open_source({"source": "mnist", "root": str(tmp_path)}, tmp_path)


def test_more_class_folders_than_the_spec_draws_is_named(tmp_path, capsys):
    for c in range(12):  # twelve classes; cgan's one_hot layers take ten
        for i in range(2):
            write_gray(tmp_path / "data" / f"class{c:02d}" / f"{i}.png", 20 * c + i, (16, 16))
    code = main(["run", "specs/cgan.yaml", "--set", "data.source=folder", "--set",
                 f"data.root={tmp_path / 'data'}", "--set", "data.channels=1", "--set",
                 "data.batch_size=24", "--steps", "2", "--quiet", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    assert "data.root: the data has 12 classes (labels 0-11)" in err and "to 12" in err
