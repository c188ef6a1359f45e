"""One network's layer canvas (`ganbuilder.design.canvas`): a node per top-level layer (kind,
key parameters, output shape, parameter count), an edge per source, so skips show as extra
edges; and the gestures that edit it, each one text edit of the spec (one undo step).

Layout: the inputs on top, then the layers in order, one row each; a skip arcs around the
right-hand side, the longer the skip the wider the arc. A U-Net (skips across its bottleneck)
is drawn as a U instead: the encoder down the left, the decoder up the right, each skip
straight across. Layers written by one block use or repeat sit in a group box whose header
collapses them into one node (`ganbuilder.design.layer_groups`); a `residual` or
`repeat: {layers}` node lists the layers inside it, hidden and shown again by a double-click.

Semantic zoom: Fit draws every group expanded when the whole network then shows at a
readable scale (`gui.graph_tools.min_scale`) or when it has at most LIST_BODIES layers (a
few nodes scroll well), else with its block uses and repeats collapsed, else with
neighbouring stages merged into sections, as few as needed (not a U-Net: sections would hide
its skips); inside a repeat of a longer block each copy is a group too. A collapsed group
expands by a click on its chevron, a double-click or the Right key (Left collapses the group
of the selected node), and the view scrolls to its layers; these choices outlive edits of the
text, until the next Fit.

Gestures: drop a Layer Library entry between two nodes (inserts it there); drag a node
(reorders its entry); Delete; Ctrl+C / Ctrl+V (copies the entry, pastes after the selected
node); drag from a node's output port (the dot on its right) onto a concat/add (sets its
`with`) or onto another layer (writes a concat before it), naming the source with an `id`.
A node inside a block use edits the block's definition (every use changes, and the status bar
says so); the node of a collapsed group stands for the whole use; a section or a copy (not
written as one entry) refuses gestures with the reason at the pointer.
"""

from __future__ import annotations

import textwrap

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QKeyEvent,
    QKeySequence,
    QMouseEvent,
    QPainterPath,
    QPen,
    QPolygonF,
)
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QGraphicsEllipseItem,
    QGraphicsItem,
    QGraphicsLineItem,
    QGraphicsPathItem,
    QGraphicsRectItem,
    QGraphicsSimpleTextItem,
    QHBoxLayout,
    QLabel,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.design.canvas import CanvasModel, u_layout, wrap_columns
from ganbuilder.design.graphs import Node, layer_graph, skip_edges
from ganbuilder.design.layer_groups import (
    Group,
    Unit,
    copies,
    group_lines,
    group_tip,
    param_count,
    sections,
    units,
    written_groups,
)
from ganbuilder.design.text_edits import TextEdit
from ganbuilder.errors import Problem
from ganbuilder.spec import Spec
from ganbuilder.spec.paths import parse_path
from ganbuilder.spec.pretrained import frozen_layers
from ganbuilder.spec.shapes import NetworkPlan
from gui._combo import replace_items
from gui.fitted_label import FittedLabel
from gui.graph_tools import MIN_TEXT, min_scale
from gui.graph_view import FlowGraphView, NodeItem
from gui.library import LAYER_MIME

ROW_GAP = 22.0
# A longer network starts with its containers folded, and its nodes leave their parameters
# to the hover text and the form: so that Fit shows more of it.
LIST_BODIES = 16
COLUMN_GAP = 140.0
WRAP_GAP = 40.0  # between the columns of a long chain drawn in several
MARGIN = 12.0  # around the drawing: the view's room goes to the nodes
PORT = 5.0
_RED, _RED_BG = "#c62828", "#fdecea"


def _arrow_head(parent: QGraphicsPathItem, tip: QPointF, dx: float, dy: float) -> None:
    head = QPainterPath()
    back = QPointF(-dx * 8, -dy * 8)
    side = QPointF(-dy * 4, dx * 4)
    head.addPolygon(QPolygonF([tip, tip + back + side, tip + back - side]))
    head.closeSubpath()
    arrow = QGraphicsPathItem(head, parent)
    arrow.setBrush(QBrush(parent.pen().color()))
    arrow.setPen(QPen(Qt.PenStyle.NoPen))


class PortItem(QGraphicsEllipseItem):
    """A layer's output port: drag from it onto a later layer to wire a skip."""

    def __init__(self, parent: NodeItem):
        rect = parent.rect()
        super().__init__(rect.right() - PORT, rect.center().y() - PORT, 2 * PORT, 2 * PORT,
                         parent)
        self.setBrush(QBrush(QColor("#ffffff")))
        self.setPen(QPen(QColor("#8e24aa"), 1.6))
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("drag onto a later layer to feed it this output (a skip)")
        self.setZValue(2)


class _GroupHeader(QGraphicsSimpleTextItem):
    """The clickable title of a group box (or chevron of a collapsed group's node); a click
    on it (LayerGraphView.mousePressEvent) collapses or expands the group."""

    def __init__(self, text: str, view: LayerGraphView, item: str, parent: QGraphicsItem):
        super().__init__(text, parent)
        self.view, self.item = view, item
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("click to collapse or expand")


