"""A compiled spec: its networks, and the forward plan that computes named tensors from them."""

from __future__ import annotations

import torch
from torch import nn

from ganbuilder.compile.network import build_network, initialize
from ganbuilder.spec import Spec
from ganbuilder.spec.expr import Call


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

    An entry computed with its autograd graph can feed one backward pass of an objective that
    updates one of its producers; after that (the graph is freed, or the producer has changed)
    that use recomputes it, while detached uses keep the value, as reference trainers do.
    """

    def __init__(self, gan: GAN, inputs: dict[str, torch.Tensor]):
        self.gan = gan
        self.analysis = gan.spec.analysis
        self.values: dict[str, torch.Tensor] = dict(inputs)
        self.graph_ok: dict[str, bool] = {}

    def get(self, name: str, updates: frozenset[str] = frozenset()) -> torch.Tensor:
        """The tensor `name`; detached unless it was produced by a network in `updates`."""
        needs_graph = bool(self.analysis.producers.get(name, set()) & updates)
        if name not in self.values or (needs_graph and not self.graph_ok.get(name, False)):
            expr = self.analysis.forward[name]
            self.values[name] = self._eval(expr, updates)
            self.graph_ok[name] = True
        value = self.values[name]
        return value if needs_graph else value.detach()

    def _eval(self, expr: Call | str, updates: frozenset[str]) -> torch.Tensor:
        if isinstance(expr, str):
            return self.get(expr, updates | self._all_producers(expr))
        args = [self._eval(a, updates) for a in expr.args]
        if expr.fn == "concat":
            return torch.cat(args, dim=1)
        return self.gan.nets[expr.fn](*args)

    def _all_producers(self, name: str) -> frozenset[str]:
        # While computing a tensor, keep the graph through everything that made it.
        return frozenset(self.analysis.producers.get(name, set()))

    def consumed(self, updates: frozenset[str]) -> None:
        """After an objective's backward: graphs through `updates` are spent or stale."""
        for name in self.graph_ok:
            if self.analysis.producers.get(name, set()) & updates:
                self.graph_ok[name] = False
