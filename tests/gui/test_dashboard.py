"""The training dashboard: plots that can be read, runs told apart, explorer output labelled."""

from __future__ import annotations

import math

import pytest
import yaml

from ganbuilder.train.events import StepMetrics
from gui.plots import MetricsPlots
from gui.runs_view import RunsView

from ..test_run_history import write_run


@pytest.fixture
def plots(qtbot):
    widget = MetricsPlots()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    return widget


def records(steps=range(10, 210, 10), l1_weight: float = 1.0) -> list[StepMetrics]:
    out = []
    for s in steps:
        adv, l1 = 1.0 / s, math.sin(s / 30) + 1
        out.append(StepMetrics(s, {
            "loss/D": 0.5 + 1.0 / s, "loss/D/adv_D": 0.5 + 1.0 / s,
            "loss/G": adv + l1_weight * l1, "loss/G/adv": adv, "loss/G/l1": l1,
            "acc/D/real": 0.7, "acc/D/fake": 0.4, "lr/G": 2e-4, "time/step": 0.06}))
    return out


def test_one_series_per_quantity(plots):
    plots.add(records())
    plots.flush()
    assert plots.series()["loss/"] == ["D: adversarial (critic D)", "G", "G: adv",
                                      "G: l1"]
    assert plots.curve("loss/D/adv_D") is None and plots.curve("loss/D") is not None
    drawn = plots.plots["loss/"].listDataItems()
    assert len(drawn) == 4
    # Once a term differs from its total (a weight, another term), it is a line of its own.
    plots.add([StepMetrics(300, {"loss/D": 2.0, "loss/D/adv_D": 1.0})])
    plots.flush()
    assert "D: adversarial (critic D)" in plots.series()["loss/"]
    assert "D" in plots.series()["loss/"]


def test_legends_sit_beside_the_data(qtbot, plots):
    plots.add(records())
    plots.flush()
    legend = plots.legends["lr/"]
    qtbot.waitUntil(lambda: legend.sceneBoundingRect().left() > 0)  # laid out in the loop
    for group, plot in plots.plots.items():
        legend = plots.legends[group].sceneBoundingRect()
        assert not legend.intersects(plot.vb.sceneBoundingRect()), group
        assert legend.left() >= plot.vb.sceneBoundingRect().right()


def test_values_on_hover_and_the_chance_line(plots):
    plots.add(records())
    plots.flush()
    text = plots.values_text(52)
    assert text.startswith("step 50 — losses: D: adversarial (critic D) 0.52")
    assert "accuracy: D/real 0.7, D/fake 0.4" in text and "learning rate: G 2e-04" in text
    vb = plots.plots["loss/"].vb
    pos = vb.mapViewToScene(vb.viewRect().center())
    width = plots.minimumSizeHint().width()
    plots._hover(pos)
    assert plots.hover_label.text().startswith("step ")
    assert plots.minimumSizeHint().width() == width  # a long line wraps, never widens
    assert plots.cursors["acc/"].isVisible()
    assert plots.chance.value() == 0.5 and plots.chance in plots.plots["acc/"].items


def test_the_x_axis_is_step_or_wall_time(plots):
    plots.add(records())
    plots.flush()
    xs, _ = plots.curve("loss/G").getData()
    assert xs[0] == 10 and xs[-1] == 200
    plots.set_wall_time(True)
    xs, _ = plots.curve("loss/G").getData()
    assert xs[0] == pytest.approx(10 * 0.06 / 60) and xs[-1] == pytest.approx(200 * 0.06 / 60)
    assert plots.plots["acc/"].getAxis("bottom").labelText == "wall time (min)"
    assert "min:" in plots.values_text(xs[3]) or " min" in plots.values_text(xs[3])


def spec_run(folder, lr: float, steps: int = 100):
    run = write_run(folder, [{"step": s, "loss/D": lr * s} for s in (25, 50)])
    (run / "spec.yaml").write_text(yaml.safe_dump(
        {"version": 1, "name": "mygan", "params": {"lr": lr},
         "training": {"steps": steps}}), encoding="utf-8")
    return run


def test_runs_are_named_by_what_differs_and_diffed(qtbot, tmp_path):
    view = RunsView()
    qtbot.addWidget(view)
    view.show()
    view.add_run(spec_run(tmp_path / "a", 0.0002))
    assert view.labels == ["mygan · a"]  # alone: nothing to tell it apart from
    view.add_run(spec_run(tmp_path / "b", 0.0001))
    assert view.labels == ["mygan · lr=0.0002", "mygan · lr=0.0001"]
    assert [view.run_list.item(i).text() for i in range(2)] == view.labels
    legend = view.plot.getPlotItem().legend
    assert [label.text for _, label in legend.items] == view.labels
    assert view.diff_button.isEnabled()
    lines = view.diff_lines()
    assert lines[:2] == ["--- mygan · lr=0.0002", "+++ mygan · lr=0.0001"]
    assert "-  lr: 0.0002" in lines and "+  lr: 0.0001" in lines
    view.show_diff()
    assert view.diff_dialog.isVisible()
    view.add_run(spec_run(tmp_path / "c", 0.0001, steps=5))
    assert view.labels[2] == "mygan · lr=0.0001, steps=5"
    assert not view.diff_button.isEnabled() and view.diff_lines() is None  # three checked


def test_latent_explorer_outputs_are_labelled(qtbot, tmp_path):
    from ganbuilder.spec import load_spec
    from ganbuilder.train.trainer import Trainer
    from gui.latent_explorer import LatentExplorer

    from .conftest import SPECS

    spec = load_spec(SPECS / "dcgan.yaml", ["params.ngf=8", "params.ndf=8", "params.nz=8",
                                            "params.image_size=16", "data.batch_size=8"])
    Trainer(spec, tmp_path / "run", steps=1).run()
    explorer = LatentExplorer()
    qtbot.addWidget(explorer)
    explorer.set_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    explorer.seed_a.setValue(2)
    explorer.seed_b.setValue(9)
    explorer.frames.setValue(3)
    explorer.interpolate()
    caption = explorer.caption.text()
    assert "Interpolation (slerp) from sample A (seed 2) to B (seed 9)" in caption
    assert "A (seed 2) · 0.50 · B (seed 9)" in caption
    explorer.arithmetic()
    assert "mean A · mean B · mean C · A − B + C" in explorer.caption.text()
