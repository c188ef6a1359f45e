"""Global pooling: a feature map to one value per channel (critic heads)."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import Shape, layer, rank

modules = LazyModule("ganbuilder.layers.modules")


def _global_pool_shape(p: dict, inputs: list[Shape]) -> Shape:
    rank(inputs[0], 3, "global_pool", "(C, H, W)")
    return (inputs[0][0],)


@layer(
    "global_pool",
    _global_pool_shape,
    {"mode": {"enum": ["sum", "mean"], "default": "sum",
              "description": "sum (BigGAN's and SNGAN's critics) or mean over positions"}},
    primary="mode",
    group="shape",
)
def global_pool(p: dict, inputs: list[Shape]):
    """(C, H, W) -> (C,): each channel summed or averaged over all positions."""
    return construct(modules.GlobalPool, p["mode"])
