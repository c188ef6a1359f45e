"""The canvas model: the layer graph and the iteration as something to edit, without a screen.

The YAML text stays the only model. A canvas gesture (drop a library entry between two nodes,
drag a node, Delete, copy/paste, drag an output port onto a merge, add a network call or a
loss term, change a weight) becomes one `TextEdit`: line ranges of the text to replace,
planned here against the text and the last valid spec, applied by the editor as one undo step.
Everything outside the changed lines (comments, key order, layout) is left as written.

A network's layers are resolved (blocks and repeats expanded), but the text holds *items*: one
written entry of the `layers:` list, which may stand for several layers (`repeat: {block: …}`).
`network_items` finds which resolved layers each item wrote, by expanding the text's own tree
with a marker between the items; edits then work on items, so a layer expanded from a block is
edited as its block use, never as the block's shared text.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

from ganbuilder.design.labels import layer_brief
from ganbuilder.design.syntax import find_comment
from ganbuilder.design.text_edits import (
    TextChange,
    TextEdit,
    format_value,
    item_end,
    layer_line,
    new_layer_params,
    plan_edit,
    scalar_schema,
)
from ganbuilder.errors import SpecError
from ganbuilder.layers import CONTAINERS, LAYERS, LayerDef, is_merge
from ganbuilder.layers.registry import format_shape
from ganbuilder.losses.registry import LOSSES
from ganbuilder.spec import Spec
from ganbuilder.spec.expr import ExprError, parse_forward
from ganbuilder.spec.resolve import expand_blocks, substitute_params, tree_from_text
from ganbuilder.spec.shapes import LayerPlan
from ganbuilder.spec.yaml_loader import LDict, LList

_MARK = "\x00canvas-item-"
_ITEM = re.compile(r"^(\s*)- ")
_ID = re.compile(r"(,\s*id:\s*[^,}]+(?=[,}]))|(\bid:\s*[^,}]+,\s*)")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


# -- the model ------------------------------------------------------------------------------
@dataclass(frozen=True)
class TextItem:
    """One written entry of a network's `layers:` list: its lines (1-based; 0 when it is
    not in this text) and the resolved layers [start, stop) it stands for."""

    index: int
    first: int
    last: int
    start: int
    stop: int
    expands: bool  # a block use or a repeat of a block: several layers from one entry
    label: str = ""  # `repeat ×3 of down` for an expanding item
    block: str = ""  # the block it uses (`down`)
    times: int = 0  # a repeat's count (0: a single block use)

    @property
    def editable(self) -> bool:
        return self.first > 0


@dataclass
class CanvasNode:
    """A node of the layer canvas: one resolved top-level layer, or one network input."""

    key: str  # the layer's slot (its id or `networks.G.layers[3]`), or the input's name
    path: tuple
    kind: str  # the layer kind, or "input"
    brief: str  # key parameters, `out=128, kernel=4`
    shape: str
    params: int | None
    sources: list[str]
    item: int | None = None  # index of the TextItem that wrote it (None: an input)
    children: list[CanvasNode] = field(default_factory=list)

    @property
    def merge(self) -> bool:
        return is_merge(self.kind) or len(self.sources) > 1


@dataclass(frozen=True)
class _BlockUse:
    """A use of a block that the canvas edits through the block's definition."""

    name: str
    item: TextItem
    firsts: tuple[int, ...]  # the first line of each of the block's layers
    uses: int  # uses of the block in the whole spec

    def offset(self, position: int) -> int:
        """Which of the block's layers resolved layer `position` (or the gap before it) is."""
        return (position - self.item.start) % len(self.firsts)

    def note(self) -> str:
        copies = (self.item.stop - self.item.start) // len(self.firsts)
        return (f"in block {self.name}: every use of {self.name} changes ({copies} here"
                + (f", {self.uses} uses in all)" if self.uses > 1 else ")"))


