"""Super-resolution: the data sources, `translate` on a model that is not A<->B, and the
PSNR/SSIM evaluation beside bicubic upsampling."""

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganbuilder.cli import main
from ganbuilder.data import open_source, tensor_shapes
from ganbuilder.data.bicubic import resize_batch
from ganbuilder.errors import DataError, UserError
from ganbuilder.evaluate import evaluate_checkpoint
from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer
from ganbuilder.translate import choose_map

from .conftest import TINY


def _png(path: Path, size: tuple[int, int], seed: int, mode: str = "RGB") -> np.ndarray:
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    array = rng.integers(0, 256, shape, dtype=np.uint8)
    Image.fromarray(array, mode).save(path)
    return array


def _unit(array: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(array.astype(np.float32)).permute(2, 0, 1) * (2 / 255) - 1


def test_lr_is_pil_bicubic_of_the_center_hr_patch(tmp_path):
    hr = _png(tmp_path / "hr" / "a" / "x.png", (12, 10), 0)
    cfg = {"source": "superres", "root": str(tmp_path / "hr"), "image_size": 8, "factor": 2,
           "split": "all"}
    assert tensor_shapes(cfg) == {"lr": [3, 4, 4], "hr": [3, 8, 8]}
    batch = open_source(cfg, tmp_path).fixed_batch(1)
    patch = hr[1:9, 2:10]  # the center 8x8 of a 10 (high) x 12 (wide) image
    low = np.asarray(Image.fromarray(patch).resize((4, 4), Image.Resampling.BICUBIC))
    assert torch.equal(batch["hr"][0], _unit(patch))
    assert torch.equal(batch["lr"][0], _unit(low))


def test_training_patches_are_random_crops_with_their_lr(tmp_path):
    _png(tmp_path / "hr" / "x.png", (20, 20), 1)
    cfg = {"source": "superres", "root": str(tmp_path / "hr"), "image_size": 8, "factor": 4,
           "split": "all"}
    source = open_source(cfg, tmp_path)
    a, b = (source.batch(torch.tensor([0]), torch.Generator().manual_seed(s)) for s in (0, 5))
    assert not torch.equal(a["hr"], b["hr"])  # another crop
    hr8 = ((a["hr"][0].permute(1, 2, 0) + 1) * 127.5).round().byte().numpy()
    low = np.asarray(Image.fromarray(hr8).resize((2, 2), Image.Resampling.BICUBIC))
    assert torch.allclose(a["lr"][0], _unit(low), atol=1e-6)


def test_paired_layout_reads_matching_lr_files_aligned(tmp_path):
    hr = _png(tmp_path / "HR" / "set" / "img1.png", (17, 16), 2, "L")  # one extra column
    low = _png(tmp_path / "LR" / "set" / "img1.bmp", (4, 4), 3, "L")
    cfg = {"source": "superres", "root": str(tmp_path / "HR"), "lr_root": str(tmp_path / "LR"),
           "image_size": 8, "factor": 4, "channels": 1, "split": "all"}
    batch = open_source(cfg, tmp_path).fixed_batch(1)
    assert torch.equal(batch["lr"][0, 0], _unit(low[1:3, 1:3, None])[0])
    assert torch.equal(batch["hr"][0, 0], _unit(hr[4:12, 4:12, None])[0])
    (tmp_path / "HR" / "set" / "img2.png").write_bytes((tmp_path / "HR" / "set" /
                                                       "img1.png").read_bytes())
    with pytest.raises(DataError, match=r"no LR image of the same name.*set/img2"):
        open_source(cfg, tmp_path)


def test_held_out_split_is_disjoint_and_stable(tmp_path):
    for i in range(40):
        _png(tmp_path / "hr" / f"{i:02d}.png", (8, 8), i)
    cfg = {"source": "superres", "root": str(tmp_path / "hr"), "image_size": 8, "factor": 2,
           "held_out": 0.25}
    train = open_source(cfg, tmp_path).files
    test = open_source({**cfg, "split": "test"}, tmp_path).files
    assert not set(train) & set(test)
    assert len(train) + len(test) == 40 and 3 <= len(test) <= 20
    _png(tmp_path / "hr" / "new.png", (8, 8), 99)  # a new file moves no other
    assert set(test) <= set(open_source({**cfg, "split": "test"}, tmp_path).files)


def test_bad_sizes_are_one_clear_error(tmp_path):
    _png(tmp_path / "hr" / "small.png", (6, 9), 0)
    cfg = {"source": "superres", "root": str(tmp_path / "hr"), "image_size": 8, "factor": 2,
           "split": "all", "bad_images": "fail"}
    with pytest.raises(DataError, match=r"small.png \(6x9\) is smaller than the 8x8 HR"):
        open_source(cfg, tmp_path).fixed_batch(1)
    with pytest.raises(DataError, match="image_size 8 must divide by factor 3"):
        tensor_shapes({**cfg, "factor": 3})


def test_digits_sr_lr_is_pil_bicubic_of_the_8bit_hr():
    source = open_source({"source": "digits_sr", "split": "test"}, Path("."))
    batch = source.fixed_batch(2)
    hr8 = ((batch["hr"][1, 0] + 1) * 127.5).round().byte().numpy()
    low = np.asarray(Image.fromarray(hr8).resize((8, 8), Image.Resampling.BICUBIC))
    assert len(source) == 359
    assert torch.allclose(batch["lr"][1, 0], _unit(low[..., None])[0], atol=1e-6)


@pytest.fixture(scope="module")
def srgan_checkpoint(tmp_path_factory):
    spec = load_spec("specs/srgan.yaml", [*TINY["srgan"], "data.batch_size=8"])
    run = Trainer(spec, tmp_path_factory.mktemp("srgan") / "run", steps=2).run()
    return run / "checkpoints" / "last.pt"


def test_translate_super_resolves_a_folder(srgan_checkpoint, tmp_path, capsys):
    for name in ("a", "b"):
        _png(tmp_path / "in" / f"{name}.png", (12, 10), 7, "L")
    before = sorted((tmp_path / "in").iterdir())
    assert main(["translate", str(srgan_checkpoint), "--input", str(tmp_path / "in"),
                 "--out", str(tmp_path / "out")]) == 0
    assert [Image.open(p).size for p in sorted((tmp_path / "out").iterdir())] == [(32, 32)] * 2
    assert main(["translate", str(srgan_checkpoint), "--input", str(tmp_path / "in"),
                 "--out", str(tmp_path / "native"), "--native-size"]) == 0
    assert Image.open(tmp_path / "native" / "a.png").size == (48, 40)  # x4 of 12x10
    assert sorted((tmp_path / "in").iterdir()) == before
    assert main(["translate", str(srgan_checkpoint), "--input", str(tmp_path / "in"),
                 "--out", str(tmp_path / "in")]) == 2
    assert "holds the input images" in capsys.readouterr().err
    assert main(["translate", str(srgan_checkpoint), "--input", str(tmp_path / "in"),
                 "--out", str(tmp_path / "o2"), "--direction", "AtoB"]) == 2
    assert "no generator for AtoB" in capsys.readouterr().err
    assert main(["translate", str(srgan_checkpoint), "--input", str(tmp_path / "in"),
                 "--out", str(tmp_path / "o3"), "--tensor", "hr"]) == 2
    assert "has no image tensor 'hr' to write; it has: fake_hr" in capsys.readouterr().err


def test_the_image_map_follows_the_forward():
    srgan = load_spec("specs/srgan.yaml")
    chosen = choose_map(srgan)
    assert (chosen.tensor, chosen.network, chosen.image, chosen.targets) == (
        "fake_hr", "G", "lr", ("hr",))
    cyclegan = load_spec("specs/cyclegan.yaml")
    assert choose_map(cyclegan).tensor == "fake_B"  # an A<->B model: AtoB unless told
    assert choose_map(cyclegan, "BtoA").tensor == "fake_A"
    assert choose_map(cyclegan, tensor="idt_A").network == "G_BA"
    with pytest.raises(UserError, match="no single image-to-image map"):
        choose_map(load_spec("specs/dcgan.yaml"))


def test_native_size_refuses_a_size_the_network_cannot_take():
    from ganbuilder.translate import _check_native

    spec = load_spec("specs/pix2pix.yaml")  # a U-Net: halves the size log2(32) times
    chosen = choose_map(spec)
    shapes = spec.analysis.networks[chosen.network].input_shapes
    _check_native(spec, chosen, shapes, 64, 64, Path("fits.png"))
    with pytest.raises(UserError, match=r"fits\.png: network 'G' cannot take a 12x10 image"):
        _check_native(spec, chosen, shapes, 10, 12, Path("fits.png"))


def test_evaluate_reports_psnr_ssim_beside_bicubic(srgan_checkpoint):
    result = evaluate_checkpoint(srgan_checkpoint, n=64)
    assert result["kind"] == "super_resolution" and result["held_out"] is True
    assert result["n"] == 64 and result["tensor"] == "fake_hr"
    source = open_source({"source": "digits_sr", "split": "test"}, Path("."))
    batch = source.fixed_batch(64)
    up = resize_batch(batch["lr"], (32, 32))
    mse = (((up - batch["hr"]) / 2) ** 2).flatten(1).mean(1)
    assert result["bicubic_psnr"] == pytest.approx(float((10 * torch.log10(1 / mse)).mean()),
                                                   abs=1e-4)
    assert 20 < result["bicubic_psnr"] < 35 and 0 < result["bicubic_ssim"] <= 1
    assert result["psnr_gain"] == pytest.approx(result["psnr"] - result["bicubic_psnr"])
