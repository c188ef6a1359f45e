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