class CanvasModel:
    """The canvas of `spec`, checked from `text` as `file`; `summary` (from
    ganbuilder.summary) gives the parameter counts when known."""

    def __init__(self, spec: Spec, text: str, file: str, summary: dict | None = None):
        self.spec, self.text, self.file = spec, text, file
        self.lines = text.split("\n")
        self.summary = summary or {}
        self._items, self.blocks = _written_items(spec, text, file)
        # networks whose layers are written by the same lines (a YAML anchor and its alias)
        owners: dict[int, set[str]] = {}
        for name, items in self._items.items():
            for item in items:
                if item.editable:
                    owners.setdefault(item.first, set()).add(name)
        self._shared = {name: sorted(set().union(*(owners[i.first] for i in items
                                                   if i.editable)) - {name})
                        for name, items in self._items.items()}

    # -- reading ----------------------------------------------------------------------------
    def items(self, network: str) -> list[TextItem]:
        """The written entries of `network`'s layers list, in order."""
        return self._items.get(network, [])

    def nodes(self, network: str) -> list[CanvasNode]:
        """The inputs, then one node per resolved top-level layer, in order."""
        plan = self.spec.analysis.networks[network]
        rows = (self.summary.get("networks", {}).get(network) or {}).get("layers") or []
        out = [CanvasNode(name, ("networks", network), "input", "",
                          format_shape(plan.input_shapes[i]) if i < len(plan.input_shapes)
                          else "", None, [])
               for i, name in enumerate(plan.inputs)]
        owner = {i: item.index for item in self.items(network)
                 for i in range(item.start, item.stop)}
        for i, layer in enumerate(plan.layers):
            node = _node(layer, rows[i] if i < len(rows) else None)
            node.item = owner.get(i)
            out.append(node)
        return out

    def item_of(self, network: str, position: int) -> TextItem | None:
        """The entry that wrote resolved layer `position`."""
        return next((item for item in self.items(network)
                     if item.start <= position < item.stop), None)

    # -- layer edits ------------------------------------------------------------------------
    def insert_layer(self, network: str, position: int, kind: str) -> TextEdit | str:
        """A new layer at resolved `position` (0: first, len: last), its required parameters
        filled so that it fits the tensor it receives; or why not. `kind` is a registered
        layer, a container (`residual`, `repeat`, holding a relu to start from) or
        `block:NAME`, a use of one of this spec's blocks."""
        plan = self.spec.analysis.networks.get(network)
        if plan is None:
            return f"no network '{network}'"
        in_shape = (plan.layers[position - 1].out_shape if position > 0
                    else (plan.input_shapes[0] if plan.input_shapes else None))
        if kind == "residual":
            return self._insert_text(network, position, ["residual: [relu]"], "insert residual")
        if kind == "repeat":
            return self._insert_text(network, position, ["repeat: {times: 2, layers: [relu]}"],
                                     "insert repeat", select_first=True)
        if kind.startswith("block:"):
            name = kind.split(":", 1)[1]
            if name not in self.blocks:
                return f"no block '{name}' in this file"
            args = self.block_args(network, position, name, in_shape)
            body = ", ".join(f"{k}: {format_value(v)}" for k, v in args.items())
            return self._insert_text(network, position, [f"{{block: {name}"
                                                         + (f", {body}}}" if body else "}")],
                                     f"insert block {name}", select_first=bool(args))
        if kind not in LAYERS:
            return f"unknown layer '{kind}'"
        params = self.new_params(network, position, kind, in_shape)
        return self._insert_text(network, position, [layer_line(kind, params)],
                                 f"insert {kind}", select_first=bool(params))

    def block_args(self, network: str, position: int, name: str, in_shape) -> dict:
        """The arguments a new use of block `name` is written with: those without a default;
        the first takes the channels it receives, a `name`/`id` a new id, a `skip` an
        earlier named tensor, anything else 1."""
        plan = self.spec.analysis.networks[network]
        shape = tuple(in_shape or ())
        needed = [k for k, v in self.blocks[name].items() if v is None]
        args: dict = {}
        for i, key in enumerate(needed):
            if key in ("name", "id"):
                args[key] = self._new_id(plan)
            elif key == "skip":
                args[key] = self._merge_partner(network, position, "concat", shape)
            else:
                args[key] = shape[0] if i == 0 and shape else 1
        return args

    def new_params(self, network: str, position: int, kind: str, in_shape) -> dict:
        """The parameters a new `kind` layer at `position` is written with: the required
        ones, chosen by its registry entry's `fit_params` so that it keeps the shape it
        receives where that is possible (a conv keeps the channels, kernel 3 with padding 1),
        its references an earlier named tensor of a shape it accepts; the rest at the
        schema's defaults."""
        ldef = LAYERS.get(kind)
        params = new_layer_params(kind)
        shape = tuple(in_shape or ())
        if ldef.fit_params is not None:
            params.update(ldef.fit_params(shape))
        for ref in ldef.refs:
            if ref in params:
                params[ref] = self._merge_partner(network, position, kind, shape, params)
        return params

    def _merge_partner(self, network: str, position: int, kind: str, shape: tuple,
                       params: dict | None = None) -> str:
        """The latest earlier named tensor that a `kind` layer at `position` receiving
        `shape` accepts, as its shape rule says (add: the same shape, concat: the same
        spatial size, adain: a style vector); the network's first input when none fits."""
        plan = self.spec.analysis.networks[network]
        named = list(zip(plan.inputs, plan.input_shapes, strict=False))
        named += [(layer.slot, layer.out_shape) for layer in plan.layers[:position]
                  if not layer.slot.startswith("networks.")]
        ldef = LAYERS.get(kind)
        for name, other in reversed(named):
            if shape and _accepts(ldef, {**(params or {}), **dict.fromkeys(ldef.refs, name)},
                                  shape, tuple(other)):
                return name
        return plan.inputs[0] if plan.inputs else "input"

    def _boundary(self, network: str, position: int) -> tuple[int, str] | str:
        """(line after which to write a new entry at resolved `position`, the entries'
        indentation), or why a new entry cannot go there."""
        items = self.items(network)
        if not items:
            return f"{network} has no layers list written in this file"
        if self._shared.get(network):
            return self._shared_reason(network)
        if not any(item.editable for item in items):
            return f"{network}'s layers are written in another file (extends)"
        after = [i for i in items if i.stop == position and i.editable]
        before = [i for i in items if i.start == position and i.editable]
        if after and before:  # a zero-length entry (`times: 0`) sits between: after it
            after = [i for i in after if i.first >= before[0].first - 1] or after
        if after:
            anchor, first = after[-1].last, after[-1].first
        elif before:
            anchor, first = before[0].first - 1, before[0].first
        else:
            return "that place is inside a block or repeat; edit the block instead"
        while anchor > 0 and before and not after \
                and self.lines[anchor - 1].lstrip().startswith("#"):
            anchor -= 1  # a comment written just above an entry stays with it
        match = _ITEM.match(self.lines[first - 1])
        return anchor, (match.group(1) if match else "")

    def _block_use(self, network: str, position: int, gap: bool = False
                   ) -> _BlockUse | str | None:
        """The use of a block (`block:` or `repeat: {block: ...}`) that holds resolved layer
        `position` (with `gap`: the place before it, strictly inside the use) and where the
        block's own layers are written; a reason when that block cannot be edited from the
        canvas; None when `position` is in no block use."""
        item = next((i for i in self.items(network)
                     if (i.start < position < i.stop if gap else i.start <= position < i.stop)),
                    None)
        if item is None or not item.expands or not item.editable:
            return None
        try:
            tree = tree_from_text(self.text, self.file, Path(self.spec.base_dir))
            entry = tree["networks"][network]["layers"][item.index]
        except (SpecError, KeyError, IndexError, TypeError):
            return None
        name = entry.get("block") or (entry.get("repeat") or {}).get("block")
        block = (tree.get("blocks") or {}).get(name)
        layers = block.get("layers") if isinstance(block, LDict) else None
        if not isinstance(layers, LList) or not layers or any(
                loc is None or loc.file != self.file for loc in layers.item_locs):
            return f"block '{name}' is not written here as a list of layers"
        firsts = [loc.line for loc in layers.item_locs]
        if len(set(firsts)) != len(firsts) or not all(
                _ITEM.match(self.lines[line - 1]) for line in firsts):
            return f"block '{name}' is not written one layer per line: edit its text"
        size = len(layers)
        if (item.stop - item.start) % size or any(
                isinstance(x, LDict) and ({*CONTAINERS, "block"} & set(x))
                for x in layers):
            return f"block '{name}' holds containers: edit its text to change it"
        uses = sum(1 for items in self._items.values() for i in items
                   if i.expands and i.block == name) or 1
        return _BlockUse(str(name), item, tuple(firsts), uses)

    def _in_block(self, network: str, position: int) -> tuple[int, str, str] | str | None:
        """Where a new entry at resolved `position`, strictly inside a use of a block, goes
        in that block's own `layers:` list: (line after which to write it, its indentation,
        a note that every use of the block changes); a reason when the block cannot be
        edited so; None when `position` is in no block use."""
        use = self._block_use(network, position, gap=True)
        if use is None or isinstance(use, str):
            return use
        offset = use.offset(position)
        anchor = use.firsts[offset] - 1
        match = _ITEM.match(self.lines[use.firsts[0] - 1])
        return anchor, (match.group(1) if match else ""), use.note()

    def _block_entry(self, use: _BlockUse, offset: int) -> tuple[int, int]:
        """First and last line of the block's layer number `offset`."""
        first = use.firsts[offset]
        return first, item_end(self.lines, first)

    def _insert_text(self, network: str, position: int, bodies: list[str], summary: str,
                     select_first: bool = False) -> TextEdit | str:
        where = self._boundary(network, position)
        if isinstance(where, str):
            inside = self._in_block(network, position)
            if inside is None or isinstance(inside, str):
                return inside or where
            anchor, indent, note = inside
            where, summary = (anchor, indent), f"{summary} {note}"
        anchor, indent = where
        new = [f"{indent}- {body}" if i == 0 else f"{indent}  {body}"
               for i, body in enumerate(bodies)]
        lines = self.lines[:anchor] + new + self.lines[anchor:]
        line = anchor + 1
        col = len(indent) + 2
        end = len(new[0])
        if select_first:
            value = re.search(r"\{\w+: ([^,}]+)", new[0])
            if value:
                col, end = value.start(1), value.end(1)
        return TextEdit.between(self.lines, lines, (line, col, end), summary)

    def _editable_item(self, network: str, position: int) -> TextItem | str:
        item = self.item_of(network, position)
        if item is None:
            return "no such layer"
        if not item.editable:
            return "its text is not in this file (inherited through extends)"
        if self._shared.get(network):
            return self._shared_reason(network)
        return item

    def _shared_reason(self, network: str) -> str:
        others = ", ".join(self._shared[network])
        return (f"{network}'s layers are written once for {network} and {others} (a YAML "
                "anchor); edit the text to change them all")

    def delete_layer(self, network: str, position: int, whole: bool = False
                     ) -> TextEdit | str:
        """Remove the entry that wrote layer `position`; a layer of a block use is removed
        from the block's definition (every use changes, and the summary says so), unless
        `whole`: then the whole use (a `block:` entry or its repeat) goes."""
        use = None if whole else self._block_use(network, position)
        if isinstance(use, str):
            return use
        if use is not None:
            if len(use.firsts) == 1:
                return (f"this is block {use.name}'s only layer: delete the whole use "
                        "(collapse its group, then Delete)")
            first, last = self._block_entry(use, use.offset(position))
            kind = self.spec.analysis.networks[network].layers[position].kind
            lines = self.lines[:first - 1] + self.lines[last:]
            return TextEdit.between(self.lines, lines, (min(first, len(lines)), 0, 0),
                                    f"delete {kind} {use.note()}")
        item = self._editable_item(network, position)
        if isinstance(item, str):
            return item
        lines = self.lines[:item.first - 1] + self.lines[item.last:]
        line = min(item.first, len(lines))
        return TextEdit.between(self.lines, lines, (line, 0, 0), "delete")

    def move_layer(self, network: str, position: int, to: int, whole: bool = False
                   ) -> TextEdit | str:
        """Move the entry that wrote layer `position` so that it starts at resolved `to`
        (counted before the move); comments between entries stay where they are. A layer of
        a block use moves within its block's definition (every use changes), unless
        `whole`: then the whole use moves."""
        use = None if whole else self._block_use(network, position)
        if isinstance(use, str):
            return use
        if use is not None:
            return self._move_in_block(network, use, position, to)
        item = self._editable_item(network, position)
        if isinstance(item, str):
            return item
        if item.start <= to <= item.stop:
            return "it is already there"
        where = self._boundary(network, to)
        if isinstance(where, str):
            inside = self._block_use(network, to, gap=True)
            if isinstance(inside, _BlockUse):
                return (f"that place is inside block {inside.name}: a layer goes into a "
                        "block from the library, or by editing the block's text")
            return where
        anchor, _ = where
        return self._move_lines(item.first, item.last, anchor, "move")

    def _move_in_block(self, network: str, use: _BlockUse, position: int, to: int
                       ) -> TextEdit | str:
        """Reorder the block's definition: its layer at `position` to the gap `to` of the
        same copy of the block."""
        start = position - use.offset(position)
        if not start <= to <= start + len(use.firsts):
            return (f"a layer of block {use.name} moves only within the block (every use "
                    "changes); to move the whole use, collapse its group and drag that")
        offset, gap = use.offset(position), to - start
        if gap in (offset, offset + 1):
            return "it is already there"
        first, last = self._block_entry(use, offset)
        anchor = use.firsts[gap] - 1 if gap < len(use.firsts) \
            else self._block_entry(use, len(use.firsts) - 1)[1]
        kind = self.spec.analysis.networks[network].layers[position].kind
        return self._move_lines(first, last, anchor, f"move {kind} {use.note()}")

    def _move_lines(self, first: int, last: int, anchor: int, summary: str) -> TextEdit:
        """Lines first..last moved to after line `anchor` (counted before the move)."""
        block = self.lines[first - 1:last]
        rest = self.lines[:first - 1] + self.lines[last:]
        if anchor >= last:
            anchor -= len(block)
        lines = rest[:anchor] + block + rest[anchor:]
        indent = len(block[0]) - len(block[0].lstrip())
        return TextEdit.between(self.lines, lines, (anchor + 1, indent, indent), summary)

    def copy_layer(self, network: str, position: int, whole: bool = False) -> list[str] | str:
        """The text of the entry that wrote layer `position` (a layer of a block use: its
        entry in the block, unless `whole`), dedented, without its `id` (a copy with the
        same id would clash): what the clipboard holds."""
        use = None if whole else self._block_use(network, position)
        if isinstance(use, _BlockUse):  # a layer of a block: its line in the block
            first, last = self._block_entry(use, use.offset(position))
        else:
            item = self._editable_item(network, position)
            if isinstance(item, str):
                return item
            first, last = item.first, item.last
        block = self.lines[first - 1:last]
        dash = len(block[0]) - len(block[0].lstrip())
        body = [block[0][dash + 2:]] + [line[dash + 2:] if line[:dash + 2].strip() == ""
                                        else line.lstrip() for line in block[1:]]
        body = [_without_id(line) for line in body]
        body = [line for line in body if line.strip() or line == ""]
        if any(re.match(r"\s*id:", line) for line in body[1:]):
            body = [line for line in body if not re.match(r"\s*id:", line)]
        return body

    def paste_layer(self, network: str, position: int, body: list[str]) -> TextEdit | str:
        """Write a copied entry (`copy_layer`) at resolved `position`."""
        return self._insert_text(network, position, body, "paste")

    def duplicate_layer(self, network: str, position: int) -> TextEdit | str:
        """A copy of the entry that wrote layer `position`, right after it (a layer of a
        block: right after it in the block's definition)."""
        body = self.copy_layer(network, position)
        if isinstance(body, str):
            return body
        use = self._block_use(network, position)
        if isinstance(use, _BlockUse):
            _, last = self._block_entry(use, use.offset(position))
            indent = _ITEM.match(self.lines[use.firsts[0] - 1]).group(1)
            new = [f"{indent}- {line}" if i == 0 else f"{indent}  {line}"
                   for i, line in enumerate(body)]
            lines = self.lines[:last] + new + self.lines[last:]
            return TextEdit.between(self.lines, lines, (last + 1, len(indent) + 2, len(new[0])),
                                    f"duplicate {use.note()}")
        return self.paste_layer(network, self.item_of(network, position).stop, body)

    def wire_skip(self, network: str, source: str, position: int) -> TextEdit | str:
        """Feed the output of `source` (a layer slot or an input name) into layer
        `position`: a concat/add there takes it `with:`; any other layer gets a new
        `concat: {with: …}` written before it. A source without an `id` gets one."""
        plan = self.spec.analysis.networks[network]
        index = next((i for i, layer in enumerate(plan.layers) if layer.slot == source), None)
        if index is None and source not in plan.inputs:
            return f"no layer or input '{source}' in {network}"
        if index is not None and index >= position:
            return "a skip goes forward: drop it on a later layer"
        target = plan.layers[position]
        name, changes = source, []
        if index is not None and source.startswith("networks."):
            name = self._new_id(plan)
            item = self._editable_item(network, index)
            if isinstance(item, str) or item.expands:
                return "the source layer is written by a block or repeat; give it an id there"
            changes.append(self._add_id(item, name))
        if is_merge(target.kind):
            item = self._editable_item(network, position)
            if isinstance(item, str) or item.expands:
                return "that merge is written by a block; set its `with` there"
            edit = plan_edit(self.lines, self.spec.locations, self.file, tuple(target.path),
                             target.kind, "with", LAYERS.get(target.kind).primary, name)
            if edit is None:
                return "its `with` is not written in a form that can be changed in place"
            line, start, end, text = edit
            old = self.lines[line - 1]
            changes.append(TextChange(line, line, (old[:start] + text + old[end:],)))
        else:
            where = self._boundary(network, position)
            if isinstance(where, str):
                return where
            anchor, indent = where
            new = f"{indent}- {layer_line('concat', {'with': name})}"
            changes.append(TextChange(anchor + 1, anchor, (new,)))
        lines = TextEdit(tuple(changes), (1, 0, 0)).apply(self.text).split("\n")
        cursor_line = changes[-1].first + sum(len(c.lines) - (c.last - c.first + 1)
                                              for c in changes[:-1]
                                              if c.first < changes[-1].first)
        return TextEdit.between(self.lines, lines, (cursor_line, 0, 0),
                                f"skip {name} → {position}")

    def _new_id(self, plan) -> str:
        taken = {layer.slot for layer in plan.layers} | set(plan.inputs)
        return next(f"skip{n}" for n in range(1, len(taken) + 2) if f"skip{n}" not in taken)

    def _add_id(self, item: TextItem, name: str) -> TextChange:
        """Write `id: name` on a one-layer entry, in the form its text allows."""
        first = self.lines[item.first - 1]
        dash = len(_ITEM.match(first).group(1))
        at = find_comment(first)
        code, comment = (first, "") if at is None else (first[:at].rstrip(), first[at:])
        body = code[dash + 2:]
        tail = ("  " + comment) if comment else ""
        if item.last == item.first:
            if body.startswith("{") and body.endswith("}"):
                new = f"{code[:-1].rstrip()}, id: {name}}}"
            elif ":" not in body:
                new = f"{code[:dash + 2]}{{{body.strip()}: , id: {name}}}"
            else:
                kind, value = body.split(":", 1)
                new = f"{code[:dash + 2]}{{{kind.strip()}: {value.strip()}, id: {name}}}"
            return TextChange(item.first, item.first, (new + tail,))
        return TextChange(item.last + 1, item.last, (f"{' ' * (dash + 2)}id: {name}",))

    # -- iteration edits --------------------------------------------------------------------
    def add_call(self, name: str, expression: str) -> TextEdit | str:
        """A new forward entry `name: expression` (`fake: G(z)`), after the last one."""
        if not _NAME.match(name):
            return f"'{name}' is not a tensor name"
        if name in self.spec.analysis.forward or name in self.spec.analysis.sources:
            return f"'{name}' is already defined"
        try:
            parse_forward(expression)
        except ExprError as error:
            return f"'{expression}' is not a call: {error}"
        entries = [self.spec.locations.keys.get(("forward", key))
                   for key in self.spec.tree.get("forward", {})]
        entries = [e for e in entries if e is not None and e.file == self.file]
        if not entries:
            return "forward is not written in this file"
        last = max(entries, key=lambda e: e.line)
        anchor = item_end(self.lines, last.line)
        new = f"{' ' * (last.col - 1)}{name}: {expression}"
        lines = [*self.lines[:anchor], new, *self.lines[anchor:]]
        col = last.col - 1 + len(name) + 2
        return TextEdit.between(self.lines, lines, (anchor + 1, col, len(new)), f"add {name}")

    def new_term_params(self, objective: str, kind: str) -> dict:
        """The parameters a new `kind` loss term of `objective` is written with: tensors
        the iteration computes, a critic the objective does not update, defaults else."""
        ldef = LOSSES.get(kind)
        tensors = list(self.spec.analysis.order) or list(self.spec.analysis.sources)
        data = [n for n, source in self.spec.analysis.sources.items() if source == "data"]
        updates = self.spec.tree["objectives"][objective]["updates"]
        others = [n for n in self.spec.analysis.networks if n not in updates] or \
            list(self.spec.analysis.networks)
        shapes = self.spec.analysis.tensor_shapes
        made = tensors[-1] if tensors else "fake"
        # a reference to compare the generated tensor with: data of the same shape
        reference = next((n for n in data if shapes.get(n) == shapes.get(made)),
                         data[0] if data else made)
        params: dict = {}
        for key in ldef.required:
            if key in ldef.networks:
                params[key] = others[0]
            elif key in ldef.tensors:
                params[key] = reference if key in ("real", "target") else made
            else:
                schema = scalar_schema(ldef.params.get(key, {}))
                params[key] = schema.get("default", schema.get("minimum", 1))
        return params

    def add_loss_term(self, objective: str, kind: str, params: dict | None = None
                      ) -> TextEdit | str:
        """A new `kind` term at the end of `objective`'s loss list."""
        if kind not in LOSSES:
            return f"unknown loss term '{kind}'"
        terms = [t for t in self.spec.analysis.terms if t.objective == objective]
        wheres = [self.spec.locations.find(t.path) for t in terms]
        wheres = [w for w in wheres if w is not None and w.file == self.file]
        if not wheres:
            return f"objective {objective}'s loss list is not written in this file"
        last = max(wheres, key=lambda w: w.line)
        match = _ITEM.match(self.lines[last.line - 1])
        if match is None:
            return "the loss list is not written one term per line"
        anchor = item_end(self.lines, last.line)
        body = layer_line(kind, {**self.new_term_params(objective, kind), **(params or {})})
        new = f"{match.group(1)}- {body}"
        lines = [*self.lines[:anchor], new, *self.lines[anchor:]]
        return TextEdit.between(self.lines, lines, (anchor + 1, len(match.group(0)), len(new)),
                     f"add {kind} to {objective}")

    def set_term_param(self, term_path: tuple, key: str, value: object) -> TextEdit | str:
        """Set a loss term's parameter (`weight`, or a tensor port such as `fake`)."""
        term = next((t for t in self.spec.analysis.terms if t.path == tuple(term_path)), None)
        if term is None:
            return "no such loss term"
        edit = plan_edit(self.lines, self.spec.locations, self.file, term.path, term.kind,
                         key, None, value)
        if edit is None:
            return f"its {key} is not written in a form that can be changed in place"
        line, start, end, text = edit
        old = self.lines[line - 1]
        lines = list(self.lines)
        lines[line - 1] = old[:start] + text + old[end:]
        return TextEdit.between(self.lines, lines, (line, start, start + len(text)),
                     f"{key} = {format_value(value)}")

    def set_weight(self, term_path: tuple, weight: float) -> TextEdit | str:
        """Change a loss term's weight."""
        return self.set_term_param(term_path, "weight", weight)


