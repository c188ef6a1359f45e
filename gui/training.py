"""Training from the app: the CLI's Trainer on a worker thread, its events back as signals.

The worker runs `Trainer.run` on a QThread and forwards every event as a queued signal; the
controller (GUI thread) holds the Control switches, coalesces StepMetrics so the plots redraw
at most every `interval_ms`, and tells the window the run's state. Nothing on the worker thread
touches a widget.
"""

from __future__ import annotations

import traceback
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, QThread, QTimer, Signal, Slot

from ganbuilder.run_setup import event_sink
from ganbuilder.spec import Spec
from ganbuilder.train.control import Control
from ganbuilder.train.events import (
    CheckpointSaved,
    Event,
    Failed,
    Finished,
    Paused,
    SampleGrid,
    Started,
    StepMetrics,
)

IDLE, STARTING, RUNNING, PAUSED, STOPPING = "idle", "starting", "running", "paused", "stopping"


class TrainWorker(QObject):
    """Builds and runs one Trainer on the thread it was moved to.

    Signals:
        event(object): each trainer event in order; a failure while building the trainer
            (missing data, bad checkpoint) arrives as a Failed event too.
        done(): the run returned or raised; the thread may quit.
    """

    event = Signal(object)
    done = Signal()

    def __init__(self, spec: Spec, run_dir: Path, control: Control,
                 resume: Path | None = None, device: str | None = None,
                 steps: int | None = None):
        super().__init__()
        self.spec, self.run_dir, self.control = spec, run_dir, control
        self.resume, self.device, self.steps = resume, device, steps
        self._failed_sent = False

    def _emit(self, event: Event) -> None:
        self._failed_sent |= isinstance(event, Failed)
        self.event.emit(event)

    @Slot()
    def run(self) -> None:
        from ganbuilder.train.trainer import Trainer

        trainer = None
        try:
            trainer = Trainer(self.spec, self.run_dir, device=self.device, control=self.control,
                              resume=self.resume, steps=self.steps)
            trainer.run(event_sink(self.spec, self._emit, str(trainer.device)))
        except Exception as exc:
            if not self._failed_sent:  # the trainer reports its own failures once running
                message = str(exc) or type(exc).__name__
                if not hasattr(exc, "problems"):  # not a UserError: keep the trace for a bug
                    message += "\n" + "".join(traceback.format_exception(exc)[-3:])
                self.event.emit(Failed(trainer.step if trainer else 0, message,
                                       trainer.last_checkpoint if trainer else self.resume))
        finally:
            self.done.emit()


class TrainingController(QObject):
    """Starts, pauses, resumes and stops one run at a time; lives on the GUI thread.

    Signals:
        stateChanged(str): idle, starting, running, paused or stopping.
        started(Started): the run folder exists and training begins.
        metrics(list): StepMetrics received since the last emission, oldest first; emitted at
            most every `interval_ms` (and flushed before finished/failed).
        sample(SampleGrid): a new sample grid.
        checkpoint(CheckpointSaved): a checkpoint was written.
        paused(Paused): the trainer is waiting between steps, its model saved.
        finished(Finished): the run ended (done or stopped on request).
        failed(Failed): the run ended with an error; the last checkpoint stays on disk.
    """

    stateChanged = Signal(str)
    started = Signal(object)
    metrics = Signal(list)
    sample = Signal(object)
    checkpoint = Signal(object)
    paused = Signal(object)
    finished = Signal(object)
    failed = Signal(object)

    def __init__(self, interval_ms: int = 100, parent: QObject | None = None):
        super().__init__(parent)
        self.state = IDLE
        self.step = 0
        self.run_dir: Path | None = None
        self.last_checkpoint: Path | None = None
        self.control = Control()
        self._thread: QThread | None = None
        self._worker: TrainWorker | None = None
        self._pending: list[StepMetrics] = []
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(interval_ms)
        self._flush_timer.timeout.connect(self._flush)

    @property
    def active(self) -> bool:
        return self.state != IDLE

    def start(self, spec: Spec, run_dir: Path, resume: Path | None = None,
              device: str | None = None, steps: int | None = None) -> None:
        """Train `spec` into `run_dir` on a new worker thread (continuing `resume` if given)."""
        if self.active:
            raise RuntimeError("a run is already in progress")
        self.control = Control()
        self.step = 0
        self.run_dir, self.last_checkpoint = run_dir, resume
        self._thread = QThread(self)
        self._worker = TrainWorker(spec, run_dir, self.control, resume, device, steps)
        self._worker.moveToThread(self._thread)
        self._worker.event.connect(self._on_event, Qt.ConnectionType.QueuedConnection)
        # Direct: the thread object lives here, and shutdown() blocks this thread's event loop.
        self._worker.done.connect(self._thread.quit, Qt.ConnectionType.DirectConnection)
        self._thread.started.connect(self._worker.run)
        self._thread.finished.connect(self._on_thread_finished)
        self._set_state(STARTING)
        self._thread.start()

    def pause(self) -> None:
        if self.state in (STARTING, RUNNING):
            self.control.pause()
            self._set_state(PAUSED)

    def resume(self) -> None:
        if self.state == PAUSED:
            self.control.resume()
            self._set_state(RUNNING)

    def stop(self) -> None:
        """Ask the run to stop after the current step; it saves a checkpoint and finishes."""
        if self.active:
            self.control.stop()
            self._set_state(STOPPING)

    def shutdown(self, msecs: int = 60000) -> bool:
        """Stop and wait for the worker thread (closing the window); True when it ended."""
        if self._thread is None:
            return True
        self.stop()
        ended = self._thread.wait(msecs)
        if ended:  # deliver the run's last events (final metrics, Finished)
            QCoreApplication.processEvents()
        return ended

    def _set_state(self, state: str) -> None:
        if state != self.state:
            self.state = state
            self.stateChanged.emit(state)

    def _on_event(self, event: Event) -> None:
        if isinstance(event, StepMetrics):
            self.step = event.step
            self._pending.append(event)
            if not self._flush_timer.isActive():
                self._flush_timer.start()
        elif isinstance(event, Started):
            self.step = event.start_step
            self.run_dir = event.run_dir
            if self.state == STARTING:
                self._set_state(RUNNING)
            self.started.emit(event)
        elif isinstance(event, SampleGrid):
            self.sample.emit(event)
        elif isinstance(event, CheckpointSaved):
            self.last_checkpoint = event.path
            self.checkpoint.emit(event)
        elif isinstance(event, Paused):
            self._flush()
            self.step = event.step
            self.last_checkpoint = event.checkpoint
            self.paused.emit(event)
        elif isinstance(event, Finished):
            self._flush()
            self.step = event.step
            self.finished.emit(event)
        elif isinstance(event, Failed):
            self._flush()
            self.last_checkpoint = event.last_checkpoint or self.last_checkpoint
            self.failed.emit(event)

    def _flush(self) -> None:
        self._flush_timer.stop()
        if self._pending:
            batch, self._pending = self._pending, []
            self.metrics.emit(batch)

    def _on_thread_finished(self) -> None:
        self._flush()
        if self._worker is not None:
            self._worker.deleteLater()
        if self._thread is not None:
            self._thread.deleteLater()
        self._worker = self._thread = None
        self._set_state(IDLE)
