"""Image-to-image and conditional models: reference parameter counts, using trained models."""

import pytest
from PIL import Image

from ganbuilder.cli import main
from ganbuilder.errors import SpecError
from ganbuilder.spec import load_spec
from ganbuilder.summary import summarize
from ganbuilder.train.trainer import Trainer


def params(spec: str, *overrides: str) -> dict:
    nets = summarize(load_spec(spec, list(overrides)))["networks"]
    return {name: (net["params"], net["output_shape"]) for name, net in nets.items()}


def test_pix2pix_matches_the_reference_counts():
    nets = params("specs/pix2pix.yaml", "params.image_size=256")
    assert nets["G"] == (54_413_955, [3, 256, 256])
    assert nets["D"] == (2_768_705, [1, 30, 30])


def test_cyclegan_matches_the_reference_counts():
    nets = params("specs/cyclegan.yaml", "params.ngf=64", "params.image_size=256")
    assert nets["G_AB"][0] == nets["G_BA"][0] == 11_378_179
    assert nets["D_A"][0] == nets["D_B"][0] == 2_764_737


def test_unet_depth_follows_image_size():
    spec = load_spec("specs/pix2pix.yaml", ["params.image_size=64"])
    kinds = [layer.kind for layer in spec.analysis.networks["G"].layers]
    assert kinds.count("conv") == 6  # log2(64) downsamplings
    assert kinds.count("concat") == 5  # one skip per level but the innermost
    assert kinds.count("dropout") == 1


def test_d_input_channels_must_match_the_concatenation():
    with pytest.raises(SpecError) as err:
        load_spec("specs/pix2pix.yaml", ["params.nc_out=1", "data.channels=3",
                                         "networks.D.layers[0].conv.in=6"])
    problem = err.value.problems[0]
    assert problem.path == "networks.D.layers[0]"
    assert problem.message == "conv: expects 6 input channels, got 4"
    assert problem.location.line > 0


def test_undefined_tensor_in_a_translation_forward():
    with pytest.raises(SpecError) as err:
        load_spec("specs/cyclegan.yaml", ["forward.rec_A=G_BA(fake_b)"])
    problem = err.value.problems[0]
    assert problem.path == "forward.rec_A"
    assert problem.message == "unknown tensor 'fake_b' (did you mean 'fake_B'?)"


def test_unpaired_folder_with_an_empty_side(tmp_path, capsys):
    (tmp_path / "trainA").mkdir()
    (tmp_path / "trainB").mkdir()
    Image.new("RGB", (8, 8)).save(tmp_path / "trainA" / "a.png")
    assert main(["run", "specs/cyclegan.yaml", "--set", "data.source=unpaired", "--set",
                 f"data.root={tmp_path}", "--set", "params.image_size=32"]) == 2
    err = capsys.readouterr().err
    assert f"no images found in {tmp_path / 'trainB'}" in err
    assert "data.root" in err and "Traceback" not in err


@pytest.fixture(scope="module")
def cyclegan_checkpoint(tmp_path_factory):
    spec = load_spec("specs/cyclegan.yaml", ["params.ngf=4", "params.ndf=4", "params.n_blocks=1",
                                             "params.image_size=32"])
    run = Trainer(spec, tmp_path_factory.mktemp("cyclegan"), steps=2).run()
    return run / "checkpoints" / "last.pt"


def test_translate_a_folder_both_ways(cyclegan_checkpoint, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for name in ("x", "y"):
        Image.new("L", (40, 30), 200).save(inputs / f"{name}.jpg")
    for direction in ("AtoB", "BtoA"):
        out = tmp_path / direction
        assert main(["translate", str(cyclegan_checkpoint), "--input", str(inputs), "--out",
                     str(out), "--direction", direction]) == 0
        images = sorted(out.iterdir())
        assert [p.name for p in images] == ["x.png", "y.png"]
        assert Image.open(images[0]).size == (32, 32)


def test_translate_errors(cyclegan_checkpoint, tmp_path, capsys):
    assert main(["translate", str(cyclegan_checkpoint), "--input", str(tmp_path / "none"),
                 "--out", str(tmp_path / "o")]) == 2
    assert "input not found" in capsys.readouterr().err


def test_translation_sample_grid_shows_rows_of_triplets(cyclegan_checkpoint):
    run = cyclegan_checkpoint.parent.parent
    grid = Image.open(sorted((run / "samples").iterdir())[-1])
    width, height = grid.size
    assert width > height  # rows of (real, fake, reconstruction) triplets


def test_conditional_sample_by_label(tmp_path, capsys):
    spec = load_spec("specs/cgan.yaml", ["data.batch_size=16"])
    run = Trainer(spec, tmp_path / "run", steps=2).run()
    out = tmp_path / "sevens.png"
    assert main(["sample", str(run / "checkpoints" / "last.pt"), "--label", "7", "--n", "8",
                 "--out", str(out)]) == 0
    assert out.is_file()
    assert main(["sample", str(run / "checkpoints" / "last.pt"), "--label", "12",
                 "--out", str(tmp_path / "twelves.png")]) == 2
    assert "--label must be in 0..9, got 12" in capsys.readouterr().err


def test_summary_counts_layers_inside_residual_blocks():
    nets = summarize(load_spec("specs/cyclegan.yaml"))["networks"]
    blocks = [row for row in nets["G_AB"]["layers"] if row["kind"] == "residual"]
    assert len(blocks) == 9
    for block in blocks:
        assert [c["kind"] for c in block["children"]][:2] == ["reflection_pad", "conv"]
        assert sum(c["params"] for c in block["children"]) == block["params"] > 0
