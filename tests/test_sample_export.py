"""`ganbuilder sample --out-dir`: individual images or one .npz, labels beside conditional
samples, and folders that hold other files refused."""

import numpy as np
import pytest
from PIL import Image

from ganbuilder import sample_export
from ganbuilder.cli import main
from ganbuilder.sample_export import MANIFEST
from tests.conftest import TINY


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Two-step DCGAN (grey 16x16) and cGAN checkpoints."""
    root = tmp_path_factory.mktemp("export")
    out = {}
    for name, extra in (("dcgan", TINY["dcgan"]), ("cgan", [])):
        sets = [arg for item in extra for arg in ("--set", item)]
        assert main(["run", f"specs/{name}.yaml", *sets, "--steps", "2", "--out",
                     str(root / name), "--quiet"]) == 0
        out[name] = str(root / name / "checkpoints" / "last.pt")
    return out


def test_png_export_writes_one_image_per_sample_in_batches(checkpoints, tmp_path, capsys):
    out = tmp_path / "samples"
    assert main(["sample", checkpoints["dcgan"], "--n", "7", "--batch", "3", "--out-dir",
                 str(out)]) == 0
    assert listed(out) == [f"{i:06d}.png" for i in range(7)]
    with Image.open(out / "000000.png") as im:
        assert im.size == (16, 16) and im.mode == "L"
    captured = capsys.readouterr()
    assert "wrote 7/7 samples" in captured.err and "wrote 3/7" in captured.err
    assert "wrote 7 samples of 'fake'" in captured.out


def test_npz_export_matches_the_png_export(checkpoints, tmp_path):
    assert main(["sample", checkpoints["dcgan"], "--n", "5", "--batch", "2", "--out-dir",
                 str(tmp_path / "png")]) == 0
    assert main(["sample", checkpoints["dcgan"], "--n", "5", "--batch", "2", "--format", "npz",
                 "--out-dir", str(tmp_path / "npz")]) == 0
    with np.load(tmp_path / "npz" / "samples.npz") as data:
        images = data["images"]
        assert "labels" not in data.files
    assert images.shape == (5, 16, 16, 1) and images.dtype == np.uint8
    for i in range(5):
        png = np.asarray(Image.open(tmp_path / "png" / f"{i:06d}.png"))
        assert np.array_equal(png, images[i, ..., 0])
    assert images.std() > 0


def test_conditional_exports_write_labels(checkpoints, tmp_path):
    out = tmp_path / "c"
    assert main(["sample", checkpoints["cgan"], "--n", "12", "--out-dir", str(out)]) == 0
    rows = (out / "labels.csv").read_text().splitlines()
    assert rows[0] == "file,label"
    assert rows[1:4] == ["000000.png,0", "000001.png,1", "000002.png,2"]
    assert rows[11] == "000010.png,0"  # balanced over the 10 classes
    assert main(["sample", checkpoints["cgan"], "--n", "4", "--label", "7", "--format", "npz",
                 "--out-dir", str(tmp_path / "sevens")]) == 0
    with np.load(tmp_path / "sevens" / "samples.npz") as data:
        assert data["labels"].tolist() == [7, 7, 7, 7]


def test_a_folder_holding_files_is_refused_unless_forced(checkpoints, tmp_path, capsys):
    out = tmp_path / "busy"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main(["sample", checkpoints["dcgan"], "--n", "2", "--out-dir", str(out)]) == 2
    assert "is not empty" in capsys.readouterr().err
    assert main(["sample", checkpoints["dcgan"], "--n", "3", "--out-dir", str(out),
                 "--force"]) == 0
    # Forcing again with fewer samples replaces the earlier export, and only it.
    assert main(["sample", checkpoints["dcgan"], "--n", "1", "--out-dir", str(out),
                 "--force"]) == 0
    assert listed(out) == ["000000.png", "notes.txt"]


def listed(folder) -> list[str]:
    """The files of an export folder, less the manifest of what the export wrote."""
    return sorted(p.name for p in folder.iterdir() if p.name != MANIFEST)


def test_force_never_deletes_files_no_export_wrote(checkpoints, tmp_path, capsys):
    out = tmp_path / "mine"
    out.mkdir()
    for name in ("000000.png", "labels.csv", "samples.npz"):  # the user's, by our names
        (out / name).write_bytes(b"the user's own " + name.encode())
    assert main(["sample", checkpoints["dcgan"], "--n", "2", "--out-dir", str(out),
                 "--force"]) == 2
    err = capsys.readouterr().err
    assert "000000.png, which no ganbuilder export wrote" in err and err.count("\n") == 1
    assert main(["sample", checkpoints["dcgan"], "--format", "npz", "--out-dir", str(out),
                 "--force"]) == 2
    for name in ("000000.png", "labels.csv", "samples.npz"):
        assert (out / name).read_bytes() == b"the user's own " + name.encode()
    # Files of our names that this export does not write are left alone too.
    assert main(["sample", checkpoints["dcgan"], "--n", "1", "--out-dir", str(tmp_path / "e")
                 ]) == 0
    (tmp_path / "e" / "000007.png").write_bytes(b"mine")
    assert main(["sample", checkpoints["dcgan"], "--n", "2", "--out-dir", str(tmp_path / "e"),
                 "--force"]) == 0
    assert (tmp_path / "e" / "000007.png").read_bytes() == b"mine"


def test_two_dimensional_points_export_as_npz(tmp_path, minimal_spec, capsys):
    run = tmp_path / "run"
    assert main(["run", str(minimal_spec), "--out", str(run), "--quiet"]) == 0
    ckpt = str(run / "checkpoints" / "last.pt")
    assert main(["sample", ckpt, "--n", "300", "--format", "npz", "--out-dir",
                 str(tmp_path / "pts")]) == 0
    with np.load(tmp_path / "pts" / "samples.npz") as data:
        assert data["points"].shape == (300, 2) and data["points"].dtype == np.float32
        assert np.isfinite(data["points"]).all() and data["points"].std() > 0
    assert main(["sample", ckpt, "--out-dir", str(tmp_path / "png")]) == 2
    err = capsys.readouterr().err
    assert "draws 2D points" in err and "--format npz" in err and "translation" not in err


@pytest.mark.parametrize("flags, message", [
    (["--seed", "99999999999999999999999"], "--seed must be in"),
    (["--format", "npz", "--n", "1000000000"], "--n must be in 1..1000000"),
    (["--format", "npz", "--n", "40"], "GiB of memory"),
])
def test_sizes_that_cannot_be_drawn_are_refused(checkpoints, tmp_path, capsys, monkeypatch,
                                                flags, message):
    monkeypatch.setattr(sample_export, "MAX_NPZ_BYTES", 10_000)  # 40 16x16 images: 10,240
    assert main(["sample", checkpoints["dcgan"], "--out-dir", str(tmp_path / "d"), *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and not (tmp_path / "d").exists()


def test_bad_requests_are_user_errors(checkpoints, tmp_path, capsys):
    ckpt = checkpoints["dcgan"]
    assert main(["sample", ckpt, "--label", "3", "--out-dir", str(tmp_path / "a")]) == 2
    assert "takes no label" in capsys.readouterr().err
    assert main(["sample", checkpoints["cgan"], "--label", "10", "--out-dir",
                 str(tmp_path / "b")]) == 2
    assert "--label must be in 0..9" in capsys.readouterr().err
    assert main(["sample", ckpt, "--n", "0", "--out-dir", str(tmp_path / "c")]) == 2
    (tmp_path / "file").write_text("x")
    assert main(["sample", ckpt, "--out-dir", str(tmp_path / "file")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["sample", ckpt, "--out", str(tmp_path / "grid.jpg")]) == 2
    assert "PNG" in capsys.readouterr().err and not (tmp_path / "grid.jpg").exists()
