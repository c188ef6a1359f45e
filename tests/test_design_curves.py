"""Which plot a metric joins, and the display smoothing of its curve."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ganbuilder.design.curves import GROUPS, Smoother, ema, is_smoothed, metric_choices, plot_group


@pytest.mark.parametrize(("key", "group"), [
    ("loss/G/adv_D", "loss/"), ("loss/D", "loss/"), ("mse/Q/u", "loss/"), ("acc/Q/c", "acc/"),
    ("acc/D/real", "acc/"), ("lr/G", "lr/"), ("time/step", None)])
def test_every_metric_family_finds_its_plot(key, group):
    assert plot_group(key) == group
    assert group is None or group in dict(GROUPS)


def test_compared_metrics_put_losses_and_totals_first():
    keys = ["acc/D/real", "loss/G/adv_D", "time/step", "lr/G", "loss/G", "mse/Q/u", "loss/D",
            "loss/G"]
    assert metric_choices(keys) == ["loss/D", "loss/G", "loss/G/adv_D", "lr/G", "acc/D/real",
                                    "mse/Q/u"]


def test_only_learning_rates_are_drawn_exact():
    assert not is_smoothed("lr/D")
    assert is_smoothed("loss/G") and is_smoothed("acc/D/fake")


def test_smoothing_starts_at_the_data_and_follows_tensorboard():
    values = [4.0, 0.0, 2.0]
    smoothed = ema(values, 0.5)
    assert smoothed[0] == 4.0  # debiased: no pull towards zero at the start
    assert smoothed[1] == pytest.approx((0.5 * 0.5 * 4.0 + 0.5 * 0.0) / (1 - 0.25))
    assert ema(values, 0.0).tolist() == values


def test_smoothing_a_growing_column_equals_smoothing_it_whole():
    rng = np.random.default_rng(0)
    column = rng.normal(size=200).tolist()
    smoother = Smoother(0.9)
    for end in (1, 7, 50, 200):
        incremental = smoother.extend(column[:end])
    assert np.allclose(incremental, ema(column, 0.9))
    assert len(smoother.out) == 200


def test_missing_values_are_skipped_not_spread():
    out = ema([math.nan, 1.0, math.nan, 3.0], 0.5)
    assert math.isnan(out[0])
    assert out[1] == 1.0 and out[2] == 1.0
    assert out[3] == pytest.approx((0.5 * 0.5 * 1.0 + 0.5 * 3.0) / 0.75)
