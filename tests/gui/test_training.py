"""Training from the window: start, pause/resume, stop, failures, samples and the explorer."""

import textwrap
from pathlib import Path

import numpy as np
import pytest
import shiboken6
import torch
from PIL import Image

from ganbuilder.runs.samples import generate
from ganbuilder.train.events import SampleGrid
from ganbuilder.train.trainer import Trainer
from gui.training import IDLE, PAUSED

from .conftest import SPECS

TINY = {
    "  nz: 100 ": "  nz: 8 ",
    "  ngf: 64 ": "  ngf: 8 ",
    "  ndf: 64 ": "  ndf: 8 ",
    "  image_size: 32 ": "  image_size: 16 ",
    "  batch_size: 64": "  batch_size: 16",
    "  log_every: 25": "  log_every: 2",
    "  sample_every: 250": "  sample_every: 10",
    "  checkpoint_every: 500": "  checkpoint_every: 1000",
    "  n: 64\n  nrow: 8": "  n: 16\n  nrow: 4",
}


def tiny_dcgan(steps: int) -> str:
    text = (SPECS / "dcgan.yaml").read_text(encoding="utf-8")
    for old, new in {**TINY, "  steps: 1500": f"  steps: {steps}"}.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture(autouse=True)
def one_torch_thread():
    # Two cores shared with other jobs: a second intra-op thread makes tiny steps 50x slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny(tmp_path):
    def make(steps: int = 30) -> Path:
        path = tmp_path / "tiny.yaml"
        path.write_text(tiny_dcgan(steps), encoding="utf-8")
        return path
    return make


def train(qtbot, window, spec: Path) -> None:
    window.open_file(spec, ask=False)
    assert window.start_training()


def finished(qtbot, window, timeout: int = 20000) -> None:
    qtbot.waitUntil(lambda: window.training.state == IDLE, timeout=timeout)


def test_start_trains_and_metrics_reach_the_plots(qtbot, window, tiny):
    train(qtbot, window, tiny(20))
    with qtbot.waitSignal(window.training.metrics, timeout=15000):
        pass
    finished(qtbot, window)
    curve = window.plots.curve("loss/D")
    assert curve is not None and len(curve.getData()[0]) == 10
    assert window.plots.curve("acc/D/real") is not None
    assert window.plots.curve("lr/G") is not None
    run_dir = window.training.run_dir
    assert run_dir.parent == tiny(20).parent / "runs" / "dcgan"
    assert (run_dir / "metrics.jsonl").read_text().count("\n") == 10
    assert "Finished at step 20" in window.train_banner.text()

    csv = run_dir.parent / "metrics.csv"
    window.plots.export_csv(csv)
    header, *rows = csv.read_text().splitlines()
    assert header.startswith("step,") and "loss/D/adv_D" in header and len(rows) == 10


def test_smoothing_and_log_scale_change_the_view_not_the_data(qtbot, window):
    from ganbuilder.train.events import StepMetrics

    window.plots.add([StepMetrics(s, {"loss/D": float(s % 2)}) for s in range(1, 11)])
    raw = window.plots.curve("loss/D").getData()[1].copy()
    window.plots.set_smoothing(0.9)
    smooth = window.plots.curve("loss/D").getData()[1]
    assert np.ptp(smooth[2:]) < np.ptp(raw[2:])
    assert window.plots.values["loss/D"] == [float(s % 2) for s in range(1, 11)]
    window.plots.set_log_scale(True)
    assert window.plots.plots["loss/"].ctrl.logYCheck.isChecked()


def test_metrics_are_coalesced(qtbot, window, tiny):
    batches = []
    window.training.metrics.connect(batches.append)
    train(qtbot, window, tiny(40))
    finished(qtbot, window)
    assert sum(len(b) for b in batches) == 20
    assert len(batches) < 20  # at most one redraw per 100 ms: logged steps arrive faster


