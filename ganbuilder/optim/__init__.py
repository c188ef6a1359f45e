"""Optimizers and learning-rate schedules, registered with their parameter schemas.

Low in the package graph (the spec schema reads these registries) and torch-free to import:
builders reach torch through `ganbuilder._lazy`.
"""

from ganbuilder.optim.optimizers import (
    OPTIMIZERS,
    OptimizerDef,
    build_optimizer,
    optimizer,
)
from ganbuilder.optim.schedules import SCHEDULES, ScheduleDef, lr_factor, schedule

__all__ = [
    "OPTIMIZERS",
    "SCHEDULES",
    "OptimizerDef",
    "ScheduleDef",
    "build_optimizer",
    "lr_factor",
    "optimizer",
    "schedule",
]
