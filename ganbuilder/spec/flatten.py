"""One self-contained spec file from a spec that `extends` others, for sharing."""

from __future__ import annotations

import os
from pathlib import Path

from ganbuilder.spec.paths import plain
from ganbuilder.spec.resolve import read_tree

MODELINE = "# yaml-language-server: $schema={schema}\n"


def flatten_text(file: Path, out: Path) -> str:
    """`file` with its `extends` chain merged in; params, blocks and `${...}` kept as written.

    Relative data paths and weights files are rewritten relative to `out`'s folder, so the
    flattened file finds the same files wherever it is written. Comments do not survive the
    merge (the tree is written anew); the header says where the file came from.
    """
    from ganbuilder.data.registry import path_keys, resolve_path
    from ganbuilder.spec import dump_yaml

    file = Path(file).resolve()
    tree = plain(read_tree(file))
    data = tree.get("data")
    if isinstance(data, dict):
        for key in path_keys(data):
            if isinstance(data.get(key), str) and "${" not in data[key]:
                target = resolve_path(data[key], file.parent)
                data[key] = os.path.relpath(target, out.resolve().parent)
    for cfg in (tree.get("networks") or {}).values():
        weights = cfg.get("weights") if isinstance(cfg, dict) else None
        given = weights.get("file") if isinstance(weights, dict) else None
        if isinstance(given, str) and "${" not in given and not Path(given).expanduser() \
                .is_absolute():
            weights["file"] = os.path.relpath(file.parent / given, out.resolve().parent)
    schema = Path(__file__).resolve().parents[2] / "schema" / "spec-v1.json"
    header = f"# Flattened from {file.name} by `ganbuilder flatten`: extends merged.\n"
    if schema.is_file():
        header = MODELINE.format(schema=schema.as_uri()) + header
    return header + dump_yaml(tree)


__all__ = ["flatten_text"]
