"""The logger registry: what a logger is (`Logger`), and one entry per logger (`LoggerDef`)
holding every fact the rest of the code needs: its description (the schema's
`training.log` enum and text come from these), the package it needs and the extra that
installs it, the environment variables it reads, and its constructor.

A logger never sees the trainer's events: the trainer's adapter (`ganbuilder.train.loggers`)
calls `start`, `scalars`, `image`, `checkpoint` and `finish`, so that a logger needs nothing
from above this layer, as Lightning Fabric's `Logger` subclasses need nothing of the loop.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganbuilder.errors import UserError
from ganbuilder.registry import Registry

if TYPE_CHECKING:
    import numpy as np


@dataclass(frozen=True)
class RunInfo:
    """What a logger is told when a run starts (or resumes at `start_step`): the run folder,
    the spec's name, its resolved tree and YAML text (as spec.yaml in the run folder holds
    it), and its `params`."""

    run_dir: Path
    name: str
    start_step: int
    total_steps: int
    spec: dict
    spec_text: str
    params: dict = field(default_factory=dict)


class Logger:
    """A sink of one run's records; every method does nothing unless overridden."""

    def start(self, run: RunInfo) -> None:
        """The run starts (or resumes at `run.start_step`)."""

    def scalars(self, step: int, values: dict[str, float]) -> None:
        """Averages of the metrics over the steps since the previous call."""

    def image(self, step: int, image: np.ndarray) -> None:
        """A sample grid, uint8 H x W x 3."""

    def checkpoint(self, step: int, path: Path) -> None:
        """A checkpoint was written to `path`."""

    def finish(self, status: str) -> None:
        """The run ended: `finished`, `stopped` (on request) or `failed`."""


@dataclass(frozen=True)
class LoggerDef:
    """`make()` builds the logger; `package` is the module it imports (None: none beyond
    ganbuilder's own), installed by `pip install 'ganbuilder[<extra>]'`; `environment` names
    the variables it reads and what each sets."""

    name: str
    make: Callable[[], Logger]
    description: str
    package: str | None = None
    extra: str | None = None
    environment: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        """A UserError saying how to install the package this logger needs, if missing."""
        if self.package is None or importlib.util.find_spec(self.package) is not None:
            return
        raise UserError(f"training.log: '{self.name}' needs the {self.package} package: pip "
                        f"install 'ganbuilder[{self.extra}]' (or pip install {self.package})")


class _LoggerRegistry(Registry[LoggerDef]):
    def _make(self, name: str, fn: Callable, fields: dict[str, Any]) -> LoggerDef:
        return LoggerDef(name=name, make=fn, **fields)


LOGGERS = _LoggerRegistry("logger")


def logger(name: str, description: str, package: str | None = None,
           extra: str | None = None, environment: dict[str, str] | None = None
           ) -> Callable:
    """Register a Logger subclass (or any factory of one) as `training.log` entry `name`."""
    return LOGGERS.register(name, description=description, package=package, extra=extra,
                            environment=environment or {})
