"""Metric curves as the app draws them: which plot a metric joins, and display smoothing.

Keys are the trainer's metric names: `loss/...` (every term and each objective's total),
`acc/...` (each critic on real and on fake, InfoGAN's Q on its code), `lr/...`, and `time/...`.
Smoothing is for display only: what is exported or compared stays the raw values.
"""

from __future__ import annotations

import bisect
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



def _objective(key: str) -> str | None:
    """`loss/D` for a term `loss/D/adv_D`, None for a total or another family."""
    parts = key.split("/")
    return "/".join(parts[:2]) if len(parts) == 3 and parts[0] == "loss" else None


def _same(a: list[float], b: list[float]) -> bool:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-6, atol=1e-9, equal_nan=True))


def duplicate_terms(columns: dict[str, list[float]]) -> dict[str, str]:
    """Terms that are their objective's total under another name: an objective of one term
    (weight 1) logs the same values as `loss/D` and `loss/D/adv_D`. Maps each such term to its
    total; the plots draw the total once, named for both."""
    terms: dict[str, list[str]] = {}
    for key in columns:
        total = _objective(key)
        if total is not None:
            terms.setdefault(total, []).append(key)
    return {only[0]: total for total, only in terms.items()
            if len(only) == 1 and total in columns and _same(columns[only[0]], columns[total])}


def series_name(key: str, group: str, merged: dict[str, str]) -> str:
    """A curve's legend name: the key without its plot's prefix, and a total that stands for
    its single term named for both (`D = adv_D`)."""
    name = key[len(group):] if key.startswith(group) else key
    also = [term.rsplit("/", 1)[1] for term, total in merged.items() if total == key]
    return f"{name} = {also[0]}" if also else name


def elapsed_seconds(steps: list[int], columns: dict[str, list[float]]) -> list[float]:
    """Wall time at each logged step, from the seconds per step the trainer logs
    (`time/step`, averaged over the steps since the previous log); NaN until it is known."""
    per_step = columns.get("time/step")
    out: list[float] = []
    total, last_step = 0.0, 0
    for i, step in enumerate(steps):
        value = per_step[i] if per_step is not None else math.nan
        if not math.isfinite(value):
            out.append(math.nan if not out else out[-1])
            last_step = step
            continue
        total += value * max(step - last_step, 1)
        last_step = step
        out.append(total)
    return out


def values_at(xs: list[float], columns: dict[str, list[float]], x: float,
              keys: Iterable[str]) -> tuple[int, dict[str, float]] | None:
    """The logged row nearest to `x` on an increasing axis `xs` (steps or seconds): its
    index, and the finite values of `keys` there; None before anything is logged."""
    if not xs:
        return None
    i = bisect.bisect_left(xs, x)
    if i == len(xs) or (i > 0 and x - xs[i - 1] <= xs[i] - x):
        i -= 1
    return i, {k: columns[k][i] for k in keys
               if k in columns and math.isfinite(columns[k][i])}


def format_value(value: float) -> str:
    """A metric value in at most four significant digits (a learning rate as `2e-04`)."""
    if value != 0 and abs(value) < 1e-3:
        return f"{value:.0e}"
    return f"{value:.4g}"


__all__ = ["GROUPS", "HIDDEN", "Smoother", "duplicate_terms", "elapsed_seconds", "ema",
           "format_value", "is_smoothed", "metric_choices", "plot_group", "series_name",
           "values_at"]
