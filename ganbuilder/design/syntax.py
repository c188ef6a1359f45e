"""YAML syntax spans of one line of a spec, for the editor's highlighting.

A line is tokenized on its own (as a highlighter sees it): numbers, constants, keys (block and
flow), bare list items (`- relu`), strings, `${...}` parameters, anchors and aliases, comments.
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
    (re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"), 0, "string"),
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


def highlight(text: str) -> list[Span]:
    """The spans of one line in paint order (a later span paints over an earlier one)."""
    spans = [(match.start(group), match.end(group) - match.start(group), kind)
             for pattern, group, kind in RULES for match in pattern.finditer(text)]
    comment = find_comment(text)
    if comment is not None:
        spans.append((comment, len(text) - comment, "comment"))
    return spans


__all__ = ["KINDS", "RULES", "Span", "find_comment", "highlight"]
