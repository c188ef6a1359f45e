"""ganbuilder's desktop app: a spec designer built on the same loader and compiler as the CLI."""

from gui.main_window import MainWindow

__all__ = ["MainWindow"]
