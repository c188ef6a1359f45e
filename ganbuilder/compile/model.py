"""A compiled spec: its networks, and the forward plan that computes named tensors from them."""

from __future__ import annotations

import torch
from torch import nn

from ganbuilder.compile.forward_cache import ForwardCache
from ganbuilder.compile.frozen import freeze, frozen_indices, keep_frozen
from ganbuilder.compile.network import build_network, initialize
from ganbuilder.compile.taps import tapped_call
from ganbuilder.layers.arithmetic_modules import apply_builtin
from ganbuilder.spec import Spec


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
        self.frozen = frozen_indices(spec)  # network -> frozen layers: no gradient, eval mode
        freeze(self.nets, self.frozen)

    def train(self, mode: bool = True) -> GAN:
        """Every network in `mode`, except frozen layers, which stay in eval mode."""
        super().train(mode)
        keep_frozen(self.nets, self.frozen)
        return self

    def trained_parameters(self, name: str) -> list[torch.nn.Parameter]:
        """The parameters of network `name` that an optimizer may step: its frozen layers'
        are left out."""
        return [p for p in self.nets[name].parameters() if p.requires_grad]

    def parameter_counts(self) -> dict[str, int]:
        return {name: sum(p.numel() for p in net.parameters()) for name, net in self.nets.items()}


class TensorCache(ForwardCache[torch.Tensor]):
    """Named tensors of one draw (a data batch and latent samples), computed on demand as
    ForwardCache decides (graph kept only for an objective training a producer)."""

    def __init__(self, gan: GAN, inputs: dict[str, torch.Tensor]):
        super().__init__(gan.spec.analysis, inputs)
        self.gan = gan

    def detached(self, name: str) -> torch.Tensor:
        return self.values[name].detach()

    def number(self, value: float) -> float:
        return value

    def function(self, fn: str, args: list[torch.Tensor]) -> torch.Tensor:
        return apply_builtin(fn, args)

    def call_tapped(self, network: str, args: list[torch.Tensor], tensor: str,
                    taps: frozenset[str]) -> torch.Tensor:
        out, tapped = tapped_call(self.gan.nets[network], args, taps)
        for layer_id, value in tapped.items():
            self.values[f"{tensor}.{layer_id}"] = value
        return out

    def tap(self, name: str, graph: bool) -> torch.Tensor:
        return self.values[name] if graph else self.values[name].detach()

    def call(self, network: str, args: list[torch.Tensor]) -> torch.Tensor:
        return self.gan.nets[network](*args)
