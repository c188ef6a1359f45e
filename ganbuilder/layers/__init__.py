"""Registered layers. Importing this package registers the built-in layers (torch-free)."""

from ganbuilder.layers import (  # noqa: F401  (registration)
    activation,
    ada,
    attention,
    augment,
    chunk,
    conditional,
    conv,
    dense,
    merge,
    norm,
    pool,
    style,
)
from ganbuilder.layers.registry import LAYERS, LayerDef, Shape, ShapeError, layer

CONTAINERS = ("residual", "repeat")

__all__ = ["CONTAINERS", "LAYERS", "LayerDef", "Shape", "ShapeError", "layer"]
