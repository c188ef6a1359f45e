"""YAML syntax spans of one line of a spec, for the editor's highlighting.

A line is tokenized on its own (as a highlighter sees it): numbers, constants, keys (block and
flow), bare list items (`- relu`), strings, `${...}` parameters, anchors and aliases, comments.
The one state carried from line to line is an open block scalar (`description: >`): its lines
are prose, left unpainted, so the numbers and apostrophes in it are not taken for tokens.
"""

from __future__ import annotations

import re

Span = tuple[int, int, str]  # start column, length, kind

# Applied in order; later spans paint over earlier ones (a comment wins over everything).
RULES: list[tuple[re.Pattern, int, str]] = [
    (re.compile(r"(?:^|[\s{,\[])(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)(?=\s*(?:[,}\]#]|$))"), 1,
     "number"),
    (re.compile(r"(?:^|[\s{,\[])(true|false|null|~)(?=\s*(?:[,}\]#]|$))"), 1, "constant"),
    (re.compile(r"^\s*(?:-\s+)*([A-Za-z_][\w.-]*)\s*:(?=\s|$)"), 1, "key"),
    (re.compile(r"[{,]\s*([A-Za-z_][\w.-]*)\s*:(?=\s)"), 1, "flow_key"),
    (re.compile(r"^\s*-\s+([A-Za-z_]\w*)\s*$"), 1, "item"),
    # A quoted scalar opens where a token can start, not at an apostrophe inside a word.
    (re.compile(r"(?<![^\s{\[,:])(?:\"(?:[^\"\\]|\\.)*\"|'[^']*')"), 0, "string"),
    (re.compile(r"\$\{[^}]*\}"), 0, "parameter"),
    (re.compile(r"[&*][\w-]+"), 0, "anchor"),
]
KINDS = (*(kind for _, _, kind in RULES), "comment")


def find_comment(text: str) -> int | None:
    """Start of a `#` comment outside quotes, or None."""
    quote = ""
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'" and (i == 0 or text[i - 1] in " \t{[,:"):
            quote = ch
        elif ch == "#" and (i == 0 or text[i - 1] in " \t"):
            return i
    return None


# `key: >`, `key: |-`, `- key: >2 # note`: a block scalar whose text follows, indented deeper.
_BLOCK_SCALAR = re.compile(r"^\s*(?:-\s+)*([A-Za-z_][\w.-]*)\s*:\s+[|>][-+0-9]*\s*(?:#.*)?$")
NO_BLOCK = -1


def highlight_in(text: str, state: int) -> tuple[list[Span], int]:
    """The spans of a line, given the state the line before left (the column of the key whose
    block scalar is open, or NO_BLOCK), and the state this line leaves."""
    indent = len(text) - len(text.lstrip())
    if state != NO_BLOCK and (not text.strip() or indent > state):
        return [], state  # a line of the block scalar's text
    opener = _BLOCK_SCALAR.match(text)
    return highlight(text), opener.start(1) if opener else NO_BLOCK


def highlight(text: str) -> list[Span]:
    """The spans of one line in paint order (a later span paints over an earlier one)."""
    spans = [(match.start(group), match.end(group) - match.start(group), kind)
             for pattern, group, kind in RULES for match in pattern.finditer(text)]
    comment = find_comment(text)
    if comment is not None:
        spans.append((comment, len(text) - comment, "comment"))
    return spans


__all__ = ["KINDS", "NO_BLOCK", "RULES", "Span", "find_comment", "highlight", "highlight_in"]
