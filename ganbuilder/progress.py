"""Terminal progress for `ganbuilder run`: a bar with losses and D accuracy."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from ganbuilder.train.events import (
    CheckpointSaved,
    Event,
    Failed,
    Finished,
    Started,
    StepMetrics,
)


class Progress:
    """Consumes trainer events; redraws one line on a terminal, prints lines otherwise."""

    def __init__(self, quiet: bool = False, stream: TextIO | None = None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.total = 0
        self.start = time.perf_counter()
        self.first_step = 0
        self.last_saved: tuple | None = None  # a stop at a checkpoint step saves it once

    def __call__(self, event: Event) -> None:
        if self.quiet and not isinstance(event, Failed):
            return
        if isinstance(event, Started):
            self.total, self.first_step = event.total_steps, event.start_step
            self.start = time.perf_counter()
            self._line(f"training {event.spec_name} on {event.device} -> {event.run_dir}", True)
        elif isinstance(event, StepMetrics):
            self._line(self._bar(event), not self.tty)
        elif isinstance(event, CheckpointSaved):
            if not self.tty and (event.step, event.path) != self.last_saved:
                self._line(f"checkpoint {event.path} (step {event.step})", True)
            self.last_saved = (event.step, event.path)
        elif isinstance(event, Finished):
            how = "stopped" if event.stopped else "finished"
            self._line(f"{how} at step {event.step}; run folder {event.run_dir}", True)
        elif isinstance(event, Failed):
            # Where it stopped and what is kept; the command's error line says why, once.
            keep = f"; last checkpoint {event.last_checkpoint}" if event.last_checkpoint else ""
            self._line(f"failed at step {event.step}{keep}", True)

    def _bar(self, event: StepMetrics) -> str:
        done = event.step / max(self.total, 1)
        width = 20
        bar = "#" * int(done * width) + "-" * (width - int(done * width))
        elapsed = time.perf_counter() - self.start
        rate = (event.step - self.first_step) / elapsed if elapsed > 0 else 0.0
        eta = (self.total - event.step) / rate if rate > 0 else 0.0
        m = event.metrics
        parts = [f"{k.removeprefix('loss/')} {v:.3f}" for k, v in m.items()
                 if k.startswith("loss/") and k.count("/") == 1]
        parts += [f"acc {k.removeprefix('acc/')} {v:.2f}" for k, v in m.items()
                  if k.startswith("acc/")]
        return (f"[{bar}] {event.step}/{self.total} {rate:.1f} it/s eta {eta:.0f}s  "
                + "  ".join(parts))

    def _line(self, text: str, newline: bool) -> None:
        if self.tty:
            self.stream.write("\r\033[K" + text + ("\n" if newline else ""))
        else:
            self.stream.write(text + "\n")
        self.stream.flush()
