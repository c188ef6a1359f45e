"""Which spec item each line of the text holds, and which lines hold an item.

The designer selects by spec path (a click on a layer, a graph node, a loss term) and by line
(the editor's cursor); this index maps one to the other for a valid spec and the text it was
checked from. The items are the networks, every layer (containers' children too) and the loss
terms; each owns its YAML item: its first line and the deeper-indented lines under it.
"""

from __future__ import annotations

import bisect
from functools import cached_property

from ganbuilder.design.text_edits import item_end
from ganbuilder.errors import Location
from ganbuilder.spec import Spec

Item = tuple[int, int, tuple]  # first line, last line (1-based), spec path


class TextIndex:
    """Spec paths <-> lines of `lines`, the text `spec` was checked from as file `file`."""

    def __init__(self, spec: Spec, lines: list[str], file: str):
        self.spec, self.lines, self.file = spec, lines, file

    @classmethod
    def of_text(cls, spec: Spec, text: str, file: str) -> TextIndex:
        """The index of `text` (one string, lines separated by newlines)."""
        return cls(spec, text.split("\n"), file)

    def where(self, path: tuple) -> Location | None:
        """Where `path` is written: its key if it has one, else its value or nearest ancestor."""
        path = tuple(path)
        return self.spec.locations.keys.get(path) or self.spec.locations.find(path)

    def lines_of(self, path: tuple) -> tuple[int, int] | None:
        """(first, last) lines of the YAML item holding `path` in this text; None when it is
        written in another file (inherited through `extends`) or not at all."""
        where = self.where(path)
        if where is None or where.file != self.file or where.line > len(self.lines):
            return None
        return where.line, item_end(self.lines, where.line)

    @cached_property
    def items(self) -> list[Item]:
        """(first line, last line, path) of every network, layer and loss term written in this
        text, sorted by first line. Layers expanded from one block share its lines: the first
        path written on a line stands for it, and each line's span is measured once."""
        analysis = self.spec.analysis
        paths: list[tuple] = [("networks", name) for name in analysis.networks]
        paths += analysis.layers
        paths += [term.path for term in analysis.terms]
        spans: dict[int, int] = {}
        out: list[Item] = []
        for path in paths:
            where = self.where(path)
            if where is None or where.file != self.file or where.line in spans \
                    or where.line > len(self.lines):
                continue
            spans[where.line] = item_end(self.lines, where.line)
            out.append((where.line, spans[where.line], path))
        out.sort(key=lambda item: item[0])
        return out

    def path_at(self, line: int) -> tuple | None:
        """The innermost layer, loss term or network whose YAML item holds 1-based `line`."""
        items = self.items
        index = bisect.bisect_right(items, line, key=lambda item: item[0]) - 1
        while index >= 0:
            start, end, path = items[index]
            if start == line or start < line <= end:
                return path
            index -= 1
        return None

    def uses(self, path: tuple) -> int:
        """How many layers are written by the text of the layer at `path` (more than one for a
        block, a repeat or an anchor: an edit of that text changes all of them)."""
        where = self.spec.locations.find(path)
        return sum(self.spec.locations.find(other) == where for other in self.spec.analysis.layers)


__all__ = ["Item", "TextIndex"]
