"""`training.ema`: an average of the generator's weights for samples and sampling."""

import pytest
import torch

from ganbuilder.compile.model import GAN, TensorCache
from ganbuilder.errors import SpecError
from ganbuilder.sampling import load_model
from ganbuilder.spec import load_spec
from ganbuilder.train.ema import WeightAverage
from ganbuilder.train.trainer import Trainer
from tests.conftest import TINY

EMA = ["training.ema={networks: [G], decay: 0.5}"]


def test_the_average_follows_the_update_rule(minimal_spec):
    spec = load_spec(minimal_spec)
    gan = GAN(spec)
    before = {k: v.clone() for k, v in gan.nets["G"].state_dict().items()}
    average = WeightAverage(gan, {"networks": ["G"], "decay": 0.75, "start": 1})
    with torch.no_grad():
        for p in gan.nets["G"].parameters():
            p.add_(1.0)
    average.update(gan, step=1)  # until `start`: a plain copy
    key = next(iter(dict(gan.nets["G"].named_parameters())))
    assert torch.equal(average.shadow["G"][key], before[key] + 1.0)
    with torch.no_grad():
        for p in gan.nets["G"].parameters():
            p.add_(4.0)
    average.update(gan, step=2)  # then 0.75 old + 0.25 new
    assert torch.allclose(average.shadow["G"][key], before[key] + 1.0 + 0.25 * 4.0)
    live = gan.nets["G"].state_dict()[key].clone()
    with average.applied(gan):
        assert torch.allclose(gan.nets["G"].state_dict()[key], before[key] + 2.0)
    assert torch.equal(gan.nets["G"].state_dict()[key], live)  # the live weights come back


def test_the_rampup_shortens_the_early_half_life(minimal_spec):
    # StyleGAN2-ADA's ema_rampup: the half-life is at most rampup x the steps before this one,
    # so at step 3 with rampup 0.5 (half-life 1 step) the average moves half way, where
    # decay 0.999 alone would move it a thousandth of the way; later the decay bounds it.
    gan = GAN(load_spec(minimal_spec))
    average = WeightAverage(gan, {"networks": ["G"], "decay": 0.999, "rampup": 0.5})
    key = next(iter(dict(gan.nets["G"].named_parameters())))
    param = dict(gan.nets["G"].named_parameters())[key]

    def moved(step: int) -> float:
        """The share of the way to new weights (+1 everywhere) the average moves at `step`."""
        old = average.shadow["G"][key].clone()
        with torch.no_grad():
            param.add_(1.0)
        average.update(gan, step)
        target = param.detach()
        return float(((average.shadow["G"][key] - old) / (target - old)).mean())

    assert moved(1) == pytest.approx(1.0)  # no steps before: a plain copy
    assert moved(3) == pytest.approx(0.5)
    assert moved(5) == pytest.approx(1 - 0.5 ** 0.5)
    assert moved(100_000) == pytest.approx(0.001, rel=1e-4)


@pytest.mark.parametrize("ema", [EMA, ["training.ema={networks: [G], decay: 0.9, rampup: 0.3}"]],
                         ids=["decay", "rampup"])
def test_checkpoints_keep_the_average_and_sampling_uses_it(tmp_path, minimal_spec, ema):
    spec = load_spec(minimal_spec, [*ema, "training.steps=4"])
    straight = Trainer(spec, tmp_path / "a")
    straight.run()
    half = Trainer(spec, tmp_path / "b", steps=2)
    half.run()
    resumed = Trainer(spec, tmp_path / "b", resume=tmp_path / "b" / "checkpoints" / "last.pt")
    resumed.run()
    for key, value in straight.ema.shadow["G"].items():
        assert torch.equal(value, resumed.ema.shadow["G"][key])
    _, gan, _ = load_model(tmp_path / "a" / "checkpoints" / "last.pt")
    for key, value in gan.nets["G"].state_dict().items():
        assert torch.equal(value, straight.ema.shadow["G"][key])
        if value.is_floating_point() and key.endswith("weight"):
            assert not torch.equal(value, straight.gan.nets["G"].state_dict()[key])
    _, live, _ = load_model(tmp_path / "a" / "checkpoints" / "last.pt", ema=False)
    for key, value in live.nets["G"].state_dict().items():  # `--live-weights`
        assert torch.equal(value, straight.gan.nets["G"].state_dict()[key])


def test_an_unknown_network_is_named(minimal_spec):
    with pytest.raises(SpecError, match=r"training\.ema\.networks\[0\].*unknown network 'Gx'"):
        load_spec(minimal_spec, ["training.ema={networks: [Gx]}"])


def _dcgan_with_a_shifted_average():
    """A TINY DCGAN (batch norm in G) whose average's first layer weights are 4x the live
    ones: the live running statistics then describe other activations than the average's."""
    spec = load_spec("specs/dcgan.yaml", [*TINY["dcgan"], "training.ema={networks: [G]}"])
    gan = GAN(spec)
    average = WeightAverage(gan, spec.training["ema"])
    first = next(k for k in average.shadow["G"] if k.endswith("weight"))
    average.shadow["G"][first].mul_(4.0)
    return gan, average


def _eval_vs_batch_statistics(gan, average, z):
    with average.applied(gan):
        G = gan.nets["G"]
        with torch.no_grad():
            G.eval()
            running = G(z)
            G.train()
            batch = G(z)
    return float((running - batch).abs().mean())


def test_the_average_measures_its_own_batch_norm_statistics():
    gan, average = _dcgan_with_a_shifted_average()
    z = torch.randn(512, 8, 1, 1, generator=torch.Generator().manual_seed(0))
    live_stats = {k: v.clone() for k, v in gan.nets["G"].state_dict().items()
                  if "running" in k}
    stale = _eval_vs_batch_statistics(gan, average, z)
    draws = [TensorCache(gan, {"z": torch.randn(64, 8, 1, 1)}) for _ in range(8)]
    average.recalibrate(gan, draws)
    measured = _eval_vs_batch_statistics(gan, average, z)
    # Eval-mode samples of the average now match what its own batch statistics give.
    assert measured < 0.1 * stale
    for key, value in live_stats.items():  # the live network keeps its statistics
        assert torch.equal(gan.nets["G"].state_dict()[key], value)
    assert all(m.momentum == 0.1 for m in average.batch_norms(gan))
    assert gan.nets["G"].training


def test_a_run_saves_the_average_with_its_own_statistics(tmp_path):
    spec = load_spec("specs/dcgan.yaml", [*TINY["dcgan"], *EMA, "data.batch_size=8",
                                          "training.steps=3"])
    trainer = Trainer(spec, tmp_path / "run")
    trainer.run()
    state = torch.load(tmp_path / "run" / "checkpoints" / "last.pt", weights_only=True)
    key = next(k for k in state["ema"]["G"] if k.endswith("running_var"))
    assert not torch.equal(state["ema"]["G"][key], state["networks"]["G"][key])
