"""ONNX export through torch's exporter (needs the `export` extra: onnx, onnxscript)."""

from __future__ import annotations

import inspect
import logging
import warnings
from pathlib import Path

import torch

from ganbuilder.errors import UserError
from ganbuilder.export.target import Target, bake
from ganbuilder.files import write_file

OPSET = 18


def _dynamic_batch(module: torch.nn.Module, n_inputs: int) -> tuple | dict:
    """`dynamic_shapes` making dimension 0 of every input one shared symbolic batch size;
    a GraphNetwork takes its inputs as *args, which torch.export names as one argument."""
    batch = torch.export.Dim("batch", min=1)
    params = list(inspect.signature(module.forward).parameters.values())
    axes = tuple({0: batch} for _ in range(n_inputs))
    if params and params[0].kind is inspect.Parameter.VAR_POSITIONAL:
        return {params[0].name: axes}
    return axes


def export_onnx(target: Target, out: Path) -> Path:
    """Write `target` as an ONNX model: inputs and output named after the spec's tensors,
    a dynamic batch axis, and the target's metadata as the model's metadata properties."""
    try:
        import onnx
        import onnxscript  # noqa: F401  (torch's exporter needs it; say so before it fails)
    except ImportError as exc:
        raise UserError(f"ONNX export needs the 'export' extra ({exc.name} is missing): "
                        "pip install 'ganbuilder[export]'") from None
    module = bake(target.module)
    # The exporter logs that torchvision's ops are missing (no network here uses them) and
    # warns about its own internals; neither says anything about this model.
    registration = logging.getLogger("torch.onnx._internal.exporter._registration")
    level = registration.level
    registration.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                module, target.example(), dynamo=True, opset_version=OPSET,
                input_names=target.inputs, output_names=[target.output],
                dynamic_shapes=_dynamic_batch(module, len(target.inputs)), verbose=False)
    except torch.onnx.OnnxExporterError as exc:
        # An operator the exporter cannot express: the model's limit, not ganbuilder's bug.
        reason = next((line for line in str(exc).splitlines() if "Error" in line),
                      str(exc).splitlines()[0])
        raise UserError(f"network {target.network} cannot be exported as onnx: "
                        f"{reason.strip()}") from exc
    finally:
        registration.setLevel(level)
    model = program.model_proto
    for key, value in target.metadata.items():
        model.metadata_props.add(key=key, value=value)
    onnx.checker.check_model(model)
    return write_file(out, model.SerializeToString())
