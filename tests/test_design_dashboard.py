"""The dashboard's model: one series per quantity, values at a step, wall time, run names."""

from __future__ import annotations

import math

import pytest
import yaml

from ganbuilder.design.curves import (
    duplicate_terms,
    elapsed_seconds,
    format_value,
    series_name,
    values_at,
)
from ganbuilder.design.explorer_labels import (
    arithmetic_labels,
    interpolation_labels,
    sweep_labels,
    traversal_labels,
)
from ganbuilder.design.run_names import differences, flatten, resolved_spec, run_names, spec_diff


def test_an_objective_of_one_term_is_one_series():
    columns = {"loss/D": [1.0, 0.5], "loss/D/adv_D": [1.0, 0.5],
               "loss/G": [3.0, 2.0], "loss/G/adv": [1.0, 1.0], "loss/G/l1": [2.0, 1.0]}
    merged = duplicate_terms(columns)
    assert merged == {"loss/D/adv_D": "loss/D"}
    assert series_name("loss/D", "loss/", merged) == "D: adversarial (critic D)"
    assert series_name("loss/G/l1", "loss/", merged) == "G: l1"


def test_a_legend_says_whose_objective_and_which_critic():
    # G's objective, its adversarial term against D: never read as if G's loss were D's.
    merged = duplicate_terms({"loss/G": [1.0], "loss/G/adv_D": [1.0]})
    assert series_name("loss/G", "loss/", merged) == "G: adversarial (critic D)"
    assert series_name("loss/G/adv_D", "loss/", {}) == "G: adversarial (critic D)"
    assert series_name("eval/fid", "eval/fid", {}) == "fid"


def test_a_weighted_single_term_is_its_own_quantity():
    columns = {"loss/G": [10.0, 5.0], "loss/G/l1": [1.0, 0.5], "loss/D": [1.0, math.nan],
               "loss/D/adv": [1.0, math.nan]}
    assert duplicate_terms(columns) == {"loss/D/adv": "loss/D"}  # NaN where both skip a step


def test_wall_time_accumulates_seconds_per_step():
    steps = [10, 20, 40]
    assert elapsed_seconds(steps, {"time/step": [0.5, 1.0, 0.25]}) == [5.0, 15.0, 20.0]
    assert all(math.isnan(t) for t in elapsed_seconds(steps, {}))


def test_values_at_the_nearest_logged_row():
    xs = [10.0, 20.0, 30.0]
    columns = {"a": [1.0, 2.0, 3.0], "b": [math.nan, 5.0, math.nan]}
    assert values_at(xs, columns, 24, ["a", "b"]) == (1, {"a": 2.0, "b": 5.0})
    assert values_at(xs, columns, 26, ["a", "b"]) == (2, {"a": 3.0})
    assert values_at(xs, columns, -5, ["a"]) == (0, {"a": 1.0})
    assert values_at([], columns, 3, ["a"]) is None
    assert format_value(2e-4) == "2e-04" and format_value(0.52341) == "0.5234"


def test_runs_are_named_by_what_differs():
    base = {"name": "dcgan", "description": "one", "params": {"lr": 0.0002, "nz": 100},
            "training": {"steps": 1000}}
    other = {**base, "description": "two", "params": {"lr": 0.0001, "nz": 100}}
    third = {**base, "training": {"steps": 50}}
    names = run_names(["dcgan"] * 3, [base, other, third], ["r1", "r2", "r3"])
    assert names[0] == "dcgan · lr=0.0002, steps=1000"
    assert names[1] == "dcgan · lr=0.0001, steps=1000"
    assert names[2] == "dcgan · lr=0.0002, steps=50"
    # Alone, identical or unreadable: the folder tells them apart.
    assert run_names(["dcgan", "dcgan"], [base, base], ["a", "b"]) == ["dcgan · a", "dcgan · b"]
    assert run_names(["gan", "dcgan"], [None, base], ["a", "b"]) == ["gan · a", "dcgan · b"]
    assert flatten({"n": {"G": {"layers": [{"conv": {"out": 8}}]}}}) == {
        "n.G.layers[0].conv.out": 8}
    assert differences([{"a": 1}, {"a": 1, "b": 2}]) == [{"b": None}, {"b": 2}]


def test_a_run_name_says_whose_learning_rate_differs():
    def spec(d_lr, all_lr):
        return {"name": "g", "objectives": {"D": {"optimizer": {"adam": {"lr": d_lr}}}},
                "training": {"optimizer": {"adam": {"lr": all_lr}}}}

    names = run_names(["g", "g"], [spec(1e-4, 2e-4), spec(3e-4, 5e-4)], ["a", "b"])
    assert names == ["g · D's lr=0.0001, lr (all)=0.0002", "g · D's lr=0.0003, lr (all)=0.0005"]


def test_the_diff_of_two_resolved_specs(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "spec.yaml").write_text(yaml.safe_dump({"name": "x", "lr": 1}))
    text, tree = resolved_spec(tmp_path / "a")
    assert tree == {"name": "x", "lr": 1}
    assert resolved_spec(tmp_path / "missing") == ("", None)
    lines = spec_diff(text, text.replace("lr: 1", "lr: 2"), "run a", "run b")
    assert lines[:2] == ["--- run a", "+++ run b"]
    assert "-lr: 1" in lines and "+lr: 2" in lines
    assert spec_diff(text, text, "a", "b") == []


@pytest.mark.parametrize(("labels", "columns"), [
    (interpolation_labels(0, 1, 4, "slerp"), ["A (seed 0)", "0.33", "0.67", "B (seed 1)"]),
    (sweep_labels(3, "y", 3), ["y=0", "y=1", "y=2"]),
    (arithmetic_labels([0], [1], [2]), ["mean A", "mean B", "mean C", "A − B + C"]),
    (traversal_labels(0, 2, "c[0]", 3, None)[:2], ["c[0]=-2.0", "c[0]=+0.0", "c[0]=+2.0"]),
])
def test_explorer_outputs_have_a_label_per_column(labels, columns):
    title, shown = labels
    assert title and shown == columns


def test_a_traversal_labels_its_rows():
    _, columns, rows = traversal_labels(5, 2, "c", 5, 4)
    assert columns == ["c=0", "c=1", "c=2", "c=3"] and rows == ["seed 5", "seed 6"]
