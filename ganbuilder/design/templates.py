"""Spec templates: every file in specs/, with its name and description."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

SPECS_DIR = Path(__file__).resolve().parents[2] / "specs"  # the shipped specs, one per family


@dataclass(frozen=True)
class Template:
    """A shipped spec offered by File > New from template."""

    path: Path
    name: str
    description: str


def templates(folder: Path = SPECS_DIR) -> list[Template]:
    """The specs in `folder`, sorted by file name; unreadable files are listed by name only."""
    out = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            head = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError):
            head = {}
        if not isinstance(head, dict):
            head = {}
        description = " ".join(str(head.get("description") or "").split())
        out.append(Template(path, str(head.get("name") or path.stem), description))
    return out
