"""One-click fixes for problems whose message names the fix ("did you mean 'kernel'?")."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ganbuilder.design.text_edits import TextEdit
from ganbuilder.errors import Problem

# The registries and the schema check word their suggestions this way (ganbuilder.registry).
_MEANT = re.compile(r"'([^']+)'.*?\(did you mean '([^']+)'\?\)")


@dataclass(frozen=True)
class Fix:
    """A text edit that resolves a problem, and the words for the button that applies it."""

    label: str
    edit: TextEdit


def suggested_fix(problem: Problem, lines: list[str], file: str) -> Fix | None:
    """The fix a did-you-mean problem suggests: its wrong word, on the problem's line, replaced
    by the suggestion; None when the problem suggests nothing or the word is not on that line
    (written in another file, or already changed)."""
    match = _MEANT.search(problem.message)
    loc = problem.location
    if match is None or loc is None or loc.file != file or not 1 <= loc.line <= len(lines):
        return None
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


__all__ = ["Fix", "suggested_fix"]
