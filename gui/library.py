"""The Layer Library dock: every registered layer, the containers and this spec's blocks,
grouped and searchable; drag an entry onto the layer canvas to insert it there."""

from __future__ import annotations

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.layers import CONTAINERS, LAYER_GROUPS, LAYERS
from ganbuilder.spec import Spec
from ganbuilder.spec.plugins import load_installed, origin

# What a drag from the library carries: the entry's kind (`conv`, `residual`, `block:down`).
LAYER_MIME = "application/x-ganbuilder-layer"
BLOCKS = "blocks of this spec"
CONTAINER_GROUP = "containers"
CONTAINER_DOCS = {
    "residual": "x + f(x): the listed layers, added to their input (ResNet blocks).",
    "repeat": "The listed layers `times` times over (or a block: repeat: {times, block}).",
}
_KIND = Qt.ItemDataRole.UserRole


def entry_tooltip(kind: str) -> str:
    """A library entry's tooltip: the schema's description and its parameters."""
    if kind in CONTAINER_DOCS:
        return CONTAINER_DOCS[kind]
    ldef = LAYERS.get(kind)
    rows = [ldef.doc] if ldef.doc else []
    for key, schema in ldef.params.items():
        schema = schema.get("then", schema) if "if" in schema else schema
        need = " (required)" if key in ldef.required else (
            f" = {schema['default']}" if "default" in schema else "")
        rows.append(f"• {key}{need}: {schema.get('description', '')}")
    plugin = origin("layer", kind)
    if plugin is not None:
        rows.append(f"from the plugin {plugin}")
    return "\n".join(rows)


def group_of(kind: str) -> str:
    """The library group a layer kind is listed under: its registry entry's `group`."""
    return CONTAINER_GROUP if kind in CONTAINERS else LAYERS.get(kind).group


def library_groups() -> list[str]:
    """The groups in the order listed: the registry's LAYER_GROUPS, then any group a plugin
    names, then the containers."""
    named = {ldef.group for _, ldef in LAYERS.items()} - set(LAYER_GROUPS)
    return [*LAYER_GROUPS, *sorted(named), CONTAINER_GROUP]


class _LibraryTree(QTreeWidget):
    """A tree whose entries drag out as LAYER_MIME."""

    def mimeData(self, items: list[QTreeWidgetItem]) -> QMimeData:
        data = QMimeData()
        kinds = [item.data(0, _KIND) for item in items if item.data(0, _KIND)]
        if kinds:
            # No text/plain: dropped on a text field, a kind would be raw text in the YAML.
            data.setData(LAYER_MIME, kinds[0].encode())
        return data

    def mimeTypes(self) -> list[str]:
        return [LAYER_MIME]


class LayerLibrary(QWidget):
    """Grouped, searchable layer entries.

    Signals:
        entryActivated(str): an entry was double-clicked (or Return pressed): insert it after
            the selected layer.
    """

    entryActivated = Signal(str)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        load_installed()  # installed plugins' layers are listed too
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search layers…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        layout.addWidget(self.search)
        self.tree = _LibraryTree()
        self.tree.setHeaderHidden(True)
        self.tree.setDragEnabled(True)
        self.tree.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.tree.itemActivated.connect(self._activated)
        layout.addWidget(self.tree)
        self.groups: dict[str, QTreeWidgetItem] = {}
        for group in [*library_groups(), BLOCKS]:
            item = QTreeWidgetItem([group])
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)
            font = item.font(0)
            font.setBold(True)
            item.setFont(0, font)
            self.tree.addTopLevelItem(item)
            self.groups[group] = item
        for kind in sorted(LAYERS.names()):
            self._add(group_of(kind), kind, kind, entry_tooltip(kind))
        for kind in CONTAINERS:
            self._add(CONTAINER_GROUP, kind, kind, entry_tooltip(kind))
        self.tree.expandAll()
        self._update_groups()

    def _add(self, group: str, label: str, kind: str, tooltip: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem([label])
        item.setData(0, _KIND, kind)
        item.setToolTip(0, tooltip)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                      | Qt.ItemFlag.ItemIsDragEnabled)
        self.groups[group].addChild(item)
        return item

    def show_spec(self, spec: Spec, blocks: dict[str, dict]) -> None:
        """List `blocks` (name -> arguments, from the canvas model) of the spec being edited."""
        group = self.groups[BLOCKS]
        names = [group.child(i).text(0) for i in range(group.childCount())]
        if names == list(blocks):
            return
        group.takeChildren()
        for name, args in blocks.items():
            listed = ", ".join(args) or "no arguments"
            self._add(BLOCKS, name, f"block:{name}", f"block {name} of {spec.name}: {listed}")
        group.setExpanded(True)
        self._filter(self.search.text())

    def entries(self) -> dict[str, list[str]]:
        """Group -> the kinds listed (and not filtered out), for tests and the menu."""
        return {name: [g.child(i).data(0, _KIND) for i in range(g.childCount())
                       if not g.child(i).isHidden()]
                for name, g in self.groups.items()}

    def item(self, kind: str) -> QTreeWidgetItem | None:
        """The entry of `kind`."""
        for group in self.groups.values():
            for i in range(group.childCount()):
                if group.child(i).data(0, _KIND) == kind:
                    return group.child(i)
        return None

    def _filter(self, text: str) -> None:
        needle = text.strip().lower()
        for group in self.groups.values():
            for i in range(group.childCount()):
                child = group.child(i)
                hay = f"{child.text(0)} {group.text(0)} {child.toolTip(0)}".lower()
                child.setHidden(bool(needle) and needle not in hay)
        self._update_groups()

    def _update_groups(self) -> None:
        for group in self.groups.values():
            visible = any(not group.child(i).isHidden() for i in range(group.childCount()))
            group.setHidden(not visible)

    def _activated(self, item: QTreeWidgetItem) -> None:
        if item.data(0, _KIND):
            self.entryActivated.emit(item.data(0, _KIND))
