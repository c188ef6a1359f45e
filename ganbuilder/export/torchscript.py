"""TorchScript export: a traced module that plain `torch.jit.load` runs, without ganbuilder."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import torch

from ganbuilder.export.target import Target, bake
from ganbuilder.files import write_file


def export_torchscript(target: Target, out: Path) -> Path:
    """Write `target` as a traced TorchScript module with the metadata as extra files
    (`torch.jit.load(path, _extra_files={"inputs": ""})` reads them back)."""
    module = bake(target.module)
    with warnings.catch_warnings():
        # torch 2.13 marks tracing deprecated, but TorchScript is what C++ and older
        # runtimes load; instance norm's batch-size check warns once per layer.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        # The check re-runs the trace and compares outputs, which noise layers make differ.
        traced = torch.jit.trace(module, target.example(), check_trace=False)
        buffer = io.BytesIO()  # serialized first: a full disk is an OSError, not a C++ abort
        torch.jit.save(traced, buffer, _extra_files=target.metadata)
    return write_file(out, buffer.getbuffer())
