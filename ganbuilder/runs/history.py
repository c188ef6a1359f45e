"""A finished or running run folder read back: its metrics and its sample grids.

The app's Runs view overlays several of these; nothing here imports torch, so opening a run
is quick.
"""

from __future__ import annotations

import bisect
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

from ganbuilder.errors import UserError
from ganbuilder.runs.metadata import describe_init, read_metadata

_SAMPLE = re.compile(r"step_(\d+)\.png$")


@dataclass
class MetricTable:
    """Logged steps and one column per metric key, NaN where a key was not logged at a step
    (an objective that runs every other step, a metric added on resume)."""

    steps: list[int] = field(default_factory=list)
    columns: dict[str, list[float]] = field(default_factory=dict)

    def append(self, step: int, metrics: dict) -> None:
        n = len(self.steps)
        self.steps.append(step)
        for key, value in metrics.items():
            if not isinstance(value, (int, float)):
                continue
            column = self.columns.get(key)
            if column is None:
                column = self.columns[key] = [math.nan] * n
            column.append(float(value))
        for column in self.columns.values():
            if len(column) == n:
                column.append(math.nan)

    def clear(self) -> None:
        self.steps.clear()
        self.columns.clear()


@dataclass
class RunHistory:
    """What a run folder holds: its metrics and its sample grids as (step, path), oldest
    first."""

    run_dir: Path
    name: str
    metrics: MetricTable = field(default_factory=MetricTable)
    samples: list[tuple[int, Path]] = field(default_factory=list)
    init: dict | None = None  # run.json's `init`: the checkpoint a fine-tuning run started from

    @property
    def label(self) -> str:
        return f"{self.name} · {self.run_dir.name}"

    @property
    def origin(self) -> str:
        """`fine-tuned from PATH (sha256 ..., G)` for a run started with --init; else ''."""
        return f"fine-tuned {describe_init(self.init)}" if self.init else ""

    def sample_at(self, step: int) -> tuple[int, Path] | None:
        """The newest grid drawn at or before `step` (the first grid if none was)."""
        if not self.samples:
            return None
        index = bisect.bisect_right(self.samples, step, key=lambda entry: entry[0])
        return self.samples[max(0, index - 1)]


def read_run(run_dir: Path) -> RunHistory:
    """Read `run_dir` (written by `ganbuilder run` or the app). A run still being written, or
    one whose last line was cut short by a crash, reads up to its last complete record."""
    run_dir = Path(run_dir)
    metrics_path = run_dir / "metrics.jsonl"
    if not metrics_path.is_file():
        raise UserError(f"{run_dir} is not a run folder: it has no metrics.jsonl", path="")
    init = read_metadata(run_dir).get("init")
    history = RunHistory(run_dir, _spec_name(run_dir),
                         init=init if isinstance(init, dict) and init else None)
    with metrics_path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            try:
                record = json.loads(line)
                step = int(record.pop("step"))
            except (ValueError, KeyError, TypeError, AttributeError):
                if line.endswith("\n"):  # a damaged record in the middle, not a cut-off tail
                    raise UserError(f"{metrics_path}:{number}: not a metrics record",
                                    path="") from None
                break
            history.metrics.append(step, record)
    samples = []
    for path in (run_dir / "samples").glob("step_*.png"):
        match = _SAMPLE.search(path.name)
        if match:
            samples.append((int(match.group(1)), path))
    history.samples = sorted(samples)
    return history


def _spec_name(run_dir: Path) -> str:
    """The `name:` of the run's spec.yaml, read without parsing the whole spec."""
    spec = run_dir / "spec.yaml"
    if spec.is_file():
        for line in spec.read_text(encoding="utf-8").splitlines():
            if line.startswith("name:"):
                return line.split(":", 1)[1].strip().strip("'\"") or run_dir.name
    return run_dir.parent.name if run_dir.parent.name != "runs" else run_dir.name
