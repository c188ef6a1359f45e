"""Taps: a network call that also hands back the outputs of some of its layers (by `id`), from
the same pass, so a loss term or another network reads an intermediate result (StyleGAN2's
path-length penalty differentiates G's image with respect to G's own w)."""

from __future__ import annotations

import torch
from torch import nn


def layer_module(network: nn.Module, layer_id: str) -> nn.Module:
    """The module of the top-level layer with `id` layer_id (a chain's or a graph's)."""
    k = network.layer_ids[layer_id]
    # A chain is an nn.Sequential; a network with skips, compiled or ejected, keeps its
    # modules in `layers`.
    return network[k] if isinstance(network, nn.Sequential) else network.layers[k]


def tapped_call(network: nn.Module, args: list[torch.Tensor],
                ids: set[str] | frozenset[str]) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """network(*args) and the outputs of its layers `ids`. Each tapped output is kept as the
    tensor later layers' results depend on, so gradients with respect to it exist; the layers
    after it read a copy, which an in-place activation may overwrite safely."""
    taps: dict[str, torch.Tensor] = {}

    def hook(layer_id: str):
        def keep(module: nn.Module, inputs: tuple, out: torch.Tensor) -> torch.Tensor:
            taps[layer_id] = out
            return out.clone()
        return keep

    handles = [layer_module(network, i).register_forward_hook(hook(i)) for i in sorted(ids)]
    try:
        out = network(*args)
    finally:
        for handle in handles:
            handle.remove()
    return out, taps
