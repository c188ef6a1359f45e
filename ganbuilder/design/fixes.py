"""One-click fixes for problems whose message names the fix: a did-you-mean ("did you mean
'kernel'?"), and a network's output that should give the data's shape ("this layer of G should
give (1, 32, 32)"): the layer's `out` set to the data's channels."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ganbuilder.design.text_edits import TextEdit
from ganbuilder.errors import Problem

# The registries and the schema check word their suggestions this way (ganbuilder.registry).
_MEANT = re.compile(r"'([^']+)'.*?\(did you mean '([^']+)'\?\)")
# The semantic check words a producer whose output is not the data's shape this way
# (ganbuilder.spec.semantic, _Checker._mismatch).
_SHOULD_GIVE = re.compile(r"output is \(([\d, ]+)\), .*from the data .*should give "
                          r"\(([\d, ]+)\)$")
_OUT = re.compile(r"\bout:\s*(\"[^\"]*\"|'[^']*'|[^,}\s#]+)")
_CHANNELS = re.compile(r"^\s+channels:\s*(\"[^\"]*\"|'[^']*'|[^\s#]+)")


@dataclass(frozen=True)
class Fix:
    """A text edit that resolves a problem, and the words for the button that applies it."""

    label: str
    edit: TextEdit


def suggested_fix(problem: Problem, lines: list[str], file: str) -> Fix | None:
    """The fix a problem suggests (a did-you-mean, or a layer that should give the data's
    shape), as an edit of the problem's line; None when the problem suggests nothing or its
    words are not on that line (written in another file, or already changed)."""
    loc = problem.location
    if loc is None or loc.file != file or not 1 <= loc.line <= len(lines):
        return None
    match = _MEANT.search(problem.message)
    if match is None:
        return _output_fix(problem, lines)
    wrong, right = match.groups()
    text = lines[loc.line - 1]
    word = re.compile(rf"(?<![\w-]){re.escape(wrong)}(?![\w-])")
    # The word at the reported column if it is there, else its only occurrence on the line.
    at = word.match(text, loc.col - 1) if loc.col >= 1 else None
    if at is None:
        found = list(word.finditer(text))
        if len(found) != 1:
            return None
        at = found[0]
    return Fix(f"Change '{wrong}' to '{right}'",
               TextEdit.columns(lines, [(loc.line, at.start(), at.end(), right)], "fix"))


def _output_fix(problem: Problem, lines: list[str]) -> Fix | None:
    """A layer whose output should have the data's channels: its `out` set to the data's
    `channels` as written there (`${nc}`), or to the number. Only a difference in channels
    is fixed so; a spatial one has no single parameter to change."""
    match = _SHOULD_GIVE.search(problem.message)
    if match is None:
        return None
    got, want = (tuple(int(x) for x in m.split(",")) for m in match.groups())
    if len(got) != len(want) or got[0] == want[0] or got[1:] != want[1:]:
        return None
    line = problem.location.line
    out = _OUT.search(lines[line - 1], max(problem.location.col - 1, 0))
    if out is None:
        return None
    value = _data_channels(lines)
    if value is None or "${" not in value:
        value = str(want[0])
    elif value[0] not in "\"'":  # a flow mapping needs `${...}` quoted
        value = f'"{value}"'
    # short: the button shares the row with the message, which says why
    return Fix(f"Set out to {value}",
               TextEdit.columns(lines, [(line, out.start(1), out.end(1), value)], "fix"))


def _data_channels(lines: list[str]) -> str | None:
    """The value of `data.channels` as written in the top-level `data:` section, if any."""
    inside = False
    for text in lines:
        if text and not text[0].isspace() and not text.startswith("#"):
            inside = text.split("#", 1)[0].rstrip() == "data:"
        elif inside and (match := _CHANNELS.match(text)):
            return match.group(1)
    return None


__all__ = ["Fix", "suggested_fix"]
