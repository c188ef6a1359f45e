"""The JSON Schema of spec format v1, assembled from the registries, and schema validation.

Layers, loss terms, data sources, optimizers and schedules each contribute their parameter
schema, so a plugin that registers a layer extends the format (and the GUI's forms) too.
"""

from __future__ import annotations

import math
from functools import cache
from typing import Any

from ganbuilder.errors import Problem
from ganbuilder.registry import did_you_mean
from ganbuilder.spec.accepts import VALUE_RULES, accepts, field_schema
from ganbuilder.spec.paths import Locations, format_path
from ganbuilder.spec.plugins import PACKAGE_NAME

# What `training.device` and `--device` accept: auto, cpu, mps, cuda, cuda:N.
DEVICE_PATTERN = r"^(auto|cpu|mps|cuda(:[0-9]+)?)$"

IDENT = "^[A-Za-z_][A-Za-z0-9_]*$"
_NAME = {"type": "string", "pattern": IDENT}
SPEC_NAME = "^[A-Za-z0-9_.-]+$"
# Each pattern in words, for the message about a value that does not match it.
PATTERN_WORDS = {
    DEVICE_PATTERN: "a device: auto, cpu, cuda, cuda:N (N a GPU index) or mps",
    IDENT: "a name of letters, digits and _ that does not start with a digit",
    SPEC_NAME: "a name of letters, digits, '.', '_' and '-'",
    PACKAGE_NAME: "a package name of letters, digits, '.', '_' and '-' that starts and ends "
                  "with a letter or digit",
}


def _one_of_keys(entries: dict[str, dict], description: str, shorthand: bool = True) -> dict:
    """An object with exactly one key, the kind, whose value holds that kind's options."""
    props = {
        name: {"type": ["object", "null"], "properties": params, "additionalProperties": False}
        for name, params in entries.items()
    }
    obj = {"type": "object", "properties": props, "additionalProperties": False,
           "minProperties": 1, "maxProperties": 1, "description": description}
    if not shorthand:
        return obj
    return {"if": {"type": "string"}, "then": {"enum": sorted(entries)}, "else": obj,
            "description": description}


def _layer_value(ldef) -> dict:
    obj = {"type": "object" if ldef.required else ["object", "null"],
           "properties": ldef.params, "additionalProperties": False,
           "required": list(ldef.required)}
    if ldef.primary is None:
        return obj
    return {"if": {"type": ["object", "null"]}, "then": obj, "else": ldef.params[ldef.primary]}


def _layers_defs() -> dict:
    from ganbuilder.layers import LAYERS

    layer_props: dict[str, Any] = {name: _layer_value(d) for name, d in LAYERS.items()}
    layer_props["residual"] = {"$ref": "#/$defs/layers",
                               "description": "x + layers(x) (ResNet block)"}
    layer_props["repeat"] = {
        "type": "object",
        "properties": {"times": {"type": "integer", "minimum": 1, "description": "repetitions"},
                       "layers": {"$ref": "#/$defs/layers"}},
        "required": ["times", "layers"], "additionalProperties": False,
        "description": "the layers, `times` times in a row",
    }
    layer_props["id"] = {**_NAME, "description": "name to refer to this layer's output"}
    layer_props["from"] = {**_NAME, "description": "input: an earlier id or a network input"}
    bare = sorted(n for n, d in LAYERS.items() if not d.required)
    layer = {
        "if": {"type": "string"},
        "then": {"enum": bare},
        "else": {"type": "object", "properties": layer_props, "additionalProperties": False,
                 "minProperties": 1},
    }
    return {"layer": layer, "layers": {"type": "array", "items": {"$ref": "#/$defs/layer"}}}


def _loss_term() -> dict:
    from ganbuilder.losses import LOSSES

    return _one_of_keys(
        {name: d.params for name, d in LOSSES.items()}, "a weighted loss term", shorthand=False
    ) | {"required": []}


