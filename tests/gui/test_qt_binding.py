"""The Qt binding must not leak references to None: PySide6 6.12.0 did, and the app aborted
("none_dealloc") after some ten thousand widget calls, within minutes of editing a big spec."""

import sys

from PySide6.QtWidgets import QLabel


def test_widget_calls_do_not_leak_none(qtbot):
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(2000):
        label.setText("x")
    assert sys.getrefcount(None) - before < 100
