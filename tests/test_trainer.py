"""The trainer: exact resume, stop/pause control, failures that keep the last checkpoint."""

import json
import threading

import pytest
import torch

from ganbuilder.errors import CheckpointError
from ganbuilder.spec import load_spec
from ganbuilder.train.control import Control
from ganbuilder.train.events import (
    CheckpointSaved,
    Failed,
    Finished,
    Paused,
    Resumed,
    StepMetrics,
)
from ganbuilder.train.trainer import DivergenceError, Trainer

DCGAN = ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8",
         "data.batch_size=16", "training.log_every=5", "training.sample_every=100",
         "training.checkpoint_every=10"]


def weights(trainer: Trainer) -> dict:
    return {f"{n}.{k}": v.clone() for n, net in trainer.gan.nets.items()
            for k, v in net.state_dict().items()}


def test_resume_is_exact(tmp_path):
    spec = load_spec("specs/dcgan.yaml", DCGAN)
    straight = Trainer(spec, tmp_path / "a", steps=20)
    straight.run()
    first = Trainer(spec, tmp_path / "b", steps=10)
    first.run()
    resumed = Trainer(spec, tmp_path / "b", steps=20,
                      resume=tmp_path / "b" / "checkpoints" / "last.pt")
    assert resumed.step == 10
    resumed.run()
    a, b = weights(straight), weights(resumed)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    steps = [json.loads(line)["step"] for line in
             (tmp_path / "b" / "metrics.jsonl").read_text().splitlines()]
    assert steps == [5, 10, 15, 20]


def test_events_in_order(tmp_path, minimal_spec):
    events = []
    Trainer(load_spec(minimal_spec), tmp_path / "run").run(events.append)
    kinds = [type(e).__name__ for e in events]
    assert kinds[0] == "Started" and kinds[-1] == "Finished"
    metrics = [e for e in events if isinstance(e, StepMetrics)]
    assert [m.step for m in metrics] == [2, 4]
    assert {"loss/D", "loss/G", "loss/D/adv_D", "acc/D/real", "acc/D/fake", "lr/D",
            "time/step"} <= set(metrics[-1].metrics)
    assert not events[-1].stopped


def test_stop_saves_a_checkpoint(tmp_path, minimal_spec):
    control = Control()
    spec = load_spec(minimal_spec, ["training.steps=1000"])
    trainer = Trainer(spec, tmp_path / "run", control=control)

    def stop_at_step_3(event):
        if isinstance(event, StepMetrics) and event.step >= 2:
            control.stop()

    events = []
    trainer.run(lambda e: (events.append(e), stop_at_step_3(e)))
    finished = events[-1]
    assert isinstance(finished, Finished) and finished.stopped
    assert finished.step < 1000
    saved = [e for e in events if isinstance(e, CheckpointSaved)]
    assert saved[-1].step == finished.step
    assert torch.load(saved[-1].path, weights_only=True)["step"] == finished.step


def test_pause_holds_the_step_counter(tmp_path, minimal_spec):
    control = Control()
    spec = load_spec(minimal_spec, ["training.steps=100000", "training.log_every=1"])
    trainer = Trainer(spec, tmp_path / "run", control=control)
    events = []
    thread = threading.Thread(target=trainer.run, args=(events.append,))
    control.pause()
    thread.start()
    threading.Event().wait(0.3)
    assert trainer.step == 0
    paused = [e for e in events if isinstance(e, Paused)]
    assert len(paused) == 1 and paused[0].checkpoint.is_file()  # saved while waiting
    control.resume()
    while trainer.step < 5:
        threading.Event().wait(0.01)
    control.stop()
    thread.join(10)
    assert not thread.is_alive()
    assert any(isinstance(e, Resumed) and e.step == 0 for e in events)


