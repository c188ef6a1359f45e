"""Weights files the user already has (Inception for FID, VGG for a perceptual loss): where
torch's hub cache keeps them, their sha256, what to say when one is missing, and how a file's
state dict differs from the one a network expects. Torch-free: validation reads it too.

Nothing here downloads: a missing file is reported with the place to put it and the file's
name and origin.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path


def hub_dir() -> Path:
    """torch hub's checkpoint folder: $TORCH_HOME/hub/checkpoints (default ~/.cache/torch,
    or $XDG_CACHE_HOME/torch), as torch resolves it."""
    home = os.environ.get("TORCH_HOME")
    if not home:
        xdg = os.environ.get("XDG_CACHE_HOME")
        home = str(Path(xdg) / "torch") if xdg else str(Path.home() / ".cache" / "torch")
    return Path(home).expanduser() / "hub" / "checkpoints"


def file_sha256(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def not_found(what: str, candidate: Path, where: str, name: str, origin: str,
              alternatives: str) -> str:
    """The one message for a weights file that is not where it was looked for: `what` the
    weights are for, the place looked at and why there, the file to put there and where it
    comes from, and the other ways to name it."""
    return (f"{what} are not at {candidate} ({where}); ganbuilder never downloads them: put "
            f"{name} ({origin}) there, or {alternatives}")


def state_dict_differences(want: Mapping[str, tuple], have: Mapping[str, tuple],
                           shown: int = 3) -> list[str]:
    """How the shapes of a file's entries (`have`, key -> shape) differ from a network's
    (`want`): missing keys, unexpected keys and differing shapes, `shown` of each named."""
    missing = [k for k in want if k not in have]
    extra = [k for k in have if k not in want]
    shapes = [f"{k} {tuple(have[k])} (expected {tuple(v)})"
              for k, v in want.items() if k in have and tuple(have[k]) != tuple(v)]
    parts = []
    if missing:
        parts.append(f"{len(missing)} missing, e.g. {', '.join(missing[:shown])}")
    if extra:
        parts.append(f"{len(extra)} unexpected, e.g. {', '.join(extra[:shown])}")
    if shapes:
        parts.append(f"shapes differ: {', '.join(shapes[:shown])}")
    return parts


__all__ = ["file_sha256", "hub_dir", "not_found", "state_dict_differences"]