def _accepts(ldef: LayerDef, params: dict, received: tuple, other: tuple) -> bool:
    """Whether the layer's shape rule takes `received` with `other`."""
    try:
        ldef.shape(ldef.normalize(params), [received, other])
    except Exception:  # a plugin's rule may fail any way: that tensor does not fit
        return False
    return True


def _without_id(line: str) -> str:
    """A flow-mapping line without its `id: …` entry (`{batch_norm: , id: d2}` ->
    `{batch_norm: }`, which the loader reads as batch_norm with defaults)."""
    if "{" not in line or "id:" not in line:
        return line
    return _ID.sub("", line, count=1)


def _node(layer: LayerPlan, row: dict | None) -> CanvasNode:
    count = row.get("params") if row else None
    child_rows = (row or {}).get("children") or []
    node = CanvasNode(layer.slot, tuple(layer.path), layer.kind, layer_brief(layer),
                      format_shape(layer.out_shape), count, list(layer.sources))
    node.children = [_node(child, child_rows[i] if i < len(child_rows) else None)
                     for i, child in enumerate(layer.children)]
    return node


def _written_items(spec: Spec, text: str, file: str
                   ) -> tuple[dict[str, list[TextItem]], dict[str, dict]]:
    """Per network, its written layer entries and the resolved layers each stands for: the
    text's tree is expanded with a marker string before each entry, and the markers'
    positions in the expanded list are the entries' boundaries. Also the blocks written in
    this text: name -> {argument: default, None where required}."""
    try:
        tree = tree_from_text(text, file, Path(spec.base_dir))
    except SpecError:
        return {}, {}
    blocks: dict[str, dict] = {}
    for name, block in (tree.get("blocks") or {}).items():
        declared = block.get("args") if isinstance(block, dict) else None
        blocks[name] = (dict(declared) if isinstance(declared, dict)
                        else dict.fromkeys(declared or ()))
    networks = tree.get("networks")
    if not isinstance(networks, LDict):
        return {}, blocks
    raw: dict[str, LList] = {}
    problems: list = []
    env = substitute_params(tree, problems)
    for name, net in networks.items():
        layers = net.get("layers") if isinstance(net, LDict) else None
        if not isinstance(layers, LList):
            continue
        raw[name] = layers
        marked = LList()
        marked.loc = layers.loc
        for i, (item, loc) in enumerate(zip(layers, layers.item_locs, strict=False)):
            marked.extend([f"{_MARK}{i}", item])
            marked.item_locs.extend([loc, loc])
        net["layers"] = marked
    expand_blocks(tree, env, problems)
    lines = text.split("\n")
    out: dict[str, list[TextItem]] = {}
    for name, layers in raw.items():
        if name not in spec.analysis.networks:
            continue
        expanded = tree["networks"][name]["layers"]
        marks = [i for i, x in enumerate(expanded) if isinstance(x, str) and x.startswith(_MARK)]
        starts = [m - k for k, m in enumerate(marks)]
        total = len(expanded) - len(marks)
        items = []
        for i, loc in enumerate(layers.item_locs):
            start, stop = starts[i], starts[i + 1] if i + 1 < len(starts) else total
            entry = layers[i]
            expands = isinstance(entry, LDict) and ("block" in entry or (
                isinstance(entry.get("repeat"), LDict) and "block" in entry["repeat"]))
            first = last = 0
            if loc is not None and loc.file == file and loc.line <= len(lines) \
                    and _ITEM.match(lines[loc.line - 1]):
                first, last = loc.line, item_end(lines, loc.line)
            block = entry.get("block") or entry["repeat"]["block"] if expands else ""
            rep = entry.get("repeat") if expands else None
            times = rep.get("times") if isinstance(rep, LDict) else 0
            items.append(TextItem(i, first, last, start, stop, expands,
                                  _label(entry) if expands else "", str(block),
                                  times if isinstance(times, int) else 0))
        out[name] = items
    return out, blocks


