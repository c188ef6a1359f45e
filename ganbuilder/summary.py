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
        layers = []
        for layer, child in zip(plan.layers, children, strict=True):
            layers.append({
                "path": format_path(layer.path),
                "kind": layer.kind,
                "output_shape": list(layer.out_shape),
                "params": sum(p.numel() for p in child.parameters()),
            })
        networks[name] = {
            "params": sum(p.numel() for p in module.parameters()),
            "input_shapes": [list(s) for s in plan.input_shapes],
            "output_shape": list(plan.output_shape or ()),
            "layers": layers,
        }
    return {"networks": networks, "params": sum(n["params"] for n in networks.values())}


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
