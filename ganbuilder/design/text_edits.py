"""Edits of the spec text that keep the rest of the YAML (comments, key order, layout).

Every change the designer makes (a form field, a comment mark, a layer inserted, deleted or
moved, a canvas gesture, a problem's fix) is one `TextEdit`: line ranges replaced, where the
cursor goes, and the text it was planned on, so it can follow that text's lines into the text
as it is now (`rebased`). The editor applies one as one undo step, by one method.

The planners work on the lines of the text and the locations of the last valid spec:

* `plan_edit` and `plan_toggle_comment` give column edits `Edit` (line, start column, end
  column, replacement), 1-based line, 0-based columns (`TextEdit.columns` makes one edit);
* `plan_delete` and `plan_move` give `LineEdit` (first, last, new lines, cursor line);
* `plan_insert`: a new layer item after a line.

A planner returns None (or a reason) where the text cannot be changed safely in place (an
expression such as `${ch}`, a multi-line flow mapping ...); the app then leaves that change to
the text editor.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from ganbuilder.design.line_map import LineMap
from ganbuilder.layers import LAYERS
from ganbuilder.spec.paths import Locations

Edit = tuple[int, int, int, str]
LineEdit = tuple[int, int, list[str], int]  # first, last (1-based), new lines, cursor line


@dataclass(frozen=True)
class TextChange:
    """Replace 1-based lines first..last with `lines`; last = first - 1 inserts before first."""

    first: int
    last: int
    lines: tuple[str, ...]


@dataclass(frozen=True)
class TextEdit:
    """One change of the spec text, as one undo step: its line changes (non-overlapping), where
    the cursor goes afterwards ((1-based line, start column, end column) in the new text, a
    selection when the columns differ; line 0 leaves the cursor at the change), a few words
    for the status bar, and the text it was planned on (None: the text it is applied to)."""

    changes: tuple[TextChange, ...]
    cursor: tuple[int, int, int] = (0, 0, 0)
    summary: str = ""
    base: str | None = None

    def apply(self, text: str) -> str:
        """The text after this edit."""
        lines = text.split("\n")
        for change in sorted(self.changes, key=lambda c: c.first, reverse=True):
            lines[change.first - 1:change.last] = list(change.lines)
        return "\n".join(lines)

    def rebased(self, now: str) -> TextEdit | None:
        """This edit moved onto `now`, the text as it is after edits elsewhere since it was
        planned: its lines shifted with their text; None when a line it changes (or the line
        it inserts after) was itself changed."""
        if self.base is None or self.base == now:
            return replace(self, base=now)
        lines = LineMap.of_texts(self.base, now)
        moved, shifts = [], []
        for change in self.changes:
            anchor = change.first if change.last >= change.first else change.first - 1
            if anchor == 0:
                shift = 0
            elif not lines.intact(anchor, max(change.last, anchor)) \
                    or lines.to_new(anchor) is None:
                return None
            else:
                shift = lines.to_new(anchor) - anchor
            moved.append(TextChange(change.first + shift, change.last + shift, change.lines))
            shifts.append((change.first, shift))
        line, start, end = self.cursor
        shift = 0
        for first, moved_by in sorted(shifts):  # the shift of the last change above the cursor
            if first <= line:
                shift = moved_by
        return TextEdit(tuple(moved), (line + shift if line else 0, start, end), self.summary,
                        now)

    @classmethod
    def between(cls, old: Sequence[str], new: Sequence[str],
                cursor: tuple[int, int, int] = (0, 0, 0), summary: str = "") -> TextEdit:
        """The smallest one-range edit that turns lines `old` into lines `new`."""
        head = 0
        while head < min(len(old), len(new)) and old[head] == new[head]:
            head += 1
        tail = 0
        while tail < min(len(old), len(new)) - head and old[-1 - tail] == new[-1 - tail]:
            tail += 1
        change = TextChange(head + 1, len(old) - tail, tuple(new[head:len(new) - tail]))
        return cls((change,), cursor, summary, "\n".join(old))

    @classmethod
    def columns(cls, lines: Sequence[str], edits: Sequence[Edit], summary: str = ""
                ) -> TextEdit:
        """Column edits (on distinct lines, or left to right on one) of `lines` as one edit;
        the cursor stays where it is."""
        by_line: dict[int, list[Edit]] = {}
        for edit in edits:
            by_line.setdefault(edit[0], []).append(edit)
        changes = []
        for number, group in sorted(by_line.items()):
            text, offset = lines[number - 1], 0
            for _, start, end, new in sorted(group, key=lambda e: e[1]):
                text = text[:start + offset] + new + text[end + offset:]
                offset += len(new) - (end - start)
            changes.append(TextChange(number, number, (text,)))
        return cls(tuple(changes), (0, 0, 0), summary, "\n".join(lines))

    @classmethod
    def of_lines(cls, lines: Sequence[str], edit: LineEdit, summary: str = "") -> TextEdit:
        """A whole-item edit (first, last, new lines, cursor line) of `lines` as one edit."""
        first, last, new, cursor_line = edit
        return cls((TextChange(first, last, tuple(new)),),
                   (cursor_line, 0, 0), summary, "\n".join(lines))

    @classmethod
    def insert_after(cls, lines: Sequence[str], line: int, text: str, summary: str = ""
                     ) -> TextEdit:
        """`text` as a new line after 1-based `line` of `lines`, the cursor at its end."""
        return cls((TextChange(line + 1, line, (text,)),), (line + 1, len(text), len(text)),
                   summary, "\n".join(lines))
_PLAIN_END = re.compile(r"\s*(?:[,}\]]|\s#|$)")
_INDENT = re.compile(r"\s*(?:- )?")


def format_value(value: object) -> str:
    """A YAML scalar for a form value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def scalar_span(line: str, start: int) -> tuple[int, int] | None:
    """(start, end) of the scalar at column `start`; None for a mapping, list or expression."""
    rest = line[start:]
    if not rest or rest[0] in "{[&*|>" or rest.startswith(("${", '"${', "'${")):
        return None
    if rest[0] in "\"'":
        end = rest.find(rest[0], 1)
        return None if end < 0 else (start, start + end + 1)
    match = _PLAIN_END.search(rest)
    return start, start + match.start()


