"""Live validation: debounced, off the GUI thread, stale results dropped.

Each text change restarts a short timer; when it fires, the text is checked on a worker
thread with the same loader and shape inference as `ganbuilder validate`, then summarized
(parameter counts) with `ganbuilder summary`'s code. A spec that loads also has its data
looked at (`ganbuilder.design.preflight`): a missing root or a channel mismatch is reported
while editing, not at Start. A YAML syntax error caused by indentation is reworded to say so,
on the line where it broke. Results come back as queued signals and
carry the generation they were started for; a result older than the newest request is dropped,
so typing never waits and never shows an outdated answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from ganbuilder.design.preflight import preflight
from ganbuilder.design.yaml_help import explain_problem
from ganbuilder.errors import Problem, UserError
from ganbuilder.spec import Spec, load_spec_text
from ganbuilder.spec.pretrained import spec_warnings


@dataclass(frozen=True)
class ValidationResult:
    """One check of one text: the Spec (None when it failed), its problems and summary. A
    spec that loaded may still carry problems: what the data pre-flight found."""

    generation: int
    text: str
    spec: Spec | None
    problems: list[Problem] = field(default_factory=list)
    summary: dict | None = None


class _Signals(QObject):
    checked = Signal(object)
    summarized = Signal(object)


class _Check(QRunnable):
    def __init__(self, generation: int, text: str, file: str, base_dir: Path, signals: _Signals):
        super().__init__()
        self.generation, self.text, self.file, self.base_dir = generation, text, file, base_dir
        self.signals = signals

    def run(self) -> None:
        try:
            spec = load_spec_text(self.text, self.file, self.base_dir)
        except UserError as exc:
            lines = self.text.split("\n")
            problems = [explain_problem(p, lines, self.file) for p in exc.problems]
            self.signals.checked.emit(
                ValidationResult(self.generation, self.text, None, problems))
            return
        except Exception as exc:
            problem = Problem("", f"internal error while checking: {exc!r}")
            self.signals.checked.emit(ValidationResult(self.generation, self.text, None, [problem]))
            return
        try:
            # The data pre-flight, and the spec's warnings (a random feature network, a
            # missing weights file).
            data_problems = preflight(spec, self.base_dir) + spec_warnings(spec)
        except OSError as exc:  # an unreadable folder is itself worth saying
            data_problems = [Problem("data.root", f"cannot look at the data: {exc}")]
        result = ValidationResult(self.generation, self.text, spec, data_problems)
        self.signals.checked.emit(result)
        try:
            from ganbuilder.summary import summarize

            summary = summarize(spec)
        except UserError as exc:
            self.signals.checked.emit(
                ValidationResult(self.generation, self.text, None, list(exc.problems)))
            return
        except Exception as exc:
            problem = Problem("", f"cannot build the networks: {exc!r}")
            self.signals.checked.emit(ValidationResult(self.generation, self.text, None, [problem]))
            return
        self.signals.summarized.emit(
            ValidationResult(self.generation, self.text, spec, data_problems, summary))


class Validator(QObject):
    """Checks spec text in the background.

    Signals:
        checked(ValidationResult): the spec loaded (spec set) or failed (problems set).
        summarized(ValidationResult): parameter counts for a spec that loaded; follows checked.
        busyChanged(bool): a check is (or is no longer) pending.
    """

    checked = Signal(object)
    summarized = Signal(object)
    busyChanged = Signal(bool)

    def __init__(self, delay_ms: int = 300, parent: QObject | None = None):
        super().__init__(parent)
        self.file = "<unsaved>"
        self.base_dir = Path.cwd()
        self.generation = 0
        self._delivered = 0
        self._text = ""
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.checked.connect(self._on_checked)
        self._signals.summarized.connect(self._on_summarized)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._start)

    def request(self, text: str, immediately: bool = False) -> None:
        """Check `text` once typing pauses (or now)."""
        self._text = text
        self.generation += 1
        self.busyChanged.emit(True)
        if immediately:
            self._timer.stop()
            self._start()
        else:
            self._timer.start()

    def _start(self) -> None:
        # Only the newest text matters: drop checks still queued behind the running one.
        self._pool.clear()
        self._pool.start(_Check(self.generation, self._text, self.file, self.base_dir,
                                self._signals))

    def _on_checked(self, result: ValidationResult) -> None:
        if result.generation == self.generation:
            self.checked.emit(result)
            if result.spec is None:
                self._delivered = result.generation
                self.busyChanged.emit(False)

    def _on_summarized(self, result: ValidationResult) -> None:
        if result.generation == self.generation:
            self._delivered = result.generation
            self.summarized.emit(result)
            self.busyChanged.emit(False)

    def is_idle(self) -> bool:
        """The newest request's final result has been delivered."""
        return self._delivered == self.generation

    def wait(self, msecs: int = 30000) -> bool:
        """Block until the worker is idle (tests, shutdown)."""
        return self._pool.waitForDone(msecs)
