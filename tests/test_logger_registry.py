"""Every registered logger: the schema names it, and a run with it writes what it promises,
read back with the logger's own tool (W&B's record protobufs, MLflow's client, TensorBoard's
event reader). W&B runs offline and MLflow in a local file store: nothing leaves the machine."""

import json
from pathlib import Path

import pytest
import yaml

from ganbuilder.cli import main
from ganbuilder.loggers import LOGGERS
from ganbuilder.spec.schema import spec_schema
from tests.conftest import MINIMAL

LOGGED = MINIMAL.replace("  steps: 4\n", "  steps: 6\n  log: [LOGS]\n")
LOGGED = LOGGED.replace("version: 1\n", "version: 1\nparams: {width: 16, note: ring}\n")
SAMPLE_STEPS = [0, 2, 4, 6]  # sample_every: 2, and step 0


def records(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def scalar_keys(run: Path) -> set[str]:
    return {k for r in records(run) for k in r if k != "step"}


def train(tmp_path: Path, write_spec, names: list[str]) -> Path:
    spec = write_spec(LOGGED.replace("LOGS", ", ".join(names)))
    run = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(run), "--quiet"]) == 0
    return run


def check_jsonl(run: Path) -> None:
    assert [r["step"] for r in records(run)] == [2, 4, 6]