def plan_edit(lines: list[str], locations: Locations, file: str, path: tuple, kind: str,
              key: str, primary: str | None, value: object) -> Edit | None:
    """Where and how to set `key` of the layer or loss term at `path` (kind `kind`, whose
    shorthand value is parameter `primary`) to `value`."""
    text = format_value(value)

    def at(p: tuple, table: dict) -> tuple[int, int] | None:
        loc = table.get(p)
        if loc is None or loc.file != file or loc.line > len(lines):
            return None
        return loc.line, loc.col - 1

    own = at((*path, kind, key), locations.values)
    if own is not None:
        line, col = own
        span = scalar_span(lines[line - 1], col)
        return None if span is None else (line, span[0], span[1], text)
    body = at((*path, kind), locations.values)
    if body is not None:
        line, col = body
        source = lines[line - 1]
        if source[col:col + 1] == "{":
            close = _matching_brace(source, col)
            if close is None:
                return None
            inside = source[col + 1:close].strip()
            addition = f"{key}: {text}" if not inside else f", {key}: {text}"
            stripped_end = col + 1 + len(source[col + 1:close].rstrip())
            return line, stripped_end, close, addition
        if key == primary:
            span = scalar_span(source, col)
            return None if span is None else (line, span[0], span[1], text)
        return None
    item = at(path, locations.values)
    if item is not None:
        line, col = item
        source = lines[line - 1]
        after = source[col + len(kind):].strip(" ")
        if source[col:col + len(kind)] == kind and not after.startswith(":"):
            shorthand = text if key == primary else f"{{{key}: {text}}}"
            return line, col, col + len(kind), f"{kind}: {shorthand}"
    return None


def _matching_brace(line: str, start: int) -> int | None:
    depth, quote = 0, ""
    for i in range(start, len(line)):
        ch = line[i]
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch in "{[":
            depth += 1
        elif ch in "}]":
            depth -= 1
            if depth == 0:
                return i
    return None


def layer_line(kind: str, params: dict) -> str:
    """A new layer item's text: `relu`, or `conv: {out: 64, kernel: 3}` with `params`."""
    if not params:
        return kind
    body = ", ".join(f"{k}: {format_value(v)}" for k, v in params.items())
    return f"{kind}: {{{body}}}"


def scalar_schema(schema: dict) -> dict:
    """The object-form schema of a parameter (some are wrapped in if/then/else)."""
    return schema.get("then", schema) if "if" in schema else schema


def new_layer_params(kind: str) -> dict:
    """The parameters a new `kind` layer is written with: each required one at its default,
    else its minimum, else 1, so that the inserted text is valid as it stands."""
    ldef = LAYERS.get(kind)
    params = {}
    for key in ldef.required:
        schema = scalar_schema(ldef.params.get(key, {}))
        params[key] = schema.get("default", schema.get("minimum", 1))
    return params


def plan_insert(lines: list[str], locations: Locations, file: str, path: tuple, kind: str
                ) -> tuple[int, str] | None:
    """(1-based line to insert after, the new line) for a new `kind` layer right after the
    layer at `path`, at that layer's indentation; None when its text is not in `file`."""
    where = locations.find(path)
    if where is None or where.file != file or where.line > len(lines):
        return None
    indent = lines[where.line - 1][: max(where.col - 3, 0)]  # the item's `- ` sits before col
    return item_end(lines, where.line), f"{indent}- {layer_line(kind, new_layer_params(kind))}"


