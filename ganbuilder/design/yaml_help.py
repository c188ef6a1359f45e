"""Help with YAML's layout while typing: what Return indents to, and what a broken indentation
means in words, said on the line where it broke.

The YAML parser reports a misplaced line as "mapping values are not allowed in this context" or
"did not find expected key"; a person needs to hear which line is off, by how much, and what it
should line up with.
"""

from __future__ import annotations

import re
from dataclasses import replace

from ganbuilder.errors import Location, Problem

_ITEM = re.compile(r"^(\s*)- ")
_SCALAR_ITEM = re.compile(
    r"^\s*-\s+(?:[^\s:#{\[][^:#]*|\{.*\}|\[.*\]|\"[^\"]*\"|'[^']*')\s*(?:#.*)?$")
_OPEN_KEY = re.compile(r"^\s*(?:-\s+)?[^\s#][^#]*:\s*(?:#.*)?$")
_INVALID = "invalid YAML: "


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def return_indent(line: str) -> str:
    """What Return inserts after `line` (typed at its end), as YAML needs it:

    * after a key that opens a block (`layers:`, `- conv:`), the block's indentation, two
      spaces past the key;
    * after a list item that is one value (`- relu`, `- {conv: 8}`), the next item's `- `;
    * after a key and value inside a list item (`- conv: 8`), the item's next key, past `- `;
    * otherwise the line's own indentation.
    """
    if not line.strip():
        return line
    body = line.split(" #", 1)[0].rstrip() if not line.lstrip().startswith("#") else line
    item = _ITEM.match(line)
    if _OPEN_KEY.match(body):
        key_col = len(item.group(0)) if item else _indent(line)
        return " " * (key_col + 2)
    if item and _SCALAR_ITEM.match(body):
        return item.group(0)
    if item:
        return " " * len(item.group(0))
    return " " * _indent(line)


def _open_indents(lines: list[str], before: int) -> list[tuple[int, int]]:
    """(indent, 1-based line) of the lines above `before` that a following line may line up
    with: going up, each line less indented than every line seen so far (its siblings and
    ancestors), nearest first."""
    out: list[tuple[int, int]] = []
    limit = None
    for number in range(before - 1, 0, -1):
        text = lines[number - 1]
        if not _content(text):
            continue
        indent = _indent(text)
        item = _ITEM.match(text)
        starts = [indent] + ([len(item.group(0))] if item else [])
        for start in sorted(starts, reverse=True):
            if limit is None or start < limit:
                out.append((start, number))
                limit = start
        if limit == 0:
            break
    return out


def _previous_content(lines: list[str], line: int) -> int | None:
    return next((n for n in range(line - 1, 0, -1) if _content(lines[n - 1])), None)


def explain_indentation(lines: list[str], line: int) -> str | None:
    """Words for a line whose indentation YAML cannot place, or None when its indentation
    lines up (the trouble is something else)."""
    if not 1 <= line <= len(lines):
        return None
    text = lines[line - 1]
    if "\t" in text[: len(text) - len(text.lstrip())]:
        return ("this line is indented with a tab; YAML indents with spaces only "
                "(replace the tab with spaces)")
    if not _content(text):
        return None
    indent = _indent(text)
    above = _previous_content(lines, line)
    if above is None:
        return None if indent == 0 else (
            f"the first line is indented by {indent} spaces; top-level keys start at column 1")
    above_text = lines[above - 1]
    body = above_text.split(" #", 1)[0].rstrip()
    if _OPEN_KEY.match(body) and indent > _indent(above_text):
        return None  # the start of the block the line above opens
    opens = _open_indents(lines, line)
    if any(start == indent for start, _ in opens):
        return None
    # On a tie, the nearer line above is the likelier intent.
    target, where = min(opens, key=lambda entry: abs(entry[0] - indent), default=(0, above))
    key = lines[where - 1].strip().split(":", 1)[0].lstrip("- ").strip()
    spaces = "space" if indent == 1 else "spaces"
    return (f"this line is indented by {indent} {spaces}, which lines up with no line above it; "
            f"to continue `{key}` (line {where}) indent it by {target}")


def explain_problem(problem: Problem, lines: list[str], file: str) -> Problem:
    """`problem` with a YAML syntax message replaced by words about the indentation, and
    moved to the line where the indentation broke, when that is what went wrong."""
    loc = problem.location
    if loc is None or loc.file != file or not problem.message.startswith(_INVALID):
        return problem
    # The parser notices a misplaced line on it or on the line after it.
    for line in (loc.line, _previous_content(lines, loc.line)):
        if line is None:
            continue
        words = explain_indentation(lines, line)
        if words:
            col = _indent(lines[line - 1]) + 1
            message = f"{words} (YAML said: {problem.message[len(_INVALID):]})"
            return replace(problem, message=message, location=Location(file, line, col))
    return problem


__all__ = ["explain_indentation", "explain_problem", "return_indent"]