def _required_loss_params() -> dict:
    from ganbuilder.losses import LOSSES

    return {name: list(d.required) for name, d in LOSSES.items()}


def _log_schema() -> dict:
    """`training.log`: the names and descriptions of the registered loggers."""
    from ganbuilder.loggers import LOGGERS

    kinds = "; ".join(f"{name}: {d.description}" + (f" (needs pip install "
                                                     f"'ganbuilder[{d.extra}]')" if d.extra
                                                     else "")
                      for name, d in LOGGERS.items())
    return {"type": "array", "items": {"enum": LOGGERS.names()}, "uniqueItems": True,
            "default": ["jsonl"],
            "description": f"where a run is recorded besides metrics.jsonl (always written): "
                           f"{kinds}"}


@cache
def spec_schema() -> dict:
    """The full JSON Schema (draft 2020-12) of a resolved spec."""
    from ganbuilder.data import data_schema
    from ganbuilder.spec.plugins import PLUGINS_SCHEMA, load_installed

    load_installed()  # installed plugins' layers, terms, sources and loggers are the format's
    from ganbuilder.layers.init import INITS
    from ganbuilder.losses import GAN_LOSSES
    from ganbuilder.optim import OPTIMIZERS, SCHEDULES
    from ganbuilder.spec.pretrained import network_properties

    term = _loss_term()
    for name, req in _required_loss_params().items():
        term["properties"][name]["required"] = req
        term["properties"][name]["type"] = "object"
    every = {"type": "integer", "minimum": 1}
    network = {
        "type": "object",
        "properties": {
            "description": {"type": "string"},
            "inputs": {"type": "array", "items": _NAME, "minItems": 1, "uniqueItems": True,
                       "description": "names of the inputs, in call order (default: [input])"},
            "init": {"type": "object", "minProperties": 1, "maxProperties": 1,
                     "additionalProperties": False,
                     "properties": {name: d.value for name, d in INITS.items()},
                     "description": "weight initialisation; PyTorch's defaults when left out"},
            "layers": {"$ref": "#/$defs/layers"},
            **network_properties(),  # weights from a file, frozen networks and layers
            "outputs": {"type": "array", "items": _NAME, "minItems": 1, "uniqueItems": True,
                        "description": "several heads (StarGAN's D: [src, cls]): ids of top-level "
                                       "layers; a call returns the first, a term's `head` or a "
                                       "tap (`d.cls`) reads the others (default: the last "
                                       "layer's output)"},
        },
        "required": ["layers"],
        "additionalProperties": False,
    }
    latent = {
        "type": "object",
        "properties": {
            "dist": {"enum": ["normal", "uniform", "categorical"], "default": "normal",
                     "description": "normal N(0,1), uniform U(-1,1) or categorical labels"},
            "shape": {"type": "array", "items": {"type": "integer", "minimum": 1},
                      "description": "per-sample shape (normal, uniform)"},
            "classes": {"type": "integer", "minimum": 1,
                        "description": "number of labels (categorical)"},
        },
        "additionalProperties": False,
    }
    objective = {
        "type": "object",
        "properties": {
            "updates": {"type": "array", "items": _NAME, "minItems": 1, "uniqueItems": True,
                        "description": "networks whose parameters this objective trains"},
            "loss": {"type": "array", "items": {"$ref": "#/$defs/loss_term"}, "minItems": 1},
            "repeat": {**every, "default": 1,
                       "description": "optimizer steps per iteration (WGAN's n_critic)"},
            "optimizer": {"$ref": "#/$defs/optimizer"},
            "clip_weights": {"type": "number", "exclusiveMinimum": 0,
                             "description": "after each step, clamp every parameter of the "
                                            "updated networks to [-c, c] (WGAN: 0.01)"},
        },
        "required": ["updates", "loss"],
        "additionalProperties": False,
    }
    training = {
        "type": "object",
        "properties": {
            "steps": {**every, "description": "training iterations"},
            "order": {"type": "array", "items": _NAME, "uniqueItems": True,
                      "description": "objective order within an iteration (default: declared)"},
            "optimizer": {"$ref": "#/$defs/optimizer"},
            "schedule": _one_of_keys({n: d.params for n, d in SCHEDULES.items()},
                                     "learning-rate schedule"),
            "seed": {"type": "integer", "minimum": 0, "default": 0},
            "device": {"type": "string", "pattern": DEVICE_PATTERN, "default": "auto",
                       "description": "auto, cpu, cuda, cuda:N or mps; under torchrun `cuda` "
                                      "is each rank's local GPU"},
            "precision": {"enum": ["fp32", "bf16", "fp16"], "default": "fp32",
                          "description": "autocast dtype of the forward pass and loss terms; "
                                         "fp16 scales each objective's loss (a GradScaler "
                                         "per objective)"},
            "accumulate": {"type": "integer", "minimum": 1, "default": 1,
                           "description": "micro-batches per optimizer step: each objective "
                                          "runs data.batch_size / n samples n times, summing "
                                          "gradients (the same step as one batch, in less "
                                          "memory)"},
            "sync_batch_norm": {"type": "boolean", "default": False,
                                "description": "under torchrun, batch norm statistics over "
                                               "the global batch (SyncBatchNorm) instead of "
                                               "each rank's share"},
            "channels_last": {"type": "boolean", "default": False,
                              "description": "networks and image batches in channels-last "
                                             "memory order (faster convolutions on recent "
                                             "GPUs)"},
            "deterministic": {"type": "boolean", "default": False,
                              "description": "on CUDA, deterministic kernels only (bit-equal "
                                             "reruns, slower); by default cuDNN times its "
                                             "convolution algorithms per shape "
                                             "(cudnn.benchmark) and keeps the fastest"},
            "compile": {"type": "boolean", "default": False,
                        "description": "torch.compile each network (slow first steps, then "
                                       "faster ones, mostly on GPUs)"},
            "log_every": {**every, "default": 10},
            "sample_every": {**every, "default": 500},
            "checkpoint_every": {**every, "default": 1000},
            "log": _log_schema(),
            "eval": {
                "type": "object",
                "description": "score the model during training with the evaluator "
                               "`ganbuilder evaluate` runs (ganbuilder run): figures logged as "
                               "eval/<metric> in metrics.jsonl, checkpoints/best.pt kept",
                "properties": {
                    "every": {**every, "description": "evaluate the first checkpoint saved at "
                                                      "or after each multiple of this many "
                                                      "steps"},
                    "metrics": {"type": "array", "items": {"type": "string", "minLength": 1},
                                "minItems": 1, "uniqueItems": True,
                                "description": "the figures to log (default: every number "
                                               "the evaluator reports)"},
                    "n": {"type": "integer", "minimum": 2, "default": 500,
                          "description": "samples per evaluation"},
                    "best": {"type": "string", "minLength": 1,
                             "description": "keep checkpoints/best.pt, the checkpoint with the "
                                            "best value of this metric"},
                    "mode": {"enum": ["min", "max"], "default": "min",
                             "description": "whether lower (fid, kid, fd) or higher "
                                            "(precision, accuracy) `best` values are better"},
                },
                "required": ["every"],
                "additionalProperties": False,
            },
            "ema": {
                "type": "object",
                "description": "an exponential moving average of some networks' weights, used "
                               "for samples, evaluation and `ganbuilder sample` (BigGAN, "
                               "StyleGAN)",
                "properties": {
                    "networks": {"type": "array", "items": _NAME, "minItems": 1,
                                 "uniqueItems": True},
                    "decay": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1,
                              "default": 0.999},
                    "start": {"type": "integer", "minimum": 0, "default": 0,
                              "description": "steps before averaging begins (the average "
                                             "copies the weights until then)"},
                    "rampup": {"anyOf": [{"type": "number", "exclusiveMinimum": 0},
                                         {"type": "null"}], "default": None,
                               "description": "StyleGAN2-ADA's ema_rampup (0.05 for small "
                                              "data): the average's half-life is at most "
                                              "rampup x the steps done, so it forgets the "
                                              "first weights fast; null: off"},
                },
                "required": ["networks"],
                "additionalProperties": False,
            },
        },
        "required": ["steps"],
        "additionalProperties": False,
    }
    sampling = {
        "type": "object",
        "properties": {
            "tensors": {"type": "array", "minItems": 1,
                        "items": {"anyOf": [_NAME, {"type": "array", "items": _NAME,
                                                    "minItems": 1}]},
                        "description": "tensors drawn in the grid; a list such as [real_A, "
                                       "fake_B, rec_A] puts them side by side per sample"},
            "n": {"type": "integer", "minimum": 1, "maximum": 1024, "default": 64},
            "nrow": {"type": "integer", "minimum": 1, "default": 8},
            "rows_by": {**_NAME, "description": "a categorical latent: one row per label"},
        },
        "additionalProperties": False,
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ganbuilder.dev/schema/spec-v1.json",
        "title": "ganbuilder spec v1",
        "type": "object",
        "properties": {
            "version": {"const": 1},
            "name": {"type": "string", "pattern": SPEC_NAME},
            "description": {"type": "string"},
            "plugins": PLUGINS_SCHEMA,
            "params": {"type": "object", "propertyNames": {"pattern": IDENT},
                       "additionalProperties": {"type": ["number", "string", "boolean"]}},
            "data": data_schema(),
            "latent": {"type": "object", "propertyNames": {"pattern": IDENT},
                       "additionalProperties": latent},
            "blocks": {"type": "object"},
            "networks": {"type": "object", "propertyNames": {"pattern": IDENT},
                         "additionalProperties": network, "minProperties": 1},
            "forward": {"type": "object", "propertyNames": {"pattern": IDENT},
                        "additionalProperties": {"type": "string"}},
            "objectives": {"type": "object", "propertyNames": {"pattern": IDENT},
                           "additionalProperties": objective, "minProperties": 1},
            "gan_loss": {"enum": GAN_LOSSES.names(), "default": "bce"},
            "training": training,
            "sampling": sampling,
        },
        "required": ["version", "name", "data", "networks", "objectives", "training"],
        "additionalProperties": False,
        "$defs": {
            **_layers_defs(),
            "loss_term": term,
            "optimizer": _one_of_keys({n: d.params for n, d in OPTIMIZERS.items()}, "optimizer"),
        },
    }


