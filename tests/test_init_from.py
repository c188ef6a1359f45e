"""`run SPEC --init CKPT`: a new run from an earlier checkpoint's weights (fine-tuning), the
file and hash recorded in the run folder, and a checkpoint that does not fit named by key and
shape."""

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ganbuilder.cli import main
from ganbuilder.compile.model import GAN
from ganbuilder.runs.checkpoint import load_checkpoint, save_checkpoint
from ganbuilder.runs.history import read_run
from ganbuilder.spec import load_spec
from ganbuilder.train.init_from import InitFrom
from ganbuilder.train.trainer import Trainer

CYCLEGAN = "specs/cyclegan.yaml"
TINY = ["params.ngf=4", "params.ndf=4", "params.n_blocks=1", "params.image_size=32",
        "params.nc=1", "training.log_every=50", "training.sample_every=100",
        "training.checkpoint_every=100"]
GENERATORS = ("G_AB", "G_BA")


def save_generators(path: Path, overrides: list[str], seed: int) -> dict:
    """A CycleGAN generator pair as a ganbuilder checkpoint holding the networks alone (as
    `ganbuilder import` writes one): the spec text, the step, two state dicts."""
    spec = load_spec(CYCLEGAN, overrides)
    torch.manual_seed(seed)
    gan = GAN(spec)
    networks = {n: {k: v.clone() for k, v in gan.nets[n].state_dict().items()}
                for n in GENERATORS}
    save_checkpoint({"spec_name": spec.name, "spec_text": spec.text(), "step": 0,
                     "networks": networks}, path)
    return networks


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, dict]:
    path = tmp_path_factory.mktemp("zoo") / "generators.pt"
    return path, save_generators(path, TINY, seed=123)


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k].cpu(), b[k].cpu()) for k in a)


