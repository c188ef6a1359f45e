"""StyleGAN's layers and equalized learning rate do what the papers say."""

import math

import pytest
import torch

from ganbuilder.compile.network import initialize
from ganbuilder.layers import LAYERS
from ganbuilder.spec import load_spec

from .conftest import ROOT


def _build(name: str, value, shapes: list[tuple]):
    ldef = LAYERS.get(name)
    return ldef.build(ldef.normalize(value), shapes)


def test_noise_with_zero_scale_is_the_identity():
    module = _build("noise", None, [(3, 4, 4)])
    x = torch.randn(2, 3, 4, 4)
    assert torch.equal(module(x), x)
    with torch.no_grad():
        module.scale.fill_(1.0)
    assert not torch.equal(module(x), x)
    # One noise value per pixel, shared by the channels.
    diff = module(x) - x
    assert torch.allclose(diff[:, 0], diff[:, 2], atol=1e-6)  # x + n - x rounds per channel


def test_adain_output_has_the_styles_mean_and_std():
    torch.manual_seed(0)
    module = _build("adain", "w", [(3, 8, 8), (5,)])
    with torch.no_grad():
        module.affine.bias.normal_()  # styles away from their start (scale 1, bias 0)
    x, w = torch.randn(2, 3, 8, 8) * 4 + 2, torch.randn(2, 5)
    out = module(x, w)
    scale, bias = module.affine(w).chunk(2, dim=1)
    assert torch.allclose(out.mean(dim=(2, 3)), bias, atol=1e-4)
    assert torch.allclose(out.std(dim=(2, 3), unbiased=False), scale.abs(), atol=1e-3)


def test_adain_style_starts_at_scale_one_bias_zero():
    module = _build("adain", "w", [(4, 2, 2), (6,)])
    assert torch.equal(module.affine.bias, torch.cat([torch.ones(4), torch.zeros(4)]))


@pytest.mark.parametrize(("name", "value", "shape", "fan_in"), [
    ("linear", {"out": 300, "equalized_lr": True}, (400,), 400),
    ("conv", {"out": 64, "kernel": 3, "equalized_lr": True}, (32, 8, 8), 32 * 9),
])
def test_equalized_weights_are_unit_normal_scaled_to_he_init(name, value, shape, fan_in):
    torch.manual_seed(0)
    module = _build(name, value, [shape])
    stored = module.parametrizations.weight.original
    assert stored.std().item() == pytest.approx(1.0, rel=0.05)
    assert module.weight.std().item() == pytest.approx(math.sqrt(2 / fan_in), rel=0.05)
    assert torch.equal(module.bias, torch.zeros_like(module.bias))
    assert tuple(module(torch.randn(2, *shape)).shape[1:2]) == (value["out"],)


def test_lr_mul_scales_stored_weights_and_biases():
    torch.manual_seed(0)
    module = _build("linear", {"out": 200, "equalized_lr": True, "lr_mul": 0.01}, [(300,)])
    stored = module.parametrizations.weight.original
    assert stored.std().item() == pytest.approx(100.0, rel=0.05)
    assert module.weight.std().item() == pytest.approx(math.sqrt(2 / 300), rel=0.05)
    with torch.no_grad():
        module.parametrizations.bias.original.fill_(1.0)
    assert torch.allclose(module.bias, torch.full((200,), 0.01))


def test_network_init_leaves_equalized_layers_alone():
    module = torch.nn.Sequential(_build("linear", {"out": 50, "equalized_lr": True}, [(60,)]),
                                 _build("adain", "w", [(4, 2, 2), (6,)]))
    before = [p.clone() for p in module.parameters()]
    initialize(module, {"normal": 0.02})
    assert all(torch.equal(a, b) for a, b in zip(before, module.parameters(), strict=True))


def test_constant_is_a_learned_parameter_of_its_shape():
    module = _build("constant", [8, 4, 4], [(16,)])
    (param,) = module.parameters()
    assert param.shape == (8, 4, 4) and param.requires_grad
    out = module(torch.randn(3, 16))
    assert out.shape == (3, 8, 4, 4) and torch.equal(out[0], out[2])
    out.sum().backward()
    assert torch.equal(param.grad, torch.full((8, 4, 4), 3.0))


def test_constant_bias_adds_a_learned_value_per_channel():
    module = _build("constant", {"shape": [8, 4, 4], "bias": True}, [(16,)])
    assert sum(p.numel() for p in module.parameters()) == 8 * 4 * 4 + 8
    with torch.no_grad():
        module.bias[2] = 5.0
    out = module(torch.randn(3, 16))
    assert torch.equal(out[:, 2], module.value[2].detach().expand(3, 4, 4) + 5.0)
    assert torch.equal(out[:, 1], module.value[1].detach().expand(3, 4, 4))


def test_pixel_norm_gives_unit_mean_square():
    out = _build("pixel_norm", None, [(7,)])(torch.randn(4, 7) * 5)
    assert torch.allclose(out.pow(2).mean(dim=1), torch.ones(4), atol=1e-5)


def test_minibatch_std_appends_the_group_std():
    module = _build("minibatch_std", 2, [(3, 2, 2)])
    x = torch.zeros(4, 3, 2, 2)
    x[2] = 2.0  # groups are samples (0, 2) and (1, 3): std 1 for the first, 0 for the second
    out = module(x)
    assert out.shape == (4, 4, 2, 2) and torch.equal(out[:, :3], x)
    assert torch.allclose(out[:, 3].mean(dim=(1, 2)), torch.tensor([1.0, 0.0, 1.0, 0.0]),
                          atol=1e-3)


def test_stylegan_styles_every_synthesis_layer_with_w():
    plan = load_spec(ROOT / "specs" / "stylegan.yaml").analysis.networks["G"]
    adains = [layer for layer in plan.layers if layer.kind == "adain"]
    convs = [layer for layer in plan.layers if layer.kind == "conv"]
    # One AdaIN after the constant and one after each 3x3 conv; the sixth conv is toRGB.
    assert len(adains) == len(convs) == 6
    assert all(layer.sources[1] == "w" for layer in adains)
    assert all(layer.params["equalized_lr"] for layer in plan.layers
               if layer.kind in ("conv", "linear"))
