"""Weight-initialisation schemes (a network's `init: {normal: 0.02}`), registered with the
schema of their value and the function applying them (torch-free to import).

The spec schema's `init` is assembled from this registry and `compile.network.initialize`
dispatches through it, so adding a scheme is one registration here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ganbuilder._lazy import nn
from ganbuilder.registry import Registry

WeightInit = Callable[[Any, float], None]


def _dcgan_norm_std(value: float) -> float:
    """DCGAN's weights_init draws norm scales from N(1, 0.02) whatever the weights get."""
    return 0.02


@dataclass(frozen=True)
class InitScheme:
    """One scheme. `value` is the JSON Schema of its value (with a description);
    `weight(tensor, value)` initialises a conv, linear or embedding weight in place;
    `norm_std(value)` is the std of the N(1, std) draw for a norm layer's scale."""

    name: str
    weight: WeightInit
    value: dict
    norm_std: Callable[[float], float] = _dcgan_norm_std
    doc: str = ""


class _InitRegistry(Registry[InitScheme]):
    def _make(self, name: str, fn: Callable, fields: dict) -> InitScheme:
        return InitScheme(name=name, weight=fn, doc=(fn.__doc__ or "").strip(), **fields)


INITS = _InitRegistry("init scheme")


def init_scheme(name: str, value: dict, **fields: Any) -> Callable[[WeightInit], WeightInit]:
    """Register `fn(weight, value)`, an in-place weight initialiser, as init scheme `name`."""
    return INITS.register(name, value=value, **fields)


@init_scheme("normal", {"type": "number", "minimum": 0,
                        "description": "N(0, std) weights (DCGAN: 0.02)"},
             norm_std=lambda std: std)
def normal(weight: Any, std: float) -> None:
    """Weights ~ N(0, std); norm scales ~ N(1, std) (DCGAN's weights_init)."""
    nn.init.normal_(weight, 0.0, std)


@init_scheme("xavier", {"type": "number", "minimum": 0, "description": "gain"})
def xavier(weight: Any, gain: float) -> None:
    """Glorot normal: std = gain * sqrt(2 / (fan_in + fan_out))."""
    nn.init.xavier_normal_(weight, gain=gain)


@init_scheme("kaiming", {"type": "number", "minimum": 0, "description": "negative slope a"})
def kaiming(weight: Any, a: float) -> None:
    """He normal for a leaky ReLU of slope a: std = sqrt(2 / (1 + a²)) / sqrt(fan_in)."""
    nn.init.kaiming_normal_(weight, a=a)


@init_scheme("orthogonal", {"type": "number", "minimum": 0, "description": "gain"})
def orthogonal(weight: Any, gain: float) -> None:
    """A (semi-)orthogonal matrix times gain, over the weight flattened to (out, rest)."""
    nn.init.orthogonal_(weight, gain=gain)