class LayerGraphView(FlowGraphView):
    """The layer canvas: zoom with the wheel, pan by dragging the background; the gestures
    in the module's docstring.

    Signals:
        nodeActivated(tuple): the spec path of the clicked layer.
        editRequested(object): a TextEdit to apply to the text, one undo step.
        refused(str): why a gesture cannot be done as a text edit.
    """

    nodeActivated = Signal(tuple)
    editRequested = Signal(object)
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.edges: list[tuple[str, str]] = []
        self.network = ""
        self.model: CanvasModel | None = None
        self.problems: dict[tuple, str] = {}
        # network -> group key -> expanded: the user's own choices, kept until the next Fit
        self.choices: dict[str, dict[str, bool]] = {}
        # network -> (level, budget) Fit chose: 0 all expanded, 1 written groups collapsed,
        # 2 also `budget` sections (ganbuilder.design.layer_groups)
        self.zoom: dict[str, tuple[int, int]] = {}
        self.groups: dict[str, Group] = {}  # drawn key of a collapsed group -> the group
        self.open_groups: list[Group] = []  # groups drawn expanded, in a box
        self._refit = QTimer(self)  # a resize fits again once it has settled
        self._refit.setSingleShot(True)
        self._refit.setInterval(40)
        self._refit.timeout.connect(self._fit_again)
        self._unsay = QTimer(self)  # clears a refusal said beside a node by a key gesture
        self._unsay.setSingleShot(True)
        self._unsay.setInterval(4000)
        self._unsay.timeout.connect(lambda: self._show_refusal(None, None))
        # network -> containers toggled by a double-click: a body listed by default (in a
        # network of at most LIST_BODIES layers) is hidden, a hidden one listed
        self.folded: dict[str, set[str]] = {}
        self.positions: dict[str, int] = {}  # node key -> resolved layer index
        self.flow: dict[str, int] = {}  # node key -> +1 drawn downwards, -1 upwards
        self.u_shaped = False
        self.wrapped = 1  # columns the chain is drawn in
        self._wrap_sizes: tuple[int, float, float, float] | None = None
        self.clipboard: list[str] | None = None
        self._signature: object = None
        self._quiet = False
        self._press: tuple[str, str, QPointF] | None = None  # ("node"|"port", key, at)
        self._dragging = False
        self._indicator: QGraphicsLineItem | None = None
        self.refusal: QGraphicsSimpleTextItem | None = None  # why not, at the pointer
        self._planned: tuple[object, TextEdit | str] | None = None  # (gesture, its plan)
        self._moved: tuple[NodeItem, QPointF, float] | None = None  # dragged: where it was
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    # -- content ---------------------------------------------------------------------------
    def show_network(self, plan: NetworkPlan | None, model: CanvasModel | None = None,
                     problems: dict[tuple, str] | None = None) -> None:
        """Draw `plan` (with the canvas `model` that can edit it, and problems by layer path
        shown in red); nothing is redrawn when nothing shown changed."""
        self._planned = None  # plans were made on the previous text
        self.model = model
        self.problems = problems or {}
        frozen = (frozen_layers(model.spec.tree["networks"][plan.name], plan)
                  if model and plan and plan.name in model.spec.tree["networks"] else set())
        nodes, edges = layer_graph(plan, frozen) if plan else ({}, [])
        counts = [n.params for n in model.nodes(plan.name)] if model and plan else []
        signature = (plan.name if plan else "", [(n.key, n.lines, n.inputs)
                                                 for n in nodes.values()],
                     counts, sorted(self.problems.items()),
                     sorted(self.choices.get(plan.name if plan else "", {}).items()),
                     sorted(self.folded.get(plan.name if plan else "", ())))
        if signature == self._signature:
            return
        self._signature = signature
        self.network = plan.name if plan else ""
        self.nodes, self.edges = nodes, edges
        self._draw(plan)

    def _written(self, plan: NetworkPlan) -> list[Group]:
        return written_groups(plan, self.model.items(plan.name)) if self.model else []

    def _copies(self, plan: NetworkPlan, written: list[Group]) -> list[Group]:
        items = self.model.items(plan.name) if self.model else []
        return [c for g in written for c in copies(plan, g, items[g.item].times,
                                                   items[g.item].block)]

    def _units(self, plan: NetworkPlan) -> list[Unit]:
        """The drawn units at the zoom level Fit chose, with the user's own choices."""
        level, budget = self.zoom.get(plan.name, (0, 0))
        chosen = self.choices.get(plan.name, {})
        written = self._written(plan)
        count = len(plan.layers)
        # sections are cut from the units with every written group collapsed, so that
        # expanding one inside an open section keeps the sections (and their keys)
        cut = sections(plan, units(count, written), budget) if level >= 2 else []
        every = cut + written + self._copies(plan, written)
        closed = [g for g in every if not chosen.get(g.key, level == 0 and not g.key.startswith(
            "s:"))]
        # a box for each open group not inside a closed one (whose node stands for it all)
        self.open_groups = [g for g in every if g not in closed and not any(
            c.start <= g.start and g.stop <= c.stop for c in closed)]
        return units(count, closed)

    def _display(self, plan: NetworkPlan) -> tuple[list[Node], dict[str, str]]:
        """The nodes drawn (a collapsed group is one node) and each layer key's drawn key."""
        info = {n.key: n for n in self.model.nodes(plan.name)} if self.model else {}
        keys = list(self.nodes)
        offset = len(plan.inputs)
        params = [info[k].params if k in info else None for k in keys[offset:]]
        shown: list[Node] = [self.nodes[key] for key in keys[:offset]]
        alias: dict[str, str] = {key: key for key in keys[:offset]}
        self.positions, self.flow, self.groups = {}, {}, {}
        for unit in self._units(plan):
            if isinstance(unit, Group):
                gkey = f"group:{unit.key}"
                alias.update(dict.fromkeys(keys[offset + unit.start:offset + unit.stop], gkey))
                first = self.nodes[keys[offset + unit.start]]
                shown.append(Node(gkey, group_lines(plan, unit, params), "layer",
                                  tuple(first.path), column=first.column))
                self.positions[gkey] = unit.start
                self.groups[gkey] = unit
                continue
            key = keys[offset + unit]
            node = self.nodes[key]
            alias[key] = key
            extra = info.get(key)
            lines = list(node.lines[:1])
            if extra is not None:
                if extra.brief and len(plan.layers) <= LIST_BODIES:  # else: hover, or the form
                    lines.append(extra.brief)
                lines.append(" · ".join(x for x in (extra.shape, param_count(extra.params)) if x))
                folded = (key in self.folded.get(plan.name, set())) \
                    != (len(plan.layers) > LIST_BODIES)
                if extra.children and folded:
                    lines.append(f"▸ {len(extra.children)} layers inside (double-click)")
                for child in extra.children if not folded else ():
                    lines.append(f"  ├ {child.kind}  {child.brief}".rstrip())
            else:
                lines += node.lines[1:]
            shown.append(Node(key, lines, node.kind, tuple(node.path), column=node.column,
                              inputs=list(node.inputs)))
            self.positions[key] = unit
        return shown, alias

    def _draw(self, plan: NetworkPlan | None) -> None:
        if plan is None or self.model is None:
            self.zoom.clear()  # another file: its networks choose their own levels
            self._build(plan)
        elif plan.name in self.zoom:  # the level Fit chose stays while the text is edited
            self._build(plan)
            if not self.user_zoomed and not self._fits():  # ... unless the network outgrew it
                self._zoom_to_fit(plan)
        else:
            self._zoom_to_fit(plan)
        self.fit()

    def _zoom_to_fit(self, plan: NetworkPlan) -> None:
        """Draw at the finest zoom level whose drawing the view shows whole at a readable
        scale: all expanded, else written groups collapsed, else the most sections that
        fit (found by halving); the coarsest when none fits."""
        count = len(plan.layers)
        written = self._written(plan)
        levels = [(0, 0)] + ([(1, 0)] if written else [])
        for level in levels:
            self.zoom[plan.name] = level
            self._build(plan)
            if self._fits() or count <= LIST_BODIES:  # a short one scrolls, all in view
                return
        if self.u_shaped:  # sections would hide the skips that make a U-Net what it is
            return
        low, high = 1, len(units(count, written)) - 1  # budgets of sections to try
        best = 1
        while low <= high:
            budget = (low + high) // 2
            self.zoom[plan.name] = (2, budget)
            self._build(plan)
            if self._fits():
                best, low = budget, budget + 1
            else:
                high = budget - 1
        if self.zoom[plan.name] != (2, best):
            self.zoom[plan.name] = (2, best)
            self._build(plan)

    def _fits(self) -> bool:
        """Whether the view shows the whole drawing at the readable minimum scale."""
        rect = self.scene().sceneRect()
        room = self.maximumViewportSize()  # without scroll bars: they go once it fits
        scale = min_scale(self)
        return rect.width() * scale <= room.width() - 4 and \
            rect.height() * scale <= room.height() - 4  # fitInView keeps 2 px each side

    def fit_all(self) -> None:
        """The Fit button: forget the user's expand/collapse choices and draw the network
        at the finest zoom level that shows it whole and readable."""
        self.user_zoomed = False
        self.choices.pop(self.network, None)
        self._fit_again()

    def _fit_again(self) -> None:
        plan = self.model.spec.analysis.networks.get(self.network) if self.model else None
        if plan is None:
            super().fit_all()
            return
        key = self.selected_key()
        chosen = self.items[key].node.path if key in self.items else None
        self.zoom.clear()  # levels chosen for another size: each network chooses again
        self._signature = None
        self.show_network(plan, self.model, self.problems)
        if chosen is not None:  # the node chosen stays chosen (its group's, if collapsed)
            self._quiet = True
            for item in self.items.values():
                if item.node.path == chosen and item.node.key in self.positions:
                    item.setSelected(True)
                    break
            self._quiet = False

    def _build(self, plan: NetworkPlan | None) -> None:
        scene = self.scene()
        scene.clear()
        self._indicator = None
        self.items = {}
        if plan is None:
            return
        shown, alias = self._display(plan)
        font = QFont(self.font())
        made = {node.key: NodeItem(node, font) for node in shown}
        for key, item in made.items():
            message = self._problem(item.node.path, key) if key in self.positions else None
            if message:
                item.setBrush(QBrush(QColor(_RED_BG)))
                item.setPen(QPen(QColor(_RED), 2.0))
                item.setToolTip(f"{item.node.lines[0]}\n{message}")
                note = QGraphicsSimpleTextItem(message, item)
                note.setBrush(QBrush(QColor(_RED)))
                note.setPos(item.rect().right() + 14, 4)
            if key in self.positions and not key.startswith("group:"):
                PortItem(item)
        drawn_edges = list(dict.fromkeys((alias.get(s, s), alias.get(t, t))
                                         for s, t in self.edges))
        drawn_edges = [(s, t) for s, t in drawn_edges if s != t and s in made and t in made]
        order = [node.key for node in shown]
        rank = {key: i for i, key in enumerate(order)}
        layers = [key for key in order if key in self.positions]
        self.u_shaped = self._place_u(plan, made, layers, drawn_edges, rank)
        if not self.u_shaped:
            self._place_column(made)
        for item in made.values():
            scene.addItem(item)
        self.items = {key: item for key, item in made.items()}
        for key in list(self.nodes):
            if alias.get(key) in made:
                self.items.setdefault(key, made[alias[key]])
        self._draw_groups(plan, made)
        self._draw_edges(drawn_edges, made, rank)
        scene.setSceneRect(scene.itemsBoundingRect().adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN))

    def _problem(self, path: tuple, key: str = "") -> str | None:
        """The problem of the layer at `path` (of any layer of group `key`)."""
        group = self.groups.get(key)
        if group is not None and self.model is not None:
            plan = self.model.spec.analysis.networks[self.network]
            wanted = [tuple(layer.path) for layer in plan.layers[group.start:group.stop]
                      if layer.path]
        else:
            wanted = [tuple(path)]
        for where, message in self.problems.items():
            if any(tuple(where[:len(p)]) == p for p in wanted):
                return message
        return None

    def _place_column(self, made: dict[str, NodeItem]) -> None:
        """The inputs on top, then the layers down one column; a chain too long to show
        whole and readable in the view goes on in further columns to the right, as many as
        show it largest (`wrap_columns`)."""
        items = list(made.values())
        inputs = [item for item in items if item.node.column == 0]
        layers = [item for item in items if item.node.column]
        x = -sum(item.rect().width() + 20 for item in inputs) / 2 + 10
        for item in inputs:
            item.setPos(x, 0.0)
            x += item.rect().width() + 20
        top = max((item.rect().height() for item in inputs), default=0) + ROW_GAP
        width = max((item.rect().width() for item in layers), default=0)
        row = sum(item.rect().height() + ROW_GAP for item in layers) / max(len(layers), 1)
        self._wrap_sizes = (len(layers), row, width + WRAP_GAP, top)
        self.wrapped = self._wrap_for(self._wrap_sizes)
        rows = -(-len(layers) // self.wrapped)
        y = top
        for i, item in enumerate(layers):
            column, at = divmod(i, rows)
            if at == 0:
                y = top
            item.setPos(column * (width + WRAP_GAP) - item.rect().width() / 2, y)
            y += item.rect().height() + ROW_GAP
            self.flow[item.node.key] = 1

    def _wrap_for(self, sizes: tuple[int, float, float, float]) -> int:
        """The number of columns for a chain of these sizes in the view as it is now."""
        count, row, column, head = sizes
        room = self.maximumViewportSize()  # without scroll bars: they go once it fits
        # n columns draw n widths and n - 1 gaps, inside the scene's margins
        view = (room.width() + WRAP_GAP - 2 * MARGIN - 4, room.height() - 2 * MARGIN - 4)
        # a node's second line is 0.9 of the font (gui.graph_view.NodeItem)
        return wrap_columns(count, row, column, head, view, MIN_TEXT / 0.9)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if not self.user_zoomed and self.model is not None:
            self._refit.start()  # the zoom level that fits this size, once it has settled
            return
        sizes = self._wrap_sizes
        if sizes and not self.u_shaped and self.model is not None \
                and self._wrap_for(sizes) != self.wrapped:
            plan = self.model.spec.analysis.networks.get(self.network)
            self._signature = None  # drawn again in as many columns as now fit
            self.show_network(plan, self.model, self.problems)

    def _place_u(self, plan: NetworkPlan, made: dict[str, NodeItem], layers: list[str],
                 edges: list[tuple[str, str]], rank: dict[str, int]) -> bool:
        """Place the nodes as a U when the network is a U-Net; False when it is not."""
        index = {key: i for i, key in enumerate(layers)}
        sizes = []
        for key in layers:
            position = self.positions[key]
            shape = plan.layers[position].out_shape if key not in self.groups else \
                plan.layers[self.groups[key].stop - 1].out_shape
            sizes.append(shape[1] * shape[2] if len(shape) == 3 else None)
        skips = [(index[s], index[t]) for s, t in edges
                 if s in index and t in index and index[t] - index[s] > 1]
        rows = u_layout(sizes, skips)
        if rows is None:
            return False
        height = max(made[key].rect().height() for key in layers) + ROW_GAP
        width = max(made[key].rect().width() for key in layers)
        top = height
        for key, (column, row) in zip(layers, rows, strict=True):
            item = made[key]
            x = (0 if column == 0 else width + COLUMN_GAP) + (width - item.rect().width()) / 2
            centring = (height - ROW_GAP - item.rect().height()) / 2  # a skip runs level
            item.setPos(x, top + row * height + centring)
            self.flow[key] = 1 if column == 0 else -1
        inputs = [item for key, item in made.items() if key not in index]
        x = (width - sum(item.rect().width() + 20 for item in inputs) + 20) / 2  # over the encoder
        for item in inputs:
            item.setPos(x, 0)
            x += item.rect().width() + 20
        return True

    def _draw_groups(self, plan: NetworkPlan, made: dict[str, NodeItem]) -> None:
        """A chevron on each collapsed group's node; a dashed box with a clickable header
        around the nodes of each expanded one (a section's header at the box's right, so
        that it never sits on the header of a written group inside it)."""
        for key, group in self.groups.items():
            node = made.get(key)
            if node is None:
                continue
            chevron = _GroupHeader("▸", self, group.key, node)
            chevron.setBrush(QBrush(QColor("#37474f")))
            bigger = QFont(chevron.font())
            bigger.setPointSizeF(bigger.pointSizeF() * 1.3)
            chevron.setFont(bigger)
            size = chevron.boundingRect()
            # beside the node, as a tree's expander: never over its text
            chevron.setPos(-size.width() - 3, (node.rect().height() - size.height()) / 2)
            # a card behind the card: several layers in one node
            behind = QGraphicsRectItem(node.rect().translated(4, 4), node)
            behind.setBrush(node.brush())
            behind.setPen(node.pen())
            behind.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)
        keys = list(self.nodes)
        offset = len(plan.inputs)
        for group in self.open_groups:
            members = list({id(self.items[k]): self.items[k] for k in
                            keys[offset + group.start:offset + group.stop]
                            if k in self.items}.values())
            parts: dict[int, QRectF] = {}  # one box per column the group runs down
            for member in members:
                box = member.sceneBoundingRect()
                centre = round(box.center().x())
                parts[centre] = parts.get(centre, box).united(box)
            # nested boxes: a section around a use around its copies
            pad = 10 if group.written else 5 if group.copy else 16
            for number, rect in enumerate(parts.values()):
                rect = rect.adjusted(-pad, -22, pad, pad - 2)
                box = QGraphicsRectItem(rect)
                colour = "#b0bec5" if group.written else "#cfd8dc" if group.copy else "#90a4ae"
                box.setPen(QPen(QColor(colour), 1.2, Qt.PenStyle.DashLine))
                box.setBrush(QBrush(QColor(236, 239, 241, 50 if group.copy else 90
                                           if group.written else 50)))
                box.setZValue(-2 if group.written else -1.5 if group.copy else -3)
                self.scene().addItem(box)
                title = f"▾ {group.title}" + (" (continued)" if number else "")
                header = _GroupHeader(title, self, group.key, box)
                header.setBrush(QBrush(QColor("#546e7a")))
                x = rect.left() + 6 if group.written else \
                    rect.right() - header.boundingRect().width() - 6
                header.setPos(x, rect.top() + 3)

    def _draw_edges(self, edges: list[tuple[str, str]], made: dict[str, NodeItem],
                    rank: dict[str, int]) -> None:
        pen = QPen(QColor("#78909c"), 1.4)
        skip_pen = QPen(QColor("#8e24aa"), 1.6)
        right = max((item.sceneBoundingRect().right() for item in made.values()), default=0)
        columns: dict[int, float] = {}  # a column's centre -> its right side
        for item in made.values():
            box = item.sceneBoundingRect()
            centre = round(box.center().x())
            columns[centre] = max(columns.get(centre, box.right()), box.right())
        for source_key, target_key in edges:
            source, target = made[source_key], made[target_key]
            span = rank[target_key] - rank[source_key]
            path = QPainterPath()
            src, dst = source.sceneBoundingRect(), target.sceneBoundingRect()
            up = self.flow.get(target_key, 1) < 0
            if span <= 1 or source.node.column == 0:
                if self.flow.get(source_key, 1) != self.flow.get(target_key, 1) \
                        and source.node.column:  # the bottom of the U
                    start = QPointF(src.right(), src.center().y())
                    end = QPointF(dst.left(), dst.center().y())
                    dx, dy = 1, 0
                elif up:
                    start, end = QPointF(src.center().x(), src.top()), \
                        QPointF(dst.center().x(), dst.bottom())
                    dx, dy = 0, -1
                elif source.node.column and dst.top() < src.top():  # on to the next column
                    start = QPointF(src.center().x(), src.bottom())
                    end = QPointF(dst.center().x(), dst.top())
                    between = (src.right() + dst.left()) / 2
                    low, high = start.y() + ROW_GAP / 2, end.y() - ROW_GAP / 2
                    path.moveTo(start)
                    for point in ((start.x(), low), (between, low), (between, high),
                                  (end.x(), high), (end.x(), end.y())):
                        path.lineTo(*point)
                    item = QGraphicsPathItem(path)
                    item.setPen(pen)
                    _arrow_head(item, end, 0, 1)
                    item.setZValue(-1)
                    self.scene().addItem(item)
                    continue
                else:
                    start, end = QPointF(src.center().x(), src.bottom()), \
                        QPointF(dst.center().x(), dst.top())
                    dx, dy = 0, 1
                path.moveTo(start)
                bend = QPointF(dx * 20, dy * ROW_GAP / 2)
                path.cubicTo(start + bend, end - bend, end)
                item = QGraphicsPathItem(path)
                item.setPen(pen)
                _arrow_head(item, end, dx, dy)
            elif self.u_shaped and self.flow.get(source_key) != self.flow.get(target_key):
                start = QPointF(src.right(), src.center().y())
                end = QPointF(dst.left(), dst.center().y())
                path.moveTo(start)
                mid = (start.x() + end.x()) / 2
                path.cubicTo(QPointF(mid, start.y()), QPointF(mid, end.y()), end)
                item = QGraphicsPathItem(path)
                item.setPen(skip_pen)
                _arrow_head(item, end, 1, 0)
            elif abs(src.center().x() - dst.center().x()) > 1:  # into a later column
                start = QPointF(src.right(), src.center().y())
                end = QPointF(dst.left(), dst.center().y())
                path.moveTo(start)
                path.cubicTo(QPointF(start.x() + WRAP_GAP / 2, start.y()),
                             QPointF(end.x() - WRAP_GAP / 2, end.y()), end)
                item = QGraphicsPathItem(path)
                item.setPen(skip_pen)
                _arrow_head(item, end, 1, 0)
            else:
                start = QPointF(src.right(), src.center().y())
                end = QPointF(dst.right(), dst.center().y())
                own = columns.get(round(src.center().x()), right)  # its column's right side
                reach = 24 + 9 * span ** 0.8
                bulge = own + (min(reach, WRAP_GAP / 2 - 6) if own < right else reach)
                path.moveTo(start)
                path.cubicTo(QPointF(bulge, start.y()), QPointF(bulge, end.y()), end)
                item = QGraphicsPathItem(path)
                item.setPen(skip_pen)
                _arrow_head(item, end, -1, 0)
            if item.pen() == skip_pen:
                item.setToolTip(f"skip: {source.node.lines[0].strip()} → "
                                f"{target.node.lines[0].strip()}")
            item.setZValue(-1)
            self.scene().addItem(item)

    def toggle_group(self, key: str) -> None:
        """Collapse or expand group `key` (a Group's key, or the drawn key of a collapsed
        one); an expanded group's layers are scrolled into view."""
        key = key.removeprefix("group:")
        expand = f"group:{key}" in self.groups
        if not expand and key not in {g.key for g in self.open_groups}:
            return
        self.choices.setdefault(self.network, {})[key] = expand
        # the user chose what to see: redraws keep it (and the zoom) until the next Fit
        self.user_zoomed = True
        plan = self.model.spec.analysis.networks.get(self.network) if self.model else None
        self._signature = None
        self.show_network(plan, self.model, self.problems)
        if plan is not None:
            self._show_group(plan, key)

    def _show_group(self, plan: NetworkPlan, key: str) -> None:
        """Select the node of a collapsed group, or scroll an expanded one's layers into
        view (from its top, when it is taller than the view)."""
        node = self.items.get(f"group:{key}")
        if node is not None:
            self.scene().clearSelection()
            node.setSelected(True)
            self.ensureVisible(node)
            return
        group = next((g for g in self.open_groups if g.key == key), None)
        keys = list(self.nodes)[len(plan.inputs):]
        members = [self.items[k] for k in keys[group.start:group.stop] if k in self.items] \
            if group is not None else []
        if not members:
            return
        rect = members[0].sceneBoundingRect()
        for member in members[1:]:
            rect = rect.united(member.sceneBoundingRect())
        rect = rect.adjusted(-16, -24, 16, 14)  # the box and its header
        shown = self.mapToScene(self.viewport().rect()).boundingRect()
        if rect.height() > shown.height() or rect.width() > shown.width():
            self.centerOn(rect.center().x() if rect.width() <= shown.width()
                          else rect.left() + shown.width() / 2,
                          rect.top() + shown.height() / 2)
        else:
            self.ensureVisible(rect, 0, 0)

    def toggle_container(self, key: str) -> None:
        """Hide or show the layers inside a `residual` or `repeat` node."""
        self.folded.setdefault(self.network, set()).symmetric_difference_update({key})
        plan = self.model.spec.analysis.networks.get(self.network) if self.model else None
        self._signature = None
        self.show_network(plan, self.model, self.problems)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        key = self._node_at(self.mapToScene(event.position().toPoint()))
        plan = self.model.spec.analysis.networks.get(self.network) if self.model else None
        if key in self.groups:  # a collapsed group opens
            self.toggle_group(key)
            event.accept()
            return
        if key is not None and plan is not None and key in self.positions \
                and plan.layers[self.positions[key]].children:
            self.toggle_container(key)
            event.accept()
            return
        super().mouseDoubleClickEvent(event)

    def viewportEvent(self, event) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.model is not None:
            group = self.groups.get(self._node_at(self.mapToScene(event.pos())) or "")
            plan = self.model.spec.analysis.networks.get(self.network)
            if group is not None and plan is not None:  # what it holds, not its first layer
                QToolTip.showText(event.globalPos(), group_tip(plan, group), self)
                return True
        return super().viewportEvent(event)

    def skip_edges(self) -> list[tuple[str, str]]:
        """Edges that do not come from the row just above."""
        return skip_edges(self.nodes, self.edges)

    # -- selection -------------------------------------------------------------------------
    def select_path(self, path: tuple | None) -> None:
        """Select (and show) the node of a layer path without emitting nodeActivated."""
        self._quiet = True
        self.scene().clearSelection()
        for item in self.items.values():
            if path is not None and item.node.path == tuple(path) and item.node.column:
                item.setSelected(True)
                if self._press is None:  # a node being pressed must not slide from the mouse
                    self.ensureVisible(item)
                break
        self._quiet = False

    def _selected(self) -> None:
        if not self._quiet:
            super()._selected()

    def selected_key(self) -> str | None:
        """The key of the selected layer (or group) node."""
        for item in self.scene().selectedItems():
            if isinstance(item, NodeItem) and item.node.key in self.positions:
                return item.node.key
        return None

    # -- gestures --------------------------------------------------------------------------
    def gap_at(self, scene_pos: QPointF) -> int | None:
        """The resolved position (0 = before the first layer) nearest `scene_pos`: before or
        after the nearest node, along the direction its column is read in."""
        best, best_d = None, None
        dragged = self._moved[0] if self._moved is not None else None
        for key, item in self.items.items():
            if item.node.key != key or (key not in self.positions and item.node.column) \
                    or item is dragged:  # the node under the pointer is the one moving
                continue
            centre = item.sceneBoundingRect().center()
            d = (centre - scene_pos).manhattanLength()
            if best_d is None or d < best_d:
                best, best_d = key, d
        if best is None:
            return None
        if best not in self.positions:  # an input: before the first layer
            return 0
        centre = self.items[best].sceneBoundingRect().center()
        after = (scene_pos.y() > centre.y()) == (self.flow.get(best, 1) > 0)
        position = self.positions[best]
        if best in self.groups:
            group = self.groups[best]
            return group.stop if after else group.start
        return position + 1 if after else position

    def _plan(self, gesture: tuple) -> TextEdit | str:
        """The text edit a gesture would make, or why it cannot be made: planned once per
        place while a drag passes over it."""
        if self._planned is None or self._planned[0] != gesture:
            kind, what, position = gesture
            plan = (self.model.insert_layer(self.network, position, what) if kind == "insert"
                    else self._section_refusal(what, "move")
                    or self.model.move_layer(self.network, self.positions[what], position,
                                             whole=what in self.groups))
            self._planned = (gesture, plan)
        return self._planned[1]

    def _show_refusal(self, scene_pos: QPointF | None, why: str | None) -> None:
        """Say at the pointer why a drop there would be refused (None: clear it)."""
        if self.refusal is not None:
            self.scene().removeItem(self.refusal)
            self.refusal = None
        if scene_pos is None or not why:
            return
        self.refusal = self.scene().addSimpleText("\n".join(textwrap.wrap(f"✗ {why}", 34)))
        self.refusal.setBrush(QColor("#b71c1c"))
        # beside the pointer, kept inside what the view shows
        shown = self.mapToScene(self.viewport().rect()).boundingRect()
        size = self.refusal.boundingRect()
        at = scene_pos + QPointF(14, 10)
        self.refusal.setPos(max(min(at.x(), shown.right() - size.width() - 6), shown.left() + 6),
                            max(min(at.y(), shown.bottom() - size.height() - 4),
                                shown.top() + 4))
        self.refusal.setZValue(20)
        back = QGraphicsRectItem(self.refusal.boundingRect().adjusted(-4, -2, 4, 2),
                                 self.refusal)
        back.setBrush(QColor(255, 235, 238, 235))
        back.setPen(QPen(QColor("#e57373")))
        back.setFlag(QGraphicsItem.GraphicsItemFlag.ItemStacksBehindParent)

    def _show_gap(self, scene_pos: QPointF | None, gesture: tuple | None = None) -> bool:
        """Draw where a drag at `scene_pos` would put its layer: a blue line, or a red one
        and the reason at the pointer when it would be refused. True when it would apply."""
        if self._indicator is not None:
            self.scene().removeItem(self._indicator)
            self._indicator = None
        self._show_refusal(None, None)
        if scene_pos is None:
            return False
        position = self.gap_at(scene_pos)
        if position is None:
            return False
        why = None
        if gesture is not None and self.model is not None:
            plan = self._plan((*gesture, position))
            why = plan if isinstance(plan, str) else None
        self._show_refusal(scene_pos, why)
        target = next((k for k, p in self.positions.items() if p == position
                       and self.items.get(k) and self.items[k].node.key == k), None)
        before = next((k for k, p in self.positions.items() if p == position - 1
                       and self.items.get(k) and self.items[k].node.key == k), None)
        if target is not None:
            rect = self.items[target].sceneBoundingRect()
            y = rect.top() - ROW_GAP / 2 if self.flow.get(target, 1) > 0 else \
                rect.bottom() + ROW_GAP / 2
        elif before is not None:
            rect = self.items[before].sceneBoundingRect()
            y = rect.bottom() + ROW_GAP / 2 if self.flow.get(before, 1) > 0 else \
                rect.top() - ROW_GAP / 2
        else:
            return why is None
        colour = QColor("#1e88e5") if why is None else QColor("#e53935")
        self._indicator = self.scene().addLine(rect.left() - 12, y, rect.right() + 12, y,
                                               QPen(colour, 3))
        self._indicator.setZValue(5)
        return why is None

    def _emit(self, edit: TextEdit | str) -> None:
        if isinstance(edit, str):
            self.refused.emit(edit)
        else:
            self.editRequested.emit(edit)

    def insert(self, kind: str, position: int) -> None:
        """Insert a library entry at resolved `position`."""
        if self.model is not None:
            self._emit(self.model.insert_layer(self.network, position, kind))

    def insert_after_selection(self, kind: str) -> None:
        """Insert a library entry after the selected node (at the end when none is)."""
        key = self.selected_key()
        plan = self.model.spec.analysis.networks.get(self.network) if self.model else None
        if plan is None:
            return
        position = len(plan.layers) if key is None else self._after(key)
        self.insert(kind, position)

    def _after(self, key: str) -> int:
        if key in self.groups:
            return self.groups[key].stop
        item = self.model.item_of(self.network, self.positions[key])
        return item.stop if item is not None and not item.expands else self.positions[key] + 1

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasFormat(LAYER_MIME) and self.model is not None:
            event.acceptProposedAction()
        else:
            super().dragEnterEvent(event)

    def dragMoveEvent(self, event) -> None:
        data = event.mimeData()
        if data.hasFormat(LAYER_MIME) and self.model is not None:
            kind = bytes(data.data(LAYER_MIME)).decode()
            at = self.mapToScene(event.position().toPoint())
            if self._show_gap(at, ("insert", kind)):
                event.acceptProposedAction()
            else:
                event.ignore()  # the pointer says no, and the reason stands beside it
        else:
            super().dragMoveEvent(event)

    def dragLeaveEvent(self, event) -> None:
        self._show_gap(None)
        super().dragLeaveEvent(event)

    def dropEvent(self, event) -> None:
        data = event.mimeData()
        if not data.hasFormat(LAYER_MIME) or self.model is None:
            super().dropEvent(event)
            return
        self._show_gap(None)
        kind = bytes(data.data(LAYER_MIME)).decode()
        at = self.mapToScene(event.position().toPoint())
        position = self.gap_at(at)
        event.acceptProposedAction()
        if position is not None:
            self._drop_plan(at, self._plan(("insert", kind, position)))

    def _drop_plan(self, at: QPointF, plan: TextEdit | str) -> None:
        """Apply a dropped gesture's plan, or say at the drop point why not (and in the
        status bar)."""
        self._planned = None
        if isinstance(plan, str):
            QToolTip.showText(self.mapToGlobal(self.mapFromScene(at)), f"✗ {plan}", self)
        self._emit(plan)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._press, self._dragging = None, False
        if event.button() == Qt.MouseButton.LeftButton and self.model is not None:
            at = self.mapToScene(event.position().toPoint())
            hit = self.itemAt(event.position().toPoint())
            if isinstance(hit, _GroupHeader):  # (the view sees the press first)
                self.toggle_group(hit.item)
                event.accept()
                return
            if isinstance(hit, PortItem):
                self._press = ("port", hit.parentItem().node.key, at)
                event.accept()
                return
            while hit is not None and not isinstance(hit, NodeItem):
                hit = hit.parentItem()
            if isinstance(hit, NodeItem) and hit.node.key in self.positions:
                self._press = ("node", hit.node.key, at)
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            super().mouseMoveEvent(event)
            return
        at = self.mapToScene(event.position().toPoint())
        if not self._dragging and (at - self._press[2]).manhattanLength() \
                < QApplication.startDragDistance():
            return
        self._dragging = True
        if self._press[0] == "node":
            item = self.items.get(self._press[1])
            if item is not None:  # the node follows the pointer; the text changes on release
                if self._moved is None:
                    self._moved = (item, item.pos(), item.zValue())
                    item.setZValue(15)
                    item.setOpacity(0.85)
                self._moved[0].setPos(self._moved[1] + (at - self._press[2]))
            self._show_gap(at, ("move", self._press[1]))
        else:
            self._show_wire(self._press[1], at)
            target = self._node_at(at)
            plan = self._wire_plan(self._press[1], target) if target is not None else None
            why = plan if isinstance(plan, str) else None
            self._show_refusal(at if why else None, why)  # a wire that would be refused
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        press, dragging = self._press, self._dragging
        self._press, self._dragging = None, False
        if press is None or not dragging:
            super().mouseReleaseEvent(event)
            return
        at = self.mapToScene(event.position().toPoint())
        self._show_gap(None)
        self._show_wire(None, at)
        if self._moved is not None:  # back in its place until the edit redraws the graph
            item, where, z = self._moved
            item.setPos(where)
            item.setZValue(z)
            item.setOpacity(1.0)
            self._moved = None
        kind, key, _ = press
        if kind == "node":
            to = self.gap_at(at)
            if to is not None and key in self.positions:
                self._drop_plan(at, self._plan(("move", key, to)))
        else:
            self._show_refusal(None, None)
            target = self._node_at(at)
            plan = self._wire_plan(key, target) if target is not None else None
            if plan is not None:
                self._drop_plan(at, plan)
        event.accept()

    def _node_at(self, scene_pos: QPointF) -> str | None:
        for item in self.scene().items(scene_pos):
            while item is not None and not isinstance(item, NodeItem):
                item = item.parentItem()
            if isinstance(item, NodeItem) and item.node.key in self.positions:
                return item.node.key
        return None

    def _show_wire(self, source: str | None, at: QPointF) -> None:
        wire = getattr(self, "_wire", None)
        if wire is not None:
            self.scene().removeItem(wire)
            self._wire = None
        if source is None or source not in self.items:
            return
        rect = self.items[source].sceneBoundingRect()
        self._wire = self.scene().addLine(rect.right(), rect.center().y(), at.x(), at.y(),
                                          QPen(QColor("#8e24aa"), 2, Qt.PenStyle.DashLine))

    def move_node(self, key: str, to: int) -> None:
        """Move the entry of node `key` to resolved position `to`."""
        if self.model is not None and key in self.positions:
            self._emit(self._section_refusal(key, "move")
                       or self.model.move_layer(self.network, self.positions[key], to,
                                                whole=key in self.groups))

    def _section_refusal(self, key: str, verb: str) -> str:
        """Why the node `key` cannot be moved, deleted or copied (`verb`) as a whole: it is a
        section, which no one entry of the text writes; empty for any other node."""
        group = self.groups.get(key)
        if group is None or group.written:
            return ""
        if group.copy:
            return (f"{group.title} is one copy of a repeat, not one entry of the text: "
                    f"collapse the repeat to {verb} it whole, or expand this copy "
                    f"(double-click) to {verb} the block's layers")
        return (f"layers {group.start}–{group.stop - 1} are a section drawn as one node, not "
                f"one entry of the text: expand it (double-click) to {verb} its layers")

    def _wire_plan(self, source: str, target: str) -> TextEdit | str | None:
        """The edit a wire from `source` onto `target` makes, or why not; None when the
        target takes no wire (itself, an input, a collapsed group)."""
        if self.model is None or target == source or target not in self.positions \
                or target in self.groups:
            return None
        gesture = ("wire", source, target)
        if self._planned is None or self._planned[0] != gesture:
            self._planned = (gesture, self.model.wire_skip(self.network, source,
                                                           self.positions[target]))
        return self._planned[1]

    def _refuse_at_node(self, key: str, why: str) -> bool:
        """Say beside node `key` (and in the status bar) why a key gesture on it is refused;
        False when `why` is empty."""
        if not why:
            return False
        item = self.items.get(key)
        if item is not None:
            self._show_refusal(item.sceneBoundingRect().center(), why)
            self._unsay.start()  # the words go after a while (the status bar keeps them)
        self.refused.emit(why)
        return True

    def connect_ports(self, source: str, target: str) -> None:
        """Feed the output of node `source` into node `target` (a skip)."""
        plan = self._wire_plan(source, target)
        self._planned = None
        if plan is not None:
            self._emit(plan)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = self.selected_key()
        if key is not None and self.model is not None:
            position = self.positions[key]
            whole = key in self.groups  # a collapsed group: the whole block use
            if event.key() in (Qt.Key.Key_Right, Qt.Key.Key_Plus) and whole:
                self.toggle_group(key)
                return
            if event.key() in (Qt.Key.Key_Left, Qt.Key.Key_Minus):
                around = [g for g in self.open_groups if g.start <= position < g.stop]
                if around:  # the innermost open group around the node closes
                    self.toggle_group(min(around, key=lambda g: g.stop - g.start).key)
                    return
            if event.matches(QKeySequence.StandardKey.Delete) or \
                    event.key() == Qt.Key.Key_Backspace:
                self._refuse_at_node(key, self._section_refusal(key, "delete")) or \
                    self._emit(self.model.delete_layer(self.network, position, whole=whole))
                return
            if event.matches(QKeySequence.StandardKey.Copy):
                if self._refuse_at_node(key, self._section_refusal(key, "copy")):
                    return
                body = self.model.copy_layer(self.network, position, whole=whole)
                if isinstance(body, str):
                    self.refused.emit(body)
                else:
                    self.clipboard = body
                    QApplication.clipboard().setText("\n".join(body))
                return
            if event.matches(QKeySequence.StandardKey.Paste) and self.clipboard:
                self._emit(self.model.paste_layer(self.network, self._after(key),
                                                  self.clipboard))
                return
        super().keyPressEvent(event)