def test_pause_stops_the_step_counter_and_resume_continues(qtbot, window, tiny):
    train(qtbot, window, tiny(100000))
    qtbot.waitUntil(lambda: window.training.step >= 4, timeout=15000)
    window.pause_action.trigger()
    assert window.training.state == PAUSED and window.resume_action.isEnabled()
    with qtbot.waitSignal(window.training.paused, timeout=15000) as blocker:
        pass  # the step in flight ends, then the trainer saves and waits
    paused_at = window.training.step
    assert blocker.args[0].step == paused_at
    qtbot.wait(500)
    assert window.training.step == paused_at
    assert f"Paused at step {paused_at}" in window.train_banner.text()
    saved = torch.load(blocker.args[0].checkpoint, weights_only=False)
    assert saved["step"] == paused_at  # pausing never risks the model
    window.resume_action.trigger()
    qtbot.waitUntil(lambda: window.training.step > paused_at, timeout=15000)
    window.stop_action.trigger()
    finished(qtbot, window)


def test_stop_leaves_a_checkpoint(qtbot, window, tiny):
    train(qtbot, window, tiny(100000))
    qtbot.waitUntil(lambda: window.training.step >= 2, timeout=15000)
    window.stop_action.trigger()
    finished(qtbot, window)
    checkpoint = window.training.run_dir / "checkpoints" / "last.pt"
    assert checkpoint.is_file()
    assert "Stopped at step" in window.train_banner.text()
    assert window.start_action.isEnabled() and not window.stop_action.isEnabled()
    assert window.explorer.checkpoint == checkpoint


def test_invalid_spec_shows_problems_instead_of_starting(qtbot, window, tiny):
    path = tiny()
    path.write_text(path.read_text().replace("kernel: 4, stride: 1", "kernel: 9, stride: 1"))
    window.open_file(path, ask=False)
    assert not window.start_training()
    assert window.training.state == IDLE
    assert window.problems and "Cannot start" in window.train_banner.text()
    assert not (path.parent / "runs").exists()


def test_missing_data_is_shown_and_the_app_stays_usable(qtbot, window, tiny):
    path = tiny(4)
    good = path.read_text()
    path.write_text(good.replace("source: digits", "source: folder\n  root: no_such_folder"))
    with qtbot.waitSignal(window.training.failed, timeout=15000):
        train(qtbot, window, path)
    finished(qtbot, window)
    assert "Training failed" in window.train_banner.text()
    assert "no_such_folder" in window.train_banner.text()

    path.write_text(good)
    window.open_file(path, ask=False)
    with qtbot.waitSignal(window.training.finished, timeout=15000):
        assert window.start_training()
    finished(qtbot, window)


def test_error_during_training_keeps_the_last_checkpoint(qtbot, window, tiny, monkeypatch):
    path = tiny(100000)
    path.write_text(path.read_text().replace("checkpoint_every: 1000", "checkpoint_every: 2"))
    original = Trainer.train_step

    def flaky(self, sums):
        if self.step == 3:
            raise RuntimeError("boom at step 3")
        original(self, sums)

    monkeypatch.setattr(Trainer, "train_step", flaky)
    with qtbot.waitSignal(window.training.failed, timeout=15000) as blocker:
        train(qtbot, window, path)
    finished(qtbot, window)
    failed = blocker.args[0]
    assert failed.step == 3 and failed.last_checkpoint.name == "last.pt"
    assert failed.last_checkpoint.is_file()
    assert "boom at step 3" in window.train_banner.text()
    assert str(failed.last_checkpoint) in window.train_banner.text()
    assert window.start_action.isEnabled()


def test_closing_the_window_stops_the_worker(qtbot, window, tiny, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a: asked.append(a[1]) or
                        QMessageBox.StandardButton.Yes)  # "stop it and quit?" (issue 11)
    train(qtbot, window, tiny(100000))
    qtbot.waitUntil(lambda: window.training.step >= 2, timeout=15000)
    thread = window.training._thread
    window.close()
    assert asked == ["Training is running"]
    # Once finished, the thread may already have been deleted (deleteLater) by the time we look.
    assert not shiboken6.isValid(thread) or thread.isFinished()
    assert (window.training.run_dir / "checkpoints" / "last.pt").is_file()


