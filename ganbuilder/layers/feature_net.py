"""Layers of pretrained feature networks (VGG's): max pooling and ImageNet input
normalisation. `specs/parts/vgg16.yaml` and `vgg19.yaml` are torchvision's `features` in them."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule, nn
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import Shape, ShapeError, int_param, layer, rank

modules = LazyModule("ganbuilder.layers.feature_net_modules")

IMAGENET_MEAN = [0.485, 0.456, 0.406]
IMAGENET_STD = [0.229, 0.224, 0.225]


def _max_pool_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    rank(x, 3, "max_pool", "(C, H, W)")
    k = p["kernel"]
    s = p.get("stride") or k
    if k > min(x[1], x[2]):
        raise ShapeError(f"max_pool: kernel {k} is larger than the {x[1]}x{x[2]} input")
    return (x[0], (x[1] - k) // s + 1, (x[2] - k) // s + 1)


@layer(
    "max_pool",
    _max_pool_shape,
    {"kernel": int_param("window size", 2, minimum=1),
     "stride": int_param("stride; the window size when left out", minimum=1)},
    primary="kernel",
    group="shape",
)
def max_pool(p: dict, inputs: list[Shape]):
    """Max pooling (nn.MaxPool2d), as between VGG's blocks."""
    return construct(nn.MaxPool2d, p["kernel"], p.get("stride") or p["kernel"])


def _channels(name: str, default: list[float], what: str) -> dict:
    return {"type": "array", "items": {"type": "number", "exclusiveMinimum": 0}
            if name == "std" else {"type": "number"}, "minItems": 1, "default": default,
            "description": what}


def _normalize_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    rank(x, 3, "image_normalize", "(C, H, W)")
    c = len(p["mean"])
    if len(p["std"]) != c:
        raise ShapeError(f"image_normalize: mean has {c} values but std {len(p['std'])}")
    if x[0] not in (1, c):
        raise ShapeError(f"image_normalize: {c} channel means for a {x[0]}-channel image "
                         f"(it takes 1 channel, repeated, or {c})")
    lo, hi = p["range"]
    if hi <= lo:
        raise ShapeError(f"image_normalize: range [{lo}, {hi}] is empty")
    return (c, x[1], x[2])


@layer(
    "image_normalize",
    _normalize_shape,
    {"mean": _channels("mean", IMAGENET_MEAN, "per-channel mean of [0, 1] inputs (ImageNet's)"),
     "std": _channels("std", IMAGENET_STD, "per-channel std (ImageNet's)"),
     "range": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2,
               "default": [-1, 1],
               "description": "the input's range, mapped to [0, 1] first (ganbuilder's "
                              "images are in [-1, 1])"}},
    group="normalisation",
    fit_params=lambda received: ({"mean": [0.0] * received[0], "std": [1.0] * received[0]}
                                 if received and received[0] not in (1, 3) else {}),
)
def image_normalize(p: dict, inputs: list[Shape]):
    """[-1, 1] images -> [0, 1] -> (x - mean) / std per channel (ImageNet's by default), as
    torchvision's pretrained networks expect; grey images repeated to three channels."""
    lo, hi = p["range"]
    return construct(modules.ImageNormalize, [float(v) for v in p["mean"]],
                     [float(v) for v in p["std"]], float(lo), float(hi))