def plan_toggle_comment(lines: list[str], first: int, last: int) -> list[Edit]:
    """Comment 1-based lines first..last at their common indentation, or uncomment them when
    every non-blank one is a comment already; blank lines are left alone."""
    texts = lines[first - 1:last]
    filled = [t for t in texts if t.strip()]
    uncomment = bool(filled) and all(t.lstrip().startswith("#") for t in filled)
    indent = min((_indent(t) for t in filled), default=0)
    edits: list[Edit] = []
    for number, text in enumerate(texts, first):
        if not text.strip():
            continue
        if uncomment:
            at = text.index("#")
            width = 2 if text[at + 1:at + 2] == " " else 1
            edits.append((number, at, at + width, ""))
        else:
            edits.append((number, indent, indent, "# "))
    return edits


def next_line_indent(line: str) -> str:
    """The indentation a new line typed after `line` starts with: its own, and past the `- `
    of a list item, so the next entry of the item lines up."""
    return " " * len(_INDENT.match(line).group(0))


# -- whole-item edits: delete, move up, move down ------------------------------------------
_ITEM = re.compile(r"^(\s*)- ")


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def item_end(lines: list[str], line: int) -> int:
    """The last line of the YAML item starting on 1-based `line`: deeper-indented lines, and
    blank or comment lines inside it, belong to it."""
    base = _indent(lines[line - 1])
    last = line
    for number in range(line + 1, len(lines) + 1):
        text = lines[number - 1]
        if _content(text):
            if _indent(text) <= base:
                break
            last = number
    return last


def layer_item(lines: list[str], locations: Locations, file: str, path: tuple,
               uses: int = 1) -> tuple[int, int] | str:
    """(first, last) lines of a layer written as one item of its network's own `layers:`
    list, or why it is not (then it cannot be deleted or moved as text)."""
    if len(path) != 4 or path[0] != "networks" or path[2] != "layers":
        return "only a network's top-level layers can be moved or deleted"
    where = locations.values.get(tuple(path))
    key = locations.keys.get(tuple(path[:3]))
    if where is None or key is None or where.file != file or key.file != file \
            or where.line > len(lines) or key.line > len(lines):
        return "its text is not in this file"
    if uses > 1:
        return "its text is shared by several layers (a block, repeat or anchor)"
    first_item = next((n for n in range(key.line + 1, len(lines) + 1)
                       if _content(lines[n - 1])), None)
    match = _ITEM.match(lines[where.line - 1])
    if first_item is None or match is None or len(match.group(0)) != where.col - 1:
        return "it is not written as an item of the network's layers list"
    head = _ITEM.match(lines[first_item - 1])
    dash = len(match.group(1))
    if where.line <= key.line or head is None or len(head.group(1)) != dash \
            or not _in_list(lines, key.line, where.line, dash):
        return "it is expanded from a block or a repeat"
    return where.line, item_end(lines, where.line)


def _in_list(lines: list[str], key_line: int, line: int, dash: int) -> bool:
    """Whether 1-based `line` is an item of the list right under `key_line` (dash indent)."""
    for number in range(key_line + 1, line):
        text = lines[number - 1]
        if _content(text) and _indent(text) < dash:
            return False
    return True


def _sibling(lines: list[str], start: int, step: int, dash: int) -> int | None:
    """The first line of the previous (step -1, from `start` upwards) or next item at `dash`."""
    number = start
    while 1 <= number <= len(lines):
        text = lines[number - 1]
        if _content(text):
            indent = _indent(text)
            if indent < dash or (indent == dash and not _ITEM.match(text)):
                return None
            if indent == dash:
                return number
            if step > 0:
                return None  # deeper text after an item's end cannot happen; be safe
        number += step
    return None


def plan_delete(lines: list[str], first: int, last: int) -> LineEdit:
    """Remove lines first..last; the cursor goes to the line that takes their place."""
    return first, last, [], min(first, len(lines) - (last - first + 1))


def plan_move(lines: list[str], first: int, last: int, step: int) -> LineEdit | None:
    """Swap the item at first..last with its previous (step -1) or next (step 1) sibling;
    lines between them (comments, blank lines) stay where they are."""
    dash = _indent(lines[first - 1])
    if step < 0:
        other = _sibling(lines, first - 1, -1, dash)
        if other is None:
            return None
        other_end = item_end(lines, other)
        gap = lines[other_end:first - 1]
        new = lines[first - 1:last] + gap + lines[other - 1:other_end]
        return other, last, new, other
    other = _sibling(lines, last + 1, 1, dash)
    if other is None:
        return None
    other_end = item_end(lines, other)
    gap = lines[last:other - 1]
    moved = lines[first - 1:last]
    new = lines[other - 1:other_end] + gap + moved
    return first, other_end, new, first + (other_end - other + 1) + len(gap)
