"""Registered evaluators: each says when it applies to a spec and how it scores a model.

`evaluate`, training-time evaluation and the app ask this one registry, so a new metric family
(FID on a folder, say) is one registration that names its own conditions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ganbuilder.registry import Registry

if TYPE_CHECKING:
    from ganbuilder.compile.model import GAN
    from ganbuilder.spec import Spec


@dataclass(frozen=True)
class Job:
    """One evaluation: the model, its data section with defaults, and the sampling budget.
    `target` is what the evaluator's `applies` picked (a tensor name, a direction map ...);
    `options` are the caller's settings for evaluators that take some (the Inception weights,
    the real set), which others ignore."""

    spec: Spec
    gan: GAN
    data: dict
    n: int
    seed: int
    target: Any
    options: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Evaluator:
    """`applies(spec, data) -> target or None` decides; `run(job) -> metrics` scores.
    Evaluators are tried by `rank` (lower first); the first that applies runs. `samples` is
    how many it scores when the caller names no number (its metric's protocol)."""

    name: str
    applies: Callable[[Spec, dict], Any]
    run: Callable[[Job], dict[str, Any]]
    rank: int
    doc: str
    samples: int = 1000


class _EvaluatorRegistry(Registry[Evaluator]):
    def _make(self, name: str, fn: Callable, fields: dict) -> Evaluator:
        return Evaluator(name=name, run=fn, doc=(fn.__doc__ or "").strip(), **fields)

    def ranked(self) -> list[Evaluator]:
        return sorted((e for _, e in self.items()), key=lambda e: (e.rank, e.name))


EVALUATORS = _EvaluatorRegistry("evaluator")


def evaluator(name: str, applies: Callable[[Spec, dict], Any], rank: int = 50,
              samples: int = 1000) -> Callable:
    """Register `fn(job) -> metrics` as evaluator `name`, used where `applies` returns a target;
    `samples` is its default number of samples."""
    return EVALUATORS.register(name, applies=applies, rank=rank, samples=samples)
