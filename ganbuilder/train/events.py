"""Events the trainer emits. The CLI and the GUI consume the same stream."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class Started:
    run_dir: Path
    spec_name: str
    start_step: int
    total_steps: int
    device: str


@dataclass(frozen=True)
class StepMetrics:
    """Averages over the steps since the previous StepMetrics; `step` counts finished steps."""

    step: int
    metrics: dict[str, float]


@dataclass(frozen=True)
class SampleGrid:
    step: int
    image: np.ndarray = field(repr=False)  # uint8, H x W x 3
    path: Path | None = None


@dataclass(frozen=True)
class CheckpointSaved:
    step: int
    path: Path


@dataclass(frozen=True)
class Paused:
    """The trainer stopped between steps on request; `checkpoint` holds the model as it is."""

    step: int
    checkpoint: Path


@dataclass(frozen=True)
class Resumed:
    step: int


@dataclass(frozen=True)
class Finished:
    step: int
    run_dir: Path
    stopped: bool  # True when stopped early on request (Ctrl-C, the GUI's stop button)


@dataclass(frozen=True)
class Failed:
    step: int
    message: str
    last_checkpoint: Path | None


Event = (Started | StepMetrics | SampleGrid | CheckpointSaved | Paused | Resumed | Finished
         | Failed)
