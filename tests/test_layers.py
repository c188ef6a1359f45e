"""Every registered layer: its shape rule agrees with the module it builds, on real tensors."""

import math

import pytest
import torch

from ganbuilder.layers import LAYERS
from ganbuilder.layers.registry import ShapeError
from tests.layer_cases import CASES


def test_every_layer_has_a_case():
    assert set(CASES) == set(LAYERS.names())


def _input(shape: tuple) -> torch.Tensor:
    if shape == ():
        return torch.randint(0, 10, (3,))
    return torch.randn(3, *shape)


@pytest.mark.parametrize("name", LAYERS.names())
def test_shape_rule_matches_module(name):
    ldef = LAYERS.get(name)
    value, shapes = CASES[name]
    params = ldef.normalize(value)
    expected = ldef.shape(params, shapes)
    module = ldef.build(params, shapes)
    module.train()
    out = module(*[_input(s) for s in shapes])
    assert tuple(out.shape) == (3, *expected)
    assert torch.isfinite(out.float()).all()
    assert ldef.doc, f"layer {name} needs a docstring: it is shown in the GUI palette"


@pytest.mark.parametrize("name", LAYERS.names())
def test_params_have_descriptions(name):
    for key, schema in LAYERS.get(name).params.items():
        assert schema.get("description"), f"{name}.{key} needs a description for the GUI form"


def test_linear_parameter_count():
    ldef = LAYERS.get("linear")
    module = ldef.build(ldef.normalize(5), [(7,)])
    assert sum(p.numel() for p in module.parameters()) == 7 * 5 + 5


# Variants of the options that change what a layer learns, beyond CASES.
PARAM_CASES = [
    ("linear", {"out": 5, "bias": False, "spectral_norm": True}, [(7,)]),
    ("linear", {"out": 5, "equalized_lr": True, "lr_mul": 0.01}, [(2, 7)]),
    ("conv", {"out": 4, "kernel": 3, "bias": False}, [(3, 9, 9)]),
    ("conv", {"out": 4, "kernel": 1, "equalized_lr": True, "lr_mul": 0.5}, [(3, 4, 4)]),
    ("conv_transpose", {"out": 2, "kernel": 3, "bias": False, "spectral_norm": True},
     [(3, 5, 5)]),
    ("batch_norm", {"affine": False}, [(6,)]),
    ("instance_norm", None, [(3, 4, 4)]),
    ("instance_norm", {"affine": True, "track_running_stats": True}, [(3, 4, 4)]),
    ("layer_norm", {"affine": False}, [(3, 4, 4)]),
    ("layer_norm", None, [(3, 4, 5)]),
    ("projection", {"classes": 7, "with": "y", "spectral_norm": True}, [(6,), ()]),
    ("cond_batch_norm", {"with": "c"}, [(3,), (5,)]),
    ("self_attention", {"reduction": 4}, [(12, 2, 2)]),
    ("adain", "w", [(5, 2, 2), (3,)]),
    ("linear", {"out": 5, "equalized_lr": True, "gain": 1, "bias_init": 1}, [(7,)]),
    ("noise", False, [(3, 4, 4)]),
    ("modulated_conv", {"out": 4, "kernel": 1, "with": "w", "demodulate": False},
     [(3, 4, 4), (6,)]),
    ("modulated_conv", {"out": 4, "with": "w", "down": 2}, [(3, 8, 8), (6,)]),
    ("upfirdn", {"down": 2}, [(3, 8, 8)]),
    ("upfirdn", {"pad": [2, 2]}, [(3, 8, 8)]),
    ("fused_leaky_relu", False, [(6,)]),
    ("prelu", None, [(3, 4, 4)]),
    ("prelu", {"per_channel": True}, [(6,)]),
    ("spade", {"with": "seg", "hidden": 4, "kernel": 1, "norm": "instance"},
     [(3, 4, 4), (2, 2, 2)]),
    ("avg_pool", {"kernel": 3, "stride": 2, "padding": 1, "count_include_pad": False},
     [(3, 5, 5)]),
]


@pytest.mark.parametrize(("name", "value", "shapes"),
                         [(name, *CASES[name]) for name in LAYERS.names()] + PARAM_CASES)
def test_param_count_rule_matches_module(name, value, shapes):
    ldef = LAYERS.get(name)
    params = ldef.normalize(value)
    module = ldef.build(params, shapes)
    assert ldef.param_count(params, shapes) == sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("name", [n for n in LAYERS.names() if LAYERS.get(n).inplace])
