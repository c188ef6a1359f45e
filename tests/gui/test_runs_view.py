"""The Runs view: past run folders overlaid and their sample histories side by side."""

import pytest

from gui.runs_view import RunsView

from ..test_run_history import write_run


@pytest.fixture
def view(qtbot):
    widget = RunsView()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    return widget


@pytest.fixture
def two_runs(tmp_path):
    a = write_run(tmp_path / "a", [{"step": s, "loss/D": 1.0 / s, "acc/D/real": 0.5}
                                   for s in (25, 50, 75, 100)], sample_steps=(0, 50, 100))
    b = write_run(tmp_path / "b", [{"step": s, "loss/D": 2.0 / s} for s in (25, 50)],
                  sample_steps=(0, 25, 50))
    return a, b


def test_curves_of_checked_runs_are_overlaid(view, two_runs):
    for run in two_runs:
        view.add_run(run)
    assert view.metric_box.currentText() == "loss/D"  # losses first
    assert view.curve_count() == 2
    view.run_list.item(1).setCheckState(view.run_list.item(1).checkState().Unchecked)
    assert view.curve_count() == 1 and [r.run_dir.name for r in view.checked()] == ["a"]
    view.set_metric("acc/D/real")  # a metric run b never logged
    view.run_list.item(1).setCheckState(view.run_list.item(1).checkState().Checked)
    assert view.curve_count() == 1


def test_sample_histories_are_compared_at_one_step(view, two_runs):
    for run in two_runs:
        view.add_run(run)
    assert view.step == 100 and view.shown_steps() == [100, 50]  # b stopped at 50
    view.set_step(25)
    assert view.shown_steps() == [0, 25]  # each run's newest grid at or before the step
    assert "step 25" in view.step_label.text()
    assert view.sample_cells[1][1].pixmap() is not None


def test_reopening_a_run_reads_it_again(view, two_runs):
    a, _ = two_runs
    view.add_run(a)
    with open(a / "metrics.jsonl", "a", encoding="utf-8") as f:
        f.write('{"step": 125, "loss/D": 0.1}\n')
    view.reload()
    assert view.run_list.count() == 1 and view.runs[0].metrics.steps[-1] == 125


def test_a_folder_that_is_not_a_run_is_refused_with_a_message(qtbot, view, tmp_path):
    with qtbot.waitSignal(view.failed) as blocker:
        assert view.add_run(tmp_path) is None
    assert "not a run folder" in blocker.args[0] and view.run_list.count() == 0
