"""What keeps a GPU fed: batches made ahead in a thread (the same stream, exact resume, this
rank's rows only, no unread labels), noise drawn on the device, gradients averaged in buckets
during backward, one checkpoint write per interval, fused Adam, and no host-device sync in an
fp32 or bf16 step (at most one per optimizer step in fp16), counted by benchmarks/_syncs.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch
import torch.distributed as dist

import ganbuilder.train.trainer as trainer_module
from ganbuilder.data import open_source
from ganbuilder.data.prefetch import Prefetcher
from ganbuilder.optim import build_optimizer
from ganbuilder.spec import load_spec
from ganbuilder.train.grad_buckets import OverlappedAverage
from ganbuilder.train.kernels import choose_kernels
from ganbuilder.train.streams import ON_DEVICE
from ganbuilder.train.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
from _syncs import SyncCounter, host, optimizer_steps  # noqa: E402

TINY = ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8",
        "data.batch_size=8", "training.log_every=1000", "training.sample_every=1000"]
DIGITS = {"source": "digits", "image_size": 16, "channels": 1}


def _equal(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_prefetched_batches_are_the_sampler_s_and_resume_where_training_is():
    source = open_source(DIGITS, ROOT)
    plain = source.sampler(8, seed=1)
    ahead = Prefetcher(source.sampler(8, seed=1), depth=3)
    try:
        for _ in range(5):
            _equal(ahead.next(), plain.next())
        # The thread has made batches ahead; the saved state is the training thread's.
        state = ahead.state_dict()
        assert state["pos"] == plain.state_dict()["pos"]
        assert torch.equal(state["generator"], plain.state_dict()["generator"])
        resumed = Prefetcher(source.sampler(8, seed=99))
        resumed.load_state_dict(state)
        for _ in range(4):
            expected = plain.next()
            _equal(ahead.next(), expected)
            _equal(resumed.next(), expected)
        resumed.close()
    finally:
        ahead.close()


def test_a_data_error_in_the_thread_reaches_the_training_thread():
    class Broken:
        def state_dict(self) -> dict:
            return {}

        def next(self) -> dict:
            raise ValueError("image 7 is damaged")

        def close(self) -> None:
            pass

    with pytest.raises(ValueError, match="image 7 is damaged"):
        Prefetcher(Broken()).next()


def test_each_rank_makes_only_its_rows_of_an_in_memory_batch():
    source = open_source(DIGITS, ROOT)
    whole = source.sampler(8, seed=2).next()
    for rank in range(2):
        sampler = source.sampler(8, seed=2)
        sampler.share = slice(4 * rank, 4 * rank + 4)
        mine = sampler.next()
        assert len(mine["real"]) == 4
        _equal(mine, {k: v[4 * rank:4 * rank + 4] for k, v in whole.items()})


def test_a_label_nothing_reads_is_not_handed_to_training(tmp_path):
    dcgan = Trainer(load_spec("specs/dcgan.yaml", TINY), tmp_path / "a", device="cpu")
    acgan = Trainer(load_spec("specs/acgan.yaml", TINY), tmp_path / "b", device="cpu")
    try:
        assert set(dcgan.sampler.next()) == {"real"}  # digits have labels; DCGAN reads none
        assert "label" in acgan.sampler.next()
    finally:
        dcgan.sampler.close()
        acgan.sampler.close()


def test_noise_is_drawn_where_training_runs(tmp_path):
    trainer = Trainer(load_spec("specs/wgan_gp.yaml", TINY), tmp_path / "r", device="cpu")
    assert trainer.latent_generator.device == trainer.device
    assert trainer.uniform_generator.device == trainer.device
    trainer.sampler.close()


def _device_generators(made: list):
    original = trainer_module.stream_generator

    def recording(stream: str, seed: int, device: torch.device) -> torch.Generator:
        generator = original(stream, seed, device)
        if stream in ON_DEVICE:
            made.append(generator)
        return generator

    return recording


@pytest.mark.parametrize(("spec_file", "precision", "per_iteration"), [
    ("specs/dcgan.yaml", "fp32", 0),
    ("specs/wgan_gp.yaml", "fp32", 0),  # five critic steps with a gradient penalty
    ("specs/dcgan.yaml", "bf16", 0),
    ("specs/dcgan.yaml", "fp16", 2),  # GradScaler.step's check, once per optimizer step
])
def test_a_step_makes_the_gpu_wait_only_where_it_must(tmp_path, monkeypatch, spec_file,
                                                     precision, per_iteration):
    made: list[torch.Generator] = []
    monkeypatch.setattr(trainer_module, "stream_generator", _device_generators(made))
    spec = load_spec(spec_file, [*TINY, f"training.precision={precision}"])
    trainer = Trainer(spec, tmp_path / "r", device="cpu")
    sums: dict = {}
    try:
        optimizers = [o.optimizer for o in trainer.objectives]
        for i in range(30):  # until every optimizer made a step (fp16 skips its first)
            if i >= 2 and all(opt.state for opt in optimizers):
                break
            trainer.train_step(sums)
        host(optimizer_steps(optimizers))  # torch keeps Adam's step counts on the host
        with SyncCounter(made) as count:
            for _ in range(3):
                trainer.train_step(sums)
            steps = dict(count.by_kind)
            count.reset()
            trainer._metrics(sums, 1, 0.0)  # a logging step: one read of all its figures
            logging = count.total
    finally:
        trainer.sampler.close()
    assert sum(steps.values()) == 3 * per_iteration, steps
    assert logging == 1


def test_the_counter_sees_what_a_hand_written_loop_waits_for():
    x = torch.ones(3)
    with SyncCounter() as count:
        float(x.sum())
        if x.max() > 0:
            x.tolist()
        torch.randn(3, generator=torch.Generator()).to("cpu")  # a blocking copy of host noise
        x.to("cpu", non_blocking=True)
    assert count.by_kind == {".__float__()": 1, ".__bool__()": 1, ".tolist()": 1,
                             "blocking copy to the device": 1}


@pytest.fixture
def one_rank(tmp_path):
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0,
                            world_size=1)
    yield
    dist.destroy_process_group()


def test_gradients_are_reduced_bucket_by_bucket_during_backward(one_rank):
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.Linear(8, 8),
                              torch.nn.Linear(8, 1))
    unused = torch.nn.Parameter(torch.ones(3))  # no gradient: its bucket goes out at the end
    params = [*net.parameters(), unused]
    average = OverlappedAverage(params, world=1, bucket_bytes=64)  # several buckets
    sent: list[int] = []
    original = average._send
    average._send = lambda bucket: (sent.append(average.buckets.index(bucket)),
                                    original(bucket))[1]
    x = torch.randn(5, 4)
    expected = torch.autograd.grad(net(x).sum(), list(net.parameters()))
    for _ in range(2):
        sent.clear()
        net.zero_grad(set_to_none=True)
        with average.during_backward():
            net(x).sum().backward(inputs=params)
            during = list(sent)
        for p, g in zip(net.parameters(), expected, strict=True):
            torch.testing.assert_close(p.grad, g)
        assert unused.grad is None
        assert sorted(sent) == sent  # strictly in bucket order, on every rank alike
    # From the second backward on, the parameter without a gradient holds nothing back: the
    # buckets go out while backward runs.
    assert during and during[0] == 0
    assert sent == list(range(len(average.buckets)))
    assert len(average.buckets) > 2
    average.remove()


def test_a_checkpoint_interval_writes_one_file(tmp_path):
    spec = load_spec("specs/dcgan.yaml", [*TINY, "training.checkpoint_every=2"])
    Trainer(spec, tmp_path / "r", device="cpu", steps=3).run()
    folder = tmp_path / "r" / "checkpoints"
    assert sorted(p.name for p in folder.iterdir()) == ["last.pt", "step_000002.pt"]
    assert torch.load(folder / "last.pt", weights_only=True)["step"] == 3
    Trainer(spec, tmp_path / "s", device="cpu", steps=2).run()
    folder = tmp_path / "s" / "checkpoints"
    # The interval's checkpoint is last.pt too, written once (a link where possible).
    assert (folder / "last.pt").read_bytes() == (folder / "step_000002.pt").read_bytes()


def test_fused_adam_is_selectable_and_trains(tmp_path):
    p = torch.nn.Parameter(torch.ones(3))
    assert build_optimizer({"adam": {"fused": True}}, [p]).defaults["fused"] is True
    spec = load_spec("specs/dcgan.yaml", [*TINY, "training.optimizer.adam.fused=true"])
    trainer = Trainer(spec, tmp_path / "r", device="cpu", steps=2)
    assert all(o.optimizer.defaults["fused"] for o in trainer.objectives)
    trainer.run()


def test_cudnn_picks_its_fastest_kernels_unless_determinism_is_asked():
    before = torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic
    try:
        choose_kernels(torch.device("cpu"), False)
        assert torch.backends.cudnn.benchmark == before[0]  # nothing to choose on the CPU
        choose_kernels(torch.device("cuda"), False)
        assert torch.backends.cudnn.benchmark and not torch.backends.cudnn.deterministic
    finally:
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = before
