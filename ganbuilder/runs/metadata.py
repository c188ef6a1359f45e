"""A run folder's `run.json`: what the run started from, beside its spec.yaml and metrics.

Torch-free, so the Runs view and `read_run` show it without loading a checkpoint. Each entry
is one key (`init`: the checkpoint a fine-tuning run took its weights from); a writer adds or
replaces its own key and keeps the others.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from ganbuilder.files import os_error, write_file

FILE = "run.json"


def read_metadata(run_dir: Path) -> dict[str, Any]:
    """The run folder's metadata; {} when it has none, or when run.json is unreadable (it
    describes the run, nothing depends on it)."""
    path = Path(run_dir) / FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def record_metadata(run_dir: Path, key: str, value: Any) -> None:
    """Set `key` in the run folder's run.json (written whole, or not at all)."""
    data = read_metadata(run_dir)
    if data.get(key) == value:
        return
    data[key] = value
    write_file(Path(run_dir) / FILE, json.dumps(data, indent=2, sort_keys=True) + "\n")


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, as `sha256sum` prints it."""
    h = hashlib.sha256()
    try:
        with Path(path).open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    except OSError as exc:
        raise os_error(exc, "read", path) from None
    return h.hexdigest()


def describe_init(init: dict[str, Any]) -> str:
    """One line for an `init` entry: `from PATH (sha256 abc123..., G, D)`."""
    nets = ", ".join(init.get("networks", []))
    extra = " with optimizer state" if init.get("optimizers") else ""
    return f"from {init.get('path')} (sha256 {str(init.get('sha256', ''))[:12]}, {nets}{extra})"
