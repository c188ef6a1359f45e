"""Lines of the last valid text followed into the text as it is now.

While the text does not validate, the designer still knows the last valid spec and the lines it
was checked from. An edit elsewhere in the file leaves an item's lines as they were, only
shifted; this map says where they went, so the property form of an untouched layer stays
editable while the problem is being fixed somewhere else.
"""

from __future__ import annotations


class LineMap:
    """1-based lines of `old` mapped to lines of `new` where the two texts agree: the common
    head keeps its numbers, the common tail is shifted by the change in length, and the
    changed middle maps to nothing."""

    def __init__(self, old: list[str], new: list[str]):
        limit = min(len(old), len(new))
        head = 0
        while head < limit and old[head] == new[head]:
            head += 1
        tail = 0
        while tail < limit - head and old[-1 - tail] == new[-1 - tail]:
            tail += 1
        self.head, self.tail = head, tail
        self.old_len, self.new_len = len(old), len(new)
        self.shift = len(new) - len(old)

    @classmethod
    def of_texts(cls, old: str, new: str) -> LineMap:
        """The map between two texts (lines separated by newlines)."""
        return cls(old.split("\n"), new.split("\n"))

    @property
    def identical(self) -> bool:
        """The texts are the same."""
        return self.head == self.old_len == self.new_len

    def to_new(self, line: int) -> int | None:
        """Where line `line` of the old text is in the new one, or None if it was changed."""
        if 1 <= line <= self.head:
            return line
        if self.old_len - self.tail < line <= self.old_len:
            return line + self.shift
        return None

    def to_old(self, line: int) -> int | None:
        """Which old line line `line` of the new text is, or None if it is new or changed."""
        if 1 <= line <= self.head:
            return line
        if self.new_len - self.tail < line <= self.new_len:
            return line - self.shift
        return None

    def intact(self, first: int, last: int) -> bool:
        """Old lines first..last are all unchanged in the new text, so edits planned on them
        still apply once shifted."""
        if last <= self.head:
            return True
        return first > self.old_len - self.tail


__all__ = ["LineMap"]
