"""A run folder as a run starts in it: which checkpoint continues it, and its metrics log cut
back to the step training continues from. Nothing here imports torch."""

from __future__ import annotations

import json
import re
from pathlib import Path

from ganbuilder.files import os_error, write_file

_STEP_CHECKPOINT = re.compile(r"step_(\d+)\.pt$")


def latest_checkpoint(run_dir: Path) -> Path | None:
    """`checkpoints/last.pt` if present, else the highest `step_N.pt`, else None (a run that
    stopped before its first checkpoint)."""
    folder = Path(run_dir) / "checkpoints"
    if (folder / "last.pt").is_file():
        return folder / "last.pt"
    steps = [(int(m.group(1)), p) for p in folder.glob("step_*.pt")
             if (m := _STEP_CHECKPOINT.search(p.name)) and p.is_file()]
    return max(steps)[1] if steps else None


def later_checkpoints(run_dir: Path, step: int) -> list[Path]:
    """The `step_N.pt` files of a run folder with N above `step`, lowest first."""
    folder = Path(run_dir) / "checkpoints"
    steps = [(int(m.group(1)), p) for p in folder.glob("step_*.pt")
             if (m := _STEP_CHECKPOINT.search(p.name)) and int(m.group(1)) > step]
    return [p for _, p in sorted(steps)]


def truncate_metrics(path: Path, step: int) -> None:
    """Keep only the records of `metrics.jsonl` up to `step`, so a run continued from a
    checkpoint at `step` logs each later step once; a line cut off mid-write goes too."""
    path = Path(path)
    if not path.is_file():
        return
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    except OSError as exc:
        raise os_error(exc, "read", path) from None
    kept = [line for line in lines if line.endswith("\n")
            and (logged := _logged_step(line)) is not None and logged <= step]
    if kept == lines:
        return
    write_file(path, "".join(kept))  # a crash mid-rewrite leaves the old log, never half of it


def _logged_step(line: str) -> int | None:
    try:
        record = json.loads(line)
    except json.JSONDecodeError:
        return None
    step = record.get("step") if isinstance(record, dict) else None
    return step if isinstance(step, int) and not isinstance(step, bool) else None
