"""`perceptual`: the content (VGG) loss of SRGAN, ESRGAN, pix2pixHD and SPADE, a weighted sum
of distances between a feature network's outputs at named layers (taps) on `pred` and on
`target`."""

from __future__ import annotations

from ganbuilder._lazy import torch
from ganbuilder.losses.feature_matching import layer_outputs
from ganbuilder.losses.params import TENSOR
from ganbuilder.losses.registry import loss_term


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
    pred = layer_outputs(network, [ctx.tensor(p["pred"])], ids)
    with torch.no_grad():
        target = layer_outputs(network, [ctx.tensor(p["target"])], ids)
    total = 0.0
    for layer_id, a, b in zip(ids, pred, target, strict=True):
        total = total + p["layers"][layer_id] * feature_distance(a, b, p["distance"])
    return total, {}
