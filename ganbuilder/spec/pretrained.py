"""A network's `weights` (from a file the user has) and `frozen` (a network or some of its
layers kept as they are): their schema, the checks on them, and the warnings a spec earns.

Torch-free: `validate` and the app read all of it. Loading the file is the trainer's
(`train/pretrained.py`); keeping frozen parameters out of the optimizers and in eval mode is
the compiled model's (`compile/frozen.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganbuilder.errors import Problem
from ganbuilder.layers import CONTAINERS, LAYERS
from ganbuilder.layers.weight_layouts import WEIGHT_LAYOUTS, WeightLayout, weights_schema
from ganbuilder.registry import fill_defaults
from ganbuilder.spec.paths import format_path
from ganbuilder.spec.shapes import LayerPlan, NetworkPlan
from ganbuilder.weights_files import hub_dir, not_found

_ID = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}
_LAYER = {"anyOf": [{"type": "integer", "minimum": 0}, _ID]}


def network_properties() -> dict:
    """The schema of a network's `weights` and `frozen` keys."""
    return {
        "weights": weights_schema(),
        "frozen": {
            "anyOf": [{"type": "boolean"},
                      {"type": "array", "items": _LAYER, "minItems": 1, "uniqueItems": True},
                      {"type": "object", "properties": {"through": _LAYER},
                       "required": ["through"], "additionalProperties": False}],
            "default": False,
            "description": "true: the network is never trained (no objective may update it) "
                           "and always runs in eval mode; a list of top-level layers (index "
                           "from 0, or id), or {through: layer} for the layers up to and "
                           "including it: those layers' parameters stay as they are and they "
                           "run in eval mode (FreezeD)",
        },
    }


# -- which layers are frozen ------------------------------------------------------------------
def _index(item: Any, plan: NetworkPlan) -> int | None:
    if isinstance(item, bool):
        return None
    if isinstance(item, int):
        return item if item < len(plan.layers) else None
    return plan.layer_ids.get(item)


def frozen_layers(cfg: dict, plan: NetworkPlan) -> set[int]:
    """The top-level layer indices a network's `frozen` keeps as they are (all for true)."""
    frozen = cfg.get("frozen")
    if frozen is True:
        return set(range(len(plan.layers)))
    if isinstance(frozen, list):
        return {i for i in (_index(item, plan) for item in frozen) if i is not None}
    if isinstance(frozen, dict):
        last = _index(frozen.get("through"), plan)
        return set(range(last + 1)) if last is not None else set()
    return set()


def is_frozen(cfg: dict) -> bool:
    """Whether the whole network is frozen (`frozen: true`)."""
    return cfg.get("frozen") is True


def frozen_words(cfg: dict, plan: NetworkPlan) -> str:
    """`frozen`, `3 frozen layers`, or "" for a network that trains whole."""
    if is_frozen(cfg):
        return "frozen"
    count = len(frozen_layers(cfg, plan))
    return f"{count} frozen layer{'s' * (count != 1)}" if count else ""


def layer_params(layer: LayerPlan, in_shapes: list) -> int:
    """A top-level layer's parameter count, from its entry's rule (containers summed)."""
    if layer.kind in CONTAINERS:
        total, shape = 0, in_shapes[0]
        for child in layer.children:
            total += layer_params(child, [shape])
            shape = child.out_shape
        return total
    return LAYERS.get(layer.kind).param_count(layer.params, in_shapes)


def learned_layers(plan: NetworkPlan) -> list[int]:
    """The indices of a network's top-level layers that hold parameters."""
    shapes = dict(zip(plan.inputs, plan.input_shapes, strict=True))
    out = []
    for k, layer in enumerate(plan.layers):
        if layer_params(layer, [shapes[s] for s in layer.sources]):
            out.append(k)
        shapes[layer.slot] = layer.out_shape
    return out


