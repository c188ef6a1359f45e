"""Loggers: where a run's metrics, sample grids, spec and checkpoints are recorded besides the
run folder's own files (`training.log`).

Each logger is one entry of `LOGGERS` (`ganbuilder.loggers.registry`): the schema's
`training.log` names and text, the package check and the constructor all read it. A new
logger is a `Logger` subclass registered with `@logger(name, description=..., package=...,
extra=...)` in a module imported here (or by a plugin before the spec is validated).
"""

from ganbuilder.loggers import (  # noqa: F401  (registration)
    files,
    mlflow_tracking,
    tensorboard,
    weights_biases,
)
from ganbuilder.loggers.registry import LOGGERS, Logger, LoggerDef, RunInfo, logger

__all__ = ["LOGGERS", "Logger", "LoggerDef", "RunInfo", "logger"]
