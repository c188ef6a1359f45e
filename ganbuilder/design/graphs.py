"""The graphs the designer draws, as plain data: boxes (`Node`) with their inputs and columns.

* `flow_nodes`: one training iteration: inputs (data, latent) -> network calls -> named
  tensors -> loss terms -> objectives. Each network call is its own node (a network called
  twice, as in CycleGAN, appears twice), so the graph has no cycles and a layered layout
  reads left to right; within a column the nodes are ordered (`row`) so that few edges
  cross. A loss term is named as it is logged, in words (`adversarial D_B`, `cycle_A`).
* `layer_graph`: one network: a node per top-level layer (kind and output shape), an edge per
  source (`LayerPlan.sources`), so skip connections (a U-Net's concats) are extra edges.

Every node carries the spec path its text is at: selecting a node selects that text.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from ganbuilder.layers.registry import format_shape, is_merge
from ganbuilder.spec import Spec
from ganbuilder.spec.expr import Forward, Tap
from ganbuilder.spec.pretrained import frozen_words
from ganbuilder.spec.shapes import NetworkPlan

KINDS = ("data", "latent", "network", "op", "tensor", "loss", "objective", "layer", "merge")


@dataclass
class Node:
    """One box: its key, label lines, kind (one of KINDS) and the spec path its text is at."""

    key: str
    lines: list[str]
    kind: str
    path: tuple
    column: int = 0
    inputs: list[str] = field(default_factory=list)
    row: int = 0  # the place within its column, top first


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

    def expr(e: Forward, owner: str, counter: list[int]) -> str:
        if isinstance(e, str):
            return tensor(e)
        counter[0] += 1
        key = f"c:{owner}:{counter[0]}"
        if isinstance(e, Tap):  # a layer's output read from the call that made the tensor
            nodes[key] = Node(key, [f"tap {e.layer}"], "op", ("forward", owner),
                              inputs=[tensor(e.tensor)])
            return key
        args = [expr(arg, owner, counter) for arg in e.args if not isinstance(arg, float)]
        numbers = [f"{arg:g}" for arg in e.args if isinstance(arg, float)]
        is_net = e.fn in a.networks
        path = ("networks", e.fn) if is_net else ("forward", owner)
        label = " ".join([e.fn, *numbers])
        nodes[key] = Node(key, [label, *frozen_label(spec, e.fn)], "network" if is_net
                          else "op", path, inputs=args)
        return key

    for name in a.order:
        call = expr(a.forward[name], name, [0])
        key = tensor(name)
        nodes[key].inputs.append(call)

    critics: dict[str, str] = {}
    words = {t.path: term_words(t.kind, t.label, t.networks) for t in a.terms}
    repeated = {w for w in words.values() if list(words.values()).count(w) > 1}
    for oname, objective in spec.tree["objectives"].items():
        term_keys = []
        for term in a.objective_terms(oname):
            tkey = f"l:{oname}:{term.index}"
            # a name two objectives share (each side of an adversarial game) says whose
            second = ([f"objective {oname}"] if words[term.path] in repeated else []) + (
                [f"× {term.weight:g}"] if term.weight != 1 else [])
            label = [words[term.path]] + ([" · ".join(second)] if second else [])
            inputs = [tensor(name) for name in term.names()]
            for net in term.networks.values():
                if net not in critics:
                    critics[net] = f"n:{net}"
                    role = "features" if term.kind == "perceptual" else "critic"
                    nodes[critics[net]] = Node(critics[net], [net, role,
                                                              *frozen_label(spec, net)],
                                               "network", ("networks", net))
                inputs.append(critics[net])
            nodes[tkey] = Node(tkey, label, "loss", term.path, inputs=list(dict.fromkeys(inputs)))
            term_keys.append(tkey)
        updates = ", ".join(objective["updates"])
        nodes[f"o:{oname}"] = Node(f"o:{oname}", [f"objective {oname}", f"updates {updates}"],
                                   "objective", ("objectives", oname), inputs=term_keys)
    _assign_columns(nodes)
    _order_rows(nodes)
    return nodes


def term_words(kind: str, label: str, networks: dict[str, str]) -> str:
    """A loss term's name on the graph: its logged label where that says more than its kind
    (`cycle_A`), an adversarial term with its critic (`adversarial D_B`), else its kind."""
    if kind == "adversarial" and networks.get("critic") and label.startswith("adv_"):
        return f"adversarial {networks['critic']}"
    if label == kind or label.startswith(kind):
        return label
    return f"{kind} {label}"


def bend_key(source: str, target: str, column: int) -> str:
    """The key of the point where the edge source -> target passes column `column`."""
    return f"b:{source}>{target}@{column}"


def flow_columns(nodes: dict[str, Node], sweeps: int = 8) -> dict[int, list[str]]:
    """Each column's entries, top first: node keys, and for an edge that spans several
    columns a bend point (`bend_key`) in each column it passes, so that it runs between
    nodes rather than behind them. The order keeps few edges crossing: sweeps sort each
    column by the mean place of its entries' inputs, then back by that of their users (the
    barycentre heuristic); the order with the fewest crossings is kept."""
    columns: dict[int, list[str]] = {}
    inputs: dict[str, list[str]] = {}
    for key, node in nodes.items():
        columns.setdefault(node.column, []).append(key)
        inputs[key] = []
    for key, node in nodes.items():
        for source in node.inputs:
            previous = source
            for column in range(nodes[source].column + 1, node.column):
                bend = bend_key(source, key, column)
                columns.setdefault(column, []).append(bend)
                inputs[bend] = [previous]
                previous = bend
            inputs[key].append(previous)
    users: dict[str, list[str]] = {key: [] for key in inputs}
    for key, sources in inputs.items():
        for source in sources:
            users[source].append(key)
    where: dict[str, float] = {}

    def place() -> None:
        for keys in columns.values():
            for row, key in enumerate(keys):
                where[key] = row - (len(keys) - 1) / 2

    column_of = {key: c for c, keys in columns.items() for key in keys}

    def crossings() -> int:
        pairs: dict[int, list[tuple[float, float]]] = {}
        for key, sources in inputs.items():
            for source in sources:
                pairs.setdefault(column_of[source], []).append((where[source], where[key]))
        return sum(1 for edges in pairs.values() for i, (a, b) in enumerate(edges)
                   for c, d in edges[i + 1:] if (a - c) * (b - d) < 0)

    def sort(column: int, neighbours: dict[str, list[str]]) -> None:
        keys = columns[column]

        def mean(key: str) -> float:
            near = neighbours[key]
            return sum(where[k] for k in near) / len(near) if near else where[key]

        columns[column] = sorted(keys, key=lambda k: (mean(k), keys.index(k)))
        place()

    place()
    best = (crossings(), {c: list(keys) for c, keys in columns.items()})
    for _ in range(sweeps):
        for column in sorted(columns)[1:]:
            sort(column, inputs)
        for column in sorted(columns, reverse=True)[1:]:
            sort(column, users)
        count = crossings()
        if count < best[0]:
            best = (count, {c: list(keys) for c, keys in columns.items()})
    return {c: best[1][c] for c in sorted(best[1])}


def crossings(nodes: dict[str, Node], columns: dict[int, list[str]] | None = None) -> int:
    """How many pairs of edges cross where they leave a column (bend points included), in
    the order `columns` gives (by default `flow_columns`)."""
    columns = columns if columns is not None else flow_columns(nodes)
    where = {key: row - (len(keys) - 1) / 2 for keys in columns.values()
             for row, key in enumerate(keys)}
    column_of = {key: c for c, keys in columns.items() for key in keys}
    pairs: dict[int, list[tuple[float, float]]] = {}
    for key, node in nodes.items():
        for source in node.inputs:
            chain = [source] + [bend_key(source, key, c)
                                for c in range(nodes[source].column + 1, node.column)] + [key]
            for a, b in itertools.pairwise(chain):
                pairs.setdefault(column_of[a], []).append((where[a], where[b]))
    return sum(1 for edges in pairs.values() for i, (a, b) in enumerate(edges)
               for c, d in edges[i + 1:] if (a - c) * (b - d) < 0)


def _order_rows(nodes: dict[str, Node]) -> None:
    """Each node's row: its place among the nodes of its column in `flow_columns`."""
    for keys in flow_columns(nodes).values():
        for row, key in enumerate(k for k in keys if k in nodes):
            nodes[key].row = row


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


