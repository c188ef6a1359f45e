"""Checkpoints: never written from a diverged model, verified on load (digest, layout, finite
weights, no pickled code, no `extends`), and refused with one message when they do not fit."""

import math
import os
import textwrap

import pytest
import torch

from ganbuilder import files
from ganbuilder.cli import main
from ganbuilder.errors import CheckpointError, SpecError
from ganbuilder.runs.checkpoint import FORMAT, load_checkpoint, save_checkpoint
from ganbuilder.sampling import load_model
from ganbuilder.spec import load_spec, load_spec_text
from ganbuilder.train.control import Control
from ganbuilder.train.events import Failed, Paused
from ganbuilder.train.trainer import DivergenceError, Trainer

from .conftest import MINIMAL, TINY

DIVERGING = ["training.steps=12", "training.log_every=4", "training.checkpoint_every=3",
             "training.sample_every=100"]


def poison_weights(trainer: Trainer) -> None:
    with torch.no_grad():
        next(trainer.gan.nets["G"].parameters()).fill_(float("nan"))


def diverge(trainer: Trainer, at: int, how: str, then=None) -> None:
    """Make `trainer` go non-finite at step `at`: its logged losses, or its weights."""
    real_step = trainer.train_step

    def step(sums):
        real_step(sums)
        if trainer.step == at:
            if how == "losses":
                sums["loss/G"] = sums["loss/G"] * float("nan")
            else:
                poison_weights(trainer)  # this step's losses were computed before: finite
            if then is not None:
                then()

    trainer.train_step = step


def assert_good_checkpoint(path, step: int) -> None:
    state = load_checkpoint(path)  # verifies the digest and that every weight is finite
    assert state["step"] == step
    for net in state["networks"].values():
        assert all(torch.isfinite(v).all() for v in net.values())


@pytest.mark.parametrize("how", ["losses", "weights"])
def test_divergence_between_logs_keeps_the_last_good_checkpoint(tmp_path, minimal_spec, how):
    # checkpoint_every=3 is no multiple of log_every=4: step 6 saves before step 8 logs.
    trainer = Trainer(load_spec(minimal_spec, DIVERGING), tmp_path / "run")
    diverge(trainer, 5, how)
    events = []
    with pytest.raises(DivergenceError, match="at step 6; training diverged"):
        trainer.run(events.append)
    last = tmp_path / "run" / "checkpoints" / "last.pt"
    assert_good_checkpoint(last, 3)
    assert not (tmp_path / "run" / "checkpoints" / "step_000006.pt").exists()
    assert isinstance(events[-1], Failed) and events[-1].last_checkpoint == last


def test_weights_gone_bad_on_a_checkpoint_step_are_caught(tmp_path, minimal_spec):
    trainer = Trainer(load_spec(minimal_spec, DIVERGING), tmp_path / "run")
    diverge(trainer, 6, "weights")
    with pytest.raises(DivergenceError, match=r"network G parameter '0.weight' is not finite "
                       "at step 6"):
        trainer.run()
    assert_good_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt", 3)


def test_the_final_save_checks_too(tmp_path, minimal_spec):
    spec = load_spec(minimal_spec, ["training.steps=5", "training.checkpoint_every=2"])
    trainer = Trainer(spec, tmp_path / "run")
    diverge(trainer, 5, "weights")  # the losses logged at step 5 are finite
    with pytest.raises(DivergenceError, match="not finite at step 5"):
        trainer.run()
    assert_good_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt", 4)


def test_the_pause_save_checks_too(tmp_path, minimal_spec):
    control = Control()
    spec = load_spec(minimal_spec, ["training.steps=100", "training.log_every=50",
                                    "training.checkpoint_every=3"])
    trainer = Trainer(spec, tmp_path / "run", control=control)
    diverge(trainer, 4, "losses", then=control.pause)
    events = []
    with pytest.raises(DivergenceError, match="loss/G is nan at step 4"):
        trainer.run(events.append)  # raises instead of waiting: the test cannot hang
    assert not any(isinstance(e, Paused) for e in events)
    assert_good_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt", 3)