def test_sample_slider_shows_an_earlier_grid(qtbot, window):
    view = window.samples
    for step in (0, 10, 20):
        view.add(SampleGrid(step, np.full((8, 8, 3), step, np.uint8)))
    assert view.current.step == 20
    shown = []
    view.shown.connect(shown.append)
    view.slider.setValue(1)
    assert shown == [10] and "step 10" in view.step_label.text()
    view.add(SampleGrid(30, np.zeros((8, 8, 3), np.uint8)))
    assert view.current.step == 10  # looking back: a new grid does not jump the view
    view.slider.setValue(3)
    view.add(SampleGrid(40, np.zeros((8, 8, 3), np.uint8)))
    assert view.current.step == 40  # following the newest


def test_samples_of_a_run_reach_the_slider_and_save(qtbot, window, tiny, tmp_path):
    train(qtbot, window, tiny(20))
    finished(qtbot, window)
    view = window.samples
    assert [g.step for g in view.grids] == [0, 10, 20]
    view.slider.setValue(0)
    assert view.current.path.name == "step_000000.png"
    view.save_png(tmp_path / "grid.png")
    assert (tmp_path / "grid.png").stat().st_size > 0
    view.slider.setValue(1)
    view.save_gif(tmp_path / "grids.gif")
    with Image.open(tmp_path / "grids.gif") as gif:
        assert gif.n_frames == 2  # the first grid up to the one shown
        gif.seek(1)
        assert (np.asarray(gif.convert("RGB")) == view.grids[1].image).all()
    assert window.runs.checked()[0].run_dir == window.training.run_dir.resolve()


def test_interpolation_endpoints_are_the_two_samples(qtbot, window, tiny):
    train(qtbot, window, tiny(4))
    finished(qtbot, window)
    explorer = window.explorer
    explorer.seed_a.setValue(3)
    explorer.seed_b.setValue(7)
    explorer.frames.setValue(5)
    for mode in ("linear", "slerp"):
        explorer.mode.setCurrentText(mode)
        with qtbot.waitSignal(explorer.framesShown):
            frames = explorer.interpolate()
        assert frames.shape == (5, 1, 16, 16)
        model = explorer.model
        for end, seed in ((0, 3), (-1, 7)):
            alone = generate(model.gan, {k: v[None] for k, v in model.latents(seed).items()},
                             [model.output])[0][0]
            assert torch.allclose(frames[end], alone, atol=1e-5)
        assert not torch.allclose(frames[0], frames[-1])
    assert explorer.image.pixmap() is not None and not explorer.image.pixmap().isNull()

    assert explorer.arithmetic().shape == (4, 1, 16, 16)
    assert not explorer.sweep_button.isEnabled()  # dcgan takes no label


def test_infogan_code_traversal_varies_one_code_along_each_row(qtbot, tmp_path):
    from ganbuilder.spec import load_spec
    from gui.latent_explorer import LatentExplorer

    spec = load_spec(SPECS / "infogan.yaml", ["params.ngf=8", "params.ndf=8", "params.nz=8",
                                              "params.hidden=16", "data.batch_size=8"])
    Trainer(spec, tmp_path / "run", steps=2).run()
    explorer = LatentExplorer()
    qtbot.addWidget(explorer)
    explorer.set_checkpoint(tmp_path / "run" / "checkpoints" / "last.pt")
    explorer.seed_a.setValue(5)
    explorer.code_rows.setValue(2)
    with qtbot.waitSignal(explorer.framesShown):
        shown = explorer.traverse()  # loads the model, lists its codes, traverses the first
    assert shown.shape == (20, 1, 16, 16)
    assert [explorer.code_box.itemText(i) for i in range(explorer.code_box.count())] == [
        "c (10 values)", "u[0] (-2 … 2)", "u[1] (-2 … 2)"]
    model = explorer.model

    def alone(seed: int, **pinned) -> torch.Tensor:
        latents = {k: v[None].clone() for k, v in model.latents(seed).items()}
        for name, value in pinned.items():
            latents[name] = value[None]
        return model.render(latents)[0]

    assert torch.allclose(shown[13], alone(6, c=torch.tensor(3)), atol=1e-5)  # row 1, c = 3
    explorer.code_box.setCurrentIndex(2)
    explorer.frames.setValue(5)
    frames = explorer.traverse()
    assert frames.shape == (10, 1, 16, 16)
    u = model.latents(5)["u"].clone()
    u[1] = 2.0
    assert torch.allclose(frames[4], alone(5, u=u), atol=1e-5)  # row 0, last column: u[1] = 2
    assert not torch.allclose(frames[0], frames[4])


