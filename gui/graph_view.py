"""The data-flow graph of one training iteration, drawn with QGraphicsView.

inputs (data, latent) -> network calls -> named tensors -> loss terms -> objectives. Each
network call is its own node (a network called twice, as in CycleGAN, appears twice), so the
graph has no cycles and a layered layout reads left to right.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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

from ganbuilder.layers.registry import format_shape
from ganbuilder.spec import Spec
from ganbuilder.spec.expr import Call

# kind -> (fill, border)
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


@dataclass
class Node:
    """One box: its key, label lines, kind (STYLES) and the spec path its text is at."""

    key: str
    lines: list[str]
    kind: str
    path: tuple
    column: int = 0
    inputs: list[str] = field(default_factory=list)


def flow_nodes(spec: Spec) -> dict[str, Node]:
    """The nodes of a spec's iteration, with their inputs, in insertion order."""
    a = spec.analysis
    nodes: dict[str, Node] = {}

    def tensor(name: str) -> str:
        key = f"t:{name}"
        if key not in nodes:
            source = a.sources.get(name, "forward")
            kind = {"data": "data", "latent": "latent"}.get(source, "tensor")
            path = ("latent", name) if source == "latent" else (
                ("data",) if source == "data" else ("forward", name))
            shape = a.tensor_shapes.get(name)
            lines = [name] + ([format_shape(shape)] if shape is not None else [])
            nodes[key] = Node(key, lines, kind, path)
        return key

    def expr(e: Call | str, owner: str, counter: list[int]) -> str:
        if isinstance(e, str):
            return tensor(e)
        counter[0] += 1
        key = f"c:{owner}:{counter[0]}"
        args = [expr(arg, owner, counter) for arg in e.args]
        is_net = e.fn in spec.tree["networks"]
        path = ("networks", e.fn) if is_net else ("forward", owner)
        nodes[key] = Node(key, [e.fn], "network" if is_net else "op", path, inputs=args)
        return key

    for name in a.order:
        call = expr(a.forward[name], name, [0])
        key = tensor(name)
        nodes[key].inputs.append(call)

    from ganbuilder.losses import LOSSES

    critics: dict[str, str] = {}
    for oname, objective in spec.tree["objectives"].items():
        okey = f"o:{oname}"
        term_keys = []
        for i, term in enumerate(objective["loss"]):
            kind, params = next(iter(term.items()))
            ldef = LOSSES.get(kind)
            tkey = f"l:{oname}:{i}"
            weight = params.get("weight")
            label = [kind] + ([f"× {weight:g}"] if weight not in (None, 1, 1.0) else [])
            inputs = []
            for pkey in ldef.tensors:
                value = params.get(pkey)
                for name in [value] if isinstance(value, str) else (value or []):
                    inputs.append(tensor(name))
            for nkey in ldef.networks:
                net = params.get(nkey)
                if net:
                    if net not in critics:
                        critics[net] = f"n:{net}"
                        nodes[critics[net]] = Node(critics[net], [net, "critic"], "network",
                                                   ("networks", net))
                    inputs.append(critics[net])
            nodes[tkey] = Node(tkey, label, "loss", ("objectives", oname, "loss", i),
                               inputs=list(dict.fromkeys(inputs)))
            term_keys.append(tkey)
        updates = ", ".join(objective["updates"])
        nodes[okey] = Node(okey, [f"objective {oname}", f"updates {updates}"], "objective",
                           ("objectives", oname), inputs=term_keys)
    _assign_columns(nodes)
    return nodes


def _assign_columns(nodes: dict[str, Node]) -> None:
    """Longest path from a source; critics sit in the column just before their loss terms."""
    done: dict[str, int] = {}

    def column(key: str) -> int:
        if key not in done:
            done[key] = 0
            node = nodes[key]
            feeds = [column(k) + 1 for k in node.inputs if not k.startswith("n:")]
            done[key] = max(feeds, default=0)
        return done[key]

    for key in nodes:
        nodes[key].column = column(key)
    for key, node in nodes.items():
        if key.startswith("n:"):
            users = [n.column for n in nodes.values() if key in n.inputs]
            node.column = max(min(users, default=1) - 1, 0)


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
