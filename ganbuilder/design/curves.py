"""Metric curves as the app draws them: which plot a metric joins, and display smoothing.

Keys are the trainer's metric names: `loss/...` (every term and each objective's total),
`acc/...` (each critic on real and on fake, InfoGAN's Q on its code), `lr/...`, and `time/...`.
Smoothing is for display only: what is exported or compared stays the raw values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

GROUPS = (("loss/", "Losses"), ("acc/", "Accuracy"), ("lr/", "Learning rate"))
HIDDEN = ("time/",)  # logged for the progress line, not plotted


def plot_group(key: str) -> str | None:
    """The plot (a GROUPS prefix) a metric goes to, or None for one that is not plotted; other
    families a loss term logs (`mse/Q/u`) join the losses."""
    if key.startswith(HIDDEN):
        return None
    return next((prefix for prefix, _ in GROUPS if key.startswith(prefix)), GROUPS[0][0])


def is_smoothed(key: str) -> bool:
    """Whether a metric's curve is smoothed: a learning-rate schedule is exact, not noisy."""
    return not key.startswith("lr/")


def metric_choices(keys: Iterable[str]) -> list[str]:
    """The metrics one can compare across runs, each once: losses first, and within a family
    objective totals (`loss/G`) before their terms (`loss/G/adv_D`); unplotted ones left out."""
    return sorted({k for k in keys if plot_group(k) is not None},
                  key=lambda k: (not k.startswith("loss/"), k.count("/"), k))


class Smoother:
    """Exponential moving average of a growing column, TensorBoard style (debiased so it
    starts at the data). Only values not seen before are processed, so a redraw of a long run
    costs what was logged since the last one."""

    def __init__(self, weight: float):
        self.weight = weight
        self.out: list[float] = []
        self._last = self._norm = 0.0

    def extend(self, values: list[float]) -> list[float]:
        """The smoothed column for `values`, a longer copy of the column seen so far."""
        w = self.weight
        for v in values[len(self.out):]:
            if math.isfinite(v):
                self._last = self._last * w + (1 - w) * v
                self._norm = self._norm * w + (1 - w)
            self.out.append(self._last / self._norm if self._norm else math.nan)
        return self.out


def ema(values: list[float], weight: float) -> np.ndarray:
    """The smoothed copy of `values` (unchanged when `weight` is 0)."""
    if weight <= 0:
        return np.asarray(values, dtype=float)
    return np.asarray(Smoother(weight).extend(list(values)), dtype=float)


__all__ = ["GROUPS", "HIDDEN", "Smoother", "ema", "is_smoothed", "metric_choices", "plot_group"]
