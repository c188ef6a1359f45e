"""`training.log`: the loggers of `ganbuilder.loggers` as sinks of the trainer's events.

`with_loggers` builds the loggers a spec names (each checked first: a missing package fails
before training starts) and turns the event stream into their calls: Started -> `start`,
StepMetrics -> `scalars`, SampleGrid -> `image`, CheckpointSaved -> `checkpoint`, Finished /
Failed -> `finish`. A resumed run starts logging again from its checkpoint's step: the CSV
rows after it are dropped, TensorBoard purges the events after it, as metrics.jsonl is
truncated.
"""

from __future__ import annotations

from collections.abc import Callable

from ganbuilder.loggers import LOGGERS, Logger, RunInfo
from ganbuilder.spec import Spec
from ganbuilder.train.events import (
    CheckpointSaved,
    Event,
    Failed,
    Finished,
    SampleGrid,
    Started,
    StepMetrics,
)


class EventSink:
    """One logger fed from the trainer's events: nothing before Started or after the end."""

    def __init__(self, logger: Logger, spec: Spec):
        self.logger = logger
        self.spec = spec
        self.open = False

    def __call__(self, event: Event) -> None:
        if isinstance(event, Started):
            self.logger.start(RunInfo(
                event.run_dir, event.spec_name, event.start_step, event.total_steps,
                self.spec.tree, self.spec.text(), dict(self.spec.tree.get("params") or {})))
            self.open = True
        elif not self.open:
            return
        elif isinstance(event, StepMetrics):
            self.logger.scalars(event.step, event.metrics)
        elif isinstance(event, SampleGrid):
            self.logger.image(event.step, event.image)
        elif isinstance(event, CheckpointSaved):
            self.logger.checkpoint(event.step, event.path)
        elif isinstance(event, (Finished, Failed)):
            self.open = False
            stopped = isinstance(event, Finished) and event.stopped
            self.logger.finish("failed" if isinstance(event, Failed) else
                               "stopped" if stopped else "finished")


def with_loggers(spec: Spec, emit: Callable[[Event], None]) -> Callable[[Event], None]:
    """`emit`, preceded by the sinks `training.log` asks for (checked now: a missing
    package fails before training starts)."""
    entries = [LOGGERS.get(name) for name in spec.training.get("log") or ["jsonl"]]
    for entry in entries:
        entry.check()
    sinks = [EventSink(entry.make(), spec) for entry in entries]

    def chained(event: Event) -> None:
        for sink in sinks:
            sink(event)
        emit(event)

    return chained
