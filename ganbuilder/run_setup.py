"""One run setup for `ganbuilder run` and the app: where a run's folder is, and which sinks see
its events, so that a run started from either trains and reports the same way.

The trainer writes the run folder and its loggers (`training.log`); what watches the events
from outside (`training.eval`, then the terminal's progress line or the app's signals) is
attached here, in one order, for both.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from ganbuilder.errors import UserError
from ganbuilder.spec import Spec
from ganbuilder.train.events import Event

Sink = Callable[[Event], None]
STAMP = "%Y%m%d-%H%M%S"


def new_run_dir(base: Path, spec_name: str, now: datetime | None = None) -> Path:
    """`base/runs/<spec name>/<timestamp>`, with `-2`, `-3`, ... added when a run started in
    the same second already has that folder (never two runs in one folder)."""
    folder = Path(base) / "runs" / spec_name
    stamp = (now or datetime.now()).strftime(STAMP)
    run_dir, n = folder / stamp, 1
    while run_dir.exists():
        n += 1
        run_dir = folder / f"{stamp}-{n}"
    return run_dir


def run_dir_for(spec_name: str, base: Path, out: Path | None = None,
                resume: Path | None = None) -> Path:
    """The folder a run trains in: `out` when given, else the run folder of the checkpoint it
    continues (`<run>/checkpoints/<file>.pt`), else a new one under `base` (new_run_dir)."""
    if out is not None:
        return Path(out)
    if resume is not None:
        checkpoint = Path(resume).resolve()
        if checkpoint.parent.name != "checkpoints":
            raise UserError(f"{resume} is not in a run folder's checkpoints/: pass --out, "
                            "the folder to continue the run in")
        return checkpoint.parent.parent
    return new_run_dir(base, spec_name)


def event_sink(spec: Spec, display: Sink, device: str = "cpu") -> Sink:
    """The sink a run's trainer emits to: `training.eval` (when the spec has it: scores due
    checkpoints and passes its figures on as StepMetrics), then `display` (the progress line,
    or the app's signals)."""
    from ganbuilder.evaluate.during_training import with_evaluation

    return with_evaluation(spec, display, device)


__all__ = ["STAMP", "Sink", "event_sink", "new_run_dir", "run_dir_for"]