class LayerGraphPanel(QWidget):
    """A network chooser and that network's layer canvas.

    Signals:
        nodeActivated(tuple): the spec path of the clicked layer.
        editRequested(object): a TextEdit from a gesture on the canvas.
        refused(str): why a gesture was not done.
    """

    nodeActivated = Signal(tuple)
    editRequested = Signal(object)
    refused = Signal(str)

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
        self.info = FittedLabel()
        self.info.setStyleSheet("color: #666;")
        bar.addWidget(self.info, 1)
        layout.addLayout(bar)
        self.view = LayerGraphView()
        self.view.controls.embed(bar)  # Find and Fit in the bar: the canvas keeps its height
        layout.addWidget(self.view, 1)
        self.view.nodeActivated.connect(self.nodeActivated)
        self.view.editRequested.connect(self.editRequested)
        self.view.refused.connect(self.refused)
        self.combo.currentTextChanged.connect(lambda _: self._draw())
        self.spec: Spec | None = None
        self.model: CanvasModel | None = None
        self.problems: dict[tuple, str] = {}
        self._dirty = False

    def show_spec(self, spec: Spec, text: str | None = None, file: str | None = None,
                  summary: dict | None = None) -> None:
        """Take a new valid spec (and the text it was checked from, to edit it); drawn now if
        visible, else when next shown."""
        self.spec = spec
        self.problems = {}
        self.model = CanvasModel(spec, text, file or spec.file, summary) \
            if text is not None else None
        names = list(spec.analysis.networks)
        if names != [self.combo.itemText(i) for i in range(self.combo.count())]:
            replace_items(self.combo, names)
        self._dirty = True
        if self.isVisible():
            self._draw()

    def show_summary(self, summary: dict) -> None:
        """Parameter counts for the nodes, once counted."""
        if self.model is not None:
            self.model.summary = summary
            self._dirty = True
            if self.isVisible():
                self._draw()

    def show_problems(self, problems: list[Problem]) -> None:
        """Keep the last valid canvas, its nodes that the problems point at in red."""
        marked: dict[tuple, str] = {}
        for problem in problems:
            try:
                path = parse_path(problem.path) if problem.path else ()
            except ValueError:
                continue
            if len(path) >= 4 and path[0] == "networks" and path[2] == "layers":
                marked.setdefault(tuple(path), problem.message)
        self.problems = marked
        self._dirty = True
        if self.isVisible():
            self._draw()

    def clear(self) -> None:
        """Show no network (another file was opened and has not been checked yet)."""
        self.spec = None
        self.model = None
        self.problems = {}
        replace_items(self.combo, [])
        self.view.show_network(None)
        self.info.set_facts("")
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
        self.view.show_network(plan, self.model, self.problems)
        if plan is not None:
            skips = len(self.view.skip_edges())
            self.info.set_facts(f"{len(plan.layers)} layers · {len(self.view.edges)} edges"
                                + (f" · {skips} skip" if skips else ""))

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._dirty:
            self._draw()
