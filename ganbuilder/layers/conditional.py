"""Label conditioning for critics: the projection discriminator (Miyato & Koyama 2018)."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule
from ganbuilder.layers.registry import Shape, ShapeError, bool_param, format_shape, int_param, layer

modules = LazyModule("ganbuilder.layers.modules")


def _projection_shape(p: dict, inputs: list[Shape]) -> Shape:
    features, label = inputs
    if len(features) != 1:
        raise ShapeError(f"projection: expects a feature vector, got {format_shape(features)}; "
                         "flatten or pool first")
    if label != ():
        raise ShapeError(f"projection: 'with' must name an integer label, got "
                         f"{format_shape(label)}")
    return (1,)


@layer(
    "projection",
    _projection_shape,
    {"classes": int_param("number of labels", minimum=1),
     "with": {"type": "string", "description": "id or network input holding the label"},
     "spectral_norm": bool_param("spectral normalization on both parts", False)},
    required=("classes", "with"),
    refs=("with",),
)
def projection(p: dict, inputs: list[Shape]):
    """Critic output linear(h) + <embed(y), h>: conditions D on a label by projection."""
    return modules.Projection(inputs[0][0], p["classes"], p["spectral_norm"])
