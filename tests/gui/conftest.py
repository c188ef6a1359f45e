import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from PySide6.QtCore import QSettings

from gui.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"


@pytest.fixture
def window(qtbot, tmp_path):
    """A designer window with private settings and a short validation delay."""
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    win = MainWindow(settings=settings, delay_ms=20)
    win.show()
    yield win
    # Not qtbot.addWidget: its teardown closes the window before this runs, and an edited
    # spec would then ask about unsaved changes in a modal dialog.
    win.editor.document().setModified(False)
    win.close()
    win.deleteLater()


@pytest.fixture
def dcgan(tmp_path) -> Path:
    """A copy of specs/dcgan.yaml in a temporary folder."""
    return Path(shutil.copy(SPECS / "dcgan.yaml", tmp_path / "dcgan.yaml"))


def settled(qtbot, win: MainWindow, timeout: int = 30000) -> None:
    """Wait until the newest text was checked (and, if valid, summarized)."""
    qtbot.waitUntil(win.validator.is_idle, timeout=timeout)