def test_every_metric_family_finds_a_plot(qtbot, window):
    from ganbuilder.train.events import StepMetrics

    window.plots.add([StepMetrics(s, {"loss/G/mutual_info": 1.0, "acc/Q/c": 0.5,
                                      "mse/Q/u": 0.2, "time/step": 0.01}) for s in (1, 2)])
    assert window.plots.curve("acc/Q/c") in window.plots.plots["acc/"].listDataItems()
    assert window.plots.curve("mse/Q/u") in window.plots.plots["loss/"].listDataItems()
    assert window.plots.curve("time/step") is None


def test_training_eval_runs_when_training_from_the_app(qtbot, window, tmp_path, monkeypatch):
    from tests.conftest import MINIMAL

    monkeypatch.setenv("GANBUILDER_CACHE", str(tmp_path / "cache"))
    spec = tmp_path / "evaluated.yaml"
    spec.write_text(textwrap.dedent(MINIMAL).lstrip("\n").replace(
        "  steps: 4\n", "  steps: 4\n  eval: {every: 2, n: 100, metrics: [high_quality]}\n"),
        encoding="utf-8")
    seen: list = []
    window.training.metrics.connect(seen.extend)
    train(qtbot, window, spec)
    finished(qtbot, window, timeout=60000)
    assert [m.step for m in seen if "eval/high_quality" in m.metrics] == [2, 4]
    assert window.plots.curve("eval/high_quality") is not None


def test_the_app_and_the_cli_name_run_folders_by_one_function(qtbot, window, tiny,
                                                              monkeypatch):
    from datetime import datetime

    from ganbuilder import cli, run_setup

    named: list = []
    real = run_setup.new_run_dir

    def spy(base, name, now=None):
        named.append((Path(base), name))
        return real(base, name, datetime(2026, 1, 2, 3, 4, 5))

    monkeypatch.setattr(run_setup, "new_run_dir", spy)
    path = tiny(2)
    monkeypatch.chdir(path.parent)
    assert cli.main(["run", str(path), "--quiet"]) == 0
    train(qtbot, window, path)
    finished(qtbot, window)
    runs = path.parent / "runs" / "dcgan"
    assert named == [(Path(), "dcgan"), (path.parent, "dcgan")]
    # The same second twice: the second run gets its own folder, never the first one's.
    assert sorted(p.name for p in runs.iterdir()) == ["20260102-030405", "20260102-030405-2"]
    assert window.training.run_dir == runs / "20260102-030405-2"


def test_a_full_disk_keeps_the_files_the_app_would_replace(qtbot, window, tmp_path,
                                                           monkeypatch):
    """The app's exports (sample grid, animation, metrics CSV, plots PNG) write whole or not
    at all: a full disk leaves the user's earlier file as it was and says why."""
    import errno

    from ganbuilder import files
    from ganbuilder.train.events import StepMetrics

    window.samples.add(SampleGrid(3, np.zeros((8, 8, 3), np.uint8)))
    window.plots.add([StepMetrics(s, {"loss/D": float(s)}) for s in range(1, 4)])
    exports = {"grid.png": window.samples.save_png, "grids.gif": window.samples.save_gif,
               "metrics.csv": window.plots.export_csv, "plots.png": window.plots.export_png}
    for name in exports:
        (tmp_path / name).write_bytes(b"the user's own file")

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(files, "_write", full)
    warnings = []
    monkeypatch.setattr("gui.samples_view.QMessageBox.warning", lambda *a: warnings.append(a[2]))
    monkeypatch.setattr("gui.plots.QMessageBox.warning", lambda *a: warnings.append(a[2]))
    window.samples._saving(exports["grid.png"], tmp_path / "grid.png")
    window.samples._saving(exports["grids.gif"], tmp_path / "grids.gif")
    window.plots._exporting(exports["metrics.csv"], tmp_path / "metrics.csv")
    window.plots._exporting(exports["plots.png"], tmp_path / "plots.png")
    assert len(warnings) == 4 and all("no space" in w.lower() for w in warnings), warnings
    for name in exports:
        assert (tmp_path / name).read_bytes() == b"the user's own file", name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(exports)  # no temporary left
