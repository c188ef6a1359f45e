"""`training.ema`: an average of the generator's weights for samples and sampling."""

import pytest
import torch

from ganbuilder.compile.model import GAN
from ganbuilder.errors import SpecError
from ganbuilder.sampling import load_model
from ganbuilder.spec import load_spec
from ganbuilder.train.ema import WeightAverage
from ganbuilder.train.trainer import Trainer

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


def test_checkpoints_keep_the_average_and_sampling_uses_it(tmp_path, minimal_spec):
    spec = load_spec(minimal_spec, [*EMA, "training.steps=4"])
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
