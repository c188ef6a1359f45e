"""The arithmetic layers and StyleGAN2's resampling compute what docs/spec.md says."""

import torch
from torch.nn import functional as F

from ganbuilder.compile.network import build_network
from ganbuilder.layers import LAYERS
from ganbuilder.spec.shapes import plan_network


def _build(name: str, value, shapes: list[tuple]):
    ldef = LAYERS.get(name)
    return ldef.build(ldef.normalize(value), shapes)


def test_affine_broadcasts_a_per_channel_scale_and_shift():
    x, gamma, beta = torch.randn(2, 3, 4, 4), torch.randn(2, 3), torch.randn(2, 3, 1, 1)
    module = _build("affine", {"scale": "g", "shift": "b", "offset": 1},
                    [(3, 4, 4), (3,), (3, 1, 1)])
    expected = x * (1 + gamma[:, :, None, None]) + beta
    assert torch.allclose(module(x, gamma, beta), expected)


def test_a_network_scales_a_residual_sum_by_one_over_sqrt2():
    layers = [{"linear": 4, "id": "h"}, {"linear": 4}, {"add": "h"}, {"scale": 2 ** -0.5},
              {"mul": "g", "id": "out"}]
    plan = plan_network("N", {"inputs": ["x", "g"], "layers": layers}, [(4,), (4,)])
    net = build_network(plan)
    x, g = torch.randn(5, 4), torch.randn(5, 4)
    h = net.layers[0](x)
    assert torch.allclose(net(x, g), (h + net.layers[1](h)) * 2 ** -0.5 * g)


def test_upfirdn_upsampling_keeps_a_constant_image_constant_inside():
    up = _build("upfirdn", 2, [(1, 6, 6)])
    out = up(torch.ones(1, 1, 6, 6))
    assert out.shape == (1, 1, 12, 12)
    assert torch.allclose(out[..., 2:-2, 2:-2], torch.ones(1, 1, 8, 8))


def test_modulated_conv_is_a_per_sample_convolution_with_scaled_weights():
    for options, size in (({}, 6), ({"down": 2}, 8)):
        module = _build("modulated_conv", {"out": 4, "with": "w", "demodulate": False, **options},
                        [(3, size, size), (5,)])
        x, w = torch.randn(2, 3, size, size), torch.randn(2, 5)
        style = module.modulation(w)
        for i in range(2):
            weight = module.weight * style[i].view(1, 3, 1, 1) * module.scale
            xi = x[i:i + 1]
            if options:
                blurred = F.pad(xi, [*module.pad, *module.pad])
                kernel = module.kernel.flip([0, 1]).expand(3, 1, 4, 4)
                xi = F.conv2d(blurred, kernel, groups=3)
                expected = F.conv2d(xi, weight, stride=2)
            else:
                expected = F.conv2d(xi, weight, padding=1)
            assert torch.allclose(module(x, w)[i:i + 1], expected, atol=1e-5)
