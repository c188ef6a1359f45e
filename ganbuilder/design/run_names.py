"""Runs told apart: each named by its spec's name and what differs from the other runs, and the
difference of two runs' resolved specs line by line.

A run folder keeps its resolved spec (`spec.yaml`: params substituted, blocks expanded), so two
runs of one spec trained with other params or `--set` overrides differ there, and only there.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from pathlib import Path

import yaml

from ganbuilder.design.labels import shorten

# Keys that tell nothing about how a run trained.
IGNORED = ("description",)
MAX_SHOWN = 3


def flatten(tree: object, prefix: str = "") -> dict[str, object]:
    """Dotted keys (`training.optimizer.adam.lr`, `networks.G.layers[2].conv.out`) to values."""
    out: dict[str, object] = {}
    if isinstance(tree, Mapping):
        for key, value in tree.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(tree, list) and tree:
        for i, value in enumerate(tree):
            out.update(flatten(value, f"{prefix}[{i}]"))
    else:
        out[prefix] = tree
    return out


def differences(trees: Sequence[Mapping]) -> list[dict[str, object]]:
    """Per run, the dotted keys whose values are not the same in every run (a key missing from
    a run counts as a difference), with that run's value (None where it has none)."""
    flat = [flatten(tree) for tree in trees]
    keys = sorted({k for f in flat for k in f if not k.startswith(IGNORED)})
    differing = [k for k in keys if len({repr(f.get(k)) for f in flat}) > 1]
    return [{k: f.get(k) for k in differing} for f in flat]


def _short(key: str, keys: Sequence[str]) -> str:
    """The last part of a dotted key when no other differing key ends the same way, said
    with whose it is when it belongs to an objective or a network (`G's lr`), or to every
    objective's default optimizer (`lr (all)`)."""
    parts = key.split(".")
    last = parts[-1]
    if len(parts) > 2 and parts[0] in ("objectives", "networks"):
        return f"{parts[1]}'s {last}"
    if parts[:2] == ["training", "optimizer"]:
        return f"{last} (all)"
    return last if sum(k.rsplit(".", 1)[-1] == last for k in keys) == 1 else key


def _value(value: object) -> str:
    return "—" if value is None else shorten(str(value), 24)


def run_names(names: Sequence[str], trees: Sequence[Mapping | None],
              folders: Sequence[str]) -> list[str]:
    """A label per run: its spec's name and what differs from the other runs of that name
    (params first, then other keys; at most MAX_SHOWN, then a count), or its folder's name
    when nothing does. A run whose spec cannot be read (None) is named by its folder."""
    labels = [f"{name} · {folder}" for name, folder in zip(names, folders, strict=True)]
    by_name: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if trees[i] is not None:
            by_name.setdefault(name, []).append(i)
    for group in by_name.values():
        if len(group) < 2:
            continue
        diffs = differences([trees[i] for i in group])
        for i, diff in zip(group, diffs, strict=True):
            if not diff:
                continue
            keys = sorted(diff, key=lambda k: (not k.startswith("params."), k))
            shown = [f"{_short(k, keys)}={_value(diff[k])}" for k in keys[:MAX_SHOWN]]
            more = f" +{len(keys) - MAX_SHOWN}" if len(keys) > MAX_SHOWN else ""
            labels[i] = f"{names[i]} · {', '.join(shown)}{more}"
    return labels


def resolved_spec(run_dir: Path) -> tuple[str, Mapping | None]:
    """A run folder's resolved spec: its text ("" when missing) and its tree (None when it
    is missing or unreadable)."""
    path = Path(run_dir) / "spec.yaml"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return "", None
    try:
        tree = yaml.safe_load(text)
    except yaml.YAMLError:
        return text, None
    return text, tree if isinstance(tree, Mapping) else None


def spec_diff(a_text: str, b_text: str, a_name: str, b_name: str) -> list[str]:
    """The unified difference of two resolved specs (each line without its newline); empty
    when they are the same."""
    return [line.rstrip("\n") for line in difflib.unified_diff(
        a_text.splitlines(), b_text.splitlines(), a_name, b_name, lineterm="", n=2)]


__all__ = ["IGNORED", "MAX_SHOWN", "differences", "flatten", "resolved_spec", "run_names",
           "spec_diff"]
