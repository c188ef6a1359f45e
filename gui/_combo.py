"""Refilling a combo box without losing the user's choice."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtWidgets import QComboBox


def replace_items(combo: QComboBox, texts: Sequence[str], data: Sequence | None = None) -> None:
    """Replace the entries (with their item data, if given), keeping the current one when it
    is still there; emits no change signals, so the caller redraws once."""
    current = combo.currentText()
    combo.blockSignals(True)
    combo.clear()
    for i, text in enumerate(texts):
        combo.addItem(text, None if data is None else data[i])
    if current in texts:
        combo.setCurrentText(current)
    combo.blockSignals(False)
