"""Short texts the designer shows for spec items."""

from __future__ import annotations

from ganbuilder.design.text_edits import format_value
from ganbuilder.layers import LAYERS
from ganbuilder.spec.shapes import LayerPlan

BRIEF_PARAMS = 4  # more would not fit the architecture panel's first column


def layer_brief(layer: LayerPlan) -> str:
    """The parameters that differ from their defaults, in schema order, as YAML values:
    `out=128, kernel=4` (at most BRIEF_PARAMS, then `…`); a repeat shows its count."""
    if layer.kind == "repeat":
        return f"× {layer.params['times']}"
    if layer.kind not in LAYERS:
        return ""
    ldef = LAYERS.get(layer.kind)
    defaults = ldef.defaults()
    order = [*ldef.params, *(k for k in layer.params if k not in ldef.params)]
    shown = [f"{k}={format_value(layer.params[k])}" for k in order
             if k in layer.params and defaults.get(k, object()) != layer.params[k]]
    return ", ".join(shown[:BRIEF_PARAMS]) + (", …" if len(shown) > BRIEF_PARAMS else "")


def shorten(text: str, width: int = 70) -> str:
    """`text` cut at a word boundary to fit `width` characters, ending in ` …` when cut."""
    return text if len(text) <= width else text[: width - 1].rsplit(" ", 1)[0] + " …"


__all__ = ["BRIEF_PARAMS", "layer_brief", "shorten"]
