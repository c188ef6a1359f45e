"""DiffAugment: differentiable, one draw per critic call (real and fake independent), same policy
for both, the identity outside training."""

import pytest
import torch

from ganbuilder.layers import LAYERS
from ganbuilder.layers.diffaugment import brightness, cutout, translation
from ganbuilder.losses import LOSSES, TermContext
from ganbuilder.registry import fill_defaults
from ganbuilder.spec import load_spec


def _augment(policy=None):
    ldef = LAYERS.get("diffaugment")
    return ldef.build(ldef.normalize(policy), [(1, 8, 8)])


def _critic(policy=None):
    return torch.nn.Sequential(_augment(policy), torch.nn.Flatten(), torch.nn.Linear(64, 1))


def test_generator_gradients_flow_through_every_transformation():
    torch.manual_seed(0)
    generator = torch.nn.Sequential(torch.nn.Linear(4, 64), torch.nn.Tanh(),
                                    torch.nn.Unflatten(1, (1, 8, 8)))
    fake = generator(torch.randn(16, 4))
    params = fill_defaults(LOSSES.get("adversarial").params, {"critic": "D", "fake": "fake"})
    ctx = TermContext({"fake": fake}, {"D": _critic()}, {"G"})
    loss, _ = LOSSES.get("adversarial").compute(params, ctx)
    loss.backward()
    grad = generator[0].weight.grad
    assert grad is not None and grad.abs().sum() > 0 and torch.isfinite(grad).all()


def test_real_and_fake_get_independent_draws_of_the_same_policy():
    torch.manual_seed(0)
    images = torch.randn(8, 1, 8, 8)
    seen = []
    augment = _augment()

    class Critic(torch.nn.Module):
        def forward(self, x):
            seen.append(augment(x))
            return seen[-1].flatten(1).sum(1, keepdim=True)

    params = fill_defaults(LOSSES.get("adversarial").params,
                           {"critic": "D", "real": "real", "fake": "fake"})
    ctx = TermContext({"real": images, "fake": images.clone()}, {"D": Critic()}, {"D"})
    LOSSES.get("adversarial").compute(params, ctx)
    real_seen, fake_seen = seen
    assert not torch.equal(real_seen, fake_seen)  # same images, different draws
    assert not torch.equal(real_seen, images)


def test_eval_mode_is_the_identity():
    augment = _augment().eval()
    x = torch.randn(4, 1, 8, 8)
    assert torch.equal(augment(x), x)


def test_brightness_shifts_each_sample_by_at_most_a_half():
    torch.manual_seed(1)
    x = torch.randn(16, 3, 4, 4)
    shift = brightness(x) - x
    per_sample = shift.flatten(1)
    assert torch.allclose(per_sample, per_sample[:, :1].expand_as(per_sample))
    assert per_sample.abs().max() <= 0.5


def test_translation_moves_content_by_at_most_the_ratio_and_fills_zeros():
    torch.manual_seed(2)
    x = torch.zeros(32, 1, 16, 16)
    x[:, :, 8, 8] = 1.0
    out = translation(x, 0.125)  # at most 2 pixels each way
    assert torch.equal(out.flatten(1).sum(1), torch.ones(32))
    where = out[:, 0].flatten(1).argmax(1)
    rows, cols = where // 16, where % 16
    assert (rows - 8).abs().max() <= 2 and (cols - 8).abs().max() <= 2
    assert len(set(zip(rows.tolist(), cols.tolist(), strict=True))) > 1


def test_cutout_zeroes_a_square_of_the_ratio():
    torch.manual_seed(3)
    out = cutout(torch.ones(64, 2, 8, 8), 0.5)
    zeros = (out[:, 0] == 0).flatten(1).sum(1)
    assert zeros.max() == 16 and zeros.min() >= 4  # 4x4, clipped at the borders
    assert torch.equal(out[:, 0], out[:, 1])  # every channel alike


@pytest.mark.parametrize("policy", [["color"], ["translation"], ["cutout"]])
def test_each_policy_is_differentiable(policy):
    x = torch.randn(4, 3, 8, 8, requires_grad=True)
    augment = LAYERS.get("diffaugment")
    module = augment.build(augment.normalize(policy), [(3, 8, 8)])
    module(x).pow(2).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_diffaugment_is_a_critic_layer_of_images_only():
    spec = load_spec("specs/dcgan.yaml", [
        "networks.D.layers=[{diffaugment: [color, translation]}, flatten, {linear: 1}]",
        "params.ngf=8"])
    assert spec.analysis.networks["D"].layers[0].kind == "diffaugment"
    from ganbuilder.errors import SpecError

    with pytest.raises(SpecError, match=r"diffaugment: expects a \(C, H, W\) image"):
        load_spec("specs/gan_ring8.yaml", ["networks.D.layers=[diffaugment, {linear: 1}]"])
