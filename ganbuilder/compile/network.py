"""Network plans -> plain nn.Modules: nn.Sequential for chains, GraphNetwork otherwise."""

from __future__ import annotations

import torch
from torch import nn

from ganbuilder.layers import CONTAINERS, LAYERS
from ganbuilder.layers.construct import Construct, construct, make
from ganbuilder.layers.init import INITS, WeightInit
from ganbuilder.layers.modules import Residual
from ganbuilder.layers.style_modules import is_equalized
from ganbuilder.spec.shapes import LayerPlan, NetworkPlan


class GraphNetwork(nn.Module):
    """Layers with named inputs (skips, several network inputs) run in a precomputed order.

    `wiring[k]` lists the value slots layer k reads; its output goes to slot len(inputs) + k.
    Slots no later layer reads are freed as soon as possible to keep activations small.
    """

    def __init__(self, layers: list[nn.Module], wiring: list[list[int]], n_inputs: int,
                 output: int):
        super().__init__()
        self.layers = nn.ModuleList(layers)
        self.wiring = wiring
        self.n_inputs = n_inputs
        self.output = output

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        slots: list[torch.Tensor | None] = [*inputs, *([None] * len(self.layers))]
        for k, (layer, reads) in enumerate(zip(self.layers, self.wiring, strict=True)):
            slots[self.n_inputs + k] = layer(*[slots[i] for i in reads])
        return slots[self.output]


Made = Construct | nn.Module  # a plugin's builder may return its module itself


def _construct(plan: LayerPlan, in_shapes: list[tuple]) -> Made:
    if plan.kind == "residual":
        return construct(Residual, *_chain(plan.children, in_shapes[0]))
    if plan.kind == "repeat":
        return construct(nn.Sequential, *_chain(plan.children, in_shapes[0]))
    return LAYERS.get(plan.kind).construct(plan.params, in_shapes)


def _maybe_inplace(made: Made, plan: LayerPlan, prev: LayerPlan | None, shared: bool) -> Made:
    """Let an in-place-capable activation overwrite its input when nothing else reads it and
    its producer allows it (the registry's `inplace` and `output_overwritable`), as
    hand-written models do, saving an allocation per activation."""
    if shared or prev is None or plan.kind in CONTAINERS or prev.kind in CONTAINERS:
        return made
    if LAYERS.get(plan.kind).inplace and LAYERS.get(prev.kind).output_overwritable:
        if isinstance(made, Construct):
            return made.with_kwargs(inplace=True)
        made.inplace = True
    return made


def _chain(plans: list[LayerPlan], shape: tuple) -> list[Made]:
    out = []
    prev = None
    for plan in plans:
        out.append(_maybe_inplace(_construct(plan, [shape]), plan, prev, shared=False))
        shape, prev = plan.out_shape, plan
    return out


def layer_constructs(plan: NetworkPlan) -> list[Made]:
    """Each top-level layer of a network (which must have no error) as the call making its
    module: what `build_network` builds and `eject` writes."""
    if plan.error:
        raise ValueError(f"network {plan.name} has an error: {plan.error[1]}")
    if plan.is_chain:
        return _chain(plan.layers, plan.input_shapes[0])
    shapes = dict(zip(plan.inputs, plan.input_shapes, strict=True))
    readers: dict[str, int] = {}
    for layer in plan.layers:
        for source in layer.sources:
            readers[source] = readers.get(source, 0) + 1
    by_slot = {layer.slot: layer for layer in plan.layers}
    out = []
    for layer in plan.layers:
        made = _construct(layer, [shapes[s] for s in layer.sources])
        source = layer.sources[0]
        shared = readers[source] > 1 or source == plan.output_slot
        out.append(_maybe_inplace(made, layer, by_slot.get(source), shared))
        shapes[layer.slot] = layer.out_shape
    return out


def build_network(plan: NetworkPlan) -> nn.Module:
    """The nn.Module for a network plan (which must have no error)."""
    layers = [make(made) for made in layer_constructs(plan)]
    if plan.is_chain:
        chain = nn.Sequential(*layers)
        chain.layer_ids = plan.layer_ids  # a loss term reads a layer by id (feature matching)
        chain.head_ids = plan.outputs  # and a network's heads (StarGAN's D, CUT's MLPs)
        return chain
    index = {name: i for i, name in enumerate(plan.inputs)}
    wiring = []
    for k, layer in enumerate(plan.layers):
        wiring.append([index[s] for s in layer.sources])
        index[layer.slot] = len(plan.inputs) + k
    graph = GraphNetwork(layers, wiring, len(plan.inputs), index[plan.output_slot])
    graph.layer_ids = plan.layer_ids
    graph.head_ids = plan.outputs
    return graph


def initialize(module: nn.Module, init: dict | None) -> None:
    """Apply a network's `init` to its conv, linear and norm layers (DCGAN: normal 0.02)."""
    if init:
        (kind, value), = init.items()
        scheme = INITS.get(kind)
        init_weights(module, scheme.weight, value, scheme.norm_std(value))


def init_weights(module: nn.Module, weight_init: WeightInit, value: float,
                 norm_std: float) -> None:
    """`weight_init(weight, value)` on every conv, linear and embedding weight, biases 0;
    norm scales ~ N(1, norm_std), shifts 0 (DCGAN's weights_init). An ejected file holds
    this function as it is written here."""
    for m in module.modules():
        if is_equalized(m):
            continue  # its N(0, 1) weights and runtime scale are its initialisation
        if isinstance(m, nn.modules.conv._ConvNd | nn.Linear | nn.Embedding):
            weight = m.parametrizations.weight.original if hasattr(
                m, "parametrizations") else m.weight
            weight_init(weight, value)
            if getattr(m, "bias", None) is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.modules.batchnorm._NormBase) and m.weight is not None:
            # DCGAN's weights_init: BN scale ~ N(1, std), shift 0.
            nn.init.normal_(m.weight, 1.0, norm_std)
            nn.init.zeros_(m.bias)