def test_inplace_layers_build_modules_that_can_run_in_place(name):
    ldef = LAYERS.get(name)
    value, shapes = CASES[name]
    module = ldef.build(ldef.normalize(value), shapes)
    assert module.inplace is False  # the compiler turns it on where it is safe


def _inplace_flags(layers: list, inputs: list[str], shapes: list[tuple]) -> list:
    from ganbuilder.compile.network import build_network
    from ganbuilder.spec.shapes import plan_network

    network = build_network(plan_network("N", {"inputs": inputs, "layers": layers}, shapes))
    return [getattr(m, "inplace", None) for m in getattr(network, "layers", network)]


def test_activation_runs_in_place_only_after_a_layer_that_allows_it():
    layers = [{"linear": 4}, "relu", "sigmoid", "leaky_relu", "batch_norm", "leaky_relu",
              "elu"]
    assert _inplace_flags(layers, ["x"], [(3,)]) == [None, True, None, False, None, True,
                                                     False]


def test_activation_does_not_overwrite_a_tensor_read_again():
    layers = [{"id": "h", "conv": {"out": 2, "kernel": 1}}, "relu", {"concat": "h"}, "relu"]
    assert _inplace_flags(layers, ["x"], [(1, 2, 2)]) == [None, False, None, True]


@pytest.mark.parametrize(("name", "value", "shapes", "message"), [
    ("conv", {"out": 4, "kernel": 5}, [(3, 3, 3)], "too small for kernel 5"),
    ("conv", {"out": 4, "kernel": 3}, [(8,)], "expects a (C, H, W) input, got (8)"),
    ("reshape", [5, -1], [(12,)], "cannot reshape (12) to [5, -1]"),
    ("reshape", [5, 3], [(12,)], "(12 values) to (5, 3) (15 values)"),
    ("concat", "x", [(3, 4, 4), (2, 5, 4)], "inputs differ beyond the channel dimension"),
    ("add", "x", [(3, 4, 4), (2, 4, 4)], "inputs must have the same shape"),
    ("add", "x", [(3,), (3, 4, 4)], "would differ from the layer's input (3)"),
    ("mul", "x", [(3, 4, 4), (2,)], "sizes equal or 1, aligned at the channels"),
    ("modulated_conv", {"out": 2, "with": "w"}, [(3, 4, 4), (3, 4, 4)],
     "'with' must name a style vector"),
    ("modulated_conv", {"out": 2, "with": "w", "up": 2, "down": 2}, [(3, 4, 4), (3,)],
     "choose one of up and down"),
    ("upfirdn", {"pad": [-3, -3]}, [(3, 4, 4)], "too small for 4 taps"),
    ("linear", {"out": 3, "gain": 1}, [(4,)], "gain and bias_init need equalized_lr"),
    ("reflection_pad", 5, [(3, 4, 4)], "must be smaller than the input size"),
    ("embedding", {"classes": 3, "dim": 2}, [(4,)], "expects one integer label per sample"),
    ("linear", {"out": 3, "equalized_lr": True, "spectral_norm": True}, [(4,)],
     "choose one of equalized_lr and spectral_norm"),
    ("conv", {"out": 3, "kernel": 1, "lr_mul": 0.01}, [(2, 4, 4)], "lr_mul needs equalized_lr"),
    ("adain", "w", [(3, 4, 4), (2, 4, 4)], "'with' must name a style vector"),
    ("spade", "seg", [(3, 4, 4), (5,)], "'with' must name a segmentation map"),
    ("spade", {"with": "seg", "kernel": 4}, [(3, 4, 4), (5, 4, 4)], "kernel 4 is even"),
    ("reparameterize", "logvar", [(6,), (5,)], "must have one shape"),
    ("avg_pool", {"kernel": 2, "padding": 2}, [(3, 4, 4)], "at most half the kernel"),
])
def test_shape_errors(name, value, shapes, message):
    ldef = LAYERS.get(name)
    with pytest.raises(ShapeError, match=None) as err:
        ldef.shape(ldef.normalize(value), shapes)
    assert message in str(err.value)


def test_spectral_norm_is_applied():
    ldef = LAYERS.get("linear")
    module = ldef.build(ldef.normalize({"out": 3, "spectral_norm": True}), [(4,)])
    assert hasattr(module, "parametrizations")
    assert math.isclose(torch.linalg.matrix_norm(module.weight, 2).item(), 1.0, rel_tol=0.2)
