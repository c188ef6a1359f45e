"""Learning-rate schedules, each registered with its parameter schema and factor function.

A schedule's `factor(options, total_steps)` returns the multiplier of the initial lr at each
step, so adding a schedule is one registration here.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from ganbuilder.optim._section import one_key
from ganbuilder.registry import Registry, fill_defaults

Factor = Callable[[int], float]
FactorBuilder = Callable[[dict, int], Factor]


@dataclass(frozen=True)
class ScheduleDef:
    """A schedule kind: `params` are JSON Schema properties (defaults included);
    `factor(options, total_steps)` returns `step -> lr multiplier`, options already filled."""

    name: str
    factor: FactorBuilder
    params: dict
    doc: str = ""


class _ScheduleRegistry(Registry[ScheduleDef]):
    def _make(self, name: str, fn: Callable, fields: dict) -> ScheduleDef:
        return ScheduleDef(name=name, factor=fn, doc=(fn.__doc__ or "").strip(), **fields)


SCHEDULES = _ScheduleRegistry("schedule")


def schedule(name: str, params: dict | None = None) -> Callable[[FactorBuilder], FactorBuilder]:
    """Register `fn(options, total_steps) -> (step -> factor)` as schedule `name`."""
    return SCHEDULES.register(name, params=params or {})


def lr_factor(section: dict | str | None, steps: int) -> Factor:
    """The multiplier of the initial lr at a given step (constant when no schedule is named)."""
    name, opts = one_key(section, "constant")
    entry = SCHEDULES.get(name)
    return entry.factor(fill_defaults(entry.params, opts), steps)


@schedule("constant")
def constant(o: dict, steps: int) -> Factor:
    """The initial lr throughout."""
    return lambda t: 1.0


@schedule("linear_decay", {
    "start": {"type": "integer", "minimum": 0, "default": 0,
              "description": "step where the lr starts decaying linearly to zero at the end"}})
def linear_decay(o: dict, steps: int) -> Factor:
    """Constant until `start`, then linearly down to zero at the last step (CycleGAN)."""
    span = max(1, steps - o["start"])
    return lambda t: 1.0 - max(0, t - o["start"]) / span


@schedule("step", {
    "every": {"type": "integer", "minimum": 1, "default": 1000, "description": "steps between"},
    "gamma": {"type": "number", "exclusiveMinimum": 0, "default": 0.1, "description": "factor"}})
def step(o: dict, steps: int) -> Factor:
    """Multiplied by `gamma` every `every` steps."""
    return lambda t: o["gamma"] ** (t // o["every"])


@schedule("cosine", {
    "min_factor": {"type": "number", "minimum": 0, "default": 0.0,
                   "description": "final lr as a fraction of the initial lr"}})
def cosine(o: dict, steps: int) -> Factor:
    """Half a cosine from 1 down to `min_factor` at the last step, then held there."""
    return lambda t: o["min_factor"] + (1 - o["min_factor"]) * 0.5 * (
        1 + math.cos(math.pi * min(t, steps) / steps))
