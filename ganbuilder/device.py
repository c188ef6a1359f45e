"""Which torch device a run uses."""

from __future__ import annotations

import torch


def pick_device(name: str = "auto") -> torch.device:
    """`auto`: CUDA, then MPS, then the CPU; any other name is taken as torch spells it."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    return torch.device(name)