def frozen_label(spec: Spec, network: str) -> list[str]:
    """The line a network's box gets when it is frozen (🔒 frozen) or has frozen layers."""
    plan = spec.analysis.networks.get(network)
    cfg = spec.tree["networks"].get(network)
    words = frozen_words(cfg, plan) if plan is not None and cfg is not None else ""
    return [f"🔒 {words}"] if words else []


def layer_graph(plan: NetworkPlan, frozen: set[int] | frozenset[int] = frozenset()
                ) -> tuple[dict[str, Node], list[tuple[str, str]]]:
    """The nodes (inputs first in column 0, then one per top-level layer, one column each;
    key = slot) and the edges (source key, target key) of a network, one edge per entry of
    each layer's sources; the layers at the indices `frozen` are marked 🔒."""
    nodes: dict[str, Node] = {}
    for i, name in enumerate(plan.inputs):
        shape = plan.input_shapes[i] if i < len(plan.input_shapes) else None
        nodes[name] = Node(name, [name] + ([format_shape(shape)] if shape else []), "data",
                           ("networks", plan.name), column=0)
    edges: list[tuple[str, str]] = []
    for row, layer in enumerate(plan.layers, start=1):
        index = layer.path[-1] if layer.path else row - 1
        named = "" if layer.slot.startswith("networks.") else f"  ({layer.slot})"
        # what a container holds, in words: `residual (7 layers)`, not a repeat count
        extra = (f" ({len(layer.children)} layer{'s' * (len(layer.children) != 1)})"
                 if layer.children else "")
        lock = "🔒 " if row - 1 in frozen else ""
        lines = [f"{lock}{index}  {layer.kind}{extra}{named}", format_shape(layer.out_shape)]
        kind = "merge" if is_merge(layer.kind) or len(layer.sources) > 1 else "layer"
        key = layer.slot if layer.slot not in nodes else f"{layer.slot}#{row}"
        nodes[key] = Node(key, lines, kind, tuple(layer.path), column=row,
                          inputs=list(layer.sources))
        edges.extend((source, key) for source in layer.sources)
    return nodes, edges


def skip_edges(nodes: dict[str, Node], edges: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The edges of a layer graph that do not come from the row just above."""
    return [(s, t) for s, t in edges if s in nodes and t in nodes
            and nodes[t].column - nodes[s].column > 1]


__all__ = ["KINDS", "Node", "bend_key", "crossings", "flow_columns", "flow_nodes",
           "frozen_label", "layer_graph", "skip_edges", "term_words"]
