"""ganbuilder.design is the app's model without a screen: no Qt, and (but for the latent
explorer, which draws images) no torch, so the app's logic is tested without either."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

CHECK = """
import sys
import ganbuilder.design
heavy = sorted(m for m in ('torch', 'PySide6', 'pyqtgraph', 'gui') if m in sys.modules)
assert not heavy, heavy
import ganbuilder.design.latent_explorer
qt = sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'gui'))
assert not qt, qt
"""


def test_the_design_package_imports_neither_qt_nor_torch():
    result = subprocess.run([sys.executable, "-c", CHECK], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr
