"""The architecture panel: per network, its layers with output shape and parameter count."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QTreeWidget,
    QTreeWidgetItem,
    QTreeWidgetItemIterator,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.design.labels import layer_brief
from ganbuilder.design.problems import count_problems
from ganbuilder.errors import Problem
from ganbuilder.layers.registry import format_shape
from ganbuilder.spec import Spec
from ganbuilder.spec.paths import parse_path
from ganbuilder.spec.shapes import LayerPlan

_PATH = Qt.ItemDataRole.UserRole
_MARKED = Qt.ItemDataRole.UserRole + 1
_RED = QColor("#c62828")
_RED_BG = QColor("#fdecea")
COLUMNS = ["Layer", "Output", "Parameters"]


class ArchitecturePanel(QWidget):
    """A tree of networks and layers with totals; the failing layer is red with its message.

    Signals:
        layerActivated(tuple): the spec path of the layer (or network) the user selected.
    """

    layerActivated = Signal(tuple)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet("padding: 6px 8px; background: #fff4e5; color: #8a4b00;")
        self.banner.hide()
        layout.addWidget(self.banner)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(COLUMNS)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.itemSelectionChanged.connect(self._selected)
        layout.addWidget(self.tree)
        self.total = QLabel()
        self.total.setStyleSheet("padding: 6px 8px; font-weight: bold; border-top: 1px solid #ddd;")
        layout.addWidget(self.total)
        self.spec: Spec | None = None
        self.summary: dict | None = None
        self._items: dict[tuple, QTreeWidgetItem] = {}
        # what show_problems changed, to undo it without rebuilding the tree:
        # (item, its texts, brushes and expanded state, its note row) and the rows it added
        self._marked: list[tuple[QTreeWidgetItem, list, bool, QTreeWidgetItem]] = []
        self._added: list[QTreeWidgetItem] = []
        self._quiet = False

    # -- content ---------------------------------------------------------------------------
    def show_spec(self, spec: Spec, summary: dict | None) -> None:
        """Rebuild from a valid spec (and its summary, for parameter counts)."""
        self.spec, self.summary = spec, summary
        expanded = {self.tree.topLevelItem(i).text(0).split()[0]
                    for i in range(self.tree.topLevelItemCount())
                    if not self.tree.topLevelItem(i).isExpanded()}
        self._quiet = True
        self.tree.clear()
        self._items.clear()
        self._marked.clear()
        self._added.clear()
        nets = (summary or {}).get("networks", {})
        bold = QFont(self.font())
        bold.setBold(True)
        for name, plan in spec.analysis.networks.items():
            counts = nets.get(name, {})
            inputs = ", ".join(format_shape(s) for s in plan.input_shapes)
            output = format_shape(plan.output_shape) if plan.output_shape else "?"
            item = QTreeWidgetItem([f"{name}    {inputs} → {output}", output,
                                    _count(counts.get("params"))])
            for col in range(3):
                item.setFont(col, bold)
            item.setData(0, _PATH, ("networks", name))
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight)
            self.tree.addTopLevelItem(item)
            self._items[("networks", name)] = item
            rows = counts.get("layers") or [None] * len(plan.layers)
            for index, (layer, row) in enumerate(zip(plan.layers, rows, strict=False)):
                self._add_layer(item, layer, str(index), row)
            item.setExpanded(name not in expanded)
        self.total.setText(f"Total: {_count((summary or {}).get('params'))} parameters"
                           if summary else "Total: counting…")
        self.banner.hide()
        self._quiet = False

    def clear(self) -> None:
        """Show nothing (another file was opened: its architecture is not known yet)."""
        self.spec, self.summary = None, None
        self._quiet = True
        self.tree.clear()
        self._items.clear()
        self._marked.clear()
        self._added.clear()
        self.total.setText("")
        self.banner.hide()
        self._quiet = False

    def _add_layer(self, parent: QTreeWidgetItem, layer: LayerPlan, label: str,
                   row: dict | None) -> None:
        brief = layer_brief(layer)
        text = f"{label}  {layer.kind}" + (f"   {brief}" if brief else "")
        params = row["params"] if row else None
        item = QTreeWidgetItem([text, format_shape(layer.out_shape), _count(params)])
        item.setData(0, _PATH, tuple(layer.path))
        item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight)
        item.setToolTip(0, f"{layer.kind}: {layer.params}" if layer.params else layer.kind)
        item.setForeground(2, QBrush(QColor("#555555")))
        parent.addChild(item)
        self._items[tuple(layer.path)] = item
        child_rows = (row or {}).get("children") or [None] * len(layer.children)
        for i, (child, child_row) in enumerate(zip(layer.children, child_rows, strict=False)):
            self._add_layer(item, child, f"{label}.{i}", child_row)

    def show_problems(self, problems: list[Problem]) -> None:
        """Keep the last valid architecture, marking the layers the problems point at in red."""
        self._clear_marks()
        if not problems:
            return
        self.banner.setText(f"{count_problems(len(problems))}: " + (
            "showing the last valid architecture" if self.spec else "nothing to show"))
        self.banner.show()
        for problem in problems:
            try:
                path = parse_path(problem.path) if problem.path else ()
            except ValueError:
                continue
            if path[:1] != ("networks",) or len(path) < 2:
                continue
            item = self._deepest(path)
            if item is None or (tuple(item.data(0, _PATH)) == path[:2] and len(path) > 3):
                item = self._new_problem_row(path)
            self._mark(item, problem.message)

    def _deepest(self, path: tuple) -> QTreeWidgetItem | None:
        for end in range(len(path), 1, -1):
            if path[:end] in self._items:
                return self._items[path[:end]]
        return None

    def _new_problem_row(self, path: tuple) -> QTreeWidgetItem:
        parent = self._items.get(path[:2])
        label = ".".join(str(p) for p in path[2:]) or path[1]
        item = QTreeWidgetItem([label, "", ""])
        item.setData(0, _PATH, path)
        self._added.append(item)
        if parent is None:
            self.tree.addTopLevelItem(item)
        else:
            parent.addChild(item)
            parent.setExpanded(True)
        return item

    def _mark(self, item: QTreeWidgetItem, message: str) -> None:
        if not item.data(0, _MARKED) and item not in self._added:
            saved = [(item.text(col), item.foreground(col), item.background(col))
                     for col in range(3)]
            self._marked.append((item, saved, item.isExpanded(), []))
        for col in range(3):
            item.setForeground(col, QBrush(_RED))
            item.setBackground(col, QBrush(_RED_BG))
        item.setText(1, "✗")
        item.setText(2, "")
        item.setData(0, _MARKED, True)
        note = QTreeWidgetItem([message])
        note.setForeground(0, QBrush(_RED))
        note.setToolTip(0, message)
        note.setFlags(Qt.ItemFlag.ItemIsEnabled)
        note.setData(0, _PATH, item.data(0, _PATH))
        item.insertChild(0, note)
        for marked in self._marked:
            if marked[0] is item:
                marked[3].append(note)
        note.setFirstColumnSpanned(True)
        item.setExpanded(True)
        self.tree.scrollToItem(note)

    def _clear_marks(self) -> None:
        """Undo what show_problems changed: only the marked rows are touched."""
        self.banner.hide()
        for item in reversed(self._added):
            parent = item.parent()
            if parent is not None:
                parent.removeChild(item)
            else:
                self.tree.takeTopLevelItem(self.tree.indexOfTopLevelItem(item))
        for item, saved, expanded, notes in self._marked:
            for note in notes:
                item.removeChild(note)
            for col, (text, foreground, background) in enumerate(saved):
                item.setText(col, text)
                item.setForeground(col, foreground)
                item.setBackground(col, background)
            item.setData(0, _MARKED, False)
            item.setExpanded(expanded)
        self._added.clear()
        self._marked.clear()

    def marked_items(self) -> list[QTreeWidgetItem]:
        """Rows shown in red."""
        out = []
        iterator = QTreeWidgetItemIterator(self.tree)
        while iterator.value():
            if iterator.value().data(0, _MARKED):
                out.append(iterator.value())
            iterator += 1
        return out

    # -- selection -------------------------------------------------------------------------
    def select_path(self, path: tuple | None) -> None:
        """Select the row of a layer path without emitting layerActivated."""
        self._quiet = True
        self.tree.clearSelection()
        item = self._items.get(tuple(path)) if path else None
        if item is not None:
            item.setSelected(True)
            self.tree.scrollToItem(item)
        self._quiet = False

    def _selected(self) -> None:
        if self._quiet:
            return
        items = self.tree.selectedItems()
        if items and items[0].data(0, _PATH):
            self.layerActivated.emit(tuple(items[0].data(0, _PATH)))


def _count(n: int | None) -> str:
    return "" if n is None else f"{n:,}"
