"""The property panel: a form for the selected layer built from its JSON Schema fragment, and a
palette of registered layers to insert. Every change is a text edit on the YAML (one undo step).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ganbuilder.design import (
    TextEdit,
    TextIndex,
    format_value,
    layer_item,
    plan_delete,
    plan_edit,
    plan_insert,
    plan_move,
    scalar_schema,
)
from ganbuilder.design.field_text import (
    field_edit,
    is_expression,
    shown_text,
    written_field,
)
from ganbuilder.layers import LAYERS
from ganbuilder.spec.shapes import LayerPlan
from ganbuilder.spec.terms import Term

_INT_MAX = 1 << 30


def _field(schema: dict, value: object) -> QWidget:
    """An editor widget for one parameter: spin boxes with bounds, combo boxes, check boxes."""
    kind = schema.get("type")
    if "enum" in schema:
        widget = QComboBox()
        widget.addItems([str(v) for v in schema["enum"]])
        widget.setCurrentText(str(value))
    elif kind == "boolean":
        widget = QCheckBox()
        widget.setChecked(bool(value))
    elif kind == "integer" and isinstance(value, int | type(None)):
        widget = QSpinBox()
        low = int(schema.get("minimum", -_INT_MAX))
        if value is None:  # left out, no default: the layer infers it
            low -= 1
            widget.setSpecialValueText("inferred")
        widget.setRange(low, int(schema.get("maximum", _INT_MAX)))
        widget.setValue(value if isinstance(value, int) else low)
        widget.setKeyboardTracking(False)
    elif kind == "number" and isinstance(value, int | float | type(None)):
        widget = QDoubleSpinBox()
        widget.setDecimals(6)
        widget.setRange(float(schema.get("minimum", -1e12)), float(schema.get("maximum", 1e12)))
        widget.setSingleStep(0.01)
        widget.setValue(float(value) if value is not None else 0.0)
        widget.setKeyboardTracking(False)
    else:
        widget = QLineEdit("" if value is None else format_value(value))
        widget.setReadOnly(True)
    widget.setToolTip(schema.get("description", ""))
    return widget


def _value_of(widget: QWidget) -> object:
    if isinstance(widget, QSpinBox) and widget.specialValueText() and \
            widget.value() == widget.minimum():
        return None
    if isinstance(widget, QComboBox):
        return widget.currentText()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    return widget.value()


class PropertyForm(QWidget):
    """Fields for the selected layer's parameters and a layer palette.

    Signals:
        editRequested(object): a TextEdit to apply to the text (a field's value, a layer inserted,
            deleted or moved): one undo step.
    """

    editRequested = Signal(object)

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        outer = QVBoxLayout(self)
        self.title = QLabel("Select a layer in the text or the architecture panel.")
        self.title.setWordWrap(True)
        self.title.setStyleSheet("font-weight: bold; padding: 4px 0;")
        outer.addWidget(self.title)
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.note.setStyleSheet("color: #666;")
        outer.addWidget(self.note)
        self.box = QGroupBox("Parameters")
        self.form = QFormLayout(self.box)
        outer.addWidget(self.box)
        palette = QHBoxLayout()
        self.palette = QComboBox()
        for name, ldef in LAYERS.items():
            self.palette.addItem(name)
            self.palette.setItemData(self.palette.count() - 1, ldef.doc, 3)  # ToolTipRole
        self.insert_button = QPushButton("Insert after")
        self.insert_button.clicked.connect(self._insert)
        palette.addWidget(QLabel("Layer:"))
        palette.addWidget(self.palette, 1)
        palette.addWidget(self.insert_button)
        outer.addLayout(palette)
        moves = QHBoxLayout()
        self.delete_button = QPushButton("Delete")
        self.up_button = QPushButton("Move up")
        self.down_button = QPushButton("Move down")
        for button, slot, keys in ((self.delete_button, self.delete_layer, "Alt+Delete"),
                                   (self.up_button, lambda: self.move_layer(-1), "Alt+Up"),
                                   (self.down_button, lambda: self.move_layer(1), "Alt+Down")):
            button.clicked.connect(slot)
            button.setEnabled(False)
            button.setProperty("keys", keys)
            moves.addWidget(button)
        moves.addStretch(1)
        outer.addLayout(moves)
        outer.addStretch(1)
        self._item: tuple[int, int] | str = "no layer selected"
        self._uses = 0
        self.index: TextIndex | None = None  # the valid spec and the text edits are planned on
        self.layer: LayerPlan | None = None
        self.term: Term | None = None
        self.fields: dict[str, QWidget] = {}
        self.box.hide()
        self.insert_button.setEnabled(False)

    def _clear(self, index: TextIndex | None) -> None:
        self.index, self.layer, self.term = index, None, None
        while self.form.rowCount():
            self.form.removeRow(0)
        self.fields = {}
        self.errors: dict[str, QLabel] = {}
        self._spans: dict[str, tuple] = {}

    def show_layer(self, index: TextIndex | None, path: tuple | None) -> None:
        """Build the form for the layer at `path` of the index's spec (None clears it)."""
        self._clear(index)
        layer = index.spec.analysis.layers.get(tuple(path)) if index and path else None
        self.layer = layer
        self.insert_button.setEnabled(layer is not None)
        self._update_moves()
        if layer is None or layer.kind not in LAYERS:
            self.title.setText("Select a layer in the text or the architecture panel."
                               if layer is None else f"{layer.kind}: edit it in the text")
            self.note.setText("")
            self.box.hide()
            return
        ldef = LAYERS.get(layer.kind)
        self.title.setText(f"{layer.kind}   ({'.'.join(map(str, layer.path[1:]))})")
        uses = self._uses
        shared = f"\nIts text is shared by {uses} layers (a block): edits apply to all of them."
        self.note.setText((ldef.doc.split("\n")[0] if ldef.doc else "")
                          + (shared if uses > 1 else ""))
        for key, schema in ldef.params.items():
            schema = scalar_schema(schema)
            if self._expression_row(key, tuple(layer.path), layer.kind, layer.params.get(key),
                                    schema):
                continue
            widget = _field(schema, layer.params.get(key))
            edit = plan_edit(index.lines, index.spec.locations, index.file, tuple(layer.path),
                             layer.kind, key, ldef.primary, layer.params.get(key, 0))
            if edit is None or isinstance(widget, QLineEdit):
                widget.setEnabled(False)
                widget.setToolTip("set by an expression or a layout the form cannot edit; "
                                  "change it in the text")
            else:
                _connect(widget, lambda _=None, k=key: self._changed(k))
            self.form.addRow(key, widget)
            self.fields[key] = widget
        self.box.setVisible(bool(self.fields))

    def _update_moves(self) -> None:
        """Enable delete/move for a layer written as one item of its network's layers list."""
        index, layer = self.index, self.layer
        self._uses = 0
        if index is None or layer is None:
            self._item = "select a layer"
        else:
            self._uses = index.uses(tuple(layer.path))
            self._item = layer_item(index.lines, index.spec.locations, index.file,
                                    tuple(layer.path), self._uses)
        ok = not isinstance(self._item, str)
        lines = index.lines if index else []
        moves = {self.up_button: plan_move(lines, *self._item, -1) if ok else None,
                 self.down_button: plan_move(lines, *self._item, 1) if ok else None,
                 self.delete_button: plan_delete(lines, *self._item) if ok else None}
        names = {self.delete_button: "Delete the layer", self.up_button: "Move the layer up",
                 self.down_button: "Move the layer down"}
        for button, edit in moves.items():
            button.setEnabled(edit is not None)
            keys = button.property("keys")
            if ok and edit is None:
                why = "it is already at that end of the list"
            else:
                why = self._item if not ok else ""
            button.setToolTip(f"{names[button]} ({keys})" + (f": not possible, {why}"
                                                             if why else ""))

    def delete_layer(self) -> None:
        """Remove the selected layer's lines (one undo step)."""
        if self.isEnabled() and not isinstance(self._item, str):
            self.editRequested.emit(TextEdit.of_lines(
                self.index.lines, plan_delete(self.index.lines, *self._item), "delete"))

    def move_layer(self, step: int) -> None:
        """Swap the selected layer's lines with the previous (-1) or next (1) layer item."""
        if self.isEnabled() and not isinstance(self._item, str):
            edit = plan_move(self.index.lines, *self._item, step)
            if edit is not None:
                self.editRequested.emit(TextEdit.of_lines(self.index.lines, edit, "move"))

    def show_loss(self, index: TextIndex | None, path: tuple | None) -> None:
        """Build the form for the loss term at `path` (objectives, name, loss, index)."""
        self._clear(index)
        self.insert_button.setEnabled(False)
        self._update_moves()
        terms = index.spec.analysis.terms if index else []
        term = next((t for t in terms if path and t.path == tuple(path)), None)
        if term is None:
            self.title.setText("Select a layer or a loss term.")
            self.note.setText("")
            self.box.hide()
            return
        self.term = term
        ldef = term.definition
        analysis = index.spec.analysis
        self.title.setText(f"loss term {term.kind}   (objective {term.objective}, "
                           f"term {term.index})")
        self.note.setText(ldef.doc.split("\n")[0] if getattr(ldef, "doc", "") else "")
        networks = list(analysis.networks)
        tensors = list(dict.fromkeys([*analysis.tensor_shapes, *analysis.sources]))
        for key, schema in ldef.params.items():
            value = term.params.get(key)
            if self._expression_row(key, term.path, term.kind, value, schema):
                continue
            if key in ldef.networks:
                widget = _choice(networks, value)
            elif key in ldef.tensors:
                widget = _choice(tensors, value) if not isinstance(value, list) else \
                    _field({}, value)
            elif schema.get("type") == "string":
                widget = QLineEdit("" if value is None else str(value))
                widget.setPlaceholderText("default")
                widget.setToolTip(schema.get("description", ""))
            else:
                widget = _field(schema, value)
            edit = plan_edit(index.lines, index.spec.locations, index.file, term.path, term.kind,
                             key, None, value if value is not None else "x")
            if edit is None or (isinstance(widget, QLineEdit) and widget.isReadOnly()):
                widget.setEnabled(False)
                widget.setToolTip("set by an expression or a layout the form cannot edit; "
                                  "change it in the text")
            elif isinstance(widget, QLineEdit):
                widget.editingFinished.connect(lambda k=key: self._changed(k))
            else:
                _connect(widget, lambda _=None, k=key: self._changed(k))
            self.form.addRow(key, widget)
            self.fields[key] = widget
        self.box.setVisible(bool(self.fields))

    def _expression_row(self, key: str, path: tuple, kind: str, value: object,
                        schema: dict) -> bool:
        """A field written as an expression (`${ngf * 2}`): its text, editable, the value it
        gives beside it, and a line under it for what is wrong with a new text. False when
        the field is not written as an expression."""
        index = self.index
        span = written_field(index.lines, index.spec.locations, index.file, path, kind, key)
        if span is None or not is_expression(span[3]):
            return False
        widget = QLineEdit(shown_text(span[3]))
        widget.setToolTip(f"{schema.get('description', '')}\nAn expression over the spec's "
                          "params; Enter checks it and writes it in the text".lstrip())
        widget.editingFinished.connect(lambda k=key: self._expression_changed(k))
        value_label = QLabel(f"= {format_value(value)}" if value is not None else "")
        value_label.setStyleSheet("color: #666;")
        row = QWidget()
        layout = QHBoxLayout(row)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(widget, 1)
        layout.addWidget(value_label)
        error = QLabel()
        error.setWordWrap(True)
        error.setStyleSheet("color: #c62828;")
        error.hide()
        self.form.addRow(key, row)
        self.form.addRow("", error)
        self.fields[key], self.errors[key], self._spans[key] = widget, error, span
        return True

    def _expression_changed(self, key: str) -> None:
        """Check a new text of an expression field with the whole spec: write it, or say
        beside the field why not (the text is left as it was)."""
        widget, error, span = self.fields[key], self.errors[key], self._spans[key]
        new = widget.text().strip()
        if self.index is None or new == shown_text(span[3]):
            error.hide()
            widget.setStyleSheet("")
            return
        edit = field_edit("\n".join(self.index.lines), self.index.file,
                          self.index.spec.base_dir, span, new, f"set {key}")
        if isinstance(edit, str):
            error.setText(f"✗ {edit}")
            error.show()
            widget.setStyleSheet("border: 1px solid #c62828; background: #fdecea;")
            return
        error.hide()
        widget.setStyleSheet("")
        self._spans[key] = (*span[:3], new)  # written: the same text again changes nothing
        self.editRequested.emit(edit)

    def _changed(self, key: str) -> None:
        index = self.index
        if index is None:
            return
        if self.layer is not None:
            path, kind = tuple(self.layer.path), self.layer.kind
            primary, params = LAYERS.get(kind).primary, self.layer.params
        elif self.term is not None:
            path, kind, primary, params = self.term.path, self.term.kind, None, self.term.written
        else:
            return
        widget = self.fields[key]
        value = widget.text().strip() if isinstance(widget, QLineEdit) else _value_of(widget)
        if value in (None, "") or value == params.get(key):
            return
        edit = plan_edit(index.lines, index.spec.locations, index.file, path, kind, key, primary,
                         value)
        if edit is not None:
            self.editRequested.emit(TextEdit.columns(index.lines, [edit], f"set {key}"))

    def _insert(self) -> None:
        self.insert_layer(self.palette.currentText())

    def insert_layer(self, kind: str) -> bool:
        """Ask to insert a new `kind` layer after the selected one (Layer > Insert); False when
        no layer is selected or the form waits for the text to validate."""
        if self.layer is None or self.index is None or not self.isEnabled():
            return False
        index = self.index
        planned = plan_insert(index.lines, index.spec.locations, index.file,
                              tuple(self.layer.path), kind)
        if planned is None:
            return False
        self.palette.setCurrentText(kind)
        self.editRequested.emit(TextEdit.insert_after(index.lines, *planned, f"insert {kind}"))
        return True


def _choice(names: list[str], value: object) -> QComboBox:
    """A combo box of names (tensors or networks); an unset optional value shows as empty."""
    widget = QComboBox()
    if value is None:
        widget.addItem("")
    widget.addItems(names)
    if value is not None and str(value) not in names:
        widget.addItem(str(value))
    widget.setCurrentText("" if value is None else str(value))
    return widget


def _connect(widget: QWidget, slot) -> None:
    if isinstance(widget, QComboBox):
        widget.currentTextChanged.connect(slot)
    elif isinstance(widget, QCheckBox):
        widget.toggled.connect(slot)
    else:
        widget.valueChanged.connect(slot)
