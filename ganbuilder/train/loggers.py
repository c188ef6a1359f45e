"""Loggers the ecosystem reads, as sinks of the trainer's events (`training.log`).

- `jsonl`: `metrics.jsonl`, which the trainer always writes (the app and `runs.history` read
  it); listing it changes nothing.
- `csv`: `metrics.csv`, one row per logged step (StepMetrics), a column per metric; a metric
  that first appears later widens the file (earlier rows leave it empty).
- `tensorboard`: event files under `tensorboard/` in the run folder: every logged scalar under
  its metric name, each sample grid as the image `samples`, and the spec's `params` as
  hparams. Needs the `tensorboard` package (`pip install 'ganbuilder[tensorboard]'`).

A resumed run starts logging again from its checkpoint's step: CSV rows after it are dropped,
TensorBoard is told to purge events after it, as metrics.jsonl is truncated.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganbuilder.errors import UserError
from ganbuilder.files import Appender, write_file
from ganbuilder.spec import Spec
from ganbuilder.train.events import (
    Event,
    Failed,
    Finished,
    SampleGrid,
    Started,
    StepMetrics,
)

TENSORBOARD_DIR = "tensorboard"


class CsvLogger:
    """`metrics.csv`: a `step` column, then the metrics in the order they first appeared."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.columns: list[str] = []

    def __call__(self, event: Event) -> None:
        if isinstance(event, Started):
            self.path = event.run_dir / "metrics.csv"
            self._start(event.start_step)
        elif isinstance(event, StepMetrics) and self.path is not None:
            row = {"step": event.step, **event.metrics}
            if any(k not in self.columns for k in row):
                self._widen([k for k in row if k not in self.columns])
            line = io.StringIO()
            csv.DictWriter(line, self.columns, lineterminator="\n").writerow(row)
            log = Appender(self.path)
            try:
                log.write_line(line.getvalue().removesuffix("\n"))
            finally:
                log.close()

    def _read(self) -> list[dict[str, str]]:
        if self.path is None or not self.path.is_file():
            return []
        with self.path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            self.columns = list(reader.fieldnames or [])
        return rows

    def _write(self, rows: list[dict[str, Any]]) -> None:
        assert self.path is not None
        text = io.StringIO()
        writer = csv.DictWriter(text, self.columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        write_file(self.path, text.getvalue())

    def _start(self, start_step: int) -> None:
        """Keep the rows up to `start_step` (a resumed run logs again from there)."""
        rows = [r for r in self._read() if _int(r.get("step")) <= start_step]
        if not self.columns:
            self.columns = ["step"]
        self._write(rows)

    def _widen(self, new: list[str]) -> None:
        rows = self._read()
        self.columns = [*(self.columns or ["step"]), *new]
        self._write(rows)


def _int(text: str | None) -> int:
    try:
        return int(text or "")
    except ValueError:
        return -1  # a damaged row: dropped with the ones after the resume step


def hparams(spec: Spec) -> dict[str, int | float | str | bool]:
    """The spec's params as TensorBoard hparams (values other than scalars as text)."""
    params = spec.tree.get("params") or {}
    return {str(k): v if isinstance(v, (int, float, str, bool)) else str(v)
            for k, v in params.items()}


class TensorBoardLogger:
    """Scalars, sample grids and hparams through torch.utils.tensorboard."""

    def __init__(self, spec: Spec):
        self.spec = spec
        self.writer: Any = None
        self._writer_class = tensorboard_writer()

    def __call__(self, event: Event) -> None:
        if isinstance(event, Started):
            self._open(event)
        elif self.writer is None:
            return
        elif isinstance(event, StepMetrics):
            for key, value in event.metrics.items():
                self.writer.add_scalar(key, value, event.step)
        elif isinstance(event, SampleGrid):
            self.writer.add_image("samples", event.image, event.step, dataformats="HWC")
        elif isinstance(event, (Finished, Failed)):
            self.writer.close()
            self.writer = None

    def _open(self, event: Started) -> None:
        from torch.utils.tensorboard.summary import hparams as hparams_summary

        purge = event.start_step if event.start_step > 0 else None
        self.writer = self._writer_class(str(event.run_dir / TENSORBOARD_DIR), purge_step=purge)
        values = hparams(self.spec)
        if values and event.start_step == 0:
            # Into this run's own event file (add_hparams would open a second run folder).
            for summary in hparams_summary(values, {}):
                self.writer.file_writer.add_summary(summary)
        self.writer.flush()


def tensorboard_writer() -> type:
    """torch's SummaryWriter, or a UserError saying how to install TensorBoard."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise UserError("training.log: 'tensorboard' needs the tensorboard package: "
                        "pip install 'ganbuilder[tensorboard]' (or pip install tensorboard)"
                        ) from None
    return SummaryWriter


def with_loggers(spec: Spec, emit: Callable[[Event], None]) -> Callable[[Event], None]:
    """`emit`, preceded by the sinks `training.log` asks for (checked now: a missing
    TensorBoard fails before training starts)."""
    kinds = spec.training.get("log") or ["jsonl"]
    sinks: list[Callable[[Event], None]] = []
    if "csv" in kinds:
        sinks.append(CsvLogger())
    if "tensorboard" in kinds:
        sinks.append(TensorBoardLogger(spec))
    if not sinks:
        return emit

    def chained(event: Event) -> None:
        for sink in sinks:
            sink(event)
        emit(event)

    return chained
