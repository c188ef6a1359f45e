"""The Inception protocols reproduce their projects' preprocessing and folder listing, and
`ganbuilder evaluate --fake --real` scores two image sets without a checkpoint.

tests/data/protocol_steps.npz holds the reference packages' own outputs on one 9 x 13 image
(written by benchmarks/reference_fid.py --write-test-data, pytorch-fid 0.3.0 and clean-fid
0.1.35): torchvision's ToTensor (pytorch-fid's u / 255), pytorch-fid's InceptionV3 input after
its resize and 2x - 1, clean-fid's clean resizer; the 299 x 299 ones on a 10-pixel grid.
"""

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from ganbuilder.cli import main
from ganbuilder.evaluate import features as features_module
from ganbuilder.evaluate.features import load_stats
from ganbuilder.evaluate.protocols import (
    PROTOCOLS,
    clean_inputs,
    clean_resize,
    pytorch_fid_inputs,
    unit_scale,
)
from tests.test_inception import image_folder, random_weights

STEPS = np.load(Path(__file__).parent / "data" / "protocol_steps.npz")
GRID = np.s_[:, ::10, ::10]


def test_pytorch_fid_scales_by_255_in_float32():
    assert np.array_equal(unit_scale(STEPS["image"]).numpy(), STEPS["pytorch_fid_unit"])


def test_pytorch_fid_resizes_bilinear_on_floats_then_maps_to_minus_one_one():
    inputs = pytorch_fid_inputs([STEPS["image"]], 299)
    assert inputs.shape == (1, 3, 299, 299)
    np.testing.assert_allclose(inputs[0].numpy()[GRID], STEPS["pytorch_fid_inputs"],
                               rtol=0, atol=1e-6)


def test_clean_resizes_bicubic_per_channel_in_float_then_maps_by_128():
    resized = clean_resize(STEPS["image"], 299)
    np.testing.assert_allclose(resized[GRID], STEPS["clean_resized"], rtol=0, atol=1e-4)
    inputs = clean_inputs([STEPS["image"]], 299)[0].numpy()
    np.testing.assert_allclose(inputs[GRID], (STEPS["clean_resized"] - 128) / 128,
                               rtol=0, atol=1e-6)


def test_the_protocols_differ_where_images_are_resized():
    # The reason the protocol is recorded: the same image gives other Inception inputs.
    clean = (STEPS["clean_resized"] - 128) / 128
    assert np.abs(clean - STEPS["pytorch_fid_inputs"]).max() > 0.05


LISTED = ["a.png", "b.PNG", "c.tif", "d.ppm", "e.pgm", "f.webp", "g.JPG", "h.jpeg",
          "k.Jpg", "notes.txt", ".hidden.png", "sub/i.png", "sub/l.PNG", ".hid/j.png"]


@pytest.mark.parametrize("name, expected", [
    # Top level, lower-case extensions only; pathlib's glob includes hidden files.
    ("pytorch-fid", [".hidden.png", "a.png", "c.tif", "d.ppm", "e.pgm", "f.webp", "h.jpeg"]),
    # Recursive, clean-fid's extensions (JPEG, JPG, PNG also upper case); glob skips hidden.
    ("clean", ["a.png", "b.PNG", "c.tif", "d.ppm", "e.pgm", "f.webp", "g.JPG", "h.jpeg",
               "sub/i.png", "sub/l.PNG"]),
])
def test_each_protocol_lists_a_folder_as_its_project_does(tmp_path, name, expected):
    for rel in LISTED:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).touch()
    found = PROTOCOLS.get(name).list_images(tmp_path)
    assert [str(p.relative_to(tmp_path)) for p in found] == expected