def test_init_loads_the_checkpoints_networks_and_leaves_the_others_fresh(pair, tmp_path):
    path, saved = pair
    spec = load_spec(CYCLEGAN, TINY)
    trainer = Trainer(spec, tmp_path / "run", init=InitFrom(path))
    assert trainer.step == 0
    for name in GENERATORS:
        assert same(trainer.gan.nets[name].state_dict(), saved[name])
    torch.manual_seed(0)
    fresh = GAN(spec)  # the critics: the spec's own initialisation, not the file's
    assert same(trainer.gan.nets["D_A"].state_dict(), fresh.nets["D_A"].state_dict())
    assert trainer.init_origin["networks"] == list(GENERATORS)
    assert trainer.init_origin["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_fine_tuned_generator_pair_records_its_origin_and_translates(pair, tmp_path, capsys):
    # (100 steps from files of the reference's layout, through `ganbuilder import`:
    # tests/test_zoo_import.py; here a short run from a networks-only checkpoint)
    path, saved = pair
    run = tmp_path / "run"
    assert main(["run", CYCLEGAN, "--init", str(path), "--out", str(run), "--steps", "20",
                 "--quiet", *[f"--set={o}" for o in TINY], "--set=training.log_every=10",
                 "--set=training.checkpoint_every=20"]) == 0
    # The folder records where its weights came from; the run history shows it.
    history = read_run(run)
    assert history.init["path"] == str(path.resolve())
    assert history.init["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert history.init["networks"] == list(GENERATORS)
    assert str(path.resolve()) in history.origin and "G_AB, G_BA" in history.origin
    assert history.metrics.steps[-1] == 20 and history.metrics.steps[0] == 10  # a new run
    last = load_checkpoint(run / "checkpoints" / "last.pt")
    assert last["step"] == 20 and last["init"]["sha256"] == history.init["sha256"]
    for name in GENERATORS:  # trained: the weights moved from the ones it started from
        moved = max((last["networks"][name][k].float() - v.float()).abs().max().item()
                    for k, v in saved[name].items() if v.is_floating_point())
        assert moved > 1e-3, name
    inputs = tmp_path / "in"
    inputs.mkdir()
    rng = np.random.default_rng(0)
    for i in range(3):
        Image.fromarray(rng.integers(0, 256, (32, 32), dtype=np.uint8)).save(inputs / f"{i}.png")
    out = tmp_path / "out"
    assert main(["translate", str(run / "checkpoints" / "last.pt"), "--input", str(inputs),
                 "--out", str(out)]) == 0
    written = sorted(p.name for p in out.iterdir())
    assert written == ["0.png", "1.png", "2.png"]
    assert Image.open(out / "0.png").size == (32, 32)


def test_a_checkpoint_that_does_not_fit_is_one_located_message_per_network(tmp_path, capsys):
    path = tmp_path / "wide.pt"
    save_generators(path, [*TINY, "params.ngf=8"], seed=1)
    code = main(["run", CYCLEGAN, "--init", str(path), "--out", str(tmp_path / "run"),
                 "--init-networks", "G_AB", "--quiet", *[f"--set={o}" for o in TINY]])
    err = capsys.readouterr().err
    assert code == 2 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    line = lines[0]
    assert "cyclegan.yaml:" in line and "networks.G_AB.layers[1]" in line
    assert "'1.weight' is (8, 1, 7, 7) in the checkpoint, (4, 1, 7, 7) in the spec" in line
    assert "params.ngf=8 (here 4)" in line
    assert not (tmp_path / "run").exists()  # refused before anything was written


def test_only_the_named_networks_are_loaded(pair, tmp_path):
    path, saved = pair
    trainer = Trainer(load_spec(CYCLEGAN, TINY), tmp_path / "run",
                      init=InitFrom(path, networks=("G_BA",)))
    assert same(trainer.gan.nets["G_BA"].state_dict(), saved["G_BA"])
    assert not same(trainer.gan.nets["G_AB"].state_dict(), saved["G_AB"])
    assert trainer.init_origin["networks"] == ["G_BA"]


@pytest.mark.parametrize(("flags", "says"), [
    (["--init-networks", "D"], "D is not a network of the spec"),
    (["--init-networks", "D_A"], "holds no network D_A (it holds G_AB, G_BA)"),
    (["--init-optimizers"], "holds no optimizer state"),
    (["--resume", "x.pt"], "pass one of them"),
])
def test_bad_init_flags_are_one_message(pair, tmp_path, capsys, flags, says):
    path, _ = pair
    code = main(["run", CYCLEGAN, "--init", str(path), "--out", str(tmp_path / "run"),
                 "--quiet", *flags, *[f"--set={o}" for o in TINY]])
    err = capsys.readouterr().err
    assert code == 2 and says in err and "Traceback" not in err and len(err.splitlines()) == 1


def test_init_optimizers_takes_adams_state_but_keeps_the_specs_learning_rate(tmp_path):
    base = load_spec(CYCLEGAN, [*TINY, "training.steps=2"])
    first = Trainer(base, tmp_path / "first").run() / "checkpoints" / "last.pt"
    saved = load_checkpoint(first)
    spec = load_spec(CYCLEGAN, [*TINY, "training.optimizer={adam: {lr: 1.0e-5}}"])
    trainer = Trainer(spec, tmp_path / "tune", init=InitFrom(first, optimizers=True))
    assert trainer.step == 0 and trainer.init_origin["optimizers"] == ["G", "D"]
    for objective in trainer.objectives:
        state = objective.optimizer.state_dict()
        theirs = saved["optimizers"][objective.name]
        assert state["param_groups"][0]["lr"] == 1.0e-5  # the fine-tuning spec's
        assert objective.base_lrs == [1.0e-5]
        assert torch.equal(state["state"][0]["exp_avg"], theirs["state"][0]["exp_avg"])
    # A run's checkpoint holds every network of the same spec: all are loaded.
    assert sorted(trainer.init_origin["networks"]) == ["D_A", "D_B", "G_AB", "G_BA"]


def test_freezed_fine_tuning_keeps_the_critics_first_layers(tmp_path):
    """FreezeD (Mo et al. 2020): fine-tune from a run's checkpoint with the critic's first
    layers frozen; they keep the checkpoint's weights, the rest of the critic trains."""
    dcgan = ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8",
             "training.log_every=5", "training.sample_every=100", "training.checkpoint_every=100"]
    first = tmp_path / "first"
    assert main(["run", "specs/dcgan.yaml", "--out", str(first), "--steps", "3", "--quiet",
                 *[f"--set={o}" for o in dcgan]]) == 0
    start = load_checkpoint(first / "checkpoints" / "last.pt")["networks"]["D"]
    tuned = tmp_path / "tuned"
    assert main(["run", "specs/dcgan.yaml", "--init", str(first / "checkpoints" / "last.pt"),
                 "--out", str(tuned), "--steps", "5", "--quiet",
                 "--set=networks.D.frozen={through: 1}",
                 *[f"--set={o}" for o in dcgan]]) == 0
    end = load_checkpoint(tuned / "checkpoints" / "last.pt")["networks"]["D"]
    assert torch.equal(end["0.weight"], start["0.weight"])  # D's first conv: frozen
    moved = [k for k in start if k.endswith("weight") and not k.startswith(("0.", "1."))
             and not torch.equal(end[k], start[k])]
    assert moved  # the layers after it were fine-tuned
