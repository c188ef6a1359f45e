"""The command line: exit codes, messages without tracebacks, light startup, sampling."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ganbuilder.cli import main

from .conftest import MINIMAL, ROOT


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ganbuilder", *args], capture_output=True,
                          text=True, cwd=cwd or ROOT, timeout=300)


def test_validate_ok_and_exit_code(capsys):
    assert main(["validate", "specs/dcgan.yaml", "specs/gan.yaml"]) == 0
    assert "ok: specs/dcgan.yaml (dcgan: G, D)" in capsys.readouterr().out


def test_validate_does_not_import_torch():
    code = ("import sys; from ganbuilder.cli import main; rc = main(['validate', "
            "'specs/dcgan.yaml']); assert rc == 0, rc; "
            "heavy = [m for m in ('torch', 'PySide6', 'PIL', 'sklearn') if m in sys.modules]; "
            "assert not heavy, heavy")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(("text", "expected"), [
    ("a: [1,\n", ":2:1: invalid YAML"),
    (MINIMAL.replace("steps: 4", "stepz: 4"), ":29:3: training.stepz: unknown key 'stepz' "
     "(did you mean 'steps'?)"),
    (MINIMAL.replace("fake: G(z)", "fake: G(q)"), ":18:9: forward.fake: unknown tensor 'q'"),
])
def test_user_errors_exit_2_without_traceback(write_spec, text, expected):
    path = write_spec(text.lstrip("\n"))
    for command in ("validate", "run", "summary"):
        result = run_cli(command, str(path))
        assert result.returncode == 2, (command, result.stderr)
        assert f"error: {path}{expected}" in result.stderr
        assert "Traceback" not in result.stderr


def test_missing_spec_file(capsys, tmp_path):
    assert main(["validate", str(tmp_path / "nope.yaml")]) == 2
    assert "spec file not found" in capsys.readouterr().err


def test_missing_data_folder_is_a_located_error(capsys):
    assert main(["run", "specs/dcgan.yaml", "--set", "data.source=folder", "--set",
                 "data.root=no_such_dir", "--set", "data.labels=none"]) == 2
    err = capsys.readouterr().err
    assert "data folder not found" in err and "no_such_dir" in err
    assert "error: <--set>:1:1: data.root: " in err


def test_summary_json(capsys):
    assert main(["summary", "specs/dcgan.yaml", "--set", "params.nc=3", "--set",
                 "params.image_size=64", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["networks"]["G"]["params"] == 3_576_704
    assert summary["networks"]["D"]["params"] == 2_765_568
    assert summary["networks"]["G"]["output_shape"] == [3, 64, 64]
    assert summary["networks"]["D"]["layers"][0] == {
        "path": "networks.D.layers[0]", "written": "networks.D.layers[0]", "kind": "conv",
        "output_shape": [64, 32, 32], "params": 3072}


def test_summary_text(capsys):
    assert main(["summary", "specs/gan.yaml"]) == 0
    out = capsys.readouterr().out
    assert "G  input (16)  ->  output (1, 8, 8)" in out


def test_schema_is_json_and_lists_layers(capsys):
    assert main(["schema", "--resolved"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].endswith("2020-12/schema")
    assert "conv" in schema["$defs"]["layer"]["else"]["properties"]
    assert main(["schema"]) == 0
    published = json.loads(capsys.readouterr().out)
    assert "extends" in published["then"]["properties"]
    assert "conv" in published["$defs"]["layer"]["else"]["anyOf"][0]["properties"]


def test_run_then_sample_from_checkpoint_alone(tmp_path, write_spec, capsys):
    spec = write_spec(MINIMAL)
    out = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(out), "--quiet"]) == 0
    ckpt = tmp_path / "model.pt"
    (out / "checkpoints" / "last.pt").rename(ckpt)
    spec.unlink()  # the checkpoint carries everything
    grid = tmp_path / "grid.png"
    assert main(["sample", str(ckpt), "--n", "16", "--out", str(grid)]) == 0
    from PIL import Image

    assert Image.open(grid).size[0] > 100
    assert sorted(p.name for p in out.iterdir()) == ["checkpoints", "metrics.jsonl", "samples",
                                                     "spec.yaml"]


def test_sample_from_corrupt_checkpoint(tmp_path, capsys):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"\x00" * 10)
    assert main(["sample", str(bad), "--out", str(tmp_path / "x.png")]) == 2
    assert "cannot read checkpoint" in capsys.readouterr().err
    assert main(["sample", str(tmp_path / "none.pt"), "--out", str(tmp_path / "x.png")]) == 2


def test_resume_continues_in_the_run_folder(tmp_path, write_spec):
    spec = write_spec(MINIMAL)
    out = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(out), "--quiet"]) == 0
    assert main(["run", str(spec), "--steps", "6", "--quiet",
                 "--resume", str(out / "checkpoints" / "last.pt")]) == 0
    steps = [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert steps == [2, 4, 6]


@pytest.mark.skipif(os.name != "posix", reason="SIGINT delivery")
def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tmp_path, write_spec):
    spec = write_spec(MINIMAL.replace("steps: 4", "steps: 1000000").replace(
        "log_every: 2", "log_every: 1"))
    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "ganbuilder", "run", str(spec), "--out",
                             str(out)], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    metrics = out / "metrics.jsonl"
    while time.time() < deadline and not (metrics.exists() and metrics.stat().st_size > 0):
        time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err  # interrupted, after saving
    assert "Traceback" not in err
    assert "stopped at step" in err
    saved = [line for line in err.splitlines() if line.startswith("checkpoint ")]
    assert len(saved) == len(set(saved)), err  # each checkpoint is announced once
    assert (out / "checkpoints" / "last.pt").is_file()


def test_run_refuses_to_mix_two_runs_in_one_folder(tmp_path, write_spec, capsys):
    spec = write_spec(MINIMAL)
    out = tmp_path / "run"
    assert main(["run", str(spec), "--out", str(out), "--quiet"]) == 0
    assert main(["run", str(spec), "--out", str(out), "--quiet"]) == 2
    assert "already holds a run: continue it with --resume" in capsys.readouterr().err


def test_evaluate_a_ring_checkpoint(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("GANBUILDER_CACHE", str(tmp_path / "cache"))
    out = tmp_path / "run"
    assert main(["run", "specs/gan_ring8.yaml", "--steps", "3", "--out", str(out),
                 "--quiet"]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(out / "checkpoints" / "last.pt"), "--n", "200", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["kind"] == "toy2d"
    assert result["modes_total"] == 8
    assert 0 <= result["modes_covered"] <= 8
