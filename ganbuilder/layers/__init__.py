"""Registered layers. Importing this package registers the built-in layers (torch-free)."""

from ganbuilder.layers import (  # noqa: F401  (registration)
    activation,
    ada,
    arithmetic,
    attention,
    augment,
    chunk,
    conditional,
    conv,
    dense,
    feature_net,
    merge,
    norm,
    pool,
    spade,
    style,
    stylegan2,
    superres,
)
from ganbuilder.layers.construct import Construct, construct
from ganbuilder.layers.registry import (
    LAYER_GROUPS,
    LAYERS,
    LayerDef,
    Shape,
    ShapeError,
    is_merge,
    layer,
)

CONTAINERS = ("residual", "repeat")

__all__ = ["CONTAINERS", "LAYERS", "LAYER_GROUPS", "Construct", "LayerDef", "Shape", "ShapeError",
           "construct", "is_merge", "layer"]