def schema_problems(tree: dict, locations: Locations) -> list[Problem]:
    """Validate a resolved tree; one Problem per error, located and phrased for people."""
    import jsonschema

    validator = jsonschema.Draft202012Validator(spec_schema())
    problems = []
    errors = [leaf for error in validator.iter_errors(tree) for leaf in _leaves(error)]
    valued: set[tuple] = set()  # fields already given their one message about a bad value
    for leaf in errors:
        if leaf.validator == "unevaluatedProperties" and any(
            len(e.absolute_path) > len(leaf.absolute_path)
            and list(e.absolute_path)[: len(leaf.absolute_path)] == list(leaf.absolute_path)
            for e in errors
        ):
            continue  # e.g. an unknown data source makes its keys unevaluated; say the cause
        if len(errors) > 1 and _no_extra_keys(leaf):
            continue  # a failed branch (a missing data.root) leaves known keys unevaluated
        if leaf.validator in VALUE_RULES:
            path = tuple(leaf.absolute_path)
            if path in valued:
                continue
            valued.add(path)
        problems.append(_problem(leaf, locations))
    non_finite = _non_finite(tree, (), locations)
    said = {p.path for p in non_finite}  # better than the schema's `must be >= 0` there
    problems = [p for p in problems if p.path not in said] + non_finite
    unique = {(p.path, p.message): p for p in problems}
    return list(unique.values())


