"""YAML syntax highlighting for the spec editor."""

from __future__ import annotations

import re

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    out = QTextCharFormat()
    out.setForeground(QColor(color))
    if bold:
        out.setFontWeight(QFont.Weight.Bold)
    out.setFontItalic(italic)
    return out


# Applied in order; later rules paint over earlier ones (comments win over everything).
_RULES: list[tuple[re.Pattern, int, QTextCharFormat]] = [
    (re.compile(r"(?:^|[\s{,\[])(-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)(?=\s*(?:[,}\]#]|$))"), 1,
     _fmt("#b5530c")),
    (re.compile(r"(?:^|[\s{,\[])(true|false|null|~)(?=\s*(?:[,}\]#]|$))"), 1,
     _fmt("#8a2be2", bold=True)),
    (re.compile(r"^\s*(?:-\s+)*([A-Za-z_][\w.-]*)\s*:(?=\s|$)"), 1, _fmt("#1f5fa8", bold=True)),
    (re.compile(r"[{,]\s*([A-Za-z_][\w.-]*)\s*:(?=\s)"), 1, _fmt("#1f5fa8")),
    (re.compile(r"^\s*-\s+([A-Za-z_]\w*)\s*$"), 1, _fmt("#1f5fa8")),
    (re.compile(r"\"(?:[^\"\\]|\\.)*\"|'[^']*'"), 0, _fmt("#2e7d32")),
    (re.compile(r"\$\{[^}]*\}"), 0, _fmt("#00838f", bold=True)),
    (re.compile(r"[&*][\w-]+"), 0, _fmt("#ad1457", italic=True)),
]
_COMMENT = re.compile(r"(?:^|\s)(#.*)$")
_COMMENT_FORMAT = _fmt("#7a7f87", italic=True)


class YamlHighlighter(QSyntaxHighlighter):
    """Keys, numbers, booleans, strings, `${...}` parameters, anchors and comments."""

    def __init__(self, document: QTextDocument):
        super().__init__(document)

    def highlightBlock(self, text: str) -> None:
        for pattern, group, fmt in _RULES:
            for match in pattern.finditer(text):
                self.setFormat(match.start(group), match.end(group) - match.start(group), fmt)
        comment = _find_comment(text)
        if comment is not None:
            self.setFormat(comment, len(text) - comment, _COMMENT_FORMAT)


def _find_comment(text: str) -> int | None:
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
