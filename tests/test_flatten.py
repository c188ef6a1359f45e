"""Specs and checkpoints that travel: flatten, `spec CKPT`, resuming from a checkpoint alone."""

import json
import shutil

import pytest

from ganbuilder.cli import main
from ganbuilder.spec import load_spec, load_spec_text

from .conftest import MINIMAL, ROOT, TINY


def test_a_flattened_spec_validates_and_trains_in_another_folder(tmp_path, monkeypatch, capsys):
    away = tmp_path / "elsewhere"
    away.mkdir()
    out = away / "wgan_gp.yaml"
    assert main(["flatten", str(ROOT / "specs" / "wgan_gp.yaml"), "-o", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert "\nextends:" not in text and "${" in text  # merged, params kept unexpanded
    assert "blocks:" in text
    monkeypatch.chdir(away)
    flat = load_spec(out)
    original = load_spec(ROOT / "specs" / "wgan_gp.yaml")
    assert flat.tree == original.tree  # the same resolved model
    tiny = [f"--set={o}" for o in TINY["wgan"]]
    assert main(["run", "wgan_gp.yaml", *tiny, "--steps", "2", "--out", "run", "--quiet"]) == 0
    assert (away / "run" / "checkpoints" / "last.pt").is_file()


def test_flatten_never_writes_over_its_inputs(tmp_path, capsys):
    specs = tmp_path / "specs"
    shutil.copytree(ROOT / "specs", specs)
    before = {p.name: p.read_bytes() for p in specs.glob("*.yaml")}
    for target in ("wgan_gp.yaml", "dcgan.yaml"):  # the spec, and the base it extends
        assert main(["flatten", str(specs / "wgan_gp.yaml"), "-o", str(specs / target)]) == 2
    assert "never writes over its inputs" in capsys.readouterr().err
    other = tmp_path / "flat.yaml"
    other.write_text("mine\n")
    assert main(["flatten", str(specs / "wgan_gp.yaml"), "-o", str(other)]) == 2
    assert other.read_text() == "mine\n"
    assert {p.name: p.read_bytes() for p in specs.glob("*.yaml")} == before


@pytest.fixture
def lone_checkpoint(tmp_path, write_spec):
    """A checkpoint file alone in an empty folder: its spec file and run folder are gone."""
    spec = write_spec(MINIMAL)
    run = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(run), "--quiet", "--steps", "4"]) == 0
    alone = tmp_path / "alone"
    alone.mkdir()
    ckpt = alone / "model.pt"
    shutil.move(run / "checkpoints" / "last.pt", ckpt)
    shutil.rmtree(run)
    spec.unlink()
    return ckpt


def test_spec_prints_the_checkpoints_resolved_spec(lone_checkpoint, capsys):
    assert main(["spec", str(lone_checkpoint)]) == 0
    text = capsys.readouterr().out
    spec = load_spec_text(text, "printed.yaml", resolved=True)
    assert spec.name == "tiny" and spec.tree["training"]["steps"] > 0


def test_resume_from_a_checkpoint_alone_needs_no_spec_file(lone_checkpoint, monkeypatch,
                                                             capsys):
    monkeypatch.chdir(lone_checkpoint.parent)
    assert main(["run", "--resume", "model.pt", "--steps", "6", "--out", "more",
                 "--quiet"]) == 0
    import torch

    state = torch.load(lone_checkpoint.parent / "more" / "checkpoints" / "last.pt",
                       weights_only=True)
    assert int(state["step"]) == 6


def test_run_without_a_spec_or_checkpoint_says_what_it_needs(capsys):
    assert main(["run"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_set_data_root_is_relative_to_the_current_folder(tmp_path, monkeypatch, write_spec):
    from PIL import Image

    images = tmp_path / "here" / "pics"
    images.mkdir(parents=True)
    for i in range(4):
        Image.new("RGB", (8, 8), (i * 60, 0, 0)).save(images / f"{i}.png")
    spec_dir = tmp_path / "specs"
    spec_dir.mkdir()
    spec = spec_dir / "s.yaml"
    spec.write_text((ROOT / "specs" / "dcgan.yaml").read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path / "here")
    loaded = load_spec(spec, ["data={source: folder, root: pics, image_size: 16, channels: 3}",
                              "data.root=pics", "params.image_size=16", "params.nc=3"])
    assert loaded.tree["data"]["root"] == str(images.resolve())


def test_set_of_an_undeclared_param_is_an_error_with_did_you_mean(capsys):
    assert main(["validate", str(ROOT / "specs" / "dcgan.yaml"), "--set", "params.ngff=8"]) == 2
    err = capsys.readouterr().err
    assert "unknown param 'ngff' (did you mean 'ngf'?)" in err and "Traceback" not in err


BLOCKS = """
version: 1
name: blk
data: {source: ring8, batch_size: 32}
latent:
  z: {dist: normal, shape: [4]}
blocks:
  down:
    args: [w]
    layers:
      - linear: "${w}"
      - relu
      - {linear: 8, bias: 3}
networks:
  G:
    layers:
      - linear: 16
      - {block: down, w: 8}
      - relu
      - {repeat: {times: 2, block: down, w: 4}}
      - {linear: 2, biass: true}
  D:
    layers: [linear: 16, linear: 1]
forward:
  fake: G(z)
objectives:
  D:
    updates: [D]
    loss: [adversarial: {critic: D, real: real, fake: fake}]
  G:
    updates: [G]
    loss: [adversarial: {critic: D, fake: fake}]
training: {steps: 4}
"""


def test_errors_and_summary_name_layers_as_written(write_spec, capsys):
    spec = write_spec(BLOCKS)
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    # The misspelt key after the blocks is item 4 as written (item 11 after expansion).
    assert "networks.G.layers[4].biass: unknown layer 'biass'" in err
    assert "networks.G.layers[1].bias (block down, layers[2]): " in err
    assert "networks.G.layers[3].bias (repetition 1 of block down, layers[2]): " in err
    assert "layers[11]" not in err
    fixed = write_spec(BLOCKS.replace(", bias: 3", "").replace(", biass: true", ""), "ok.yaml")
    assert main(["summary", str(fixed), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)["networks"]["G"]["layers"]
    assert rows[11]["path"] == "networks.G.layers[11]"
    assert rows[11]["written"] == "networks.G.layers[4]"
    assert rows[6]["written"] == "networks.G.layers[3] (repetition 0 of block down, layers[1])"
