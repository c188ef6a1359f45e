"""Optimizers, each registered with its parameter schema and a torch builder."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ganbuilder._lazy import torch
from ganbuilder.optim._section import one_key
from ganbuilder.registry import Registry, fill_defaults

OptimizerBuilder = Callable[[Iterable[Any], dict], Any]


@dataclass(frozen=True)
class OptimizerDef:
    """An optimizer kind: `params` are JSON Schema properties (defaults included);
    `build(parameters, options)` returns the torch optimizer, options already filled."""

    name: str
    build: OptimizerBuilder
    params: dict
    doc: str = ""


class _OptimizerRegistry(Registry[OptimizerDef]):
    def _make(self, name: str, fn: Callable, fields: dict) -> OptimizerDef:
        return OptimizerDef(name=name, build=fn, doc=(fn.__doc__ or "").strip(), **fields)


OPTIMIZERS = _OptimizerRegistry("optimizer")


def optimizer(name: str, params: dict) -> Callable[[OptimizerBuilder], OptimizerBuilder]:
    """Register `fn(parameters, options) -> torch.optim.Optimizer` as optimizer `name`."""
    return OPTIMIZERS.register(name, params=params)


def build_optimizer(section: dict | str | None,
                    parameters: Iterable[Any]) -> torch.optim.Optimizer:
    """The torch optimizer a spec's `optimizer` section names (Adam when absent)."""
    name, opts = one_key(section, "adam")
    entry = OPTIMIZERS.get(name)
    return entry.build(parameters, fill_defaults(entry.params, opts))


_LR = {"type": "number", "exclusiveMinimum": 0, "default": 2e-4, "description": "learning rate"}
_WD = {"type": "number", "minimum": 0, "default": 0.0, "description": "weight decay"}
_BETAS = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1},
          "minItems": 2, "maxItems": 2, "default": [0.5, 0.999],
          "description": "Adam betas (DCGAN: beta1 = 0.5)"}


_FUSED = {"type": "boolean", "default": False,
          "description": "one fused kernel for the whole update (CUDA, and the CPU in recent "
                         "torch); under fp16 it also takes the overflow check as a tensor, "
                         "so the step never waits for the GPU; false: torch's own choice "
                         "(foreach on CUDA)"}

_EPS = {"type": "number", "exclusiveMinimum": 0, "default": 1e-8,
        "description": "Adam's epsilon, added to the root mean square of the gradients"}


@optimizer("adam", {"lr": _LR, "betas": _BETAS, "weight_decay": _WD, "eps": _EPS,
                    "fused": _FUSED})
def adam(parameters: Iterable[Any], o: dict) -> torch.optim.Optimizer:
    """Adam (Kingma & Ba 2015); weight decay added to the gradient."""
    return torch.optim.Adam(parameters, lr=o["lr"], betas=tuple(o["betas"]),
                            weight_decay=o["weight_decay"], eps=o["eps"],
                            fused=o.get("fused") or None)


@optimizer("adamw", {"lr": _LR, "betas": _BETAS, "weight_decay": {**_WD, "default": 0.01},
                     "eps": _EPS, "fused": _FUSED})
def adamw(parameters: Iterable[Any], o: dict) -> torch.optim.Optimizer:
    """AdamW: Adam with decoupled weight decay (Loshchilov & Hutter 2019)."""
    return torch.optim.AdamW(parameters, lr=o["lr"], betas=tuple(o["betas"]),
                             weight_decay=o["weight_decay"], eps=o["eps"],
                             fused=o.get("fused") or None)


@optimizer("sgd", {
    "lr": {**_LR, "default": 0.01}, "weight_decay": _WD,
    "momentum": {"type": "number", "minimum": 0, "default": 0.0, "description": "momentum"}})
def sgd(parameters: Iterable[Any], o: dict) -> torch.optim.Optimizer:
    """Stochastic gradient descent, optionally with momentum."""
    return torch.optim.SGD(parameters, lr=o["lr"], momentum=o["momentum"],
                           weight_decay=o["weight_decay"])


@optimizer("rmsprop", {
    "lr": {**_LR, "default": 5e-5}, "weight_decay": _WD,
    "alpha": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.99,
              "description": "smoothing constant"}})
def rmsprop(parameters: Iterable[Any], o: dict) -> torch.optim.Optimizer:
    """RMSprop, WGAN's optimizer (its default lr is WGAN's 5e-5)."""
    return torch.optim.RMSprop(parameters, lr=o["lr"], alpha=o["alpha"],
                               weight_decay=o["weight_decay"])