def test_cli_divergence_exits_1_naming_the_last_good_checkpoint(tmp_path, minimal_spec,
                                                                capsys, monkeypatch):
    real_step = Trainer.train_step

    def step(self, sums):
        real_step(self, sums)
        if self.step == 5:
            poison_weights(self)

    monkeypatch.setattr(Trainer, "train_step", step)
    out = tmp_path / "run"
    sets = [a for s in DIVERGING for a in ("--set", s)]
    assert main(["run", str(minimal_spec), "--out", str(out), "--quiet", *sets]) == 1
    err = capsys.readouterr().err
    assert f"the last good checkpoint is {out / 'checkpoints' / 'last.pt'}" in err
    assert "Traceback" not in err
    assert_good_checkpoint(out / "checkpoints" / "last.pt", 3)


# -- resuming with another spec ------------------------------------------------------------

DCGAN = [*TINY["dcgan"], "data.batch_size=8", "training.log_every=1",
         "training.sample_every=100", "training.checkpoint_every=2"]


@pytest.fixture(scope="module")
def dcgan_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("dcgan") / "run"
    Trainer(load_spec("specs/dcgan.yaml", DCGAN), out, steps=2).run()
    return out / "checkpoints" / "last.pt"


def test_adam_checkpoint_resumed_by_an_rmsprop_spec(tmp_path, dcgan_checkpoint, capsys):
    rmsprop = load_spec("specs/dcgan.yaml", [*DCGAN, "training.optimizer=rmsprop"])
    with pytest.raises(CheckpointError, match="objective D was trained with Adam, the spec "
                       "asks for RMSprop"):
        Trainer(rmsprop, tmp_path / "other", resume=dcgan_checkpoint, steps=4)
    sets = [a for s in [*DCGAN, "training.optimizer=rmsprop"] for a in ("--set", s)]
    assert main(["run", "specs/dcgan.yaml", *sets, "--steps", "4", "--quiet", "--out",
                 str(tmp_path / "cli"), "--resume", str(dcgan_checkpoint)]) == 2
    err = capsys.readouterr().err
    assert "was trained with Adam, the spec asks for RMSprop" in err
    assert "Traceback" not in err and "KeyError" not in err


def test_a_version_1_checkpoint_with_another_optimizer(tmp_path, dcgan_checkpoint):
    state = torch.load(dcgan_checkpoint, weights_only=True)
    del state["optimizer_types"], state["digest"]
    state["version"] = 1  # written before checkpoints recorded the optimizer types
    old = tmp_path / "v1.pt"
    torch.save(state, old)
    rmsprop = load_spec("specs/dcgan.yaml", [*DCGAN, "training.optimizer=rmsprop"])
    with pytest.raises(CheckpointError, match=r"objective D: the checkpoint's optimizer has "
                       r"settings \[.*'betas'.*\] that RMSprop does not"):
        Trainer(rmsprop, tmp_path / "other", resume=old, steps=4)
    resumed = Trainer(load_spec("specs/dcgan.yaml", DCGAN), tmp_path / "same", resume=old,
                      steps=4)  # and with the same optimizer it still continues
    assert resumed.step == 2


def test_an_objective_that_updates_other_networks(tmp_path, minimal_spec, checkpoint):
    both = load_spec(minimal_spec, ["objectives.D.updates=[D, G]"])
    with pytest.raises(CheckpointError, match=r"objective D: the checkpoint's optimizer updates "
                       r"4 parameter tensors, the spec's 8 \(did the objective's `updates`"):
        Trainer(both, tmp_path / "other", resume=checkpoint)


# -- what a checkpoint holds ---------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tiny")
    spec = folder / "spec.yaml"
    spec.write_text(textwrap.dedent(MINIMAL).lstrip("\n"), encoding="utf-8")
    Trainer(load_spec(spec), folder / "run").run()
    return (folder / "run" / "checkpoints" / "last.pt").read_bytes()


@pytest.fixture
def checkpoint(tmp_path, trained):
    """A fresh copy of a 4-step run's last.pt, in a run folder of its own."""
    path = tmp_path / "run" / "checkpoints" / "last.pt"
    path.parent.mkdir(parents=True)
    path.write_bytes(trained)
    return path


