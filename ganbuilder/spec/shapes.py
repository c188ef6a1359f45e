"""Shape inference for one network's layer list, in plain Python (no torch, no compute).

The result is the layer plan the compiler builds modules from, so shapes are inferred once and
a shape error is found before any module exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ganbuilder.layers import CONTAINERS, LAYERS, Shape, ShapeError
from ganbuilder.layers.registry import format_shape
from ganbuilder.registry import did_you_mean
from ganbuilder.spec.paths import format_path

_META_KEYS = ("id", "from")


@dataclass
class LayerPlan:
    """One layer: what it is, what it reads (slot names) and the shape it makes."""

    path: tuple
    kind: str
    params: dict
    sources: list[str]
    out_shape: Shape
    slot: str
    children: list[LayerPlan] = field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{format_path(self.path)} {self.kind}"


@dataclass
class NetworkPlan:
    """A network's inputs, layers and output shape; `error` is set where inference stopped."""

    name: str
    inputs: list[str]
    input_shapes: list[Shape]
    layers: list[LayerPlan]
    output_shape: Shape | None
    output_slot: str
    error: tuple[tuple, str] | None = None
    outputs: tuple[str, ...] = ()  # the heads a network declares (`outputs`), first returned

    @property
    def layer_ids(self) -> dict[str, int]:
        """The `id`s of the top-level layers, each with its position in the layer list (which
        is the built module's: `net[k]` of a chain, `net.layers[k]` of a graph)."""
        return {layer.slot: k for k, layer in enumerate(self.layers)
                if layer.slot != format_path(layer.path)}

    @property
    def is_chain(self) -> bool:
        """One input and every layer reading its predecessor: an nn.Sequential suffices."""
        prev = self.inputs[0]
        if self.layers and self.output_slot != self.layers[-1].slot:
            return False  # a head before the last layer is returned
        for layer in self.layers:
            if layer.sources != [prev] or len(self.inputs) > 1:
                return False
            prev = layer.slot
        return True


class _Failed(Exception):
    def __init__(self, path: tuple, message: str):
        self.path, self.message = path, message


def plan_network(name: str, cfg: dict, input_shapes: list[Shape]) -> NetworkPlan:
    """Infer every layer's output shape; stops at the first layer that cannot take its input."""
    inputs = list(cfg.get("inputs") or ["input"])
    env: dict[str, Shape] = dict(zip(inputs, input_shapes, strict=False))
    path = ("networks", name, "layers")
    layers: list[LayerPlan] = []
    try:
        if len(input_shapes) != len(inputs):
            raise _Failed(("networks", name), f"takes {len(inputs)} input(s) "
                          f"({', '.join(inputs)}), called with {len(input_shapes)}")
        current = _walk(cfg.get("layers") or [], path, inputs[0], env, layers, top=True)
        current = _output(cfg.get("outputs") or [], layers, current, ("networks", name))
    except _Failed as exc:
        return NetworkPlan(name, inputs, input_shapes, layers, None, "", (exc.path, exc.message))
    return NetworkPlan(name, inputs, input_shapes, layers, env[current], current,
                       outputs=tuple(cfg.get("outputs") or ()))


def _output(outputs: list[str], layers: list[LayerPlan], last: str, path: tuple) -> str:
    """The slot a call returns: the first of the network's `outputs` (its heads), each an id
    of a top-level layer; else the last layer's."""
    ids = {layer.slot for layer in layers if layer.slot != format_path(layer.path)}
    for i, head in enumerate(outputs):
        if head not in ids:
            raise _Failed((*path, "outputs", i), f"output '{head}' is no id of a top-level layer"
                          f"{did_you_mean(head, ids)}")
    return outputs[0] if outputs else last


def _split(item, path: tuple) -> tuple[str, object, dict]:
    if isinstance(item, str):
        return item, None, {}
    kinds = [k for k in item if k not in _META_KEYS]
    if len(kinds) != 1:
        what = "no layer kind" if not kinds else f"several layer kinds ({', '.join(kinds)})"
        raise _Failed(path, f"a layer item names exactly one kind; found {what}")
    return kinds[0], item[kinds[0]], {k: item[k] for k in _META_KEYS if k in item}


def _walk(items: list, path: tuple, current: str, env: dict, out: list, top: bool) -> str:
    for i, item in enumerate(items):
        here = (*path, i)
        kind, value, meta = _split(item, here)
        if meta and not top:
            raise _Failed(here, "'id' and 'from' are only allowed at a network's top level")
        source = meta.get("from", current)
        if source not in env:
            raise _Failed((*here, "from"), f"unknown input '{source}'{did_you_mean(source, env)}")
        slot = meta.get("id") or format_path(here)
        if meta.get("id") in env:
            raise _Failed((*here, "id"), f"id '{meta['id']}' is already used in this network")
        if kind in CONTAINERS:
            plan = _container(kind, value, here, source, env[source])
        else:
            plan = _layer(kind, value, here, source, env)
        plan.slot = slot
        env[slot] = plan.out_shape
        out.append(plan)
        current = slot
    return current


def _layer(kind: str, value, here: tuple, source: str, env: dict) -> LayerPlan:
    if kind not in LAYERS:
        raise _Failed(here, f"unknown layer '{kind}'{did_you_mean(kind, set(LAYERS.names()))}")
    ldef = LAYERS.get(kind)
    params = ldef.normalize(value)
    missing = [k for k in ldef.required if k not in params]
    if missing:
        raise _Failed(here, f"{kind}: missing {', '.join(missing)}")
    sources = [source]
    for ref in ldef.refs:
        names = params[ref] if isinstance(params[ref], list) else [params[ref]]
        for ref_name in names:
            if ref_name not in env:
                raise _Failed((*here, kind, ref),
                              f"unknown id '{ref_name}'{did_you_mean(ref_name, env)}; ids name "
                              "earlier layers or network inputs")
        sources += names
    try:
        shape = ldef.shape(params, [env[s] for s in sources])
    except ShapeError as exc:
        raise _Failed(here, str(exc)) from None
    return LayerPlan(here, kind, params, sources, tuple(shape), "")


def _container(kind: str, value, here: tuple, source: str, shape: Shape) -> LayerPlan:
    children: list[LayerPlan] = []
    if kind == "residual":
        env = {"input": shape}
        last = _walk(value or [], (*here, "residual"), "input", env, children, top=False)
        if env[last] != shape:
            raise _Failed(here, f"residual: the body maps {format_shape(shape)} to "
                          f"{format_shape(env[last])}; x + body(x) needs the same shape")
        return LayerPlan(here, kind, {}, [source], shape, "", children)
    env = {"input": shape}
    last = "input"
    for _ in range(value["times"]):
        last = _walk(value["layers"], (*here, "repeat", "layers"), last, env, children, top=False)
    return LayerPlan(here, kind, {"times": value["times"]}, [source], env[last], "", children)
