"""Continuing a run: which checkpoint of a folder is the newest, where `--resume last.pt`
really continues from, and which `--set` changes a resume may make."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganbuilder.errors import CheckpointError, UserError
from ganbuilder.files import real_path
from ganbuilder.runs.checkpoint import checkpoint_step, load_checkpoint
from ganbuilder.runs.folder import later_checkpoints, latest_checkpoint

# Spec paths a resume may change: how training goes on, not what is trained. Anything else
# (networks, latents, forward, data, the objectives' terms) is the model the checkpoint holds.
KNOBS: tuple[tuple[str, ...], ...] = (
    ("training",), ("sampling",), ("data", "workers"), ("objectives", "*", "optimizer"),
    ("objectives", "*", "clip_weights"),
)


def newest_checkpoint(run_dir: Path) -> Path | None:
    """The checkpoint of a run folder at the highest step: `last.pt`, unless the run was
    stopped between writing a `step_N.pt` and `last.pt` (then that `step_N.pt`)."""
    last = latest_checkpoint(run_dir)
    if last is None or last.name != "last.pt":
        return last
    newer = later_checkpoints(run_dir, checkpoint_step(last) or 0)
    return newer[-1] if newer else last


def resume_point(resume: Path, run_dir: Path) -> tuple[Path, str | None]:
    """The checkpoint `--resume` continues from and a note saying why when it is not
    `resume`: `last.pt` of this run folder with a newer, readable `step_N.pt` beside it (a
    kill between the two writes) continues from that one."""
    if resume.name != "last.pt" or real_path(resume).parent.parent != real_path(run_dir):
        return resume, None
    step = checkpoint_step(resume)
    if step is None:
        return resume, None
    for newer in reversed(later_checkpoints(run_dir, step)):
        try:
            load_checkpoint(newer)
        except CheckpointError:
            continue  # damaged: try the next newest
        return newer, (f"{resume} is at step {step}, but {newer.name} is newer (the run "
                       f"stopped between writing the two): continuing from {newer}")
    return resume, None


def _changes(old: Any, new: Any, path: tuple = ()) -> list[tuple]:
    """The spec paths where two resolved trees differ."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [p for key in {*old, *new}
                for p in _changes(old.get(key), new.get(key), (*path, key))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [p for i, (a, b) in enumerate(zip(old, new, strict=True))
                for p in _changes(a, b, (*path, i))]
    return [] if old == new else [path]


def _is_knob(path: tuple) -> bool:
    return any(len(path) >= len(k) and all(w in ("*", p) for w, p in zip(k, path, strict=False))
               for k in KNOBS)


def check_resume_changes(saved: Any, changed: Any, overrides: list[str]) -> None:
    """Refuse `--set` overrides on a resumed checkpoint's spec that change the model (or,
    like params, change nothing in a resolved spec); training knobs pass."""
    from ganbuilder.spec.paths import format_path

    for override in overrides:
        name = override.split("=", 1)[0].strip()
        if name == "params" or name.startswith("params."):
            raise UserError(f"--set {override}: a checkpoint's spec is resolved (its params "
                            "already substituted into the networks), and a resume cannot "
                            "change the architecture it trained: start a new run with the "
                            "spec file to change it")
    moved = sorted({format_path(list(p)) for p in _changes(saved.tree, changed.tree)
                    if not _is_knob(p)})
    if moved:
        raise UserError(f"--set changes {', '.join(moved[:3])}"
                        + (f" and {len(moved) - 3} more" if len(moved) > 3 else "")
                        + ": a resume continues the model the checkpoint holds, so only "
                        "training settings (training.*, an objective's optimizer, sampling.*, "
                        "data.workers) may change; start a new run to change the model")
