"""Which forward tensors an objective computes, reuses or recomputes: the one definition that
the trainer's TensorCache runs on tensors and `eject --with-training` replays on names.

A tensor comes back with its autograd graph only to an objective that updates one of the
networks that produced it; otherwise it comes back detached, and what it is computed from is
taken detached too, so a critic's backward pass stops at its own inputs even when they pass
through shared layers (`h_fake: body(fake)`). An entry's graph can feed one backward pass:
after it (the graph is freed, or a producer has changed) the next use that needs the graph
recomputes it, while detached uses keep the value, as reference trainers do.

The decisions read names only (which networks produced a tensor, which the objective trains),
never a tensor's `requires_grad`, so a writer of source code can take the same ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

from ganbuilder.layers.registry import forward_functions
from ganbuilder.spec.analysis import Analysis
from ganbuilder.spec.expr import Forward, Tap

V = TypeVar("V")


class ForwardCache(Generic[V]):
    """The bookkeeping of one draw's named values; subclasses say how a value is made."""

    def __init__(self, analysis: Analysis, inputs: dict[str, V] | None = None):
        self.analysis = analysis
        self.values: dict[str, V] = dict(inputs or {})
        # Per entry: the networks its live graph runs through (empty: detached use only), and
        # the entries whose graphs it contains.
        self.through: dict[str, frozenset[str]] = {}
        self.parts: dict[str, frozenset[str]] = {}
        self.handed_out: set[str] = set()  # entries given with a graph since the last backward
        self.functions = forward_functions()  # the layers forward calls as functions

    def carries_graph(self, name: str, updates: frozenset[str]) -> bool:
        """Whether `name` comes back with its graph to an objective training `updates`."""
        return bool(self.analysis.producers.get(name, set()) & updates)

    def get(self, name: str, updates: frozenset[str] = frozenset()) -> V:
        """The value `name`; detached unless it was produced by a network in `updates`."""
        if name not in self.analysis.forward:
            if name not in self.values:
                self.values[name] = self.leaf(name)
            return self.detached(name)
        if self._computes(name, updates):
            through: set[str] = set()
            parts: set[str] = set()
            value = self._eval(self.analysis.forward[name], updates, through, parts,
                               taps_of=name)
            self.values[name] = self.store(name, value)
            self.through[name], self.parts[name] = frozenset(through), frozenset(parts)
        if not self.carries_graph(name, updates):
            return self.detached(name)
        self.handed_out.add(name)
        return self.values[name]

    def _computes(self, name: str, updates: frozenset[str]) -> bool:
        """Whether `get(name, updates)` computes the forward entry `name` (anew)."""
        wanted = self.analysis.producers.get(name, set()) & updates
        return name not in self.values or not wanted <= self.through.get(name, frozenset())

    def prefetch(self, names: Iterable[str], updates: frozenset[str]) -> None:
        """Compute the forward entries that reading `names` would compute, in the `forward`
        section's order, as the references run their passes (every generator pass before the
        critics' that the terms make); later `get`s of `names` then read them here. A tap
        (`fake.w`) counts as its tensor."""
        forward = self.analysis.forward
        due: set[str] = set()
        todo = [n if n in forward else n.split(".")[0] for n in names]
        while todo:
            name = todo.pop()
            if name in forward and name not in due and self._computes(name, updates):
                due.add(name)
                expr = forward[name]
                todo += [expr] if isinstance(expr, str) else sorted(expr.names())
        for name in forward:
            if name in due:
                self.get(name, updates)

    def _eval(self, expr: Forward | float, updates: frozenset[str], through: set[str],
              parts: set[str], taps_of: str | None = None) -> V:
        if isinstance(expr, float):
            return self.number(expr)
        if isinstance(expr, str | Tap):
            tensor = expr if isinstance(expr, str) else expr.tensor
            value = self.get(tensor, updates)
            graph = tensor in self.analysis.forward and self.carries_graph(tensor, updates)
            if graph:
                through |= self.through.get(tensor, frozenset())
                parts.add(tensor)
            # A tap comes from the pass that computed its tensor, with its graph or without.
            return self.tap(str(expr), graph) if isinstance(expr, Tap) else value
        args = [self._eval(a, updates, through, parts) for a in expr.args]
        if expr.fn in self.functions:
            return self.function(expr.fn, args)
        through.add(expr.fn)
        taps = self.analysis.taps.get(taps_of or "")
        if taps:
            return self.call_tapped(expr.fn, args, taps_of, taps)
        return self.call(expr.fn, args)

    def consumed(self, updates: frozenset[str]) -> None:
        """After an objective's backward: graphs it ran through are freed, and graphs through
        `updates` are stale; either way only detached uses remain."""
        for name in spent_graphs(self.handed_out, self.parts, self.through, updates):
            self.through[name] = frozenset()
        self.handed_out.clear()

    # -- how values are made (the trainer computes tensors, the writer writes statements) --
    def leaf(self, name: str) -> V:
        """A data or latent value not given with the inputs."""
        raise KeyError(name)

    def store(self, name: str, value: V) -> V:
        """What is kept for a computed entry."""
        return value

    def detached(self, name: str) -> V:
        """The entry `name` without its graph."""
        raise NotImplementedError

    def call(self, network: str, args: list[V]) -> V:
        raise NotImplementedError

    def number(self, value: float) -> V:
        """A constant operand of the tensor arithmetic."""
        raise NotImplementedError

    def function(self, fn: str, args: list[V]) -> V:
        """A layer called as a function in `forward` (concat, add, mul, scale, affine)."""
        raise NotImplementedError

    def call_tapped(self, network: str, args: list[V], tensor: str, taps: frozenset[str]) -> V:
        """`call`, also keeping the outputs of the layers `taps` as `tensor.<id>` values."""
        raise NotImplementedError

    def tap(self, name: str, graph: bool) -> V:
        """The tapped value `name` (`fake.w`), with its graph when `graph`."""
        raise NotImplementedError


def spent_graphs(handed_out: set[str], parts: dict[str, frozenset[str]],
                 through: dict[str, frozenset[str]], updates: frozenset[str]) -> set[str]:
    """The entries whose graphs an objective's backward leaves unusable: those it was handed
    with a graph and the entries inside them (freed), and those running through a network it
    updated (stale)."""
    spent, todo = set(), list(handed_out)
    while todo:
        name = todo.pop()
        if name not in spent:
            spent.add(name)
            todo += parts.get(name, ())
    return spent | {name for name, nets in through.items() if nets & updates}


__all__ = ["ForwardCache", "spent_graphs"]
