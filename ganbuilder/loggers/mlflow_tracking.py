"""The `mlflow` logger: an MLflow run in a local file store, unless the user named a server."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ganbuilder.loggers.registry import Logger, RunInfo, logger

if TYPE_CHECKING:
    import numpy as np

STORE_DIR = "mlruns"
ENVIRONMENT = {
    "MLFLOW_TRACKING_URI": "where runs go (default: file:<run folder>/mlruns, a local store "
                           "`mlflow ui --backend-store-uri` reads)",
    "MLFLOW_EXPERIMENT_NAME": "the experiment (default ganbuilder)",
}
_STATUS = {"finished": "FINISHED", "stopped": "KILLED", "failed": "FAILED"}


def tracking_uri(run_dir: Path) -> str:
    """$MLFLOW_TRACKING_URI, else a `file:` store in the run folder (MLflow 3 refuses file
    stores unless MLFLOW_ALLOW_FILE_STORE is set, which this default sets for itself)."""
    configured = os.environ.get("MLFLOW_TRACKING_URI")
    if configured:
        return configured
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return (run_dir / STORE_DIR).resolve().as_uri()


def metric_name(key: str) -> str:
    """The MLflow name of a metric: `loss/D/adversarial` -> `loss.D.adversarial`."""
    return key.replace("/", ".")


@logger("mlflow", package="mlflow", extra="mlflow", environment=ENVIRONMENT,
        description="an MLflow run (default store: mlruns/ in the run folder): scalars as "
                    "metrics (loss/D as loss.D), sample grids as images, params, the resolved "
                    "spec as spec.yaml, the checkpoint path as a tag")
class MlflowLogger(Logger):
    """Scalars as metrics at their step (named with '.' for '/': MLflow's file store keeps a
    metric in a file named by its path, where `loss/D` and `loss/D/adversarial` cannot both
    be files), sample grids as artifacts samples/step_NNNNNN.png,
    the spec's params as MLflow params, the resolved spec as the artifact spec.yaml, the last
    checkpoint as the tags `checkpoint` and `checkpoint_step`; the run ends FINISHED, KILLED
    (stopped on request) or FAILED."""

    def __init__(self) -> None:
        self.client: Any = None
        self.run_id = ""

    def start(self, run: RunInfo) -> None:
        from mlflow import MlflowClient

        self.client = MlflowClient(tracking_uri=tracking_uri(run.run_dir))
        name = os.environ.get("MLFLOW_EXPERIMENT_NAME") or "ganbuilder"
        found = self.client.get_experiment_by_name(name)
        experiment = found.experiment_id if found else self.client.create_experiment(name)
        self.run_id = self.client.create_run(
            experiment, run_name=run.run_dir.name,
            tags={"ganbuilder.spec": run.name, "ganbuilder.run_dir": str(run.run_dir),
                  "ganbuilder.start_step": str(run.start_step)}).info.run_id
        for key, value in run.params.items():
            self.client.log_param(self.run_id, str(key), value)
        self.client.log_text(self.run_id, run.spec_text, "spec.yaml")

    def scalars(self, step: int, values: dict[str, float]) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        self.client.log_batch(self.run_id, metrics=[Metric(metric_name(key), float(value), now,
                                                           step)
                                                    for key, value in values.items()])

    def image(self, step: int, image: np.ndarray) -> None:
        self.client.log_image(self.run_id, image, artifact_file=f"samples/step_{step:06d}.png")

    def checkpoint(self, step: int, path: Path) -> None:
        self.client.set_tag(self.run_id, "checkpoint", str(path))
        self.client.set_tag(self.run_id, "checkpoint_step", str(step))

    def finish(self, status: str) -> None:
        self.client.set_terminated(self.run_id, _STATUS.get(status, "FINISHED"))
