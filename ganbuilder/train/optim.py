"""Optimizers and learning-rate schedules, registered with their parameter schemas."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ganbuilder._lazy import torch
from ganbuilder.registry import Registry, fill_defaults


@dataclass(frozen=True)
class OptimizerDef:
    build: Callable  # (params iterable, options dict) -> torch.optim.Optimizer
    params: dict


OPTIMIZERS: Registry[OptimizerDef] = Registry("optimizer")
SCHEDULES: Registry[dict] = Registry("schedule")

_LR = {"type": "number", "exclusiveMinimum": 0, "default": 2e-4, "description": "learning rate"}
_WD = {"type": "number", "minimum": 0, "default": 0.0, "description": "weight decay"}
_BETAS = {"type": "array", "items": {"type": "number", "minimum": 0, "maximum": 1},
          "minItems": 2, "maxItems": 2, "default": [0.5, 0.999],
          "description": "Adam betas (DCGAN: beta1 = 0.5)"}

OPTIMIZERS.add("adam", OptimizerDef(
    lambda ps, o: torch.optim.Adam(ps, lr=o["lr"], betas=tuple(o["betas"]),
                                   weight_decay=o["weight_decay"]),
    {"lr": _LR, "betas": _BETAS, "weight_decay": _WD}))
OPTIMIZERS.add("adamw", OptimizerDef(
    lambda ps, o: torch.optim.AdamW(ps, lr=o["lr"], betas=tuple(o["betas"]),
                                    weight_decay=o["weight_decay"]),
    {"lr": _LR, "betas": _BETAS, "weight_decay": {**_WD, "default": 0.01}}))
OPTIMIZERS.add("sgd", OptimizerDef(
    lambda ps, o: torch.optim.SGD(ps, lr=o["lr"], momentum=o["momentum"],
                                  weight_decay=o["weight_decay"]),
    {"lr": {**_LR, "default": 0.01}, "weight_decay": _WD,
     "momentum": {"type": "number", "minimum": 0, "default": 0.0, "description": "momentum"}}))
OPTIMIZERS.add("rmsprop", OptimizerDef(
    lambda ps, o: torch.optim.RMSprop(ps, lr=o["lr"], alpha=o["alpha"],
                                      weight_decay=o["weight_decay"]),
    {"lr": {**_LR, "default": 5e-5}, "weight_decay": _WD,
     "alpha": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.99,
               "description": "smoothing constant"}}))

SCHEDULES.add("constant", {})
SCHEDULES.add("linear_decay", {
    "start": {"type": "integer", "minimum": 0, "default": 0,
              "description": "step where the lr starts decaying linearly to zero at the end"}})
SCHEDULES.add("step", {
    "every": {"type": "integer", "minimum": 1, "default": 1000, "description": "steps between"},
    "gamma": {"type": "number", "exclusiveMinimum": 0, "default": 0.1, "description": "factor"}})
SCHEDULES.add("cosine", {
    "min_factor": {"type": "number", "minimum": 0, "default": 0.0,
                   "description": "final lr as a fraction of the initial lr"}})


def one_key(section: dict | str | None, fallback: str) -> tuple[str, dict]:
    """`{adam: {lr: ...}}` or `adam` -> ('adam', {...})."""
    if not section:
        return fallback, {}
    if isinstance(section, str):
        return section, {}
    name, opts = next(iter(section.items()))
    return name, dict(opts or {})


def build_optimizer(section: dict | str | None, parameters) -> torch.optim.Optimizer:
    name, opts = one_key(section, "adam")
    entry = OPTIMIZERS.get(name)
    return entry.build(parameters, fill_defaults(entry.params, opts))


def lr_factor(section: dict | str | None, steps: int) -> Callable[[int], float]:
    """The multiplier of the initial lr at a given step."""
    name, opts = one_key(section, "constant")
    o = fill_defaults(SCHEDULES.get(name), opts)
    if name == "linear_decay":
        span = max(1, steps - o["start"])
        return lambda t: 1.0 - max(0, t - o["start"]) / span
    if name == "step":
        return lambda t: o["gamma"] ** (t // o["every"])
    if name == "cosine":
        return lambda t: o["min_factor"] + (1 - o["min_factor"]) * 0.5 * (
            1 + math.cos(math.pi * min(t, steps) / steps))
    return lambda t: 1.0
