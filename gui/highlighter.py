"""YAML syntax highlighting for the spec editor: the spans of `ganbuilder.design.syntax`, each
kind in its own colour."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QSyntaxHighlighter, QTextCharFormat, QTextDocument

from ganbuilder.design.syntax import NO_BLOCK, highlight_in


def _fmt(color: str, bold: bool = False, italic: bool = False) -> QTextCharFormat:
    out = QTextCharFormat()
    out.setForeground(QColor(color))
    if bold:
        out.setFontWeight(QFont.Weight.Bold)
    out.setFontItalic(italic)
    return out


FORMATS = {
    "number": _fmt("#b5530c"),
    "constant": _fmt("#8a2be2", bold=True),
    "key": _fmt("#1f5fa8", bold=True),
    "flow_key": _fmt("#1f5fa8"),
    "item": _fmt("#1f5fa8"),
    "string": _fmt("#2e7d32"),
    "parameter": _fmt("#00838f", bold=True),
    "anchor": _fmt("#ad1457", italic=True),
    "comment": _fmt("#7a7f87", italic=True),
}


class YamlHighlighter(QSyntaxHighlighter):
    """Keys, numbers, booleans, strings, `${...}` parameters, anchors and comments."""

    def __init__(self, document: QTextDocument):
        super().__init__(document)

    def highlightBlock(self, text: str) -> None:
        state = self.previousBlockState()  # -1 (Qt's "none") is NO_BLOCK
        spans, state = highlight_in(text, NO_BLOCK if state < 0 else state)
        for start, length, kind in spans:
            self.setFormat(start, length, FORMATS[kind])
        self.setCurrentBlockState(state)
