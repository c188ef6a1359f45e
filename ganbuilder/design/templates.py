"""Spec templates: every file in specs/, with its name and description; the blank spec File >
New starts from; a schema modeline kept true when a spec is saved in another folder."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

SPECS_DIR = Path(__file__).resolve().parents[2] / "specs"  # the shipped specs, one per family
# The comment editors read the spec's JSON schema from (YAML language server).
_MODELINE = re.compile(r"^(#\s*yaml-language-server:\s*\$schema=)(\S+)")

# File > New: the smallest GAN that trains (2D points), its critic a single layer for the user
# to build out on the canvas. Relative to SPECS_DIR, as the templates' modelines are.
BLANK = """\
# yaml-language-server: $schema=../schema/spec-v1.json
version: 1
name: my_gan
description: >
  A new spec: 2D points from eight Gaussians. Build the critic D on the Layer graph (drag
  layers from the Layer library between its nodes), then Train > Start.
data: {source: ring8, batch_size: 64}
latent:
  z: {dist: normal, shape: [8]}
networks:
  G:
    layers:
      - linear: 64
      - relu
      - linear: 2
  D:
    layers:
      - linear: 1
forward:
  fake: G(z)
objectives:
  D:
    updates: [D]
    loss:
      - adversarial: {critic: D, real: real, fake: fake}
  G:
    updates: [G]
    loss:
      - adversarial: {critic: D, fake: fake}
training:
  steps: 2000
"""


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


def moved_modeline(lines: list[str], old_dir: Path, new_dir: Path
                   ) -> tuple[int, int, int, str] | None:
    """The edit (line, start, end, new path) that keeps a relative schema modeline pointing at
    its schema once the spec moves from `old_dir` to `new_dir`; None when there is none, it is
    not relative, its schema is not there, or it already points right."""
    for number, line in enumerate(lines[:3], 1):
        match = _MODELINE.match(line)
        if match is None:
            continue
        written = match.group(2)
        if "://" in written or Path(written).is_absolute():
            return None
        schema = (Path(old_dir) / written).resolve()
        if not schema.is_file():
            return None
        try:
            new = Path(os.path.relpath(schema, Path(new_dir).resolve())).as_posix()
        except ValueError:  # another drive (Windows): only an absolute path reaches it
            new = schema.as_posix()
        if new == written:
            return None
        return number, match.start(2), match.end(2), new
    return None
