"""`feature_matching` (Salimans et al. 2016) on a critic layer named by its `id`."""

import pytest
import torch

from ganbuilder.compile.model import GAN
from ganbuilder.errors import SpecError
from ganbuilder.losses import LOSSES, TermContext
from ganbuilder.losses.feature_matching import layer_output
from ganbuilder.registry import fill_defaults
from ganbuilder.spec import load_spec

FM = ["objectives.G.loss=[{feature_matching: {critic: D, layer: h, real: real, fake: fake}}, "
      "{mutual_info: {q: Q, fake: fake, categorical: c}}]",
      "params.pack=1"]  # the feature layer reads single points


def _params(**given):
    return fill_defaults(LOSSES.get("feature_matching").params,
                         {"critic": "D", "layer": "h", "real": "real", "fake": "fake", **given})


def test_squared_distance_of_the_batch_means_by_hand():
    critic = torch.nn.Sequential(torch.nn.Identity(), torch.nn.ReLU(inplace=True),
                                 torch.nn.Linear(2, 1))
    critic.layer_ids = {"h": 0}
    real = torch.tensor([[1.0, -2.0], [3.0, 0.0]])  # mean (2, -1)
    fake = torch.tensor([[0.0, 1.0], [0.0, 3.0]])  # mean (0, 2)
    ctx = TermContext({"real": real, "fake": fake}, {"D": critic}, {"G"})
    loss, _ = LOSSES.get("feature_matching").compute(_params(), ctx)
    # the features before the in-place ReLU: ((2 - 0)² + (-1 - 2)²) / 2
    assert loss.item() == pytest.approx((4 + 9) / 2)


def test_compiled_networks_expose_their_layer_ids():
    spec = load_spec("specs/gan_ring8.yaml", [
        *FM, "networks.D.layers[2]={linear: 16, id: h}"])
    gan = GAN(spec)
    critic = gan.nets["D"]
    assert critic.layer_ids == {"h": 2}
    x = torch.randn(5, 2)
    expected = critic[:3](x)
    assert torch.allclose(layer_output(critic, "h", [x]), expected)


def test_generator_learns_through_feature_matching():
    spec = load_spec("specs/gan_ring8.yaml", [*FM, "networks.D.layers[1]={leaky_relu: 0.2, id: h}"])
    gan = GAN(spec)
    fake = gan.nets["G"](torch.randn(8, 16), torch.arange(8))
    ctx = TermContext({"real": torch.randn(8, 2), "fake": fake}, gan.nets, {"G"})
    loss, _ = LOSSES.get("feature_matching").compute(_params(), ctx)
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in gan.nets["G"].parameters())


def test_unknown_layer_id_is_a_spec_error():
    with pytest.raises(SpecError, match="D has no layer with id 'h' \\(its ids: none\\)"):
        load_spec("specs/gan_ring8.yaml", FM)
