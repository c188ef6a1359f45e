"""Spec paths (`networks.G.layers[3].conv.out`) and the location table of a loaded tree."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from ganbuilder.errors import Location
from ganbuilder.spec.yaml_loader import LDict, LList

Path = tuple[str | int, ...]
_SEGMENT = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def format_path(path: Iterable[str | int]) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_path(text: str) -> Path:
    """`a.b[2].c` -> ('a', 'b', 2, 'c'); raises ValueError on malformed input."""
    parts: list[str | int] = []
    pos = 0
    for match in _SEGMENT.finditer(text):
        between = text[pos : match.start()]
        if between not in ("", "."):
            raise ValueError(f"malformed spec path '{text}'")
        parts.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        pos = match.end()
    if not parts or pos != len(text):
        raise ValueError(f"malformed spec path '{text}'")
    return tuple(parts)


class Locations:
    """Maps spec paths of a resolved tree to where their text is (value and, for keys, key)."""

    def __init__(self, tree: Any):
        self.values: dict[Path, Location] = {}
        self.keys: dict[Path, Location] = {}
        self.origins: dict[Path, tuple[Path, str]] = {}  # expanded layer -> as written
        if getattr(tree, "loc", None):
            self.values[()] = tree.loc
        self._walk(tree, ())

    def _walk(self, node: Any, path: Path) -> None:
        if isinstance(node, LDict):
            for key, value in node.items():
                sub = (*path, key)
                if key in node.val_locs:
                    self.values[sub] = node.val_locs[key]
                    self.keys[sub] = node.key_locs[key]
                self._walk(value, sub)
        elif isinstance(node, LList):
            origins = getattr(node, "item_origins", ())
            for i, value in enumerate(node):
                if i < len(node.item_locs) and node.item_locs[i]:
                    self.values[(*path, i)] = node.item_locs[i]
                if i < len(origins) and origins[i] != ((*path, i), ""):
                    self.origins[(*path, i)] = origins[i]
                self._walk(value, (*path, i))

    def written(self, path: Iterable[str | int]) -> str:
        """`path` as the user wrote it: a layer that came from a block or was moved by one
        is named by the network item written in the file, with the block layer as a note
        (`networks.G.layers[3].conv.out (block down, layers[2])`)."""
        path = tuple(path)
        notes = []
        for end in range(len(path), 0, -1):
            if path[:end] in self.origins:
                where, note = self.origins[path[:end]]
                path = (*where, *path[end:])
                if note:
                    notes.append(note)
                break
        text = format_path(path)
        return f"{text} ({'; '.join(notes)})" if notes else text

    def find(self, path: Iterable[str | int], key: bool = False) -> Location | None:
        """The location of `path`, or of its nearest located ancestor."""
        path = tuple(path)
        table = self.keys if key else self.values
        if path in table:
            return table[path]
        while path:
            path = path[:-1]
            if path in self.values:
                return self.values[path]
        return None


def plain(node: Any) -> Any:
    """Strip location info: LDict/LList -> dict/list (recursively)."""
    if isinstance(node, dict):
        return {k: plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [plain(v) for v in node]
    return node
