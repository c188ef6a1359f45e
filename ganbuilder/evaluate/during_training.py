"""`training.eval`: score a run's checkpoints while it trains, as a sink of the trainer's
events (`ganbuilder run` chains it before its progress output).

At the first checkpoint saved at or after each multiple of `every` steps, the evaluator that
`ganbuilder evaluate` would run scores that checkpoint from `n` samples (seed 0, so figures are
comparable between steps). The figures, as `eval/<metric>` (only `metrics` when listed), are
appended to metrics.jsonl at the checkpoint's step and passed on as a StepMetrics event (the
progress line, the app's plots). With `best`, the checkpoint with the best value so far is
copied to `checkpoints/best.pt`, and `checkpoints/best.json` records its step and value, so a
resumed run keeps comparing with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganbuilder.errors import UserError
from ganbuilder.evaluate.dispatch import evaluate_checkpoint
from ganbuilder.evaluate.registry import EVALUATORS
from ganbuilder.evaluate.report import PROTOCOL
from ganbuilder.files import Appender, os_error, write_file
from ganbuilder.registry import fill_defaults
from ganbuilder.spec import Spec, spec_schema
from ganbuilder.train.events import CheckpointSaved, Event, Started, StepMetrics


def eval_config(spec: Spec) -> dict | None:
    """`training.eval` with its schema defaults, or None when the spec has none."""
    given = spec.tree["training"].get("eval")
    if given is None:
        return None
    fragment = spec_schema()["properties"]["training"]["properties"]["eval"]["properties"]
    return fill_defaults(fragment, given)


def _figures(result: dict[str, Any]) -> dict[str, float]:
    return {k: float(v) for k, v in result.items() if k not in PROTOCOL
            and isinstance(v, (int, float)) and not isinstance(v, bool)}


class TrainingEvaluation:
    """The sink: passes every event on to `emit`, and evaluates when a checkpoint is due."""

    def __init__(self, spec: Spec, cfg: dict, emit: Callable[[Event], None],
                 device: str = "cpu"):
        self.spec, self.cfg, self.emit, self.device = spec, cfg, emit, device
        self.run_dir: Path | None = None
        self.next_due = cfg["every"]
        self.best: float | None = None

    def __call__(self, event: Event) -> None:
        self.emit(event)
        if isinstance(event, Started):
            self._check()
            self.run_dir = event.run_dir
            self.next_due = (event.start_step // self.cfg["every"] + 1) * self.cfg["every"]
            self.best = self._recorded_best(event.start_step)
        elif isinstance(event, CheckpointSaved) and event.step >= self.next_due:
            self.next_due = (event.step // self.cfg["every"] + 1) * self.cfg["every"]
            self._evaluate(event)

    def _check(self) -> None:
        """Fail before training when no evaluator applies or its weights are missing."""
        from ganbuilder.data.registry import with_defaults

        data = with_defaults(self.spec.tree["data"])
        entry = next((e for e in EVALUATORS.ranked() if e.applies(self.spec, data) is not None),
                     None)
        if entry is None:
            raise UserError(f"training.eval: no evaluator applies to '{self.spec.name}'")
        if entry.name == "inception":
            from ganbuilder.evaluate.fid import KID_SUBSET_SIZE
            from ganbuilder.evaluate.inception import find_weights

            find_weights()
            named = {*(self.cfg.get("metrics") or []), self.cfg.get("best")}
            if named & {"kid", "kid_std"} and self.cfg["n"] < KID_SUBSET_SIZE:
                raise UserError(f"training.eval: kid needs n >= {KID_SUBSET_SIZE} (KID's subset "
                                f"size; fewer samples give no KID), got n={self.cfg['n']}")

    def _evaluate(self, event: CheckpointSaved) -> None:
        result = evaluate_checkpoint(event.path, n=self.cfg["n"], seed=0, device=self.device)
        figures = _figures(result)
        wanted = self.cfg.get("metrics") or list(figures)
        best = self.cfg.get("best")
        missing = [k for k in [*wanted, *([best] if best else [])] if k not in figures]
        if missing:
            raise UserError(f"training.eval: {', '.join(missing)} not among the figures of the "
                            f"'{result.get('kind')}' evaluation ({', '.join(figures)})")
        logged = {f"eval/{k}": figures[k] for k in wanted}
        assert self.run_dir is not None
        log = Appender(self.run_dir / "metrics.jsonl")
        try:
            log.write_line(json.dumps({"step": event.step, **logged}))
        finally:
            log.close()
        self.emit(StepMetrics(event.step, logged))
        if best and self._better(figures[best]):
            self.best = figures[best]
            self._keep_best(event, best)

    def _better(self, value: float) -> bool:
        if self.best is None:
            return True
        return value < self.best if self.cfg["mode"] == "min" else value > self.best

    def _keep_best(self, event: CheckpointSaved, metric: str) -> None:
        folder = Path(event.path).parent
        try:
            data = Path(event.path).read_bytes()
        except OSError as exc:
            raise os_error(exc, "read", event.path) from None
        write_file(folder / "best.pt", data)
        write_file(folder / "best.json", json.dumps(
            {"step": event.step, "metric": metric, "value": self.best}) + "\n")

    def _recorded_best(self, start_step: int) -> float | None:
        """The best value a resumed run already kept (up to the step it continues from)."""
        assert self.run_dir is not None
        path = self.run_dir / "checkpoints" / "best.json"
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if record.get("metric") != self.cfg.get("best") or record.get("step", 0) > start_step:
            return None
        return float(record["value"])


def with_evaluation(spec: Spec, emit: Callable[[Event], None], device: str = "cpu"
                    ) -> Callable[[Event], None]:
    """`emit`, behind a TrainingEvaluation when the spec has `training.eval`."""
    cfg = eval_config(spec)
    return emit if cfg is None else TrainingEvaluation(spec, cfg, emit, device)
