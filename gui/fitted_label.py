"""A one-line label for facts joined by " · " that keeps to the width it is given."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

SEPARATOR = " · "


class FittedLabel(QLabel):
    """Shows as many of its leading facts as fit ("28 layers" of "28 layers · 30 edges"), with
    room kept for the first; the whole line is its tooltip. A narrow panel then reads
    "28 layers", never a clipped "28"."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self._full = ""
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def full_text(self) -> str:
        """Every fact, as set."""
        return self._full

    def set_facts(self, text: str) -> None:
        """Show `text` (facts joined by SEPARATOR), as much of it as fits."""
        self._full = text
        self.setToolTip(text)
        first = text.split(SEPARATOR)[0]  # room for the first fact, taken from what stretches
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance(first) + 2)
        self._fit()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        metrics, width = self.fontMetrics(), self.contentsRect().width()
        facts = self._full.split(SEPARATOR)
        while len(facts) > 1 and metrics.horizontalAdvance(SEPARATOR.join(facts)) > width:
            facts.pop()
        self.setText(metrics.elidedText(SEPARATOR.join(facts), Qt.TextElideMode.ElideRight,
                                        max(width, 0)))
