"""Text edits for one layer parameter that keep the rest of the YAML (comments, key order).

An edit is planned against the locations of the last valid spec and returned as
(line, start column, end column, replacement), 1-based line, 0-based columns, or None where
the text cannot be changed safely in place (an expression such as `${ch}`, a multi-line flow
mapping ...); the form then leaves that field to the text editor.
"""

from __future__ import annotations

import re

from ganbuilder.spec.paths import Locations

Edit = tuple[int, int, int, str]
_PLAIN_END = re.compile(r"\s*(?:[,}\]]|\s#|$)")


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
    """Where and how to set `key` of the layer at `path` (kind `kind`) to `value`."""
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


# -- whole-item edits: delete, move up, move down ------------------------------------------
LineEdit = tuple[int, int, list[str], int]  # first, last (1-based), new lines, cursor line
_ITEM = re.compile(r"^(\s*)- ")


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def item_end(lines: list[str], line: int) -> int:
    """The last line of the YAML item starting on 1-based `line` (as SpecEditor.item_span)."""
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
