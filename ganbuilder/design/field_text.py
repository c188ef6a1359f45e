"""A form field written as an expression (`out: "${ngf * 2}"`): the text as written, and the
edit a new text makes once it is checked with the whole spec.

The form shows such a field as its text, not as the number it resolves to, so that editing
it never replaces an expression by a number the user did not type. A new text is checked by
loading the spec with it; a problem on the field's own line (a name that is not a param, a
bad expression, a value the parameter refuses) is said beside the field and the text is not
changed. Problems the change causes elsewhere (a shape further on) are the Problems panel's,
as for any edit.
"""

from __future__ import annotations

from pathlib import Path

from ganbuilder.design.text_edits import TextEdit, scalar_span
from ganbuilder.errors import UserError
from ganbuilder.spec import load_spec_text
from ganbuilder.spec.paths import Locations

Span = tuple[int, int, int, str]  # line (1-based), start, end column, the text there


def written_field(lines: list[str], locations: Locations, file: str, path: tuple, kind: str,
                  key: str) -> Span | None:
    """Parameter `key` of the layer or loss term at `path` (of kind `kind`) as written on one
    line of `lines` (an expression `${...}`, quoted or not, included); None when it is not
    written in this file as one scalar."""
    loc = locations.values.get((*tuple(path), kind, key))
    if loc is None or loc.file != file or not 1 <= loc.line <= len(lines):
        return None
    text = lines[loc.line - 1]
    start = loc.col - 1
    rest = text[start:]
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        span = None if end < 0 else (start, start + end + 1)
    elif rest.startswith("${"):
        end = _closing(rest)
        span = None if end is None else (start, start + end + 1)
    else:
        span = scalar_span(text, start)
    if span is None:
        return None
    return loc.line, span[0], span[1], text[span[0]:span[1]]


def is_expression(written: str) -> bool:
    """Whether a written value is (or holds) a `${...}` expression."""
    return "${" in written


def shown_text(written: str) -> str:
    """What the form shows for a written value: without the quotes YAML needs around it."""
    if len(written) >= 2 and written[0] == written[-1] and written[0] in "'\"":
        return written[1:-1]
    return written


def field_edit(text: str, file: str, base_dir: Path, span: Span, new: str,
               summary: str) -> TextEdit | str:
    """The edit writing `new` (as typed: `${ngf * 3}`, `128`) over the written value `span`,
    quoted where YAML needs it; or why not: the first problem the spec then has on that
    line, in words."""
    new = new.strip()
    if not new:
        return "a value is needed"
    line, start, end, _ = span
    value = f'"{new}"' if is_expression(new) and new[0] not in "'\"" else new
    lines = text.split("\n")
    edit = TextEdit.columns(lines, [(line, start, end, value)], summary)
    try:
        load_spec_text(edit.apply(text), file, base_dir)
    except UserError as error:
        here = [p for p in error.problems
                if p.location is not None and p.location.file == file and p.location.line == line]
        if here:
            return here[0].message
    return edit


def _closing(text: str) -> int | None:
    """The index of the `}` closing the `${` that `text` starts with."""
    depth = 0
    for i, ch in enumerate(text):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i
    return None


__all__ = ["Span", "field_edit", "is_expression", "shown_text", "written_field"]
