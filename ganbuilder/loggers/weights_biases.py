"""The `wandb` logger: a Weights & Biases run, offline unless the user configured a mode."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ganbuilder.loggers.registry import Logger, RunInfo, logger

if TYPE_CHECKING:
    from pathlib import Path

    import numpy as np

ENVIRONMENT = {
    "WANDB_MODE": "offline (the default here: nothing leaves the machine; `wandb sync "
                  "<run>/wandb/offline-run-*` uploads later) or online",
    "WANDB_PROJECT": "the project the run belongs to (default ganbuilder)",
    "WANDB_ENTITY": "the user or team (online only)",
}


@logger("wandb", package="wandb", extra="wandb", environment=ENVIRONMENT,
        description="a Weights & Biases run under wandb/ in the run folder: scalars, sample "
                    "grids, the resolved spec as its config, the checkpoint path in "
                    "its summary; offline unless WANDB_MODE says otherwise")
class WandbLogger(Logger):
    """Scalars at their step, each sample grid as the image `samples`, the resolved spec as
    the run's config, the last checkpoint's path and step in the summary. A resumed run
    starts a new W&B run (W&B does not resume offline runs), named after the run folder."""

    def __init__(self) -> None:
        self.run: Any = None

    def start(self, run: RunInfo) -> None:
        import wandb

        self.wandb = wandb
        self.run = wandb.init(
            project=os.environ.get("WANDB_PROJECT") or "ganbuilder",
            name=run.run_dir.name, dir=str(run.run_dir),
            mode=os.environ.get("WANDB_MODE") or "offline",
            config={"spec": run.spec, "params": run.params, "start_step": run.start_step},
            reinit="create_new", settings=wandb.Settings(console="off", silent=True))

    def scalars(self, step: int, values: dict[str, float]) -> None:
        self.run.log(dict(values), step=step)

    def image(self, step: int, image: np.ndarray) -> None:
        self.run.log({"samples": self.wandb.Image(image)}, step=step)

    def checkpoint(self, step: int, path: Path) -> None:
        self.run.summary["checkpoint"] = str(path)
        self.run.summary["checkpoint_step"] = step

    def finish(self, status: str) -> None:
        self.run.finish(exit_code=1 if status == "failed" else 0)
        self.run = None
