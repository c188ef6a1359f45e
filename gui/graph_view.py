"""The data-flow graph of one training iteration (`ganbuilder.design.graphs.flow_nodes`),
drawn with QGraphicsView: one column per layer of the graph, read left to right.

It edits the iteration through the canvas model (`ganbuilder.design.canvas`): right-click the
background to add a network call, an objective to add a loss term, a loss term to change its
weight or the tensor a port reads; drag a tensor onto a loss term to connect it to one of the
term's tensor parameters. Each is one text edit, applied by the editor (SpecEditor.apply_edit).
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QPainter,
    QPainterPath,
    QPen,
    QPolygonF,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QInputDialog,
    QMenu,
    QWidget,
)

from ganbuilder.design.canvas import CanvasModel
from ganbuilder.design.graphs import Node, bend_key, flow_columns, flow_nodes
from ganbuilder.design.text_edits import TextEdit
from ganbuilder.losses.registry import LOSSES
from ganbuilder.spec import Spec
from gui.graph_tools import ViewControls, fit_readable, show_tip, wheel_zoom

NODE_GAP, BEND_GAP, BEND_WIDTH = 28.0, 12.0, 30.0  # spacing of a column's nodes and bends

# node kind (ganbuilder.design.graphs.KINDS) -> (fill, border)
STYLES = {
    "data": ("#e3f2fd", "#1e88e5"),
    "latent": ("#ede7f6", "#7e57c2"),
    "network": ("#fff3e0", "#fb8c00"),
    "op": ("#f5f5f5", "#9e9e9e"),
    "tensor": ("#e8f5e9", "#43a047"),
    "loss": ("#fce4ec", "#d81b60"),
    "objective": ("#eceff1", "#455a64"),
    "layer": ("#fff3e0", "#fb8c00"),
    "merge": ("#f3e5f5", "#8e24aa"),
}


class NodeItem(QGraphicsRectItem):
    """A rounded box with one or two lines of text."""

    def __init__(self, node: Node, font: QFont):
        fill, border = STYLES[node.kind]
        metrics = QFontMetrics(font)
        bold = QFont(font)
        bold.setBold(True)
        # the first line is drawn bold: measured so, it is never clipped by the box
        width = max(QFontMetrics(bold if i == 0 else font).horizontalAdvance(line)
                    for i, line in enumerate(node.lines)) + 24
        height = metrics.height() * len(node.lines) + 14
        super().__init__(0, 0, max(width, 70), height)
        self.node = node
        self.setBrush(QBrush(QColor(fill)))
        self.setPen(QPen(QColor(border), 1.6))
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(" ".join(node.lines) + "\nclick to select its lines")
        y = 7.0
        for i, line in enumerate(node.lines):
            text = QGraphicsSimpleTextItem(line, self)
            line_font = QFont(font)
            line_font.setBold(i == 0)
            if i:
                line_font.setPointSizeF(font.pointSizeF() * 0.9)
                text.setBrush(QBrush(QColor("#555555")))
            text.setFont(line_font)
            text.setPos((self.rect().width() - QFontMetrics(line_font).horizontalAdvance(line)) / 2,
                        y)
            y += metrics.height()

    def paint(self, painter: QPainter, option, widget=None) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(self.pen())
        if self.isSelected():
            pen.setWidthF(3.0)
        painter.setPen(pen)
        painter.setBrush(self.brush())
        radius = self.rect().height() / 2 if self.node.kind in ("tensor", "data", "latent") else 6
        painter.drawRoundedRect(self.rect(), radius, radius)


def _edge(start: QPointF, end: QPointF, dashed: bool,
          via: list[tuple[float, float, float]] = ()) -> QGraphicsPathItem:
    """An arrow from `start` to `end`, passing each column it crosses level, between that
    column's nodes, at its bend point (left, right, y)."""
    path = QPainterPath(start)
    here = start
    for left, right, y in [*via, (end.x(), end.x(), end.y())]:
        there = QPointF(left, y)
        dx = max((there.x() - here.x()) / 2, 30)
        path.cubicTo(here + QPointF(dx, 0), there - QPointF(dx, 0), there)
        if right > left:
            path.lineTo(right, y)
        here = QPointF(right, y)
    item = QGraphicsPathItem(path)
    pen = QPen(QColor("#78909c"), 1.4)
    if dashed:
        pen.setStyle(Qt.PenStyle.DashLine)
    item.setPen(pen)
    item.setZValue(-1)
    head = QPolygonF([end, end + QPointF(-8, -4), end + QPointF(-8, 4)])
    arrow = QGraphicsPathItem(item)
    head_path = QPainterPath()
    head_path.addPolygon(head)
    head_path.closeSubpath()
    arrow.setPath(head_path)
    arrow.setBrush(QBrush(QColor("#78909c")))
    arrow.setPen(QPen(Qt.PenStyle.NoPen))
    return item