def test_divergence_fails_and_keeps_last_good_checkpoint(tmp_path, minimal_spec):
    spec = load_spec(minimal_spec, ["training.steps=6"])
    trainer = Trainer(spec, tmp_path / "run")
    real_step = trainer.train_step

    def poisoned(sums):
        real_step(sums)
        if trainer.step > 2:
            sums["loss/G"] = sums["loss/G"] * float("nan")

    trainer.train_step = poisoned
    events = []
    with pytest.raises(DivergenceError, match="loss/G is nan at step 4"):
        trainer.run(events.append)
    failed = events[-1]
    assert isinstance(failed, Failed)
    assert failed.last_checkpoint == tmp_path / "run" / "checkpoints" / "last.pt"
    assert torch.load(failed.last_checkpoint, weights_only=True)["step"] == 2


def test_mismatched_checkpoint_is_refused(tmp_path, minimal_spec):
    spec = load_spec(minimal_spec)
    Trainer(spec, tmp_path / "run").run()
    wider = load_spec(minimal_spec, ["networks.G.layers[0].linear=32"])
    with pytest.raises(CheckpointError, match=r"network G parameter '0.bias' has shape "
                       r"\(16,\) in the checkpoint, \(32,\) in the spec"):
        Trainer(wider, tmp_path / "other", resume=tmp_path / "run" / "checkpoints" / "last.pt")


def test_corrupt_checkpoint_is_refused(tmp_path, minimal_spec):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        Trainer(load_spec(minimal_spec), tmp_path / "run", resume=bad)



def test_a_repeated_objective_logs_its_mean(tmp_path, minimal_spec):
    # WGAN's five critic steps per iteration: D accuracy is still a fraction, the loss a mean.
    spec = load_spec(minimal_spec, ["objectives.D.repeat=5", "training.steps=4",
                                    "training.log_every=2"])
    Trainer(spec, tmp_path / "run").run()
    records = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    assert len(records) == 2
    for record in records:
        for key in ("acc/D/real", "acc/D/fake"):
            assert 0.0 <= record[key] <= 1.0 + 1e-6
        assert 0.0 < record["loss/D"] < 5.0  # BCE of a fresh critic is about 2 ln 2, not 5x


def test_wgan_clips_the_critic_after_each_step(tmp_path):
    spec = load_spec("specs/wgan.yaml", DCGAN)
    trainer = Trainer(spec, tmp_path / "run")
    critic = [p.detach().clone() for p in trainer.gan.nets["D"].parameters()]
    assert max(p.abs().max() for p in critic) > 0.01  # N(0, 0.02) init, batch norm scales ~1
    trainer.train_step({})
    assert all(p.abs().max() <= 0.01 for p in trainer.gan.nets["D"].parameters())
    # Only the objective that asks for it clips: G keeps weights beyond 0.01.
    assert max(p.abs().max() for p in trainer.gan.nets["G"].parameters()) > 0.01


BEGAN = ["params.n=8", "params.nz=8", "data.batch_size=8", "training.log_every=2",
         "training.sample_every=100", "training.checkpoint_every=3"]


def test_began_k_survives_a_checkpoint(tmp_path):
    # k starts mid-way and moves visibly each step, either way, but stays inside (0, 1).
    spec = load_spec("specs/began.yaml", [*BEGAN, "objectives.D.loss[0].began.lambda_k=0.05",
                                          "objectives.D.loss[0].began.k_init=0.5"])
    straight = Trainer(spec, tmp_path / "a", steps=6)
    straight.run()
    Trainer(spec, tmp_path / "b", steps=3).run()
    resumed = Trainer(spec, tmp_path / "b", steps=6,
                      resume=tmp_path / "b" / "checkpoints" / "last.pt")
    k_saved = resumed.term_states["D/began"]["k"]
    assert 0.0 < float(k_saved) < 1.0
    resumed.run()
    k = straight.term_states["D/began"]["k"]
    assert float(k) != float(k_saved)
    assert torch.equal(k, resumed.term_states["D/began"]["k"])
    a, b = weights(straight), weights(resumed)
    for key in a:
        assert torch.equal(a[key], b[key]), key