@pytest.fixture
def small_inception(tmp_path, monkeypatch):
    """Random weights at 75 x 75 (299 costs too much CPU in tests), a fresh cache."""
    monkeypatch.setenv("GANBUILDER_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(features_module, "INPUT_SIZE", 75)
    return random_weights(tmp_path / "w.pth")


def score(capsys, *args) -> dict:
    capsys.readouterr()
    assert main(["evaluate", *map(str, args), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_two_folders_are_scored_without_a_checkpoint_and_cached(tmp_path, small_inception,
                                                                capsys, monkeypatch):
    real, fake = image_folder(tmp_path / "real", 7, 0), image_folder(tmp_path / "fake", 6, 1)
    Image.fromarray(np.zeros((16, 16, 3), np.uint8)).save(fake / "upper.PNG")
    stats = tmp_path / "real.npz"
    first = score(capsys, "--fake", fake, "--real", real, "--inception", small_inception,
                  "--protocol", "pytorch-fid", "--kid-subset-size", "5",
                  "--save-stats", stats)
    assert first["protocol"] == "pytorch-fid" and "bilinear" in first["preprocess"]
    assert "top level" in first["listing"] and "pytorch-fid" in first["compares_with"]
    assert (first["n"], first["n_real"]) == (6, 7)  # upper.PNG is not pytorch-fid's
    assert first["fid"] > 0 and first["kid_subset_size"] == 5
    for key in ("kid", "kid_std", "precision", "recall", "density", "coverage"):
        assert isinstance(first[key], float), key
    assert len(list((tmp_path / "cache" / "inception").glob("*.npz"))) == 2

    # Both folders now come from the cache: no Inception pass at all.
    def no_pass(*args, **kwargs):
        raise AssertionError("features recomputed instead of read from the cache")

    monkeypatch.setattr(features_module.Extractor, "features", no_pass)
    again = score(capsys, "--fake", fake, "--real", real, "--inception", small_inception,
                  "--protocol", "pytorch-fid", "--kid-subset-size", "5")
    assert again["fid"] == first["fid"] and again["kid"] == first["kid"]
    # The real set from its statistics file: the same FID.
    from_stats = score(capsys, "--fake", fake, "--real", stats, "--inception",
                       small_inception, "--protocol", "pytorch-fid", "--kid-subset-size", "5")
    assert from_stats["fid"] == pytest.approx(first["fid"], rel=1e-6)
    assert load_stats(stats).count == 7


def test_the_clean_protocol_reads_what_pytorch_fid_skips_and_scores_otherwise(
        tmp_path, small_inception, capsys):
    real, fake = image_folder(tmp_path / "real", 6, 0), image_folder(tmp_path / "fake", 6, 1)
    Image.fromarray(np.full((16, 16, 3), 90, np.uint8)).save(fake / "upper.PNG")
    clean = score(capsys, "--fake", fake, "--real", real, "--inception", small_inception)
    assert clean["protocol"] == "clean" and clean["n"] == 7
    fid = score(capsys, "--fake", fake, "--real", real, "--inception", small_inception,
                "--protocol", "pytorch-fid")
    assert fid["n"] == 6 and fid["fid"] != pytest.approx(clean["fid"], rel=1e-3)
    # 6 and 7 images are fewer than KID's default subset of 1000: no KID, and why.
    assert "kid" not in clean and "no KID" in clean["note"]
    assert "--kid-subset-size" in clean["note"]


@pytest.mark.parametrize("args, message", [
    ([], "not neither"),
    (["ckpt.pt", "--fake", "f"], "not both"),
    (["--fake", "f"], "--fake needs --real"),
    (["--fake", "f", "--real", "r", "--protocol", "torch-fidelity"], "--protocol"),
    (["--fake", "absent", "--real", "r"], "--real r: no such folder"),
])
def test_wrong_evaluate_arguments_are_one_clear_error(tmp_path, small_inception, capsys,
                                                      monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", *args, "--inception", str(small_inception)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and message in err


def test_training_eval_refuses_kid_from_fewer_samples_than_its_subset(tmp_path, capsys,
                                                                     monkeypatch):
    from tests.test_inception import DCGAN_ON_A_FOLDER

    monkeypatch.setenv("GANBUILDER_INCEPTION", str(random_weights(tmp_path / "w.pth")))
    train = image_folder(tmp_path / "faces", 6, 0)
    assert main(["run", "specs/dcgan.yaml", *DCGAN_ON_A_FOLDER, "--set", f"data.root={train}",
                 "--set", "training.eval={every: 1, n: 50, best: kid}", "--steps", "2",
                 "--out", str(tmp_path / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "kid needs n >= 1000" in err and err.count("error:") == 1
    assert not (tmp_path / "run" / "checkpoints").exists()
