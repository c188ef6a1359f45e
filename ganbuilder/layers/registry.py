"""The layer registry: every fact about a layer on its entry: parameter schema, shape and
parameter-count rules, compile facts, builder (which is also how eject writes it), library
group, canvas defaults, merge role and export facts.

Shape and parameter-count rules are plain Python (no torch), so validation, `summary` and the
GUI infer every layer's output shape and size while the user types. Builders run only when a
spec is compiled or ejected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ganbuilder.layers.construct import make
from ganbuilder.registry import Registry, fill_defaults

Shape = tuple[int, ...]
ShapeRule = Callable[[dict, list[Shape]], Shape]
Builder = Callable[[dict, list[Shape]], Any]
ParamRule = Callable[[dict, list[Shape]], int]
FitParams = Callable[[Shape], dict]

# The Layer Library's groups, in the order it lists them; a plugin may name a new one (listed
# after these).
LAYER_GROUPS = ("convolution", "normalisation", "activation", "shape", "merge",
                "attention/style", "augmentation")


class ShapeError(ValueError):
    """The layer cannot take the shape it is given; the message says what it expected."""


def no_params(p: dict, inputs: list[Shape]) -> int:
    """The parameter count of a layer that learns nothing."""
    return 0


@dataclass(frozen=True)
class ForwardUse:
    """A layer that `forward` may also call as a function on named tensors: `usage` as the
    error messages show it, how many arguments it takes (`most` None: any number), and which
    positions take a number rather than a tensor."""

    usage: str
    fewest: int
    most: int | None = None
    numbers: tuple[int, ...] = ()


@dataclass(frozen=True)
class LayerDef:
    """One layer kind. `params` are JSON Schema properties; `primary` names the parameter a
    scalar shorthand sets (`{leaky_relu: 0.2}`); `refs` names parameters holding layer ids.

    `construct(params, input_shapes)` returns the module as a `Construct` (the call making
    it), which the compiler calls and eject writes as source; `build` gives the module.
    `param_count` gives the number of learned values the built module holds (the sum of
    `numel()` over its `parameters()`), from the same arguments as `shape`. `inplace` marks
    activations whose construct takes `inplace=True` to overwrite its input;
    `output_overwritable` marks layers whose backward pass needs neither their output nor
    anything an in-place activation could overwrite, so such an activation may follow them.
    `activations` counts the values per sample the layer keeps for backward, for the memory
    estimate, where that is more than its output (self_attention's attention map).

    For the app: `group` is the Layer Library's group (one of LAYER_GROUPS, or a plugin's
    own); `fit_params(received_shape)` the parameters a layer inserted on the canvas is
    written with, beyond each required one at its default or minimum, so that it fits the
    tensor it receives (each of its `refs` gets the latest earlier named tensor its shape
    rule accepts); `merge` marks layers that combine the tensor they receive with those
    `with` names (concat, add): drawn as merges, and a skip dropped on one joins its `with`.

    For export: `output_range` bounds the outputs of a network ending in this layer;
    `batch_dependent` says why an exported (traced) graph gets the layer wrong at another
    batch size; `stochastic` marks layers that draw random numbers in eval mode too.
    `adapted` says what the trainer itself changes in the layer while training (ada's p),
    which a written-out training loop cannot do; empty for the rest.
    """

    name: str
    construct: Builder
    shape: ShapeRule
    group: str
    params: dict = field(default_factory=dict)
    required: tuple[str, ...] = ()
    primary: str | None = None
    refs: tuple[str, ...] = ()
    param_count: ParamRule = no_params
    inplace: bool = False
    output_overwritable: bool = False
    activations: ParamRule | None = None
    fit_params: FitParams | None = None
    merge: bool = False
    output_range: tuple[float, float] | None = None
    batch_dependent: str = ""
    stochastic: bool = False
    adapted: str = ""
    forward: ForwardUse | None = None
    doc: str = ""

    def build(self, p: dict, inputs: list[Shape]) -> Any:
        """The layer's module for params `p` and input shapes `inputs` (imports torch)."""
        return make(self.construct(p, inputs))

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
        return LayerDef(name=name, construct=fn, doc=(fn.__doc__ or "").strip(), **fields)


LAYERS = _LayerRegistry("layer")


def layer(name: str, shape: ShapeRule, params: dict | None = None, *, group: str,
          **fields) -> Callable:
    """Register `fn(params, input_shapes) -> Construct` as layer `name`, listed in the Layer
    Library under `group`; the other LayerDef fields as keywords."""
    if not isinstance(group, str) or not group:
        raise TypeError(f"layer {name}: group must name a Layer Library group, "
                        f"e.g. one of {', '.join(LAYER_GROUPS)}")
    return LAYERS.register(name, shape=shape, group=group, params=params or {}, **fields)


def forward_functions() -> dict[str, ForwardUse]:
    """The layers `forward` can call as functions, by name (from their entries)."""
    return {name: entry.forward for name, entry in LAYERS.items() if entry.forward}


def is_merge(kind: str) -> bool:
    """Whether layer `kind` merges the tensor it receives with those it names (its entry's
    `merge` role: concat, add); False for containers and anything unregistered."""
    return kind in LAYERS and LAYERS.get(kind).merge


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
