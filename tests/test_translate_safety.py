"""`ganbuilder translate` never writes over what the user has, refuses bad images with one
message, and reads the right half of pix2pix's aligned A|B files."""

import hashlib
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganbuilder.cli import main
from ganbuilder.data.registry import with_defaults
from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer
from ganbuilder.translate import input_half, trained_on_aligned


def snapshot(folder: Path) -> dict[str, str]:
    """Every file under `folder` with a hash of its bytes."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def noise(path: Path, seed: int, size: tuple[int, int] = (32, 32)) -> np.ndarray:
    array = np.random.default_rng(seed).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(path)
    return array


@pytest.fixture(scope="module")
def cyclegan(tmp_path_factory) -> Path:
    spec = load_spec("specs/cyclegan.yaml", ["params.ngf=4", "params.ndf=4", "params.n_blocks=1",
                                             "params.image_size=32"])
    return Trainer(spec, tmp_path_factory.mktemp("cyclegan"), steps=1).run() / "checkpoints" / \
        "last.pt"


def translate(checkpoint: Path, source: Path, out: Path, *extra: str) -> int:
    return main(["translate", str(checkpoint), "--input", str(source), "--out", str(out), *extra])


# --- nothing is overwritten -------------------------------------------------------------------


def test_out_being_the_input_folder_is_refused(cyclegan, tmp_path, capsys):
    inputs = tmp_path / "in"
    noise(inputs / "a.png", 1)
    noise(inputs / "b.jpg", 2)
    before = snapshot(inputs)
    assert translate(cyclegan, inputs, inputs) == 2
    err = capsys.readouterr().err
    assert f"--out {inputs} holds the input images" in err and "Traceback" not in err
    assert snapshot(inputs) == before
    # A single input file next to --out, reached through another spelling of the path, too.
    assert translate(cyclegan, inputs / "a.png", tmp_path / "in" / ".." / "in", "--force") == 2
    assert snapshot(inputs) == before


def test_out_being_a_file_is_refused(cyclegan, tmp_path, capsys):
    noise(tmp_path / "in" / "a.png", 1)
    target = tmp_path / "result.png"
    target.write_bytes(b"mine")
    assert translate(cyclegan, tmp_path / "in", target, "--force") == 2
    assert "is a file; it must name a folder" in capsys.readouterr().err
    assert target.read_bytes() == b"mine"


def test_inputs_sharing_an_output_name_are_refused(cyclegan, tmp_path, capsys):
    inputs = tmp_path / "in"
    noise(inputs / "a.png", 1)
    noise(inputs / "a.jpg", 2)
    before = snapshot(inputs)
    assert translate(cyclegan, inputs, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert f"{inputs / 'a.jpg'} and {inputs / 'a.png'} would both be written to" in err
    assert not (tmp_path / "out").exists()  # refused before anything was written
    assert snapshot(inputs) == before


def test_existing_outputs_need_force(cyclegan, tmp_path, capsys):
    inputs, out = tmp_path / "in", tmp_path / "out"
    noise(inputs / "a.png", 1)
    noise(inputs / "b.png", 2)
    out.mkdir()
    (out / "b.png").write_bytes(b"an earlier result")
    (out / "notes.txt").write_text("keep me")
    assert translate(cyclegan, inputs, out) == 2
    assert "1 output file(s) already exist" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == ["b.png", "notes.txt"]
    assert (out / "b.png").read_bytes() == b"an earlier result"
    before = snapshot(inputs)
    assert translate(cyclegan, inputs, out, "--force") == 0
    assert sorted(p.name for p in out.iterdir()) == ["a.png", "b.png", "notes.txt"]
    assert Image.open(out / "b.png").size == (32, 32)
    assert (out / "notes.txt").read_text() == "keep me"
    assert snapshot(inputs) == before


# --- bad images -------------------------------------------------------------------------------


def write_bomb(path: Path, side: int = 100_000) -> None:
    """A tiny PNG whose header claims side x side pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n"
                     + chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def test_a_decompression_bomb_is_one_clear_error(cyclegan, tmp_path, capsys):
    write_bomb(tmp_path / "in" / "bomb.png")
    assert translate(cyclegan, tmp_path / "in", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert f"error: cannot read image {tmp_path / 'in' / 'bomb.png'}: it is too large" in err
    assert "Traceback" not in err and "Warning" not in err


def test_an_image_over_the_warning_limit_is_an_error_too(cyclegan, tmp_path, capsys,
                                                         monkeypatch):
    noise(tmp_path / "in" / "a.png", 1, (40, 30))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 1200 pixels: PIL would only warn
    assert translate(cyclegan, tmp_path / "in", tmp_path / "out") == 2
    assert "it is too large" in capsys.readouterr().err


def test_a_corrupt_image_is_named(cyclegan, tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    assert translate(cyclegan, tmp_path / "in", tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert f"error: cannot read image {tmp_path / 'in' / 'broken.jpg'}" in err
    assert "Traceback" not in err


# --- aligned A|B pairs ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def pix2pix(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("pix2pix")
    for i in range(2):
        noise(base / "data" / f"{i}.png", i, (64, 32))
    spec = load_spec("specs/pix2pix.yaml", [
        "params.image_size=32", "params.ngf=4", "params.ndf=4", "data.source=paired",
        f"data.root={base / 'data'}", "data.batch_size=2"])
    return Trainer(spec, base / "run", steps=1).run() / "checkpoints" / "last.pt"


def test_an_aligned_pair_is_translated_from_its_input_half(pix2pix, tmp_path):
    left = noise(tmp_path / "pair" / "p.png", 5, (32, 32))
    right = noise(tmp_path / "right" / "p.png", 6, (32, 32))
    noise(tmp_path / "left" / "p.png", 5, (32, 32))
    Image.fromarray(np.concatenate([left, right], axis=1)).save(tmp_path / "pair" / "p.png")
    for name in ("pair", "left", "right"):
        assert translate(pix2pix, tmp_path / name, tmp_path / f"out_{name}") == 0
    assert translate(pix2pix, tmp_path / "pair", tmp_path / "out_whole", "--no-aligned") == 0

    def result(name: str) -> np.ndarray:
        return np.asarray(Image.open(tmp_path / f"out_{name}" / "p.png"))

    assert np.array_equal(result("pair"), result("left"))  # A is the left half
    assert not np.array_equal(result("pair"), result("right"))
    assert not np.array_equal(result("pair"), result("whole"))  # squashed, as before


def test_aligned_flag_splits_any_wide_image_and_refuses_square_ones(pix2pix, tmp_path, capsys):
    noise(tmp_path / "in" / "wide.png", 1, (80, 32))  # not exactly 2:1, so auto keeps it whole
    assert translate(pix2pix, tmp_path / "in", tmp_path / "auto") == 0
    assert translate(pix2pix, tmp_path / "in", tmp_path / "split", "--aligned") == 0
    auto = np.asarray(Image.open(tmp_path / "auto" / "wide.png"))
    assert not np.array_equal(auto, np.asarray(Image.open(tmp_path / "split" / "wide.png")))
    noise(tmp_path / "sq" / "s.png", 1, (32, 32))
    assert translate(pix2pix, tmp_path / "sq", tmp_path / "o", "--aligned") == 2
    err = capsys.readouterr().err
    assert "is 32x32; an aligned pair holds A and B side by side" in err
    assert "Traceback" not in err


def test_the_input_half_follows_the_direction_and_the_spec_data():
    assert input_half({"direction": "AtoB"}, "AtoB") == 0
    assert input_half({"direction": "AtoB"}, "BtoA") == 1
    # data.direction BtoA swaps the sides, so real_A is the stored right half.
    assert input_half({"direction": "BtoA"}, "AtoB") == 1
    assert input_half({"direction": "BtoA"}, "BtoA") == 0
    assert input_half({}, "AtoB") == 0


def test_auto_splitting_follows_the_training_layout(tmp_path):
    def trained_on(root: Path) -> bool:
        spec = load_spec("specs/pix2pix.yaml", ["data.source=paired", f"data.root={root}"])
        return trained_on_aligned(spec, with_defaults(spec.tree["data"]))

    noise(tmp_path / "aligned" / "val" / "1.png", 1, (64, 32))
    for side in "AB":
        noise(tmp_path / "folders" / "train" / side / "1.png", 1)
    assert trained_on(tmp_path / "aligned")
    assert not trained_on(tmp_path / "folders")  # wide photos there are single images
    assert trained_on(tmp_path / "gone")  # pix2pix's own layout is assumed
    assert not trained_on_aligned(load_spec("specs/pix2pix.yaml"), {"source": "edges2digits"})


def test_an_out_that_cannot_be_made_is_one_error(cyclegan, tmp_path, capsys):
    noise(tmp_path / "in" / "a.png", 1)
    (tmp_path / "file").write_text("x")
    assert translate(cyclegan, tmp_path / "in", tmp_path / "file" / "out") == 2
    err = capsys.readouterr().err
    assert (f"error: cannot write {tmp_path / 'file' / 'out' / 'a.png'}: {tmp_path / 'file'} "
            "is a file, not a folder") in err
    assert "Traceback" not in err