# -- the weights file -------------------------------------------------------------------------
def layout_of(weights: dict) -> WeightLayout:
    """The layout a `weights` section names, or one made of its inline mapping."""
    layout = fill_defaults(weights_schema()["properties"], weights)["layout"]
    if isinstance(layout, dict):
        return WeightLayout(name="the mapping given", description="", modules=dict(layout))
    return WEIGHT_LAYOUTS.get(layout)


def weights_path(weights: dict, base_dir: Path) -> tuple[Path | None, str]:
    """Where a network's weights file is looked for, and why there (`weights.file`, or the
    layout's file in torch's hub cache); None when neither names one."""
    given = weights.get("file")
    if given:
        path = Path(given).expanduser()
        return (path if path.is_absolute() else Path(base_dir) / path), "weights.file"
    layout = layout_of(weights)
    if layout.file:
        return hub_dir() / layout.file, f"torch's hub cache, the default for {layout.name}"
    return None, ""


def absolute_weights(networks: dict, base_dir: Path) -> dict:
    """`networks` with each `weights.file` absolute (the layout's default stays implicit), so
    a run's spec.yaml and a checkpoint's spec name the same file wherever they are read."""
    out = {}
    for name, cfg in networks.items():
        weights = cfg.get("weights") if isinstance(cfg, dict) else None
        if weights and weights.get("file"):
            path, _ = weights_path(weights, base_dir)
            cfg = {**cfg, "weights": {**weights, "file": str(path)}}
        out[name] = cfg
    return out


def missing_weights(network: str, weights: dict, base_dir: Path) -> str | None:
    """The message for a network whose weights file is not there, or None when it is."""
    path, where = weights_path(weights, base_dir)
    layout = layout_of(weights)
    if path is None:
        return (f"network {network} takes its weights from a file but names none: give "
                f"networks.{network}.weights.file")
    if path.is_file():
        return None
    name = layout.file or path.name
    if layout.file and path.name != layout.file:
        name = f"{layout.file} as {path.name}"
    origin = layout.origin or "a state dict of this network, saved with torch.save"
    return not_found(f"the weights of network {network}", path, where, name, origin,
                     f"set networks.{network}.weights.file to where it is")


def _used_ids(layout: WeightLayout, plan: NetworkPlan) -> dict[str, str]:
    """The layout's modules whose layer the network has: file module -> layer id."""
    ids = plan.layer_ids
    return {module: layer_id for module, layer_id in (layout.modules or {}).items()
            if layer_id in ids}


def mapped_layers(layout: WeightLayout, plan: NetworkPlan) -> dict[str, int]:
    """file module -> the index of the top-level layer taking its tensors."""
    ids = plan.layer_ids
    return {module: ids[layer_id] for module, layer_id in _used_ids(layout, plan).items()}


# -- checks -----------------------------------------------------------------------------------
def pretrained_problems(tree: dict, networks: dict[str, NetworkPlan]
                        ) -> list[tuple[tuple, str]]:
    """(path, message) for each `weights` or `frozen` the spec cannot mean: a frozen layer
    the network lacks, a layout that fills no layer or leaves a learned layer out, an
    objective or weight average of a frozen network, an objective with nothing to train."""
    out: list[tuple[tuple, str]] = []
    cfgs = tree["networks"]
    for name, plan in networks.items():
        if plan.error:
            continue
        cfg = cfgs[name]
        frozen = cfg.get("frozen")
        items = frozen if isinstance(frozen, list) else (
            [frozen["through"]] if isinstance(frozen, dict) else [])
        for i, item in enumerate(items):
            if _index(item, plan) is None:
                where = ("networks", name, "frozen", *((i,) if isinstance(frozen, list)
                                                      else ("through",)))
                what = (f"layer {item}, but it has {len(plan.layers)} layers"
                        if isinstance(item, int) else f"layer id '{item}' (its ids: "
                        f"{', '.join(plan.layer_ids) or 'none'})")
                out.append((where, f"{name} has no {what}"))
        weights = cfg.get("weights")
        if weights is not None:
            out += _layout_problems(name, weights, plan)
    for oname, obj in tree["objectives"].items():
        for i, net in enumerate(obj["updates"]):
            if net in cfgs and is_frozen(cfgs[net]):
                out.append((("objectives", oname, "updates", i),
                            f"network {net} is frozen (networks.{net}.frozen: true): no "
                            "objective may update it"))
        learned = [net for net in obj["updates"] if net in networks and not is_frozen(cfgs[net])
                   and not networks[net].error
                   and set(learned_layers(networks[net])) - frozen_layers(cfgs[net],
                                                                          networks[net])]
        if not learned and all(n in networks and not networks[n].error
                               for n in obj["updates"]):
            out.append((("objectives", oname, "updates"),
                        "the networks it updates have no parameter left to train (every "
                        "one is in a frozen layer, or they have none)"))
    ema = (tree["training"].get("ema") or {}).get("networks", [])
    for i, net in enumerate(ema):
        if net in cfgs and is_frozen(cfgs[net]):
            out.append((("training", "ema", "networks", i),
                        f"network {net} is frozen: its weights never change, so there is "
                        "nothing to average"))
    return out