def check_csv(run: Path) -> None:
    import csv

    with (run / "metrics.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["step"]) for r in rows] == [r["step"] for r in records(run)]
    assert set(rows[0]) - {"step"} == scalar_keys(run)


def check_tensorboard(run: Path) -> None:
    accumulator = pytest.importorskip(
        "tensorboard.backend.event_processing.event_accumulator",
        reason="the tensorboard logger needs the tensorboard package")
    events = accumulator.EventAccumulator(str(run / "tensorboard"),
                                          size_guidance={"scalars": 0, "images": 0})
    events.Reload()
    assert set(events.Tags()["scalars"]) == scalar_keys(run)
    assert [g.step for g in events.Images("samples")] == SAMPLE_STEPS


def wandb_records(run: Path) -> list:
    """The records of the run's offline W&B transaction log (LevelDB log framing: 32 KiB
    blocks of records with a 7-byte header, after W&B's own 7-byte file header), parsed by
    W&B's Record protobuf."""
    from wandb.proto import wandb_internal_pb2

    (path,) = (run / "wandb").glob("offline-run-*/run-*.wandb")
    data = path.read_bytes()
    assert data[:4] == b":W&B"
    out, pos, part, block = [], 7, b"", 32768
    while pos + 7 <= len(data):
        if block - pos % block < 7:  # a block's tail too short for a header is padding
            pos += block - pos % block
            continue
        length, kind = int.from_bytes(data[pos + 4:pos + 6], "little"), data[pos + 6]
        if kind == 0:  # zero padding up to the block's end
            pos += block - pos % block
            continue
        part += data[pos + 7:pos + 7 + length]
        pos += 7 + length
        if kind in (1, 4):  # a full record, or the last piece of one
            record = wandb_internal_pb2.Record()
            record.ParseFromString(part)
            out.append(record)
            part = b""
    return out


def items(update) -> dict:
    """W&B's (key or nested key path, JSON value) items as a nested dict."""
    out: dict = {}
    for item in update:
        *parents, last = [item.key] if item.key else list(item.nested_key)
        node = out
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = json.loads(item.value_json)
    return out


def check_wandb(run: Path) -> None:
    pytest.importorskip("wandb", reason="the wandb logger needs the wandb package")
    history: dict[int, dict] = {}
    config: dict = {}
    summary: dict = {}
    for record in wandb_records(run):
        kind = record.WhichOneof("record_type")
        if kind == "history":
            row = items(record.history.item)
            history.setdefault(row.pop("_step"), {}).update(row)
        elif kind in ("run", "config"):
            config.update(items(record.run.config.update if kind == "run"
                                else record.config.update))
        elif kind == "summary":
            summary.update(items(record.summary.update))
    for record in records(run):
        logged = history[record["step"]]
        for key in scalar_keys(run):
            assert logged[key] == pytest.approx(record[key], rel=1e-6), key
    assert sorted(s for s, row in history.items() if "samples" in row) == SAMPLE_STEPS
    assert history[0]["samples"]["_type"] == "image-file"
    image = next((run / "wandb").glob("offline-run-*/files/" + history[0]["samples"]["path"]))
    assert image.read_bytes().startswith(b"\x89PNG")
    spec = yaml.safe_load((run / "spec.yaml").read_text())
    assert config["spec"]["networks"] == spec["networks"]
    assert config["params"] == {"width": 16, "note": "ring"}
    assert summary["checkpoint"] == str(run / "checkpoints" / "last.pt")
    assert summary["checkpoint_step"] == 6


def check_mlflow(run: Path) -> None:
    mlflow = pytest.importorskip("mlflow", reason="the mlflow logger needs mlflow(-skinny)")
    client = mlflow.MlflowClient(tracking_uri=(run / "mlruns").resolve().as_uri())
    experiment = client.get_experiment_by_name("ganbuilder")
    (found,) = client.search_runs([experiment.experiment_id])
    assert found.info.status == "FINISHED" and found.info.run_name == "run"
    for key in scalar_keys(run):
        history = client.get_metric_history(found.info.run_id, key.replace("/", "."))
        logged = [(m.step, m.value) for m in history]
        assert logged == [(r["step"], pytest.approx(r[key], rel=1e-6)) for r in records(run)]
    grids = [a.path for a in client.list_artifacts(found.info.run_id, "samples")]
    assert grids == [f"samples/step_{s:06d}.png" for s in SAMPLE_STEPS]
    spec = client.download_artifacts(found.info.run_id, "spec.yaml", str(run / "download"))
    assert Path(spec).read_text() == (run / "spec.yaml").read_text()
    assert found.data.params == {"width": "16", "note": "ring"}
    assert found.data.tags["checkpoint"] == str(run / "checkpoints" / "last.pt")
    assert found.data.tags["checkpoint_step"] == "6"


CHECKS = {"jsonl": check_jsonl, "csv": check_csv, "tensorboard": check_tensorboard,
          "wandb": check_wandb, "mlflow": check_mlflow}
# W&B and MLflow are read from one run with both, as a user would log them.
TOGETHER = ["wandb", "mlflow"]


def test_every_logger_has_a_check():
    assert sorted(CHECKS) == LOGGERS.names()


@pytest.mark.parametrize("name", LOGGERS.names())
def test_the_schema_names_every_logger(name, write_spec, capsys):
    log = spec_schema()["properties"]["training"]["properties"]["log"]
    assert name in log["items"]["enum"] and f"{name}: " in log["description"]
    assert main(["validate", str(write_spec(LOGGED.replace("LOGS", name)))]) == 0


@pytest.fixture(scope="module")
def together(tmp_path_factory, request):
    """One offline run logged to W&B and MLflow."""
    for name in TOGETHER:
        pytest.importorskip(name, reason=f"the {name} logger's package is not installed")
    tmp = tmp_path_factory.mktemp("together")
    spec = tmp / "spec.yaml"
    spec.write_text(LOGGED.replace("LOGS", ", ".join(TOGETHER)))
    run = tmp / "run"
    with pytest.MonkeyPatch.context() as patch:
        for key in ("WANDB_MODE", "WANDB_PROJECT", "MLFLOW_TRACKING_URI",
                    "MLFLOW_EXPERIMENT_NAME"):
            patch.delenv(key, raising=False)
        patch.setenv("WANDB_DIR", str(tmp))  # W&B's own settings and cache stay in tmp
        patch.setenv("WANDB_CONFIG_DIR", str(tmp / "wandb-config"))
        patch.setenv("WANDB_CACHE_DIR", str(tmp / "wandb-cache"))
        assert main(["run", str(spec), "--out", str(run), "--quiet"]) == 0
    return run


@pytest.mark.parametrize("name", LOGGERS.names())
def test_every_logger_writes_what_it_promises(name, tmp_path, write_spec, request):
    if name in TOGETHER:
        run = request.getfixturevalue("together")
    else:
        run = train(tmp_path, write_spec, [name])
    CHECKS[name](run)


def test_a_missing_logger_package_is_a_clear_error_before_training(tmp_path, write_spec,
                                                                    monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "wandb" else real(name, *a))
    spec = write_spec(LOGGED.replace("LOGS", "wandb"))
    assert main(["run", str(spec), "--out", str(tmp_path / "run"), "--quiet"]) == 2
    assert "pip install 'ganbuilder[wandb]'" in capsys.readouterr().err
    assert not (tmp_path / "run" / "checkpoints").exists()
