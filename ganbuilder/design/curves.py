"""Metric curves as the app draws them: which plot a metric joins, and display smoothing.

Keys are the trainer's metric names: `loss/...` (every term and each objective's total),
`acc/...` (each critic on real and on fake, InfoGAN's Q on its code), `lr/...`, `time/...`
(seconds per step and waiting for data, drawn as the share of a step spent waiting) and
`eval/<metric>` (training.eval's figures: one plot each, since FID and KID differ in scale).
Smoothing is for display only: what is exported or compared stays the raw values.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable

import numpy as np

GROUPS = (("loss/", "Losses"), ("acc/", "Accuracy"), ("lr/", "Learning rate"),
          ("time/", "Share of step time waiting for data"))
EVAL = "eval/"
DATA_SHARE = "time/data_share"  # time/data over time/step, computed for display
HIDDEN = ("time/",)  # logged for the progress line; plotted only as the data share


def plot_group(key: str) -> str | None:
    """The plot a metric goes to (a GROUPS prefix, or the key itself for a training.eval
    figure), or None for one that is not plotted; other families a loss term logs
    (`mse/Q/u`) join the losses."""
    if key == DATA_SHARE:
        return "time/"
    if key.startswith(HIDDEN):
        return None
    if key.startswith(EVAL):
        return key
    return next((prefix for prefix, _ in GROUPS if key.startswith(prefix)), GROUPS[0][0])


def group_title(group: str) -> str:
    """A plot's title: its GROUPS title, or a training.eval figure's name."""
    if group.startswith(EVAL):
        name = group[len(EVAL):]
        return f"{name.upper() if len(name) <= 4 else name} (training.eval)"
    return dict(GROUPS)[group]


def data_share(columns: dict[str, list[float]]) -> list[float] | None:
    """The share of each logged step's time spent waiting for data (time/data over
    time/step), or None when the trainer logged neither."""
    waits, steps = columns.get("time/data"), columns.get("time/step")
    if waits is None or steps is None:
        return None
    return [w / s if math.isfinite(w) and math.isfinite(s) and s > 0 else math.nan
            for w, s in zip(waits, steps, strict=True)]


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


def term_words(label: str) -> str:
    """A loss term's logged label in words: `adv_D` (an adversarial term whose critic is D)
    as `adversarial (critic D)`; other labels as they are."""
    return f"adversarial (critic {label[4:]})" if label.startswith("adv_") and len(label) > 4 \
        else label


def series_name(key: str, group: str, merged: dict[str, str]) -> str:
    """A curve's legend name: the key without its plot's prefix, an objective's term as
    `G: adversarial (critic D)` (G's objective, its adversarial term against D), and a total
    that stands for its single term named for that term."""
    if group.startswith(EVAL):
        return group[len(EVAL):]
    if key == DATA_SHARE:
        return "data / step"
    name = key[len(group):] if key.startswith(group) else key
    also = [term.rsplit("/", 1)[1] for term, total in merged.items() if total == key]
    if also:
        return f"{name}: {term_words(also[0])}"
    if group == "loss/" and name.count("/") == 1:
        objective, term = name.split("/")
        return f"{objective}: {term_words(term)}"
    return name


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


__all__ = [
    "DATA_SHARE",
    "EVAL",
    "GROUPS",
    "HIDDEN",
    "Smoother",
    "data_share",
    "duplicate_terms",
    "elapsed_seconds",
    "ema",
    "format_value",
    "group_title",
    "is_smoothed",
    "metric_choices",
    "plot_group",
    "series_name",
    "term_words",
    "values_at",
]
