"""The data-flow graph of one training iteration (`ganbuilder.design.graphs.flow_nodes`),
drawn with QGraphicsView: one column per layer of the graph, read left to right."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
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
    QGraphicsItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QWidget,
)

from ganbuilder.design.graphs import Node, flow_nodes
from ganbuilder.spec import Spec

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
        width = max(metrics.horizontalAdvance(line) for line in node.lines) + 24
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


def _edge(start: QPointF, end: QPointF, dashed: bool) -> QGraphicsPathItem:
    path = QPainterPath(start)
    dx = max((end.x() - start.x()) / 2, 30)
    path.cubicTo(start + QPointF(dx, 0), end - QPointF(dx, 0), end)
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
    """Zoom with the wheel, pan by dragging; clicking a node asks to select its text.

    Signals:
        nodeActivated(tuple): the spec path of the clicked node.
    """

    nodeActivated = Signal(tuple)

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
        columns: dict[int, list[Node]] = {}
        for node in nodes.values():
            columns.setdefault(node.column, []).append(node)
        x = 0.0
        for col in sorted(columns):
            made = [NodeItem(node, font) for node in columns[col]]
            total = sum(item.rect().height() for item in made) + 28 * (len(made) - 1)
            y = -total / 2
            width = max(item.rect().width() for item in made)
            for item in made:
                item.setPos(x + (width - item.rect().width()) / 2, y)
                y += item.rect().height() + 28
                scene.addItem(item)
                self.items[item.node.key] = item
            x += width + 70
        for key, node in nodes.items():
            target = self.items[key]
            for source_key in node.inputs:
                source = self.items[source_key]
                start = source.mapToScene(QPointF(source.rect().right(),
                                                  source.rect().center().y()))
                end = target.mapToScene(QPointF(0, target.rect().center().y()))
                scene.addItem(_edge(start, end, source_key.startswith("n:")))
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-30, -30, 30, 30))
        self.fit()

    def clear(self) -> None:
        """Show no graph (another file was opened and has not been checked yet)."""
        self.nodes, self.items = {}, {}
        self.scene().clear()
        self.scene().setSceneRect(QRectF())

    def fit(self) -> None:
        """Show the whole graph, enlarged by at most 30%."""
        rect: QRectF = self.scene().sceneRect()
        if rect.isEmpty():
            return
        self.resetTransform()
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        if self.transform().m11() > 1.3:
            self.resetTransform()
            self.scale(1.3, 1.3)

    def labels(self) -> list[str]:
        """The first line of every node (network, tensor, loss and objective names)."""
        return [node.lines[0] for node in self.nodes.values()]

    def wheelEvent(self, event: QWheelEvent) -> None:
        factor = 1.15 if event.angleDelta().y() > 0 else 1 / 1.15
        self.scale(factor, factor)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self.fit()

    def _selected(self) -> None:
        items = self.scene().selectedItems()
        if items and isinstance(items[0], NodeItem):
            self.nodeActivated.emit(items[0].node.path)
