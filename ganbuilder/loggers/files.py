"""Loggers that write plain files into the run folder: `jsonl` and `csv`."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from ganbuilder.files import Appender, write_file
from ganbuilder.loggers.registry import Logger, RunInfo, logger


@logger("jsonl", description="metrics.jsonl, one JSON record per logged step; the trainer "
                             "always writes it (the app and `runs.history` read it), so "
                             "listing it changes nothing")
class JsonlLogger(Logger):
    """metrics.jsonl is the trainer's own record; this entry only names it."""


@logger("csv", description="metrics.csv in the run folder: a `step` column, then one column "
                           "per metric in the order they first appeared")
class CsvLogger(Logger):
    """`metrics.csv`: a metric that first appears later widens the file (earlier rows leave it
    empty); a resumed run drops the rows after its checkpoint's step."""

    def __init__(self) -> None:
        self.path: Path | None = None
        self.columns: list[str] = []

    def start(self, run: RunInfo) -> None:
        self.path = run.run_dir / "metrics.csv"
        rows = [r for r in self._read() if _int(r.get("step")) <= run.start_step]
        if not self.columns:
            self.columns = ["step"]
        self._write(rows)

    def scalars(self, step: int, values: dict[str, float]) -> None:
        if self.path is None:
            return
        row = {"step": step, **values}
        if any(k not in self.columns for k in row):
            self._widen([k for k in row if k not in self.columns])
        line = io.StringIO()
        csv.DictWriter(line, self.columns, lineterminator="\n").writerow(row)
        log = Appender(self.path)  # a line is whole or cut off again
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

    def _widen(self, new: list[str]) -> None:
        rows = self._read()
        self.columns = [*(self.columns or ["step"]), *new]
        self._write(rows)


def _int(text: str | None) -> int:
    try:
        return int(text or "")
    except ValueError:
        return -1  # a damaged row: dropped with the ones after the resume step
