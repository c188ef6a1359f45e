"""Boundaries the design relies on: the core never imports Qt or the gui package."""

import subprocess
import sys

from .conftest import ROOT

WALK = """
import importlib, pkgutil, sys
import ganbuilder
for info in pkgutil.walk_packages(ganbuilder.__path__, "ganbuilder."):
    if not info.name.endswith("__main__"):
        importlib.import_module(info.name)
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "pyqtgraph", "gui"))
assert not bad, bad
"""


def test_core_never_imports_qt_or_gui():
    result = subprocess.run([sys.executable, "-c", WALK], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