def _layout_problems(name: str, weights: dict, plan: NetworkPlan) -> list[tuple[tuple, str]]:
    layout = layout_of(weights)
    if layout.modules is None:
        return []  # the network's own keys: checked key by key against the file
    path = ("networks", name, "weights", "layout")
    used = _used_ids(layout, plan)
    if not used:
        wanted = list(dict.fromkeys(layout.modules.values()))
        return [(path, f"{layout.name} gives weights to layers with the ids "
                       f"{', '.join(wanted[:4])}{', ...' if len(wanted) > 4 else ''}, and "
                       f"{name} has none of them")]
    filled = set(mapped_layers(layout, plan).values())
    ids = {k: i for i, k in plan.layer_ids.items()}
    left = [ids.get(k, format_path(plan.layers[k].path)) for k in learned_layers(plan)
            if k not in filled]
    if left:
        return [(path, f"{name}'s layers {', '.join(map(str, left[:4]))} hold parameters that "
                       f"{layout.name} gives no weights to (the file would leave them random)")]
    return []


# -- warnings ---------------------------------------------------------------------------------
def spec_warnings(spec, files: bool = True) -> list[Problem]:
    """What a valid spec is likely wrong about, located: a loss measured through a network
    with random weights that nothing trains (a feature network without its weights file), and
    (with `files`) a weights file that is not where the spec says (a run would stop at its
    start; `run` itself says so as an error)."""
    tree, analysis = spec.tree, spec.analysis
    problems = []

    def warn(path: tuple, message: str) -> None:
        problems.append(Problem(format_path(path), message, spec.locations.find(path),
                                spec.locations.written(path)))

    updated = {n for obj in tree["objectives"].values() for n in obj["updates"]}
    readers: dict[str, list[str]] = {}
    for term in analysis.terms:
        nets = set(term.networks.values())
        for tensor in term.names():
            nets |= analysis.producers.get(tensor, set())
        for net in nets:
            readers.setdefault(net, []).append(format_path(term.path) + f" {term.kind}")
    for name, plan in analysis.networks.items():
        cfg = tree["networks"][name]
        weights = cfg.get("weights")
        if weights is not None:
            missing = missing_weights(name, weights, spec.base_dir) if files else None
            if missing is not None:
                warn(("networks", name, "weights"), f"{missing} (run would stop at its start)")
            continue
        if name in updated or name not in readers or plan.error or not learned_layers(plan):
            continue
        warn(("networks", name),
             f"network {name} keeps its random initial weights: no objective updates it and "
             f"it has no weights file, yet the loss reads it ({', '.join(readers[name][:2])}); "
             "a feature network (VGG) needs `weights: {file: ..., layout: ...}`")
    return problems


__all__ = ["absolute_weights", "frozen_layers", "frozen_words", "is_frozen", "layout_of",
           "learned_layers", "mapped_layers", "missing_weights", "network_properties",
           "pretrained_problems", "spec_warnings", "weights_path"]
