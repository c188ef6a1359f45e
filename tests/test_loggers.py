"""`training.log`: CSV one row per logged step; TensorBoard event files read back."""

import csv
import json
import sys

import pytest

from ganbuilder.cli import main
from ganbuilder.errors import UserError
from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer
from tests.conftest import MINIMAL

LOGGED = MINIMAL.replace("  steps: 4\n", "  steps: 6\n  log: [jsonl, csv, tensorboard]\n")
LOGGED = LOGGED.replace("version: 1\n", "version: 1\nparams: {width: 16, note: ring}\n")


def jsonl(run):
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def read_csv(run):
    with (run / "metrics.csv").open(newline="") as f:
        return list(csv.DictReader(f))


def test_csv_has_one_row_per_logged_step(tmp_path, write_spec):
    spec = write_spec(LOGGED.replace("csv, tensorboard", "csv"))
    run = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(run), "--quiet"]) == 0
    rows, records = read_csv(run), jsonl(run)
    assert [int(r["step"]) for r in rows] == [2, 4, 6] == [r["step"] for r in records]
    for row, record in zip(rows, records, strict=True):
        assert set(row) == set(record)
        for key, value in record.items():
            assert float(row[key]) == pytest.approx(value, rel=1e-12)
    assert not (run / "tensorboard").exists()


def test_a_resumed_run_drops_the_rows_after_its_checkpoint(tmp_path, write_spec):
    spec = write_spec(LOGGED.replace("csv, tensorboard", "csv"))
    run = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(run), "--quiet", "--steps", "6"]) == 0
    # As after a crash that logged step 6 but kept only the checkpoint of step 4.
    for name in ("step_000006.pt", "last.pt"):
        (run / "checkpoints" / name).unlink()
    assert main(["run", str(spec), "--resume", str(run / "checkpoints" / "step_000004.pt"),
                 "--steps", "8", "--quiet"]) == 0
    rows, records = read_csv(run), jsonl(run)
    assert [int(r["step"]) for r in rows] == [2, 4, 6, 8] == [r["step"] for r in records]
    assert float(rows[2]["time/step"]) == pytest.approx(records[2]["time/step"])


def test_csv_widens_for_a_metric_that_appears_later(tmp_path):
    from ganbuilder.loggers.files import CsvLogger
    from ganbuilder.loggers.registry import RunInfo

    sink = CsvLogger()
    sink.start(RunInfo(tmp_path, "x", 0, 3, {}, ""))
    sink.scalars(1, {"a": 1.0})
    sink.scalars(2, {"a": 2.0, "b": 5.0})
    assert read_csv(tmp_path) == [{"step": "1", "a": "1.0", "b": ""},
                                  {"step": "2", "a": "2.0", "b": "5.0"}]


def test_tensorboard_gets_every_scalar_the_grids_and_the_params(tmp_path, write_spec):
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator")
    spec = write_spec(LOGGED)
    run = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(run), "--quiet"]) == 0
    events = accumulator.EventAccumulator(str(run / "tensorboard"),
                                          size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    records = jsonl(run)
    metrics = {k for r in records for k in r if k != "step"}
    assert set(events.Tags()["scalars"]) == metrics
    for key in metrics:
        logged = [(e.step, e.value) for e in events.Scalars(key)]
        assert logged == [(r["step"], pytest.approx(r[key], rel=1e-6)) for r in records]
    grids = events.Images("samples")
    assert [g.step for g in grids] == [0, 2, 4, 6]  # sample_every: 2, and step 0
    assert grids[0].width > 0 and grids[0].encoded_image_string.startswith(b"\x89PNG")
    plugin = events.PluginTagToContent("hparams")
    assert "_hparams_/session_start_info" in plugin
    from tensorboard.plugins.hparams import plugin_data_pb2

    data = plugin_data_pb2.HParamsPluginData.FromString(
        plugin["_hparams_/session_start_info"])
    hparams = data.session_start_info.hparams
    assert hparams["width"].number_value == 16 and hparams["note"].string_value == "ring"


def test_missing_tensorboard_is_a_clear_error_before_training(tmp_path, write_spec,
                                                              monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)  # import fails
    spec = load_spec(write_spec(LOGGED))
    trainer = Trainer(spec, tmp_path / "run")
    with pytest.raises(UserError, match=r"pip install 'ganbuilder\[tensorboard\]'"):
        trainer.run()
    assert not (tmp_path / "run" / "checkpoints").exists()


def test_log_names_are_checked_by_the_schema(write_spec, capsys):
    spec = write_spec(LOGGED.replace("csv, tensorboard", "neptune"))
    assert main(["validate", str(spec)]) == 2
    assert "training.log" in capsys.readouterr().err


EVALUATED = MINIMAL.replace(
    "  steps: 4\n",
    "  steps: 6\n  eval: {every: 2, n: 200, metrics: [high_quality, modes_covered],"
    " best: high_quality, mode: max}\n")


def test_training_eval_logs_figures_and_keeps_the_best_checkpoint(tmp_path, write_spec,
                                                                  monkeypatch):
    monkeypatch.setenv("GANBUILDER_CACHE", str(tmp_path / "cache"))
    spec = write_spec(EVALUATED)
    run = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(run), "--quiet"]) == 0
    evals = [r for r in jsonl(run) if "eval/high_quality" in r]
    assert [r["step"] for r in evals] == [2, 4, 6]
    assert all(set(r) == {"step", "eval/high_quality", "eval/modes_covered"} for r in evals)
    best = json.loads((run / "checkpoints" / "best.json").read_text())
    top = max(evals, key=lambda r: r["eval/high_quality"])  # first of equals: strict '>'
    assert best == {"step": top["step"], "metric": "high_quality",
                    "value": top["eval/high_quality"]}
    from ganbuilder.evaluate import evaluate_checkpoint

    again = evaluate_checkpoint(run / "checkpoints" / "best.pt", n=200, seed=0)
    assert again["step"] == top["step"]
    assert again["high_quality"] == pytest.approx(top["eval/high_quality"])


def test_training_eval_names_unknown_figures(tmp_path, write_spec, capsys):
    spec = write_spec(EVALUATED.replace("best: high_quality", "best: fid"))
    assert main(["run", str(spec), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "training.eval: fid not among the figures of the 'toy2d'" in capsys.readouterr().err
