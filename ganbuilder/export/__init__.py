"""Taking a model out of ganbuilder: one trained network as ONNX, TorchScript or safetensors
(`export_checkpoint`), and a spec as plain PyTorch source (`eject_source`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ganbuilder.errors import Problem, SpecError, UserError
from ganbuilder.export.eject import eject_source
from ganbuilder.export.target import (
    Target,
    batch_dependent_layers,
    default_network,
    make_target,
)
from ganbuilder.files import check_target
from ganbuilder.spec.paths import format_path

# Each format: its writer (module path, function), and whether it stores a computation (so
# layers a fixed graph cannot carry are refused) or weights only.
FORMATS: dict[str, tuple[str, str, bool]] = {
    "onnx": ("ganbuilder.export.onnx", "export_onnx", True),
    "torchscript": ("ganbuilder.export.torchscript", "export_torchscript", True),
    "safetensors": ("ganbuilder.export.safetensors", "export_safetensors", False),
}
# The names each format's files go by: a spec or an image named as --out is a slip.
SUFFIXES: dict[str, tuple[str, ...]] = {
    "onnx": (".onnx",), "torchscript": (".pt", ".pth", ".ts", ".torchscript"),
    "safetensors": (".safetensors",),
}


def _writer(fmt: str) -> Callable[[Target, Path], Path]:
    import importlib

    module, name, _ = FORMATS[fmt]
    return getattr(importlib.import_module(module), name)


def export_checkpoint(checkpoint: str | Path, fmt: str, out: str | Path,
                      network: str | None = None, direction: str = "AtoB",
                      ema: bool = True, psi: float | None = None,
                      force: bool = False) -> Path:
    """Write one network of a checkpoint in `fmt` (onnx, torchscript, safetensors); the
    averaged weights of a run with `training.ema` unless `ema` is False; `psi` bakes in the
    truncation of a `truncation` layer. `out` must be named for the format, is never the
    checkpoint, and replaces an existing file only with `force`."""
    from ganbuilder.sampling import load_model

    if fmt not in FORMATS:
        raise UserError(f"--format {fmt}: choose one of {', '.join(FORMATS)}")
    check_target(out, force, [checkpoint], command="export")
    if Path(out).suffix.lower() not in SUFFIXES[fmt]:
        raise UserError(f"--out {out}: {fmt} files are named *{' or *'.join(SUFFIXES[fmt])}")
    spec, gan, step = load_model(checkpoint, "cpu", ema, psi)
    target = make_target(spec, gan, step, network, direction)
    if FORMATS[fmt][2]:
        blocked = batch_dependent_layers(spec, target.network)
        if blocked:
            raise spec.locate(SpecError([Problem(
                format_path(layer.path), f"{layer.kind}: network {target.network} cannot be "
                f"exported as {fmt}: {why}") for layer, why in blocked]))
    return _writer(fmt)(target, Path(out))


__all__ = ["FORMATS", "SUFFIXES", "Target", "default_network", "eject_source", "export_checkpoint",
           "make_target"]