def _non_finite(node: Any, path: tuple, locations: Locations) -> list[Problem]:
    """YAML's .nan and .inf: JSON Schema has no word for them, and no spec value means them."""
    if isinstance(node, float) and not math.isfinite(node):
        return [Problem(format_path(list(path)), f"must be a finite number, got {node}",
                        locations.find(list(path)), locations.written(list(path)))]
    items = node.items() if isinstance(node, dict) else (
        enumerate(node) if isinstance(node, list) else ())
    return [p for key, value in items for p in _non_finite(value, (*path, key), locations)]


def _leaves(error) -> list:
    """jsonschema nests branch errors under if/then/anyOf; report the most specific ones."""
    if error.context:
        best = [e for e in error.context if e.validator not in ("if",)]
        deepest = max(len(e.absolute_path) for e in best) if best else 0
        return [leaf for e in best if len(e.absolute_path) == deepest for leaf in _leaves(e)]
    return [error]


def _no_extra_keys(error) -> bool:
    """An unknown-key error that names no key the schema does not know."""
    return (error.validator in ("additionalProperties", "unevaluatedProperties")
            and isinstance(error.instance, dict)
            and not set(error.instance) - _allowed_keys(error.schema, error.instance))


def _problem(error, locations: Locations) -> Problem:
    path = list(error.absolute_path)
    validator, value = error.validator, error.validator_value
    message = error.message
    key_loc = False
    if validator in ("additionalProperties", "unevaluatedProperties") and isinstance(
            error.instance, dict) and not _no_extra_keys(error):
        allowed = _allowed_keys(error.schema, error.instance)
        extra = sorted(set(error.instance) - allowed)
        name = extra[0]
        in_layer = len(path) >= 2 and isinstance(path[-1], int) and path[-2] in (
            "layers", "residual")
        what = "layer" if in_layer and name not in ("id", "from") else "key"
        message = f"unknown {what} '{name}'{did_you_mean(name, allowed)}"
        if what == "key":
            message += f"; expected one of: {', '.join(sorted(allowed))}"
        path.append(name)
        key_loc = True
    elif validator == "enum" and isinstance(error.instance, str):
        choices = set(map(str, value))  # an enum may hold numbers (`channels: [1, 3]`)
        message = f"unknown value '{error.instance}'{did_you_mean(error.instance, choices)}"
        message += f"; expected one of: {', '.join(map(str, value))}"
    elif validator == "required":
        missing = [k for k in value if k not in error.instance]
        message = f"missing required key{'s' if len(missing) > 1 else ''}: {', '.join(missing)}"
    elif validator in VALUE_RULES:  # one sentence of what the field takes, from its schema
        expected = accepts(field_schema(error), PATTERN_WORDS)
        message = f"expected {expected}, got {_describe(error.instance)}"
    elif validator in ("minProperties", "maxProperties") and value == 1:
        message = "must name exactly one kind" if validator == "maxProperties" else "is empty"
    return Problem(format_path(path), message, locations.find(path, key=key_loc),
                   locations.written(path))


def _allowed_keys(schema: dict, instance: dict) -> set[str]:
    """Property names a mapping may have, including those of matching if/then branches."""
    allowed = set(schema.get("properties", {}))
    for branch in schema.get("allOf", []):
        condition = branch.get("if", {}).get("properties", {})
        if all(instance.get(k) == v.get("const") for k, v in condition.items()):
            allowed |= set(branch.get("then", {}).get("properties", {}))
    return allowed


def _describe(value: Any) -> str:
    if isinstance(value, str):
        return f"the string '{value}'"
    if value is None:
        return "nothing (null)"
    kind = {bool: "boolean", int: "integer", float: "number", list: "a list", dict: "a mapping"}
    return f"{kind.get(type(value), type(value).__name__)} {value!r}" if not isinstance(
        value, list | dict) else kind[list if isinstance(value, list) else dict]
