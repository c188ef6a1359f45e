"""Which network of a trained model leaves, under which names, and what travels with it.

Every format exports one network as a function of named tensors: a generator `G(z) -> fake`
becomes a model with input `z` and output `fake`, so a user of the exported file meets the
names of the spec. The choice and the names are made here once for all formats.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils import parametrize

from ganbuilder.errors import UserError
from ganbuilder.layers import LAYERS
from ganbuilder.spec import Spec
from ganbuilder.spec.expr import Call
from ganbuilder.spec.shapes import LayerPlan


@dataclass
class Target:
    """One network to export: the module, the tensors it reads and writes, and metadata."""

    spec: Spec
    network: str
    module: nn.Module
    inputs: list[str]
    input_shapes: list[tuple]
    output: str
    step: int
    metadata: dict[str, str] = field(default_factory=dict)

    def example(self, n: int = 2, seed: int = 0) -> tuple[torch.Tensor, ...]:
        """A batch of `n` inputs of the right shapes and dtypes (labels are class indices)."""
        generator = torch.Generator().manual_seed(seed)
        latent = self.spec.tree.get("latent") or {}
        out = []
        for name, shape in zip(self.inputs, self.input_shapes, strict=True):
            if shape == ():
                classes = latent.get(name, {}).get("classes", 1)
                out.append(torch.randint(classes, (n,), generator=generator))
            else:
                out.append(torch.randn((n, *shape), generator=generator))
        return tuple(out)


def _sampled(spec: Spec) -> list[str]:
    return [t for group in spec.sampling["tensors"]
            for t in ([group] if isinstance(group, str) else group)]


def default_network(spec: Spec, direction: str = "AtoB") -> str:
    """The network a model is used through: a translation spec's generator for `direction`;
    otherwise the network producing the first sampled tensor that a network computes."""
    a = spec.analysis
    if a.translation:
        generator = a.generator(direction)
        if generator is None:
            raise UserError(f"model '{spec.name}' does not translate {direction}")
        return generator
    for name in [*_sampled(spec), *a.order]:
        expr = a.forward.get(name)
        if isinstance(expr, Call) and expr.fn in a.networks:
            return expr.fn
    raise UserError(f"model '{spec.name}' computes no tensor with a network; pass --network")


def _names(spec: Spec, network: str, direction: str) -> tuple[list[str], str]:
    """Input and output names: the tensors of the network's call in `forward` (the chosen
    direction's for a translation generator); the network's own input names otherwise."""
    a = spec.analysis
    plan = a.networks[network]
    # The direction's translation first, then sampled tensors (LAPGAN's G1 samples from the
    # coarse image, not the real one it trains on), then forward order.
    preferred = [a.translation.get(direction), *_sampled(spec)]
    calls = [t for t in a.order
             if isinstance(a.forward.get(t), Call) and a.forward[t].fn == network]
    calls.sort(key=lambda t: preferred.index(t) if t in preferred else len(preferred))
    if not calls:
        return list(plan.inputs), "output"
    call = a.forward[calls[0]]
    inputs = [arg if isinstance(arg, str) else own
              for arg, own in zip(call.args, plan.inputs, strict=True)]
    if len(set(inputs)) < len(inputs):  # G(z, z): tensor names would clash
        inputs = list(plan.inputs)
    return inputs, calls[0]


def _last_leaf(layers: list[LayerPlan]) -> LayerPlan | None:
    if not layers:
        return None
    last = layers[-1]
    # A repeat ends where its last child does; a residual adds its input, unbounded again.
    return _last_leaf(last.children) if last.kind == "repeat" else last


def _fact(kind: str, name: str) -> object:
    """A layer entry's export fact (`output_range`, `batch_dependent`, `stochastic`); None
    for a container."""
    return getattr(LAYERS.get(kind), name) if kind in LAYERS else None


def output_range(spec: Spec, network: str) -> list[float] | None:
    """[low, high] of the network's outputs when its last layer bounds them (its entry's
    `output_range`: tanh, sigmoid), else None."""
    last = _last_leaf(spec.analysis.networks[network].layers)
    bounds = _fact(last.kind, "output_range") if last else None
    return list(bounds) if bounds else None


def batch_dependent_layers(spec: Spec, network: str) -> list[tuple[LayerPlan, str]]:
    """The layers of the network that a fixed graph cannot carry, each with why (its entry's
    `batch_dependent`: export traces one batch, and these read the batch size in Python)."""
    return [(layer, _fact(layer.kind, "batch_dependent"))
            for path, layer in spec.analysis.layers.items()
            if path[:2] == ("networks", network) and _fact(layer.kind, "batch_dependent")]


def _metadata(spec: Spec, network: str, inputs: list[str], shapes: list[tuple], output: str,
              step: int) -> dict[str, str]:
    """What a user of the exported file needs to feed it: each input's shape, dtype and latent
    distribution (or data range), the output's name, shape and range, as JSON strings."""
    a = spec.analysis
    latent = spec.tree.get("latent") or {}
    described = {}
    for name, shape in zip(inputs, shapes, strict=True):
        entry: dict = {"shape": ["batch", *shape], "dtype": "int64" if shape == () else "float32"}
        if name in latent:
            entry["latent"] = latent[name]
        elif a.sources.get(name) == "data" and len(shape) == 3:
            entry["range"] = [-1.0, 1.0]  # images as every data source scales them
        described[name] = entry
    stochastic = [layer.label for path, layer in a.layers.items()
                  if path[:2] == ("networks", network) and _fact(layer.kind, "stochastic")]
    meta = {
        "ganbuilder.spec": spec.name,
        "ganbuilder.network": network,
        "ganbuilder.step": str(step),
        "latent": json.dumps({name: latent[name] for name in inputs if name in latent}),
        "output_range": json.dumps(output_range(spec, network)),
        "inputs": json.dumps(described),
        "output": json.dumps({"name": output, "shape": ["batch", *a.networks[network].output_shape],
                              "range": output_range(spec, network)}),
    }
    if stochastic:
        meta["stochastic"] = ("draws N(0, 1) noise on every call (StyleGAN noise layers: "
                              + ", ".join(stochastic) + ")")
    return meta


