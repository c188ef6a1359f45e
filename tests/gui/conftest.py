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


@pytest.fixture(scope="package", autouse=True)
def gc_on_the_gui_thread(qapp):
    """As the app does (gui/app.py): cyclic garbage is collected on the GUI thread only. A
    collection that a validator thread triggers while freeing an earlier test's widgets
    deadlocks against the GUI thread's signal connections."""
    import gc

    from pyqtgraph.util.garbage_collector import GarbageCollector

    collector = GarbageCollector(interval=0.5)
    yield
    collector.timer.stop()
    gc.enable()
    gc.collect()


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
    import gc

    gc.collect()  # this test's widgets go here, on the GUI thread, not in a later test's thread


@pytest.fixture
def dcgan(tmp_path) -> Path:
    """A copy of specs/dcgan.yaml in a temporary folder."""
    return Path(shutil.copy(SPECS / "dcgan.yaml", tmp_path / "dcgan.yaml"))


def settled(qtbot, win: MainWindow, timeout: int = 30000) -> None:
    """Wait until the newest text was checked (and, if valid, summarized)."""
    qtbot.waitUntil(win.validator.is_idle, timeout=timeout)
