"""Registered layers. Importing this package registers the built-in layers (torch-free)."""

from ganbuilder.layers import activation, conv, dense, merge, norm  # noqa: F401  (registration)
from ganbuilder.layers.registry import LAYERS, LayerDef, Shape, ShapeError, layer

CONTAINERS = ("residual", "repeat")

__all__ = ["CONTAINERS", "LAYERS", "LayerDef", "Shape", "ShapeError", "layer"]