def bake(module: nn.Module) -> nn.Module:
    """An eval-mode copy whose reparametrized weights (spectral norm, equalized lr) are plain
    tensors holding their current effective values, so exporters see ordinary layers."""
    module = copy.deepcopy(module).eval()
    for m in list(module.modules()):
        if parametrize.is_parametrized(m):
            # A parametrized module's class (ParametrizedLinear) is made per module and a deep
            # copy shares it; removing parametrizations edits that class, so give the copy
            # its own first, or the original would lose its weight property.
            cls = type(m)
            own = {k: v for k, v in vars(cls).items() if k not in ("__dict__", "__weakref__")}
            m.__class__ = type(cls.__name__, cls.__bases__, own)
            for name in list(m.parametrizations):
                parametrize.remove_parametrizations(m, name, leave_parametrized=True)
    for p in module.parameters():
        p.requires_grad_(False)
    return module


def make_target(spec: Spec, gan: nn.Module, step: int, network: str | None = None,
                direction: str = "AtoB") -> Target:
    """The export target for `network` (default: `default_network`) of a loaded model."""
    network = network or default_network(spec, direction)
    if network not in spec.analysis.networks:
        known = ", ".join(spec.analysis.networks)
        raise UserError(f"--network {network}: model '{spec.name}' has no such network "
                        f"(it has {known})")
    plan = spec.analysis.networks[network]
    inputs, output = _names(spec, network, direction)
    shapes = [tuple(s) for s in plan.input_shapes]
    return Target(spec, network, gan.nets[network].eval(), inputs, shapes, output, step,
                  _metadata(spec, network, inputs, shapes, output, step))