def rewrite(path, change) -> None:
    """Change a checkpoint's contents and save it properly (a valid digest)."""
    state = torch.load(path, weights_only=True)
    for key in ("format", "version", "digest"):
        del state[key]
    change(state)
    save_checkpoint(state, path)


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s.pop("rng"), "'rng' is missing"),
    (lambda s: s["rng"].pop("latent"), "'rng.latent' is missing"),
    (lambda s: s.update(step="4"), "'step' should be an integer, not str"),
    (lambda s: s.update(step=-1), "'step' is -1"),
    (lambda s: s["networks"].update(G=[1, 2]), "'networks.G' should be a mapping, not list"),
    (lambda s: s.update(spec_text=None), "'spec_text' should be text, not NoneType"),
    (lambda s: s["pools"].update(x={"size": 2}), "'pools.x.items' is missing"),
])
def test_a_malformed_checkpoint_says_what_is_wrong(tmp_path, minimal_spec, checkpoint, change,
                                                   message):
    rewrite(checkpoint, change)
    with pytest.raises(CheckpointError, match=f"is malformed: .*{message}"):
        load_checkpoint(checkpoint)
    with pytest.raises(CheckpointError, match=message):
        Trainer(load_spec(minimal_spec), tmp_path / "run", resume=checkpoint, steps=8)


@pytest.mark.parametrize("change", [
    lambda s: s["rng"].update(latent=torch.zeros(3, dtype=torch.uint8)),
    lambda s: s["pools"].update(x={"size": 2, "items": [1, 2]}),
    lambda s: s.update(sampler={}),
])
def test_a_bad_value_inside_a_well_formed_checkpoint(tmp_path, minimal_spec, checkpoint,
                                                     change):
    rewrite(checkpoint, change)
    with pytest.raises(CheckpointError, match="cannot continue from this checkpoint"):
        Trainer(load_spec(minimal_spec), tmp_path / "run", resume=checkpoint, steps=8)


def test_a_flipped_byte_is_reported_as_damage(checkpoint):
    data = checkpoint.read_bytes()
    weight = load_checkpoint(checkpoint)["networks"]["G"]["0.weight"]
    at = data.find(weight.numpy().tobytes())
    assert at > 0
    for offset in (at + 9, data.find(b"name: tiny") + 9):  # a weight's byte, the spec's text
        damaged = bytearray(data)
        damaged[offset] ^= 0x01
        checkpoint.write_bytes(bytes(damaged))
        with pytest.raises(CheckpointError, match="is damaged"):
            load_checkpoint(checkpoint)