class FlowGraphView(QGraphicsView):
    """Zoom with the wheel, pan by dragging; clicking a node asks to select its text; the
    iteration edits of the module's docstring once `set_canvas` gave it a canvas model.

    Signals:
        nodeActivated(tuple): the spec path of the clicked node.
        editRequested(object): a TextEdit to apply to the text, one undo step.
        refused(str): why an edit cannot be done as a text edit.
    """

    nodeActivated = Signal(tuple)
    editRequested = Signal(object)
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setBackgroundBrush(QBrush(QColor("#fbfbfd")))
        self.nodes: dict[str, Node] = {}
        self.items: dict[str, NodeItem] = {}
        self.scene().selectionChanged.connect(self._selected)
        self.canvas: CanvasModel | None = None
        self._link: tuple[str, QPointF] | None = None  # a tensor dragged towards a loss term
        # Legibility (gui.graph_tools): once the user zooms, redraws and resizes keep the zoom;
        # `describe(path, lines)` gives a node's hover text (its full parameters).
        self.user_zoomed = False
        self.describe = None
        self.controls = ViewControls(self)

    def set_canvas(self, canvas: CanvasModel | None) -> None:
        """The canvas model the iteration edits are planned with (None: read only)."""
        self.canvas = canvas

    def show_spec(self, spec: Spec) -> None:
        nodes = flow_nodes(spec)
        if [(n.key, n.lines, n.inputs) for n in nodes.values()] == [
            (n.key, n.lines, n.inputs) for n in self.nodes.values()
        ]:
            return
        self.nodes = nodes
        scene = self.scene()
        scene.clear()
        self.items = {}
        font = QFont(self.font())
        bends: dict[str, tuple[float, float, float]] = {}  # bend key -> (left, right, y)
        x = 0.0
        for entries in flow_columns(nodes).values():
            made = {key: NodeItem(nodes[key], font) for key in entries if key in nodes}
            heights = [made[key].rect().height() if key in made else 0.0 for key in entries]
            gaps = [NODE_GAP if a in made and b in made else BEND_GAP
                    for a, b in itertools.pairwise(entries)]
            y = -(sum(heights) + sum(gaps)) / 2
            width = max((item.rect().width() for item in made.values()), default=BEND_WIDTH)
            for key, height, gap in zip(entries, heights, [*gaps, 0.0], strict=True):
                item = made.get(key)
                if item is None:
                    bends[key] = (x, x + width, y)
                else:
                    item.setPos(x + (width - item.rect().width()) / 2, y)
                    scene.addItem(item)
                    self.items[key] = item
                y += height + gap
            x += width + 70
        for key, node in nodes.items():
            target = self.items[key]
            for source_key in node.inputs:
                source = self.items[source_key]
                start = source.mapToScene(QPointF(source.rect().right(),
                                                  source.rect().center().y()))
                end = target.mapToScene(QPointF(0, target.rect().center().y()))
                via = [bends[bend_key(source_key, key, column)]
                       for column in range(source.node.column + 1, node.column)]
                scene.addItem(_edge(start, end, source_key.startswith("n:"), via))
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-30, -30, 30, 30))
        self.fit()

    def clear(self) -> None:
        """Show no graph (another file was opened and has not been checked yet)."""
        self.nodes, self.items = {}, {}
        self.scene().clear()
        self.scene().setSceneRect(QRectF())

    def fit(self) -> None:
        """Fit the graph after a redraw or resize, unless the user zoomed (then the zoom stays)."""
        if not self.user_zoomed:
            fit_readable(self)

    def fit_all(self) -> None:
        """The Fit button: the whole graph, as far as its text stays readable."""
        self.user_zoomed = False
        fit_readable(self)

    def labels(self) -> list[str]:
        """The first line of every node (network, tensor, loss and objective names)."""
        return [node.lines[0] for node in self.nodes.values()]

    def wheelEvent(self, event: QWheelEvent) -> None:
        self.user_zoomed = True
        wheel_zoom(self, event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()

    def viewportEvent(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip and show_tip(self, event):
            return True
        return super().viewportEvent(event)

    def _selected(self) -> None:
        items = self.scene().selectedItems()
        if items and isinstance(items[0], NodeItem):
            self.nodeActivated.emit(items[0].node.path)

    # -- iteration edits -------------------------------------------------------------------
    def _emit(self, edit: TextEdit | str) -> None:
        if isinstance(edit, str):
            self.refused.emit(edit)
        else:
            self.editRequested.emit(edit)

    def _node_item(self, pos) -> NodeItem | None:
        item = self.itemAt(pos)
        while item is not None and not isinstance(item, NodeItem):
            item = item.parentItem()
        return item

    def menu_for(self, node: Node | None) -> QMenu:
        """The edit menu of a node (None: the background)."""
        menu = QMenu(self)
        canvas = self.canvas
        if node is None or node.kind in ("network", "tensor", "latent", "data"):
            menu.addAction("Add network call…", self._ask_call)
        if node is not None and node.kind == "objective":
            terms = menu.addMenu("Add loss term")
            objective = node.path[1]
            for kind in LOSSES.names():
                terms.addAction(kind, lambda k=kind: self._emit(
                    canvas.add_loss_term(objective, k)))
        if node is not None and node.kind == "loss":
            menu.addAction("Set weight…", lambda: self._ask_weight(node.path))
            term = next((t for t in canvas.spec.analysis.terms if t.path == node.path), None)
            tensors = [n for n in canvas.spec.analysis.tensor_shapes]
            for param in (term.definition.tensors if term else ()):
                sub = menu.addMenu(f"Connect {param}")
                for name in tensors:
                    sub.addAction(name, lambda p=param, n=name: self._emit(
                        canvas.set_term_param(node.path, p, n)))
        return menu

    def contextMenuEvent(self, event) -> None:
        if self.canvas is None or type(self) is not FlowGraphView:
            super().contextMenuEvent(event)
            return
        item = self._node_item(event.pos())
        self.menu_for(item.node if item else None).exec(event.globalPos())

    def _ask_call(self) -> None:
        text, ok = QInputDialog.getText(self, "Add network call",
                                        "New tensor (name: call), e.g. fake: G(z)")
        if ok and ":" in text:
            name, expression = (part.strip() for part in text.split(":", 1))
            self._emit(self.canvas.add_call(name, expression))

    def _ask_weight(self, path: tuple) -> None:
        term = next((t for t in self.canvas.spec.analysis.terms if t.path == path), None)
        weight, ok = QInputDialog.getDouble(self, "Loss weight", "weight",
                                            term.weight if term else 1.0, 0.0, 1e6, 4)
        if ok:
            self._emit(self.canvas.set_weight(path, weight))

    def connect_tensor(self, tensor: str, term_path: tuple) -> None:
        """Connect a tensor to a loss term: the first of the term's tensor parameters not
        holding it, through a menu when there are several."""
        term = next((t for t in self.canvas.spec.analysis.terms if t.path == term_path), None)
        if term is None:
            return
        params = [p for p in term.definition.tensors if term.params.get(p) != tensor]
        if not params:
            return
        if len(params) == 1:
            self._emit(self.canvas.set_term_param(term_path, params[0], tensor))
            return
        menu = QMenu(self)
        for param in params:
            menu.addAction(f"{tensor} → {param}", lambda p=param: self._emit(
                self.canvas.set_term_param(term_path, p, tensor)))
        menu.exec(self.cursor().pos())

    def mousePressEvent(self, event) -> None:
        self._link = None
        if self.canvas is not None and type(self) is FlowGraphView:
            item = self._node_item(event.position().toPoint())
            if item is not None and item.node.kind in ("tensor", "data", "latent"):
                self._link = (item.node.lines[0], self.mapToScene(event.position().toPoint()))
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        link, self._link = self._link, None
        super().mouseReleaseEvent(event)
        if link is None:
            return
        at = self.mapToScene(event.position().toPoint())
        if (at - link[1]).manhattanLength() < QApplication.startDragDistance():
            return
        item = self._node_item(event.position().toPoint())
        if item is not None and item.node.kind == "loss":
            self.connect_tensor(link[0], item.node.path)
