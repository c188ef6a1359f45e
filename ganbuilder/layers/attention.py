"""Self-attention over the positions of a feature map (SAGAN, Zhang et al. 2019)."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import Shape, ShapeError, bool_param, int_param, layer, rank

modules = LazyModule("ganbuilder.layers.modules")


def _attention_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    rank(x, 3, "self_attention", "(C, H, W)")
    if x[0] < max(2, p["reduction"]):
        raise ShapeError(f"self_attention: {x[0]} channels are too few for reduction "
                         f"{p['reduction']}")
    if x[1] % p["pool"] or x[2] % p["pool"]:
        raise ShapeError(f"self_attention: pool {p['pool']} does not divide the size "
                         f"{x[1]}x{x[2]}")
    return x


def _attention_params(p: dict, inputs: list[Shape]) -> int:
    # Four bias-free 1x1 convs (query and key to C / reduction, value to C / 2, out back to C)
    # and the scalar gamma.
    c = inputs[0][0]
    return 2 * c * (c // p["reduction"]) + 2 * c * (c // 2) + 1


def _attention_activations(p: dict, inputs: list[Shape]) -> int:
    # The output and the (H W) x (H W / pool^2) attention map backward needs.
    c, h, w = inputs[0]
    return c * h * w + (h * w) ** 2 // p["pool"] ** 2


@layer(
    "self_attention",
    _attention_shape,
    {"reduction": int_param("channels / query-key channels (values: channels / 2)", 8,
                            minimum=1),
     "spectral_norm": bool_param("spectral normalization on the four 1x1 convolutions",
                                 False),
     "pool": int_param("keys and values max-pooled pool x pool before attending (BigGAN's "
                       "and SAGAN's code: 2)", 1, minimum=1)},
    param_count=_attention_params,
    activations=_attention_activations,
    group="attention/style",
)
def self_attention(p: dict, inputs: list[Shape]):
    """Non-local block x + gamma * attention(x); gamma starts at 0, so it starts as identity."""
    return construct(modules.SelfAttention, inputs[0][0], p["reduction"], p["spectral_norm"],
                     pool=p["pool"])
