"""Will it fit? Training memory estimated from the shape plan, before any module exists.

A spec that validates should not end in an allocation failure minutes into a run (`conv: {out:
1000000}`, `image_size: 4096`). The estimate is a lower bound, torch-free:

- parameters: weights, gradients and Adam's two moments, 4 float32 values each;
- activations: every layer's output for one training batch, kept for the backward pass, and
  its gradient (2 float32 values per element), or what its entry's `activations` counts
  (self_attention adds its (HW x HW) map).

`summary` shows the estimate for a spec of any size; training (`run`, the app's Train) is
refused when the sum over the networks exceeds the limit: this machine's physical memory, or
`GANBUILDER_MEMORY_LIMIT` (bytes, or with a K/M/G/T suffix) where that is set. A layer whose
output has a dimension < 1 is a spec error everywhere (validate too).
"""

from __future__ import annotations

import math
import os

from ganbuilder.data.registry import COMMON_KEYS
from ganbuilder.errors import Problem, SpecError, UserError
from ganbuilder.layers import CONTAINERS, LAYERS, Shape
from ganbuilder.layers.registry import format_shape
from ganbuilder.spec.analysis import Analysis
from ganbuilder.spec.paths import Locations, format_path
from ganbuilder.spec.pretrained import frozen_layers
from ganbuilder.spec.shapes import LayerPlan

ENV = "GANBUILDER_MEMORY_LIMIT"
FLOAT = 4  # bytes; training runs in float32
PER_PARAM = 4 * FLOAT  # weight, gradient, Adam's first and second moments
PER_ACTIVATION = 2 * FLOAT  # the value kept for backward and its gradient
FALLBACK_LIMIT = 64 * 2**30  # where the physical memory cannot be read
_UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def memory_limit() -> tuple[int, str]:
    """The limit in bytes and where it comes from, for the message."""
    text = os.environ.get(ENV, "").strip().upper().removesuffix("B").removesuffix("I")
    if text:
        unit = text[-1] if text[-1] in _UNITS else ""
        try:
            value = float(text[: len(text) - len(unit)])
        except ValueError:
            raise UserError(f"{ENV} must be a size such as 200G, got "
                            f"'{os.environ[ENV]}'") from None
        if not math.isfinite(value) or value <= 0:
            raise UserError(f"{ENV} must be a size > 0, got '{os.environ[ENV]}'")
        return int(value * _UNITS[unit]), f"{ENV}={os.environ[ENV]}"
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"), "this machine's memory"
    except (AttributeError, ValueError, OSError):  # Windows has no sysconf
        return FALLBACK_LIMIT, "the default limit"


def _gib(n: int) -> str:
    return f"{n / 2**30:,.1f} GiB"


class Memory:
    """Bytes a network needs to train, and its hungriest layer (for the message)."""

    def __init__(self) -> None:
        self.params = 0
        self.activations = 0
        self.top: tuple[int, LayerPlan | None] = (0, None)

    def add(self, layer: LayerPlan, in_shapes: list[Shape], batch: int,
            per_param: int = PER_PARAM) -> None:
        if layer.kind in CONTAINERS:
            shape = in_shapes[0]  # a container's body is a chain from the container's input
            for child in layer.children:
                self.add(child, [shape], batch, per_param)
                shape = child.out_shape
            return
        ldef = LAYERS.get(layer.kind)
        params = ldef.param_count(layer.params, in_shapes) * per_param
        elements = (ldef.activations(layer.params, in_shapes) if ldef.activations
                    else math.prod(layer.out_shape))
        activations = elements * batch * PER_ACTIVATION
        self.params += params
        self.activations += activations
        if params + activations > self.top[0]:
            self.top = (params + activations, layer)

    @property
    def total(self) -> int:
        return self.params + self.activations


def check_outputs(analysis: Analysis, locations: Locations) -> Analysis:
    """Add a problem for each network with a layer whose output has a dimension < 1: a plugin's
    shape rule let it through, and torch would refuse to build or run it."""
    if analysis.problems:
        return analysis
    for plan in analysis.networks.values():
        empty = next((layer for layer in _flat(plan.layers)
                      if any(d < 1 for d in layer.out_shape)), None)
        if empty is not None:
            path = tuple(empty.path)
            analysis.problems.append(Problem(format_path(path), f"{empty.kind} makes an "
                                             f"empty output {format_shape(empty.out_shape)}",
                                             locations.find(path)))
    return analysis


def _flat(layers: list[LayerPlan]) -> list[LayerPlan]:
    return [x for layer in layers for x in (layer, *_flat(layer.children))]


def batch_size(tree: dict) -> int:
    """The training batch the activations are counted for."""
    return (tree.get("data") or {}).get("batch_size", COMMON_KEYS["batch_size"]["default"])


def estimate(analysis: Analysis, tree: dict) -> dict[str, Memory]:
    """Each network's training memory at the spec's batch size (a lower bound)."""
    batch = batch_size(tree)
    uses: dict[str, Memory] = {}
    for name, plan in analysis.networks.items():
        use = uses[name] = Memory()
        shapes = dict(zip(plan.inputs, plan.input_shapes, strict=False))
        # A frozen layer keeps its weights only: no gradient, no optimizer moments.
        frozen = frozen_layers(tree["networks"][name], plan) if not plan.error else set()
        for k, layer in enumerate(plan.layers):
            use.add(layer, [shapes[s] for s in layer.sources], batch,
                    FLOAT if k in frozen else PER_PARAM)
            shapes[layer.slot] = layer.out_shape
    return uses


def memory_problem(analysis: Analysis, tree: dict, locations: Locations) -> Problem | None:
    """Why training this spec cannot fit in memory here, or None when it can."""
    uses = estimate(analysis, tree)
    total = sum(u.total for u in uses.values())
    limit, source = memory_limit()
    if total <= limit or not uses:
        return None
    batch = batch_size(tree)
    name, use = max(uses.items(), key=lambda item: item[1].total)
    layer_bytes, layer = use.top
    where = tuple(layer.path) if layer else ("networks", name)
    largest = (f"; its largest layer, {format_path(layer.path[2:])} "
               f"{layer.kind} with output {format_shape(layer.out_shape)}, needs "
               f"{_gib(layer_bytes)}") if layer else ""
    others = f" of the spec's {_gib(total)}" if len(uses) > 1 else ""
    hint = ("" if source.startswith(ENV) else f"; set {ENV} (e.g. 200G) to train on a machine "
            "with more memory than this one")
    message = (f"training needs more memory than {source} ({_gib(limit)}): {name} alone needs "
               f"at least {_gib(use.total)}{others} (weights with gradients and Adam state "
               f"{_gib(use.params)}, activations at data.batch_size {batch} "
               f"{_gib(use.activations)}){largest}; a smaller data.batch_size needs less"
               f"{hint}")
    return Problem(format_path(where), message, locations.find(where))


def require_memory(spec) -> None:
    """Refuse to train `spec` (a Spec) when training cannot fit in memory here."""
    problem = memory_problem(spec.analysis, spec.tree, spec.locations)
    if problem is not None:
        raise SpecError([problem])
