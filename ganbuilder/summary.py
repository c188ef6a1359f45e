"""Per-network layer tables: output shapes and parameter counts, both from shape inference.

Counts come from each layer's registered `param_count` rule, so `ganbuilder summary` (and the
GUI's architecture view) need no torch; tests check the rules against built modules.
"""

from __future__ import annotations

from ganbuilder.layers import CONTAINERS, LAYERS, Shape
from ganbuilder.layers.registry import format_shape
from ganbuilder.spec import Spec
from ganbuilder.spec.budget import batch_size, estimate, memory_limit
from ganbuilder.spec.paths import format_path
from ganbuilder.spec.pretrained import frozen_words
from ganbuilder.spec.shapes import LayerPlan


def summarize(spec: Spec) -> dict:
    """`{"networks": {name: {"params", "input_shapes", "output_shape", "layers"}}, "params"}`."""
    networks = {}
    for name, plan in spec.analysis.networks.items():
        shapes = dict(zip(plan.inputs, plan.input_shapes, strict=True))
        rows = []
        for layer in plan.layers:
            rows.append(_row(spec, layer, [shapes[s] for s in layer.sources]))
            shapes[layer.slot] = layer.out_shape
        networks[name] = {
            "params": sum(row["params"] for row in rows),
            "input_shapes": [list(s) for s in plan.input_shapes],
            "output_shape": list(plan.output_shape or ()),
            "layers": rows,
            "frozen": frozen_words(spec.tree["networks"][name], plan),
        }
    return {"networks": networks, "params": sum(n["params"] for n in networks.values()),
            "training_memory": training_memory(spec)}


def training_memory(spec: Spec) -> dict:
    """The estimate the training budget checks (spec/budget.py), at the spec's batch size, in
    bytes: shown for a spec of any size, never refused here."""
    uses = estimate(spec.analysis, spec.tree)
    limit, source = memory_limit()
    return {"batch_size": batch_size(spec.tree),
            "networks": {name: {"params": u.params, "activations": u.activations}
                         for name, u in uses.items()},
            "total": sum(u.total for u in uses.values()), "limit": limit, "limit_from": source}


def _row(spec: Spec, plan: LayerPlan, in_shapes: list[Shape]) -> dict:
    """One layer's entry; containers (residual, repeat) list theirs under `children`."""
    children = []
    if plan.kind in CONTAINERS:
        # A container's body is a chain from the container's input, as the compiler builds it.
        shape = in_shapes[0]
        for child in plan.children:
            children.append(_row(spec, child, [shape]))
            shape = child.out_shape
        params = sum(child["params"] for child in children)
    else:
        params = LAYERS.get(plan.kind).param_count(plan.params, in_shapes)
    # `written`: where the user wrote the layer (a block's layers name the item using it).
    row = {"path": format_path(plan.path), "written": spec.locations.written(plan.path),
           "kind": plan.kind,
           "output_shape": list(plan.out_shape), "params": params}
    if children:
        row["children"] = children
    return row


def format_summary(spec: Spec, summary: dict) -> str:
    """A readable table per network."""
    lines = [f"{spec.name}: {summary['params']:,} parameters", _memory_line(summary)]
    for name, net in summary["networks"].items():
        inputs = ", ".join(format_shape(tuple(s)) for s in net["input_shapes"])
        frozen = f"  {net['frozen']}" if net.get("frozen") else ""
        lines += ["", f"{name}  input {inputs}  ->  output "
                  f"{format_shape(tuple(net['output_shape']))}  ({net['params']:,} parameters)"
                  f"{frozen}"]
        names = [layer["written"].split(".layers", 1)[-1] or layer["written"]
                 for layer in net["layers"]]
        width = max([34, *map(len, names)])
        lines.append(f"  {'layer':<{width}} {'kind':<16} {'output':<18} {'params':>12}")
        for short, layer in zip(names, net["layers"], strict=True):
            lines.append(f"  {short:<{width}} {layer['kind']:<16} "
                         f"{format_shape(tuple(layer['output_shape'])):<18} {layer['params']:>12,}")
    return "\n".join(lines)


def _memory_line(summary: dict) -> str:
    mem = summary["training_memory"]
    parts = ", ".join(f"{name} {_gib(n['params'] + n['activations'])}"
                      for name, n in mem["networks"].items())
    limit = f"{mem['limit_from']} ({_gib(mem['limit'])})"
    verdict = (f"within {limit}" if mem["total"] <= mem["limit"]
               else f"over {limit}, so `run` refuses to train it here")
    return (f"training memory: at least {_gib(mem['total'])} at data.batch_size "
            f"{mem['batch_size']} ({parts}), {verdict}")


def _gib(n: int) -> str:
    return f"{n / 2**30:,.2f} GiB"
