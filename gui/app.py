"""`ganbuilder gui [SPEC]`: start the designer."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication


def main(argv: list[str]) -> int:
    """Open the designer window (with SPEC if given) and run until it closes."""
    app = QApplication.instance() or QApplication([sys.argv[0], *argv])
    app.setOrganizationName("ganbuilder")
    app.setApplicationName("ganbuilder")
    app.setStyle("Fusion")
    # Python's cyclic GC may run in any thread that allocates (the validator, the trainer);
    # freeing a Qt object there deadlocks against the GUI thread. Collect on a GUI-thread timer
    # instead, as pyqtgraph advises.
    from pyqtgraph.util.garbage_collector import GarbageCollector

    collector = GarbageCollector(interval=1.0)

    from ganbuilder.design.templates import SPECS_DIR
    from gui.main_window import MainWindow

    window = MainWindow()
    if argv:
        path = Path(argv[0])
        if not path.is_file():
            print(f"error: {path}: no such file", file=sys.stderr)
            return 2
        window.open_file(path, ask=False)
    elif not window.restore_last_file():
        default = SPECS_DIR / "dcgan.yaml"
        if default.is_file():
            window.new_from_template(default)
    window.show()
    try:
        return app.exec()
    finally:
        collector.timer.stop()
