"""Frozen networks and layers in a compiled model: their parameters never need a gradient
and they always run in eval mode (batch norm statistics fixed, no dropout), whatever mode
the rest of the model is put in. Which layers are frozen is the spec's
(`spec.pretrained.frozen_layers`)."""

from __future__ import annotations

from torch import nn

from ganbuilder.spec import Spec
from ganbuilder.spec.pretrained import frozen_layers


def layer_at(network: nn.Module, index: int) -> nn.Module:
    """The module of a network's top-level layer `index` (a chain's or a graph's)."""
    return network[index] if isinstance(network, nn.Sequential) else network.layers[index]


def frozen_indices(spec: Spec) -> dict[str, list[int]]:
    """network -> its frozen top-level layer indices, for networks with any."""
    out = {}
    for name, plan in spec.analysis.networks.items():
        layers = sorted(frozen_layers(spec.tree["networks"][name], plan))
        if layers:
            out[name] = layers
    return out


def frozen_modules(nets: nn.ModuleDict, frozen: dict[str, list[int]]) -> list[nn.Module]:
    """The modules of the frozen layers, looked up in `nets` as they are now (a conversion
    such as SyncBatchNorm may have replaced a layer's children, never its position)."""
    out = []
    for name, layers in frozen.items():
        net = nets[name]
        count = len(net) if isinstance(net, nn.Sequential) else len(net.layers)
        # A network frozen whole is in eval mode itself too, not only its layers.
        out += [net] if len(layers) == count else [layer_at(net, k) for k in layers]
    return out


def freeze(nets: nn.ModuleDict, frozen: dict[str, list[int]]) -> None:
    """Frozen layers need no gradient, and start in eval mode."""
    for module in frozen_modules(nets, frozen):
        module.requires_grad_(False)
        module.eval()


def keep_frozen(nets: nn.ModuleDict, frozen: dict[str, list[int]]) -> None:
    """Put the frozen layers back in eval mode after a `train()` of their network."""
    for module in frozen_modules(nets, frozen):
        module.eval()


__all__ = ["freeze", "frozen_indices", "frozen_modules", "keep_frozen", "layer_at"]
