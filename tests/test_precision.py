"""training.precision: bf16 trains on the CPU (penalty included), fp16 scales each objective's
loss and skips an overflowed step without calling it a divergence, and resume stays exact."""

from __future__ import annotations

import json

import pytest
import torch

from ganbuilder.spec import load_spec
from ganbuilder.train.precision import MAX_SKIPPED, Precision
from ganbuilder.train.trainer import Trainer

SMALL = ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8",
         "data.batch_size=16", "training.log_every=1", "training.sample_every=100"]


def _weights(trainer: Trainer) -> dict[str, torch.Tensor]:
    return {f"{n}.{k}": v.clone() for n, net in trainer.gan.nets.items()
            for k, v in net.state_dict().items()}


def _train(tmp_path, name: str, spec_file: str, precision: str, steps: int,
           resume: bool = False, device: str = "cpu") -> Trainer:
    spec = load_spec(spec_file, [*SMALL, f"training.precision={precision}"])
    run = tmp_path / name
    trainer = Trainer(spec, run, device=device, steps=steps,
                      resume=run / "checkpoints" / "last.pt" if resume else None)
    trainer.run()
    return trainer


def test_bf16_trains_on_the_cpu_with_a_gradient_penalty(tmp_path):
    bf16 = _train(tmp_path, "bf16", "specs/wgan_gp.yaml", "bf16", 3)
    fp32 = _train(tmp_path, "fp32", "specs/wgan_gp.yaml", "fp32", 3)
    logged = [json.loads(line) for line in
              (tmp_path / "bf16" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in logged] == [1, 2, 3]
    assert all(torch.isfinite(torch.tensor(m["loss/D/gradient_penalty"])) for m in logged)
    a, b = _weights(bf16), _weights(fp32)
    for key in a:
        assert a[key].dtype == b[key].dtype  # parameters stay fp32; autocast computes in bf16
        assert torch.isfinite(a[key]).all(), key
    # bf16 arithmetic did run: the two runs part, but stay close after 3 steps.
    assert any(not torch.equal(a[k], b[k]) for k in a)
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=5e-3, rtol=0.05, msg=key)


def test_bf16_resume_is_exact(tmp_path):
    straight = _train(tmp_path, "a", "specs/dcgan.yaml", "bf16", 4)
    _train(tmp_path, "b", "specs/dcgan.yaml", "bf16", 2)
    resumed = _train(tmp_path, "b", "specs/dcgan.yaml", "bf16", 4, resume=True)
    a, b = _weights(straight), _weights(resumed)
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_fp16_skips_an_overflowed_step_without_diverging(tmp_path):
    spec = load_spec("specs/dcgan.yaml", [*SMALL, "training.precision=fp16"])
    trainer = Trainer(spec, tmp_path / "r", device="cpu", steps=3)
    # A scale so high that the critic's first scaled gradients overflow fp16's range.
    trainer.precision.scalers["D"] = torch.amp.GradScaler("cpu", init_scale=2.0 ** 40)
    before = _weights(trainer)
    trainer.run()
    logged = [json.loads(line) for line in
              (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in logged] == [1, 2, 3]
    assert "loss/D" not in logged[0] and "loss/G" in logged[0]  # skipped: not logged
    state = torch.load(tmp_path / "r" / "checkpoints" / "last.pt", weights_only=True)
    assert state["scalers"]["D"]["scale"] < 2.0 ** 40
    assert any(not torch.equal(v, before[k]) for k, v in _weights(trainer).items()
               if k.startswith("G."))


def test_fp16_resume_is_exact_and_keeps_the_scalers(tmp_path):
    straight = _train(tmp_path, "a", "specs/dcgan.yaml", "fp16", 4)
    state = torch.load(tmp_path / "a" / "checkpoints" / "last.pt", weights_only=True)
    assert set(state["scalers"]) == {"D", "G"}
    _train(tmp_path, "b", "specs/dcgan.yaml", "fp16", 2)
    resumed = _train(tmp_path, "b", "specs/dcgan.yaml", "fp16", 4, resume=True)
    assert resumed.precision.state_dict() == straight.precision.state_dict()
    a, b = _weights(straight), _weights(resumed)
    for key in a:
        assert torch.equal(a[key], b[key]), key


@pytest.mark.skipif(not torch.cuda.is_available(), reason="fp16 penalties need CUDA kernels")
def test_fp16_gradient_penalty_on_cuda(tmp_path):
    trainer = _train(tmp_path, "gp", "specs/wgan_gp.yaml", "fp16", 3, device="cuda")
    logged = [json.loads(line) for line in
              (tmp_path / "gp" / "metrics.jsonl").read_text().splitlines()]
    assert any("loss/D/gradient_penalty" in m for m in logged)
    for value in _weights(trainer).values():
        assert torch.isfinite(value).all()


def test_a_scale_that_keeps_collapsing_is_a_divergence():
    p = torch.nn.Parameter(torch.ones(2))
    opt = torch.optim.SGD([p], lr=0.1)
    precision = Precision("fp16", torch.device("cpu"), ["D"])
    for i in range(MAX_SKIPPED):
        assert precision.collapsed() is None
        opt.zero_grad()
        precision.backward("D", (p * float("inf")).sum(), [p])
        assert not precision.step("D", opt), i
    assert precision.collapsed() == "D"
    assert torch.equal(p.detach(), torch.ones(2))  # no skipped step touched the weights
    opt.zero_grad()
    precision.backward("D", p.sum(), [p])
    assert precision.step("D", opt) and precision.collapsed() is None


def test_fp32_is_no_autocast_and_no_scaler():
    precision = Precision("fp32", torch.device("cpu"), ["D"])
    assert precision.scalers == {} and precision.grad_scale("D") == 1.0
    with precision.autocast():
        assert not torch.is_autocast_enabled("cpu")
    with Precision("bf16", torch.device("cpu"), ["D"]).autocast():
        assert torch.is_autocast_enabled("cpu")


def test_channels_last_trains_to_the_same_kind_of_checkpoint(tmp_path):
    spec = load_spec("specs/dcgan.yaml", [*SMALL, "training.channels_last=true"])
    trainer = Trainer(spec, tmp_path / "cl", device="cpu", steps=2)
    conv = trainer.gan.nets["D"][0]
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    trainer.run()
    plain = Trainer(load_spec("specs/dcgan.yaml", SMALL), tmp_path / "plain", device="cpu",
                    steps=3, resume=tmp_path / "cl" / "checkpoints" / "last.pt")
    assert plain.step == 2  # a channels-last checkpoint continues without the switch
    state = torch.load(tmp_path / "cl" / "checkpoints" / "last.pt", weights_only=True)
    for name, net in plain.gan.nets.items():
        assert state["networks"][name].keys() == net.state_dict().keys()
        for value in state["networks"][name].values():
            assert torch.isfinite(value.float()).all()


def test_compile_wraps_each_network_in_place_keeping_its_parameter_names(tmp_path):
    spec = load_spec("specs/dcgan.yaml", [*SMALL, "training.compile=true"])
    compiled = Trainer(spec, tmp_path / "c", device="cpu", steps=1)
    plain = Trainer(load_spec("specs/dcgan.yaml", SMALL), tmp_path / "p", device="cpu", steps=1)
    for name, net in compiled.gan.nets.items():
        assert net._compiled_call_impl is not None  # nn.Module.compile: torch.compile on call
        assert net.state_dict().keys() == plain.gan.nets[name].state_dict().keys()
