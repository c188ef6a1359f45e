"""safetensors export: the network's weights under its state_dict keys, the spec as text."""

from __future__ import annotations

from pathlib import Path

from ganbuilder.errors import UserError
from ganbuilder.export.target import Target


def export_safetensors(target: Target, out: Path) -> Path:
    """Write the target network's state_dict (the keys a compiled or ejected network loads)
    with the resolved spec text and the target's metadata in the file's metadata."""
    try:
        from safetensors.torch import save_file
    except ImportError as exc:
        raise UserError(f"safetensors export needs the 'export' extra ({exc.name} is missing): "
                        "pip install 'ganbuilder[export]'") from None
    tensors = {k: v.detach().cpu().contiguous() for k, v in target.module.state_dict().items()}
    metadata = {**target.metadata, "spec": target.spec.text()}
    out.parent.mkdir(parents=True, exist_ok=True)
    save_file(tensors, str(out), metadata=metadata)
    return out
