"""A compiled spec: its networks, and the forward plan that computes named tensors from them."""

from __future__ import annotations

import torch
from torch import nn

from ganbuilder.compile.network import build_network, initialize
from ganbuilder.compile.taps import tapped_call
from ganbuilder.layers.arithmetic_modules import apply_builtin
from ganbuilder.spec import Spec
from ganbuilder.spec.expr import FORWARD_BUILTINS, Forward, Tap


class GAN(nn.Module):
    """All networks of a spec, in an nn.ModuleDict, plus the spec's forward plan."""

    def __init__(self, spec: Spec):
        super().__init__()
        self.spec = spec
        self.nets = nn.ModuleDict()
        for name, plan in spec.analysis.networks.items():
            net = build_network(plan)
            initialize(net, spec.tree["networks"][name].get("init"))
            self.nets[name] = net

    def parameter_counts(self) -> dict[str, int]:
        return {name: sum(p.numel() for p in net.parameters()) for name, net in self.nets.items()}


class TensorCache:
    """Named tensors of one draw (a data batch and latent samples), computed on demand.

    A tensor comes back with its autograd graph only to an objective that updates one of the
    networks that produced it; otherwise it comes back detached, and what it is computed from
    is taken detached too, so a critic's backward pass stops at its own inputs even when they
    pass through shared layers (`h_fake: body(fake)`). An entry's graph can feed one backward
    pass: after it (the graph is freed, or a producer has changed) the next use that needs the
    graph recomputes it, while detached uses keep the value, as reference trainers do.
    """

    def __init__(self, gan: GAN, inputs: dict[str, torch.Tensor]):
        self.gan = gan
        self.analysis = gan.spec.analysis
        self.values: dict[str, torch.Tensor] = dict(inputs)
        # Per entry: the networks its live graph runs through (empty: detached use only), and
        # the entries whose graphs it contains.
        self.through: dict[str, frozenset[str]] = {}
        self.parts: dict[str, frozenset[str]] = {}
        self.handed_out: set[str] = set()  # entries given with a graph since the last backward

    def get(self, name: str, updates: frozenset[str] = frozenset()) -> torch.Tensor:
        """The tensor `name`; detached unless it was produced by a network in `updates`."""
        wanted = self.analysis.producers.get(name, set()) & updates
        if name not in self.values or not wanted <= self.through.get(name, frozenset()):
            through: set[str] = set()
            parts: set[str] = set()
            self.values[name] = self._eval(self.analysis.forward[name], updates, through, parts,
                                           taps_of=name)
            self.through[name], self.parts[name] = frozenset(through), frozenset(parts)
        if not wanted:
            return self.values[name].detach()
        self.handed_out.add(name)
        return self.values[name]

    def _eval(self, expr: Forward | float, updates: frozenset[str], through: set[str],
              parts: set[str], taps_of: str | None = None) -> torch.Tensor:
        if isinstance(expr, float):
            return expr
        if isinstance(expr, str | Tap):
            tensor = expr if isinstance(expr, str) else expr.tensor
            value = self.get(tensor, updates)
            if value.requires_grad:
                through |= self.through.get(tensor, frozenset())
                parts.add(tensor)
            if isinstance(expr, Tap):
                tapped = self.values[str(expr)]
                return tapped if value.requires_grad else tapped.detach()
            return value
        args = [self._eval(a, updates, through, parts) for a in expr.args]
        if expr.fn in FORWARD_BUILTINS:
            return apply_builtin(expr.fn, args)
        through.add(expr.fn)
        taps = self.analysis.taps.get(taps_of or "")
        if not taps:
            return self.gan.nets[expr.fn](*args)
        # The forward tensor `taps_of` is this call: its tapped layers come from the same pass.
        out, tapped = tapped_call(self.gan.nets[expr.fn], args, taps)
        for layer_id, value in tapped.items():
            self.values[f"{taps_of}.{layer_id}"] = value
        return out

    def consumed(self, updates: frozenset[str]) -> None:
        """After an objective's backward: graphs it ran through are freed, and graphs through
        `updates` are stale; either way only detached uses remain."""
        for name in spent_graphs(self.handed_out, self.parts, self.through, updates):
            self.through[name] = frozenset()
        self.handed_out.clear()


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
