"""Per-network layer tables: output shapes from shape inference, parameters from real modules."""

from __future__ import annotations

from ganbuilder.layers.registry import format_shape
from ganbuilder.spec import Spec
from ganbuilder.spec.paths import format_path


def summarize(spec: Spec) -> dict:
    """`{"networks": {name: {"params", "input_shapes", "output_shape", "layers"}}, "params"}`.

    Modules are built on torch's meta device: parameter counts without allocating weights.
    """
    import torch

    from ganbuilder.compile.network import build_network

    networks = {}
    for name, plan in spec.analysis.networks.items():
        with torch.device("meta"):
            module = build_network(plan)
        children = list(module.layers if hasattr(module, "layers") else module)
        networks[name] = {
            "params": sum(p.numel() for p in module.parameters()),
            "input_shapes": [list(s) for s in plan.input_shapes],
            "output_shape": list(plan.output_shape or ()),
            "layers": _rows(plan.layers, children),
        }
    return {"networks": networks, "params": sum(n["params"] for n in networks.values())}


def _rows(plans: list, modules: list) -> list[dict]:
    """One entry per layer; containers (residual, repeat) list theirs under `children`."""
    rows = []
    for plan, module in zip(plans, modules, strict=True):
        row = {
            "path": format_path(plan.path),
            "kind": plan.kind,
            "output_shape": list(plan.out_shape),
            "params": sum(p.numel() for p in module.parameters()),
        }
        if plan.children:
            row["children"] = _rows(plan.children, list(module))
        rows.append(row)
    return rows


def format_summary(spec: Spec, summary: dict) -> str:
    """A readable table per network."""
    lines = [f"{spec.name}: {summary['params']:,} parameters"]
    for name, net in summary["networks"].items():
        inputs = ", ".join(format_shape(tuple(s)) for s in net["input_shapes"])
        lines += ["", f"{name}  input {inputs}  ->  output "
                  f"{format_shape(tuple(net['output_shape']))}  ({net['params']:,} parameters)"]
        lines.append(f"  {'layer':<34} {'kind':<16} {'output':<18} {'params':>12}")
        for layer in net["layers"]:
            short = layer["path"].split(".layers", 1)[-1] or layer["path"]
            lines.append(f"  {short:<34} {layer['kind']:<16} "
                         f"{format_shape(tuple(layer['output_shape'])):<18} {layer['params']:>12,}")
    return "\n".join(lines)
