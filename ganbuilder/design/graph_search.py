"""Finding a node of a drawn graph by name, and what hovering a node says about it.

The graphs label a node with a few words (kind, key parameters, shape); the hover text gives
the whole item: every parameter the layer or loss term has (defaults included), its spec path
and its output shape, so nothing needs to be read off a box too small to hold it.
"""

from __future__ import annotations

from collections.abc import Mapping

from ganbuilder.design.text_edits import format_value
from ganbuilder.layers.registry import format_shape
from ganbuilder.spec import Spec
from ganbuilder.spec.paths import format_path


def match_nodes(labels: Mapping[str, str], query: str) -> list[str]:
    """Keys of the nodes whose label matches `query` (case-insensitive): exact matches
    first, then labels starting with it, then labels holding it, each in drawing order."""
    wanted = query.strip().lower()
    if not wanted:
        return []
    ranked: list[tuple[int, int, str]] = []
    for order, (key, label) in enumerate(labels.items()):
        text = label.lower()
        if text == wanted:
            rank = 0
        elif text.startswith(wanted):
            rank = 1
        elif wanted in text:
            rank = 2
        else:
            continue
        ranked.append((rank, order, key))
    return [key for _, _, key in sorted(ranked)]


def _params(params: Mapping) -> list[str]:
    return [f"  {key}: {format_value(value)}" for key, value in params.items()]


def describe_node(spec: Spec | None, path: tuple, lines: list[str]) -> str:
    """The hover text of a node at spec `path` drawn with `lines`: for a layer its kind,
    path, every parameter and output shape; for a loss term its kind, weight and parameters;
    otherwise the node's own lines."""
    head = " · ".join(line.strip() for line in lines if line.strip())
    if spec is None:
        return head
    analysis = spec.analysis
    layer = analysis.layers.get(tuple(path))
    if layer is not None:
        out = [f"{layer.kind}  ({format_path(layer.path)})"]
        out += _params(layer.params) or ["  (no parameters)"]
        if layer.out_shape is not None:
            out.append(f"output: {format_shape(layer.out_shape)}")
        if layer.children:
            out.append(f"{len(layer.children)} layers inside")
        return "\n".join(out)
    term = next((t for t in analysis.terms if t.path == tuple(path)), None)
    if term is not None:
        out = [f"{term.kind}  ({format_path(term.path)}) → loss/{term.objective}/{term.label}"]
        out += _params(term.params)
        return "\n".join(out)
    plan = analysis.networks.get(path[1]) if len(path) == 2 and path[0] == "networks" else None
    if plan is not None:
        inputs = ", ".join(f"{name} {format_shape(shape)}"
                           for name, shape in zip(plan.inputs, plan.input_shapes, strict=False))
        output = format_shape(plan.output_shape) if plan.output_shape else "?"
        return f"network {plan.name}: {len(plan.layers)} layers\n  in: {inputs}\n  out: {output}"
    return head


__all__ = ["describe_node", "match_nodes"]