def test_no_flipped_byte_loads_as_a_different_model(checkpoint):
    data = checkpoint.read_bytes()
    good = load_checkpoint(checkpoint)
    for offset in range(0, len(data), max(1, len(data) // 60)):
        damaged = bytearray(data)
        damaged[offset] ^= 0x10
        checkpoint.write_bytes(bytes(damaged))
        try:
            state = load_checkpoint(checkpoint)
        except CheckpointError as exc:
            assert "damaged" in str(exc) or "not a ganbuilder checkpoint" in str(exc), exc
            continue
        # a byte the contents do not depend on (zip padding): the model is the one saved
        assert state["digest"] == good["digest"] and state["step"] == good["step"]
        assert all(torch.equal(v, good["networks"]["G"][k])
                   for k, v in state["networks"]["G"].items())


def test_a_digest_missing_from_a_version_2_file(checkpoint):
    state = torch.load(checkpoint, weights_only=True)
    del state["digest"]
    torch.save(state, checkpoint)
    with pytest.raises(CheckpointError, match="is damaged: its digest is missing"):
        load_checkpoint(checkpoint)


def test_version_1_checkpoints_still_load(checkpoint):
    state = torch.load(checkpoint, weights_only=True)
    del state["digest"], state["optimizer_types"]
    state["version"] = 1
    torch.save(state, checkpoint)
    spec, _, step = load_model(checkpoint)
    assert step == 4 and spec.name == "tiny"


def test_non_finite_weights_are_refused_by_every_reader(tmp_path, minimal_spec, checkpoint,
                                                        capsys):
    def nan_weight(state):
        state["networks"]["G"]["2.bias"][0] = math.inf

    rewrite(checkpoint, nan_weight)
    message = r"holds non-finite weights \(network G parameter '2.bias'\)"
    with pytest.raises(CheckpointError, match=message):
        load_model(checkpoint)  # what sample, evaluate and translate load through
    with pytest.raises(CheckpointError, match=message):
        Trainer(load_spec(minimal_spec), tmp_path / "run", resume=checkpoint, steps=8)
    assert main(["sample", str(checkpoint), "--out", str(tmp_path / "x.png")]) == 2
    assert "holds non-finite weights" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


def test_a_checkpoint_spec_never_extends_another_file(tmp_path, checkpoint, capsys):
    base = tmp_path / "base.yaml"
    base.write_text("version: 1\n", encoding="utf-8")  # would merge fine if it were followed

    def extend(state):
        state["spec_text"] = f"extends: ../{base.name}\n" + state["spec_text"]

    inner = tmp_path / "run" / "checkpoints" / "sub"
    inner.mkdir()
    crafted = inner / "crafted.pt"
    crafted.write_bytes(checkpoint.read_bytes())
    rewrite(crafted, extend)
    with pytest.raises(SpecError, match="a checkpoint's spec is resolved and cannot extend"):
        load_model(crafted)
    assert main(["sample", str(crafted), "--out", str(tmp_path / "x.png")]) == 2
    assert "cannot extend another file" in capsys.readouterr().err
    text = load_checkpoint(checkpoint)["spec_text"]
    assert load_spec_text(text, resolved=True).name == "tiny"  # a real one loads
    with pytest.raises(SpecError, match="cannot extend"):
        load_spec_text("extends: base.yaml\n" + text, base_dir=tmp_path, resolved=True)
    assert load_spec_text("extends: base.yaml\n" + text, base_dir=tmp_path).name == "tiny"


class _RunsCode:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


def test_a_pickle_payload_is_refused_with_its_reason(tmp_path, capsys):
    evil = tmp_path / "evil.pt"
    torch.save({"format": FORMAT, "version": 2, "payload": _RunsCode()}, evil)
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(evil)
    message = str(caught.value)
    assert f"loading it would run code ({os.system.__module__}.system)" in message
    assert "weights_only" not in message and "trust" not in message
    assert main(["sample", str(evil), "--out", str(tmp_path / "x.png")]) == 2
    assert "would run code" in capsys.readouterr().err


@pytest.mark.parametrize(("flags", "message"), [
    (["--n", "0"], "--n must be in 1..4096, got 0"),
    (["--n", "100000"], "--n must be in 1..4096, got 100000"),
    (["--out", "grid.jpg"], "the sample grid is a PNG file, name it *.png"),
    (["--out", "."], "name it *.png"),
    (["--out", "a_folder.png"], "a_folder.png is a folder: name the PNG file to write"),
    (["--out", "notes.txt/grid.png"],
         "cannot write notes.txt/grid.png: notes.txt is a file, not a folder"),
])
def test_sample_flags_that_cannot_work(tmp_path, checkpoint, capsys, monkeypatch, flags,
                                       message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_folder.png").mkdir()
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["sample", str(checkpoint), "--out", "x.png", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_failed_write_keeps_the_previous_checkpoint(tmp_path, minimal_spec, monkeypatch):
    spec = load_spec(minimal_spec, ["training.steps=4", "training.checkpoint_every=2"])
    trainer = Trainer(spec, tmp_path / "run")
    real_write = files._write

    def full_disk(file, data, target):
        if target.name == "step_000004.pt":
            real_write(file, bytes(data)[:9], target)  # what a full disk leaves behind
            raise OSError(28, "No space left on device")
        real_write(file, data, target)

    monkeypatch.setattr(files, "_write", full_disk)
    events = []
    with pytest.raises(CheckpointError, match=r"cannot write .*step_000004.pt: no space left "
                       r"on the device; the checkpoint there before, if any, is kept"):
        trainer.run(events.append)
    checkpoints = tmp_path / "run" / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["last.pt", "step_000002.pt"]
    assert_good_checkpoint(checkpoints / "last.pt", 2)
    assert events[-1].last_checkpoint == checkpoints / "last.pt"
