"""Self-describing checkpoints: resolved spec text, weights, optimizers, RNG and data state.

Written atomically (temp file, then rename) so a crash never leaves a half-written file, and
loadable with `torch.load(weights_only=True)`: nothing in them is pickled code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from ganbuilder.errors import CheckpointError

FORMAT = "ganbuilder-checkpoint"
VERSION = 1


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"format": FORMAT, "version": VERSION, **state}, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """Read a checkpoint; a missing, corrupt or foreign file is a CheckpointError."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a damaged file
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise CheckpointError(f"cannot read checkpoint {path}: {reason}") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise CheckpointError(f"{path} is not a ganbuilder checkpoint")
    if state.get("version") != VERSION:
        raise CheckpointError(f"{path} has checkpoint version {state.get('version')}; "
                              f"this ganbuilder reads version {VERSION}")
    return state


def check_compatible(state: dict, nets: dict[str, torch.nn.Module], path: Path) -> None:
    """Every network, parameter name and shape must match, or nothing is loaded."""
    saved = state["networks"]
    if set(saved) != set(nets):
        raise CheckpointError(
            f"{path} holds networks {sorted(saved)}, the spec defines {sorted(nets)}"
        )
    for name, net in nets.items():
        mine = net.state_dict()
        theirs = saved[name]
        for key in sorted(set(mine) | set(theirs)):
            if key not in theirs or key not in mine:
                raise CheckpointError(f"{path}: network {name} differs from the spec "
                                      f"(parameter '{key}' only in the "
                                      f"{'spec' if key in mine else 'checkpoint'})")
            if mine[key].shape != theirs[key].shape:
                raise CheckpointError(
                    f"{path}: network {name} parameter '{key}' has shape "
                    f"{tuple(theirs[key].shape)} in the checkpoint, {tuple(mine[key].shape)} "
                    "in the spec"
                )
