"""The layer registry: each layer's parameter schema, shape and parameter-count rules, compile
facts and torch builder in one place.

Shape and parameter-count rules are plain Python (no torch), so validation, `summary` and the
GUI infer every layer's output shape and size while the user types. Builders run only when a
spec is compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ganbuilder.registry import Registry, fill_defaults

Shape = tuple[int, ...]
ShapeRule = Callable[[dict, list[Shape]], Shape]
Builder = Callable[[dict, list[Shape]], Any]
ParamRule = Callable[[dict, list[Shape]], int]


class ShapeError(ValueError):
    """The layer cannot take the shape it is given; the message says what it expected."""


def no_params(p: dict, inputs: list[Shape]) -> int:
    """The parameter count of a layer that learns nothing."""
    return 0


@dataclass(frozen=True)
class LayerDef:
    """One layer kind. `params` are JSON Schema properties; `primary` names the parameter a
    scalar shorthand sets (`{leaky_relu: 0.2}`); `refs` names parameters holding layer ids.

    `param_count` gives the number of learned values the built module holds (the sum of
    `numel()` over its `parameters()`), from the same arguments as `shape`. `inplace` marks
    activations whose module may overwrite its input (`module.inplace = True`);
    `output_overwritable` marks layers whose backward pass needs neither their output nor
    anything an in-place activation could overwrite, so such an activation may follow them.
    """

    name: str
    build: Builder
    shape: ShapeRule
    params: dict = field(default_factory=dict)
    required: tuple[str, ...] = ()
    primary: str | None = None
    refs: tuple[str, ...] = ()
    param_count: ParamRule = no_params
    inplace: bool = False
    output_overwritable: bool = False
    doc: str = ""

    def defaults(self) -> dict:
        return fill_defaults(self.params, {})

    def normalize(self, value: Any) -> dict:
        """The layer's params from its YAML value (None, a mapping, or a primary shorthand)."""
        if value is None:
            given = {}
        elif isinstance(value, dict):
            given = dict(value)
        else:
            given = {self.primary: value}
        return fill_defaults(self.params, given)


class _LayerRegistry(Registry[LayerDef]):
    def _make(self, name: str, fn: Builder, fields: dict) -> LayerDef:
        return LayerDef(name=name, build=fn, doc=(fn.__doc__ or "").strip(), **fields)


LAYERS = _LayerRegistry("layer")


def layer(name: str, shape: ShapeRule, params: dict | None = None, **fields) -> Callable:
    """Register `fn(params, input_shapes) -> nn.Module` as layer `name`."""
    return LAYERS.register(name, shape=shape, params=params or {}, **fields)


def rank(shape: Shape, n: int, layer_name: str, what: str) -> None:
    if len(shape) != n:
        raise ShapeError(f"{layer_name}: expects a {what} input, got {format_shape(shape)}")


def format_shape(shape: Shape) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def int_param(description: str, default: int | None = None, minimum: int = 0) -> dict:
    out: dict = {"type": "integer", "minimum": minimum, "description": description}
    if default is not None:
        out["default"] = default
    return out


def bool_param(description: str, default: bool) -> dict:
    return {"type": "boolean", "default": default, "description": description}


def num_param(description: str, default: float, minimum: float | None = None) -> dict:
    out: dict = {"type": "number", "default": default, "description": description}
    if minimum is not None:
        out["minimum"] = minimum
    return out
