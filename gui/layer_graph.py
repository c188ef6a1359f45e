"""One network's layer graph (`ganbuilder.design.graphs.layer_graph`): a node per top-level
layer (kind and output shape), an edge per source, so skip connections show as extra edges.

The layout is vertical: the inputs on top, then the layers in order, one row each. An edge from
the row just above is a short straight arrow; a skip edge arcs around the right-hand side, the
longer the skip the wider the arc, so nested skips (U-Net) do not cross.
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsPathItem,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.design.graphs import layer_graph, skip_edges
from ganbuilder.spec import Spec
from ganbuilder.spec.shapes import NetworkPlan
from gui._combo import replace_items
from gui.graph_view import FlowGraphView, NodeItem

ROW_GAP = 22.0


def _arrow_head(parent: QGraphicsPathItem, tip: QPointF, dx: float, dy: float) -> None:
    head = QPainterPath()
    back = QPointF(-dx * 8, -dy * 8)
    side = QPointF(-dy * 4, dx * 4)
    head.addPolygon(QPolygonF([tip, tip + back + side, tip + back - side]))
    head.closeSubpath()
    arrow = QGraphicsPathItem(head, parent)
    arrow.setBrush(QBrush(parent.pen().color()))
    arrow.setPen(QPen(Qt.PenStyle.NoPen))


class LayerGraphView(FlowGraphView):
    """Zoom with the wheel, pan by dragging; clicking a node asks to select its lines.

    Signals (from FlowGraphView):
        nodeActivated(tuple): the spec path of the clicked layer.
    """

    nodeActivated = Signal(tuple)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.edges: list[tuple[str, str]] = []
        self.network = ""
        self._quiet = False

    def show_network(self, plan: NetworkPlan | None) -> None:
        nodes, edges = layer_graph(plan) if plan else ({}, [])
        signature = [(n.key, n.lines, n.inputs) for n in nodes.values()]
        if plan and plan.name == self.network and signature == [
                (n.key, n.lines, n.inputs) for n in self.nodes.values()]:
            return
        self.network = plan.name if plan else ""
        self.nodes, self.edges = nodes, edges
        scene = self.scene()
        scene.clear()
        self.items = {}
        font = QFont(self.font())
        made = [NodeItem(node, font) for node in nodes.values()]
        width = max((item.rect().width() for item in made), default=0)
        inputs = [item for item in made if item.node.column == 0]
        x = -sum(item.rect().width() + 20 for item in inputs) / 2 + 10
        y = 0.0
        for item in inputs:
            item.setPos(x, y)
            x += item.rect().width() + 20
        y += max((item.rect().height() for item in inputs), default=0) + ROW_GAP
        for item in made:
            if item.node.column:
                item.setPos(-item.rect().width() / 2, y)
                y += item.rect().height() + ROW_GAP
        for item in made:
            scene.addItem(item)
            self.items[item.node.key] = item
        right = width / 2
        pen = QPen(QColor("#78909c"), 1.4)
        skip_pen = QPen(QColor("#8e24aa"), 1.6)
        for source_key, target_key in edges:
            source, target = self.items.get(source_key), self.items.get(target_key)
            if source is None or target is None:
                continue
            span = target.node.column - source.node.column
            path = QPainterPath()
            if span <= 1:
                start = source.mapToScene(QPointF(source.rect().center().x(),
                                                  source.rect().bottom()))
                end = target.mapToScene(QPointF(target.rect().center().x(), 0))
                path.moveTo(start)
                path.cubicTo(start + QPointF(0, ROW_GAP / 2), end - QPointF(0, ROW_GAP / 2), end)
                item = QGraphicsPathItem(path)
                item.setPen(pen)
                _arrow_head(item, end, 0, 1)
            else:
                start = source.mapToScene(QPointF(source.rect().right(),
                                                  source.rect().center().y()))
                end = target.mapToScene(QPointF(target.rect().right(),
                                                target.rect().center().y()))
                bulge = right + 24 + 9 * span ** 0.8
                path.moveTo(start)
                path.cubicTo(QPointF(bulge, start.y()), QPointF(bulge, end.y()), end)
                item = QGraphicsPathItem(path)
                item.setPen(skip_pen)
                item.setToolTip(f"skip: {source.node.lines[0].strip()} → "
                                f"{target.node.lines[0].strip()}")
                _arrow_head(item, end, -1, 0)
            item.setZValue(-1)
            scene.addItem(item)
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-30, -30, 30, 30))
        self.fit()

    def skip_edges(self) -> list[tuple[str, str]]:
        """Edges that do not come from the row just above."""
        return skip_edges(self.nodes, self.edges)

    def fit(self) -> None:
        """The whole graph if it stays readable (scale >= 0.45), else its top at that scale."""
        rect: QRectF = self.scene().sceneRect()
        if rect.isEmpty():
            return
        self.resetTransform()
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        scale = self.transform().m11()
        if scale > 1.3 or scale < 0.45:
            self.resetTransform()
            scale = min(max(scale, 0.45), 1.3)
            self.scale(scale, scale)
            self.centerOn(rect.center().x(), rect.top())

    def select_path(self, path: tuple | None) -> None:
        """Select (and show) the node of a layer path without emitting nodeActivated."""
        self._quiet = True
        self.scene().clearSelection()
        for item in self.items.values():
            if path is not None and item.node.path == tuple(path) and item.node.column:
                item.setSelected(True)
                self.ensureVisible(item)
                break
        self._quiet = False

    def _selected(self) -> None:
        if not self._quiet:
            super()._selected()


class LayerGraphPanel(QWidget):
    """A network chooser and that network's layer graph.

    Signals:
        nodeActivated(tuple): the spec path of the clicked layer.
    """

    nodeActivated = Signal(tuple)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 4, 6, 4)
        bar.addWidget(QLabel("Network:"))
        self.combo = QComboBox()
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        bar.addWidget(self.combo)
        self.info = QLabel()
        self.info.setStyleSheet("color: #666;")
        bar.addWidget(self.info, 1)
        layout.addLayout(bar)
        self.view = LayerGraphView()
        layout.addWidget(self.view, 1)
        self.view.nodeActivated.connect(self.nodeActivated)
        self.combo.currentTextChanged.connect(lambda _: self._draw())
        self.spec: Spec | None = None
        self._dirty = False

    def show_spec(self, spec: Spec) -> None:
        """Take a new valid spec; drawn now if visible, else when next shown."""
        self.spec = spec
        names = list(spec.analysis.networks)
        if names != [self.combo.itemText(i) for i in range(self.combo.count())]:
            replace_items(self.combo, names)
        self._dirty = True
        if self.isVisible():
            self._draw()

    def clear(self) -> None:
        """Show no network (another file was opened and has not been checked yet)."""
        self.spec = None
        replace_items(self.combo, [])
        self.view.show_network(None)
        self.info.setText("")
        self._dirty = False

    def show_network(self, name: str) -> None:
        if name != self.combo.currentText() and self.combo.findText(name) >= 0:
            self.combo.setCurrentText(name)

    def select_path(self, path: tuple | None) -> None:
        """Switch to the network of a network/layer path and select the layer's node."""
        if path and len(path) >= 2 and path[0] == "networks":
            self.show_network(path[1])
            self.view.select_path(path[:4] if len(path) >= 4 else None)

    def _draw(self) -> None:
        self._dirty = False
        plan = self.spec.analysis.networks.get(self.combo.currentText()) if self.spec else None
        self.view.show_network(plan)
        if plan is not None:
            skips = len(self.view.skip_edges())
            self.info.setText(f"{len(plan.layers)} layers · {len(self.view.edges)} edges"
                              + (f" · {skips} skip" if skips else ""))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._draw()
