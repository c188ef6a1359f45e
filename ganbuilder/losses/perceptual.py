"""`perceptual`: the content (VGG) loss of SRGAN, ESRGAN, pix2pixHD and SPADE, a weighted sum
of distances between a feature network's outputs at named layers (taps) on `pred` and on
`target`."""

from __future__ import annotations

from ganbuilder._lazy import torch
from ganbuilder.losses.params import TENSOR
from ganbuilder.losses.registry import loss_term


class EnoughLayers(Exception):
    """Raised by the hook of the last layer a term reads: the rest of the network is not
    run (a loss at relu2_2 does not pay for VGG's deeper blocks)."""


def layer_features(network, inputs: list, ids: list[str]) -> list:
    """The outputs of `network`'s top-level layers `ids` on `inputs`, in the order of `ids`;
    the network runs only as far as the deepest of them. Each output is copied as it is
    made, since an in-place activation after a conv would overwrite it (ESRGAN's conv5_4,
    before its ReLU)."""
    index = network.layer_ids
    layers = network if isinstance(network, torch.nn.Sequential) else network.layers
    found = {}

    def keep(layer_id: str):
        def hook(module, args, out):
            found[layer_id] = out.clone()
            if len(found) == len(ids):
                raise EnoughLayers
        return hook

    handles = [layers[index[i]].register_forward_hook(keep(i)) for i in ids]
    try:
        network(*inputs)
    except EnoughLayers:
        pass
    finally:
        for handle in handles:
            handle.remove()
    return [found[i] for i in ids]


def feature_distance(a, b, distance: str):
    """The mean absolute (l1) or squared (mse, l2) difference of two feature maps."""
    diff = a - b
    return diff.abs().mean() if distance == "l1" else diff.pow(2).mean()


@loss_term(
    "perceptual",
    {
        "network": {"type": "string", "description": "the feature network (a VGG from "
                    "specs/parts, frozen, with its weights file)"},
        "pred": TENSOR,
        "target": TENSOR,
        "layers": {"type": "object", "minProperties": 1,
                   "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_]*$"},
                   "additionalProperties": {"type": "number", "minimum": 0},
                   "description": "the network's layer ids whose outputs are compared, each "
                                  "with its weight (pix2pixHD: relu1_1: 0.03125, relu2_1: "
                                  "0.0625, relu3_1: 0.125, relu4_1: 0.25, relu5_1: 1)"},
        "distance": {"enum": ["l1", "mse", "l2"], "default": "l1",
                     "description": "per layer: l1, the mean absolute difference (ESRGAN, "
                                    "pix2pixHD, SPADE), or mse (= l2), the mean squared "
                                    "difference (SRGAN)"},
    },
    required=("network", "pred", "target", "layers"),
    tensors=("pred", "target"),
    networks=("network",),
    inputs=("pred", "target"),
    layers={"layers": "network"},
)
def perceptual(p: dict, ctx):
    """Perceptual (content) loss: sum over `layers` of weight x distance(f(pred), f(target)),
    f the feature network's output at that layer; the target's features are taken without
    gradient (as the references detach them). SRGAN: relu5_4, mse, features scaled by
    1/12.75 (weight 1/12.75² = 0.00615); ESRGAN: conv5_4 (before the activation), l1;
    pix2pixHD and SPADE: relu1_1 ... relu5_1 with 1/32, 1/16, 1/8, 1/4, 1, l1 (weight 10)."""
    network = ctx.network(p["network"])
    ids = list(p["layers"])
    pred = layer_features(network, [ctx.tensor(p["pred"])], ids)
    with torch.no_grad():
        target = layer_features(network, [ctx.tensor(p["target"])], ids)
    total = 0.0
    for layer_id, a, b in zip(ids, pred, target, strict=True):
        total = total + p["layers"][layer_id] * feature_distance(a, b, p["distance"])
    return total, {}
