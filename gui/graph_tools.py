"""Keeping a graph view legible: zoom that the user owns, a fit that never shrinks text below
80 % of the system font, a Fit button and a node search over the view, and hover text.

The data-flow and layer views (`gui.graph_view`, `gui.layer_graph`) call these from their
wheel, resize, fit and tool-tip handlers, so both behave alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, QRectF, Qt
from PySide6.QtGui import QHelpEvent, QWheelEvent
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QToolTip,
    QWidget,
)

from ganbuilder.design.graph_search import match_nodes

if TYPE_CHECKING:
    from gui.graph_view import FlowGraphView

MIN_TEXT = 0.8  # smallest text on screen, as a share of the system font
MAX_FIT = 1.3  # a small graph is enlarged at most this much by a fit
MAX_ZOOM = 4.0
WHEEL_STEP = 1.15


def min_scale(view: QGraphicsView) -> float:
    """The smallest view scale at which every text of the scene is at least MIN_TEXT of the
    system font."""
    system = QApplication.font().pointSizeF()
    sizes = [item.font().pointSizeF() for item in view.scene().items()
             if isinstance(item, QGraphicsSimpleTextItem) and item.isVisible()]
    smallest = min((s for s in sizes if s > 0), default=system)
    return MIN_TEXT * system / smallest


def fit_readable(view: QGraphicsView) -> None:
    """Show the whole scene if its text stays readable, else the start of it (the top of a
    tall graph, the left of a wide one) at the smallest readable scale."""
    rect: QRectF = view.scene().sceneRect()
    if rect.isEmpty():
        return
    view.resetTransform()
    view.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
    scale = view.transform().m11()
    low = min_scale(view)
    if low <= scale <= MAX_FIT:
        return
    scale = min(max(scale, low), MAX_FIT)
    view.resetTransform()
    view.scale(scale, scale)
    if scale == low:
        half_w = view.viewport().width() / scale / 2
        half_h = view.viewport().height() / scale / 2
        if rect.height() >= rect.width():
            view.centerOn(rect.center().x(), rect.top() + half_h)
        else:
            view.centerOn(rect.left() + half_w, rect.center().y())


def wheel_zoom(view: QGraphicsView, event: QWheelEvent) -> None:
    """Zoom by the wheel under the mouse, between the readable minimum and MAX_ZOOM."""
    factor = WHEEL_STEP if event.angleDelta().y() > 0 else 1 / WHEEL_STEP
    now = view.transform().m11()
    target = min(max(now * factor, min_scale(view)), MAX_ZOOM)
    if abs(target - now) > 1e-9:
        view.scale(target / now, target / now)


def show_tip(view: FlowGraphView, event: QHelpEvent) -> bool:
    """The hover text of the node under the mouse (its full parameters); False if none."""
    item = view.itemAt(event.pos())
    while item is not None and not hasattr(item, "node"):
        item = item.parentItem()
    if item is None:
        return False
    node = item.node
    describe = getattr(view, "describe", None)
    text = describe(node.path, node.lines) if describe else "\n".join(node.lines)
    own = item.toolTip()
    if own and not own.endswith("click to select its lines"):  # a problem the node carries
        text += "\n" + own
    QToolTip.showText(event.globalPos(), text + "\n\nclick to select its lines", view)
    return True


class ViewControls(QWidget):
    """A search field and a Fit button floating at the top right of a graph view."""

    def __init__(self, view: FlowGraphView):
        super().__init__(view)
        self.view = view
        self.search = QLineEdit()
        self.search.setPlaceholderText("Find node…")
        self.search.setClearButtonEnabled(True)
        self.search.setToolTip("A node by name; Enter shows the next match")
        self.search.setFixedWidth(150)
        self.search.textChanged.connect(lambda _: self.find(step=0))
        self.search.returnPressed.connect(lambda: self.find(step=1))
        self.fit_button = QToolButton()
        self.fit_button.setText("Fit")
        self.fit_button.setToolTip("Show the whole graph (as far as its text stays readable)")
        self.fit_button.clicked.connect(view.fit_all)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.search)
        layout.addWidget(self.fit_button)
        self._matches: list[str] = []
        self._at = 0
        # Ctrl+F is Edit > Find alone (a second shortcut here made Qt drop both as
        # ambiguous); Find sends it here when a graph view has the focus.
        view.installEventFilter(self)
        self.adjustSize()
        # A strip of their own above the drawing: the field never covers a node.
        view.setViewportMargins(0, self.height() + 6, 0, 0)
        self._place()

    def _place(self) -> None:
        if not self.floating:
            return
        self.adjustSize()
        self.move(max(self.view.width() - self.width() - 22, 4), 3)
        self.raise_()

    floating = True  # over the view, in a strip of its own; False once in a tool bar

    def embed(self, layout: QHBoxLayout) -> None:
        """Sit in `layout` (a panel's own bar) instead of over the view: the view keeps its
        whole height for the drawing."""
        self.floating = False
        self.view.setViewportMargins(0, 0, 0, 0)
        # the bar must never widen the dock (and with it the window): the field gives way
        self.search.setMinimumWidth(60)
        self.search.setMaximumWidth(150)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        layout.addWidget(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.view and event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            self._place()
        return False

    def find(self, step: int = 0) -> str | None:
        """Select and show the node matching the search text (`step` 1: the next match);
        the key of the node found, or None."""
        labels = {key: node.lines[0] for key, node in self.view.nodes.items()}
        matches = match_nodes(labels, self.search.text())
        if matches != self._matches:
            self._matches, self._at = matches, 0
        elif matches:
            self._at = (self._at + step) % len(matches)
        self.search.setStyleSheet("" if matches or not self.search.text()
                                  else "background: #fde8e8;")
        if not matches:
            return None
        key = matches[self._at]
        item = self.view.items.get(key)
        if item is not None:
            self.view.scene().clearSelection()
            item.setSelected(True)
            if self.view.transform().m11() < 1.0:
                self.view.user_zoomed = True
                self.view.resetTransform()
            self.view.centerOn(item)
        return key


__all__ = ["MAX_FIT", "MAX_ZOOM", "MIN_TEXT", "ViewControls", "fit_readable", "min_scale",
           "show_tip", "wheel_zoom"]
