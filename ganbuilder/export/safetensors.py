"""safetensors export: the network's weights under its state_dict keys, the spec as text."""

from __future__ import annotations

from pathlib import Path

from ganbuilder.errors import UserError
from ganbuilder.export.target import Target
from ganbuilder.files import write_file


def export_safetensors(target: Target, out: Path) -> Path:
    """Write the target network's state_dict (the keys a compiled or ejected network loads)
    with the resolved spec text and the target's metadata in the file's metadata."""
    try:
        from safetensors.torch import save
    except ImportError as exc:
        raise UserError(f"safetensors export needs the 'export' extra ({exc.name} is missing): "
                        "pip install 'ganbuilder[export]'") from None
    tensors = {k: v.detach().cpu().contiguous() for k, v in target.module.state_dict().items()}
    metadata = {**target.metadata, "spec": target.spec.text()}
    return write_file(out, save(tensors, metadata=metadata))
