"""Adaptive augmentation (the `ada` layer, train/ada.py): p follows the sign of the critic's
outputs on real images, as StyleGAN2-ADA's heuristic, and survives checkpoints exactly."""

from __future__ import annotations

import json

import pytest
import torch

from ganbuilder.cli import main
from ganbuilder.compile.model import GAN
from ganbuilder.errors import UserError
from ganbuilder.layers import LAYERS
from ganbuilder.layers.ada_modules import AdaptiveAugment, rotate90
from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer
from tests.conftest import import_file

# dcgan_diffaugment's critic with `ada` in place of `diffaugment`, a fast ramp, and G barely
# learning (lr 1e-9): the critic soon tells the real digits apart, as one that overfits does.
ADA = ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8",
       "data.batch_size=16", "training.log_every=1", "training.sample_every=100",
       "networks.D.layers[0]={ada: {ramp: 640, interval: 2}}"]
FAST = ["training.ema=null"]  # no weight average to calibrate: these runs take seconds
FROZEN_G = ["training.optimizer={adam: {lr: 1.0e-9, betas: [0.0, 0.999]}}"]


def _module(**given) -> AdaptiveAugment:
    ldef = LAYERS.get("ada")
    return ldef.build(ldef.normalize(given), [(1, 8, 8)])


def test_p_moves_by_batch_times_interval_over_ramp_toward_the_target():
    module = _module(ramp=1000, interval=4)
    for _ in range(3):
        assert not module.observe(torch.tensor(1.0))  # gathers until `interval` steps
    assert module.observe(torch.tensor(0.8))
    assert float(module.gathered()) == pytest.approx(0.95)
    module.adjust(float(module.gathered()), batch_size=50)
    assert float(module.p) == pytest.approx(50 * 4 / 1000)  # up: 0.95 > 0.6
    assert int(module.pending) == 0 and float(module.signs) == 0
    module.adjust(0.2, batch_size=50)
    module.adjust(0.2, batch_size=50)  # down, and never below 0
    assert float(module.p) == 0.0
    default = _module()
    assert (default.target, default.interval, default.ramp) == (0.6, 4, 500_000)


def test_each_op_changes_about_p_of_the_samples():
    torch.manual_seed(0)
    x = torch.randn(2000, 1, 8, 8)
    for p in (0.0, 0.3):
        module = _module(ops=["xflip"], p=p).train()
        changed = (module(x) != x).flatten(1).any(1).float().mean()
        assert float(changed) == pytest.approx(p, abs=0.04)
    assert torch.equal(_module(p=1.0).eval()(x), x)  # the identity outside training


def test_rotate90_turns_each_sample_by_a_multiple_of_90_degrees():
    torch.manual_seed(0)
    x = torch.arange(16.0).reshape(1, 1, 4, 4).repeat(64, 1, 1, 1)
    out = rotate90(x)
    turns = [next(k for k in range(4) if torch.equal(o, torch.rot90(x[0], k, (1, 2))))
             for o in out]
    assert set(turns) == {0, 1, 2, 3}


def test_p_rises_when_the_critic_overfits_real_images(tmp_path):
    spec = load_spec("specs/dcgan_diffaugment.yaml", [*ADA, *FAST, *FROZEN_G])
    Trainer(spec, tmp_path / "run", steps=12).run()
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    assert rows[-1]["acc/D/real"] >= 0.9
    assert rows[0]["aug/D/p"] == 0.0 and rows[-1]["aug/D/p"] >= 0.1  # 16 x 2 / 640 a move


def test_p_falls_when_the_critic_is_not_sure_of_real_images(tmp_path):
    # A critic whose scores are all 0 (dropout 1 after its last layer) never puts a real image
    # on the real side: E[sign(D(real))] is -1, under the target, so p falls at every move.
    spec = load_spec("specs/dcgan_diffaugment.yaml", [
        *ADA, *FAST, "networks.D.layers=[{ada: {ramp: 640, interval: 2, p: 0.5}}, flatten, "
        "{linear: 1}, {dropout: 1.0}]"])
    Trainer(spec, tmp_path / "run", steps=8).run()
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").open()]
    assert all(row["acc/D/real"] == 0.0 for row in rows)
    assert [row["aug/D/p"] for row in rows] == pytest.approx(
        [0.5 - (step // 2) * 16 * 2 / 640 for step in range(1, 9)])


def test_p_is_kept_in_checkpoints_and_a_resumed_run_is_exact(tmp_path):
    spec = load_spec("specs/dcgan_diffaugment.yaml", [
        *ADA, *FAST, *FROZEN_G, "networks.D.layers[0]={ada: {ramp: 640, interval: 2, p: 0.5}}"])
    straight = Trainer(spec, tmp_path / "a", steps=6)
    straight.run()
    Trainer(spec, tmp_path / "b", steps=3).run()  # stops between two moves of p
    state = torch.load(tmp_path / "b" / "checkpoints" / "last.pt", weights_only=True)
    assert {"0.p", "0.signs", "0.pending"} <= set(state["networks"]["D"])
    assert int(state["networks"]["D"]["0.pending"]) == 1
    resumed = Trainer(spec, tmp_path / "b", steps=6,
                      resume=tmp_path / "b" / "checkpoints" / "last.pt")
    resumed.run()
    a, b = straight.gan.nets["D"].state_dict(), resumed.gan.nets["D"].state_dict()
    assert float(a["0.p"]) != 0.5  # p moved, three times
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_an_ada_critic_must_judge_real_images(tmp_path):
    spec = load_spec("specs/dcgan_diffaugment.yaml", [
        *ADA, "networks.G.layers=[{conv_transpose: {out: 1, kernel: 16}}, {ada: {ops: [xflip]}}]"])
    with pytest.raises(UserError, match="no adversarial term judges real images with G") as err:
        Trainer(spec, tmp_path / "run", steps=1)
    assert err.value.problems[0].path == "networks.G.layers[1]" and err.value.problems[0].location


def test_eject_with_training_refuses_ada_and_writes_its_network(tmp_path, capsys):
    args = ["specs/dcgan_diffaugment.yaml", *[f"--set={o}" for o in ADA]]
    assert main(["eject", *args, "--with-training", "--out", str(tmp_path / "t.py")]) == 2
    assert "the ada layer's probability p" in capsys.readouterr().err
    assert main(["eject", *args, "--out", str(tmp_path / "n.py")]) == 0
    plain = import_file(tmp_path / "n.py").NETWORKS["D"]()
    compiled = GAN(load_spec(args[0], ADA)).nets["D"]
    assert list(plain.state_dict()) == list(compiled.state_dict())  # p a buffer alike
