"""Loss terms and GAN loss kinds, registered with their parameter schemas (torch-free)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ganbuilder.layers.registry import Shape
from ganbuilder.registry import Registry

ShapeCheck = Callable[[dict, dict[str, list[Shape]], dict], list[tuple[str, str]]]


@dataclass(frozen=True)
class LossDef:
    """A loss term kind. `tensors` name parameters that hold forward-tensor names, `networks`
    parameters that hold network names; `compute(params, ctx)` returns (loss, metrics).

    `check(params, shapes, latent)`, when given, is a torch-free rule run while validating:
    `shapes` maps each tensor parameter to the shapes of its tensors and each network parameter
    to the network's output shape (keys whose shapes are unknown are left out), `latent` is
    the spec's latent section; it returns (parameter, message) pairs, "" for the term itself.

    `critic` names the network parameter of a two-sided term (`adversarial`, `began`): when
    the objective updates that network the term is the critic's loss and needs `real` too.

    `inputs` are the tensor parameters the term feeds its networks (their shapes build a
    network only the term calls); `network_shapes(params, shapes)`, when given, maps those
    tensors' shapes to what the networks see (PacGAN's packing multiplies the first
    dimension). `layers` maps a parameter naming a layer `id` to the network parameter whose
    network must have that id (feature matching).

    `heads` maps a parameter naming one of a network's `outputs` (its heads: StarGAN's D
    scores and classifies) to the network parameter: the term reads that head's output
    instead of what a call returns. `penalised` are tensor parameters a penalty differentiates
    the critic with respect to: they must be images the critic reads, not a network's
    features. `network_inputs(params, plans)`, when given, maps network parameters to the
    input shapes the term builds them for from other networks' plans (PatchNCE's MLP heads
    read the generator's layers).

    `reads(params, updates)`, when given, names the tensor parameters `compute` reads when the
    objective trains `updates`, in the order it reads them (default: every tensor parameter
    given, in `tensors` order). `eject --with-training` computes those tensors, then calls the
    term's own `compute` (copied into the file with what it uses): that is how every term,
    a plugin's too, is written out.
    """

    name: str
    compute: Callable[[dict, Any], tuple[Any, dict]]
    params: dict = field(default_factory=dict)
    required: tuple[str, ...] = ()
    tensors: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    check: ShapeCheck | None = None
    critic: str | None = None
    inputs: tuple[str, ...] = ("fake", "real")
    network_shapes: Callable[[dict, list[Shape]], list[Shape]] | None = None
    layers: dict[str, str] = field(default_factory=dict)
    reads: Callable[[dict, frozenset[str]], tuple[str, ...]] | None = None
    heads: dict[str, str] = field(default_factory=dict)
    penalised: tuple[str, ...] = ()
    network_inputs: Callable[[dict, dict], dict[str, list[Shape]]] | None = None
    doc: str = ""

    def tensors_read(self, params: dict, updates: frozenset[str]) -> tuple[str, ...]:
        """The tensor parameters `compute` reads for an objective training `updates`."""
        if self.reads is not None:
            return tuple(k for k in self.reads(params, updates) if params.get(k) is not None)
        return tuple(k for k in self.tensors if params.get(k) is not None)


class _LossRegistry(Registry[LossDef]):
    def _make(self, name: str, fn: Callable, fields: dict) -> LossDef:
        return LossDef(name=name, compute=fn, doc=(fn.__doc__ or "").strip(), **fields)


LOSSES = _LossRegistry("loss term")


def loss_term(name: str, params: dict, **fields) -> Callable:
    """Register `fn(params, ctx) -> (loss, metrics)` as loss term `name`."""
    common = {
        "weight": {"type": "number", "default": 1.0, "description": "multiplies the term"},
        "name": {"type": "string", "description": "metric name; defaults to the kind"},
        "every": {"type": "integer", "minimum": 1, "default": 1,
                  "description": "lazy regularisation: the term is computed every n-th step "
                                 "only, its weight multiplied by n (StyleGAN2: R1 every 16, "
                                 "path length every 4)"},
    }
    return LOSSES.register(name, params={**params, **common}, **fields)


@dataclass(frozen=True)
class GanLoss:
    """How critic outputs become losses. `threshold` splits 'real' from 'fake' for accuracy.

    `relativistic`, where the kind has a relativistic form (Jolicoeur-Martineau 2018), is its
    per-element f1: the critic's loss on a score that should be high (real judged against
    fake); f2(y) = f1(-y) for the other side, which holds for the standard, least-squares and
    hinge losses. `adversarial: {relativistic: ...}` builds RSGAN and RaGAN from it.
    """

    name: str
    d_loss: Callable[[Any, Any], Any]
    g_loss: Callable[[Any], Any]
    threshold: float
    doc: str
    relativistic: Callable[[Any], Any] | None = None


GAN_LOSSES: Registry[GanLoss] = Registry("gan loss")