def _label(entry: LDict) -> str:
    """`down` for a block use, `repeat ×3 of down` for a repeat of one."""
    rep = entry.get("repeat")
    if isinstance(rep, LDict):
        return f"repeat ×{rep.get('times')} of {rep.get('block')}"
    return str(entry.get("block"))




# -- layout ---------------------------------------------------------------------------------
def wrap_columns(count: int, row: float, column: float, head: float,
                 view: tuple[float, float], readable: float) -> int:
    """How many columns a chain of `count` nodes is drawn in (each node `row` tall and
    `column` wide, gaps included, below inputs `head` tall) so that a view of size `view`
    shows it whole at the largest scale: one while one column shows whole at a `readable`
    scale; else the count giving the largest scale (the fewest columns among equals) if
    that scale is readable; else one."""
    width, height = view
    if count <= 1 or width <= 0 or height <= 0:
        return 1

    def scale(columns: int) -> float:
        rows = -(-count // columns)
        return min(width / (columns * column), height / (head + rows * row))

    if scale(1) >= readable:
        return 1
    best = max(range(1, count + 1), key=lambda c: (round(scale(c), 4), -c))
    # No count shows it whole and readable: one column, read by scrolling down (a wrapped
    # one would scroll both ways).
    return best if scale(best) >= readable else 1


def u_layout(sizes: list[int | None], skips: list[tuple[int, int]]
             ) -> list[tuple[int, float]] | None:
    """(column, row) per node of a chain drawn as a U, or None when it is not a U-Net.

    `sizes` is each node's spatial size (H*W, None for a vector), `skips` the (source,
    target) node indices of the skip connections. It is a U when at least two skips cross the
    bottleneck (the last node of smallest size): the encoder (up to the bottleneck) runs down
    column 0, the decoder up column 1, and each skip's two ends share a row, so skips run
    straight across; between two skips each side spreads its nodes over as many rows as the
    longer side needs."""
    known = [s for s in sizes if s is not None]
    if not known:
        return None
    smallest = min(known)
    m = max(i for i, s in enumerate(sizes) if s == smallest)
    n = len(sizes)
    pairs = sorted({(s, t) for s, t in skips if s <= m < t})
    nested = []
    for s, t in pairs:  # keep the nested ones: targets in reverse order of sources
        if not nested or (s > nested[-1][0] and t < nested[-1][1]):
            nested.append((s, t))
    if len(nested) < 2 or m + 1 >= n:
        return None
    if nested[-1] != (m, m + 1):
        nested.append((m, m + 1))
    out: list[tuple[int, float] | None] = [None] * n
    s0, t0 = nested[0]
    row = float(max(s0 + 1, n - t0)) - 1
    for i in range(s0 + 1):
        out[i] = (0, row - (s0 - i))
    for j in range(t0, n):
        out[j] = (1, row - (j - t0))
    for (s, t), (s_next, t_next) in itertools.pairwise(nested):
        a, b = s_next - s, t - t_next
        rows = max(a, b)
        for q in range(1, a + 1):
            out[s + q] = (0, row + q * rows / a)
        for q in range(1, b + 1):
            out[t - q] = (1, row + q * rows / b)
        row += rows
    top = min(r for _, r in out)
    return [(c, r - top) for c, r in out]


__all__ = ["CONTAINERS", "CanvasModel", "CanvasNode",
           "TextItem", "u_layout", "wrap_columns"]
