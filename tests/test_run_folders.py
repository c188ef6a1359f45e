"""Run folders: a stopped run can always be started or continued, and nothing in one is
overwritten or logged twice."""

import json

import pytest

from ganbuilder.cli import main
from ganbuilder.errors import UserError
from ganbuilder.runs.folder import latest_checkpoint, truncate_metrics
from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer

OFTEN = ["training.log_every=1", "training.sample_every=100"]


def logged_steps(run_dir) -> list[int]:
    return [json.loads(line)["step"]
            for line in (run_dir / "metrics.jsonl").read_text().splitlines()]


def crash_at(trainer: Trainer, step: int) -> None:
    """Kill the run right after `step` trains, before it is logged or saved (no final save)."""
    real_step = trainer.train_step

    def train_step(sums):
        real_step(sums)
        if trainer.step == step:
            raise RuntimeError("killed")

    trainer.train_step = train_step


def killed_run(spec, run_dir, step: int) -> None:
    trainer = Trainer(spec, run_dir)
    crash_at(trainer, step)
    with pytest.raises(RuntimeError, match="killed"):
        trainer.run()


def sets(overrides: list[str]) -> list[str]:
    return [a for s in overrides for a in ("--set", s)]


def test_a_run_killed_before_its_first_checkpoint_starts_again(tmp_path, minimal_spec,
                                                                capsys):
    overrides = [*OFTEN, "training.steps=6", "training.checkpoint_every=100"]
    out = tmp_path / "run"
    killed_run(load_spec(minimal_spec, overrides), out, 3)
    assert logged_steps(out) == [1, 2] and latest_checkpoint(out) is None
    assert main(["run", str(minimal_spec), "--out", str(out), "--quiet", *sets(overrides)]) == 0
    assert "last.pt" not in capsys.readouterr().err
    assert logged_steps(out) == [1, 2, 3, 4, 5, 6]  # started over: each step once
    assert (out / "checkpoints" / "last.pt").is_file()


def test_a_folder_left_by_another_spec_is_not_restarted(tmp_path, minimal_spec, capsys):
    out = tmp_path / "run"
    killed_run(load_spec(minimal_spec, [*OFTEN, "training.checkpoint_every=100"]), out, 3)
    assert main(["run", str(minimal_spec), "--out", str(out), "--quiet",
                 "--set", "networks.G.layers[0].linear=32"]) == 2
    err = capsys.readouterr().err
    assert "holds a run of another spec that stopped before its first checkpoint" in err
    assert logged_steps(out) == [1, 2]  # its log and spec are left as they were
    assert "linear: 16" in (out / "spec.yaml").read_text()


def test_the_message_names_the_checkpoint_that_exists(tmp_path, minimal_spec, capsys):
    out = tmp_path / "run"
    assert main(["run", str(minimal_spec), "--out", str(out), "--quiet"]) == 0
    (out / "checkpoints" / "last.pt").unlink()
    assert main(["run", str(minimal_spec), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert f"continue it with --resume {out / 'checkpoints' / 'step_000004.pt'}" in err


def test_resume_cuts_the_log_back_to_the_checkpoint(tmp_path, minimal_spec):
    spec = load_spec(minimal_spec, [*OFTEN, "training.steps=6", "training.checkpoint_every=4"])
    out = tmp_path / "run"
    killed_run(spec, out, 6)
    with (out / "metrics.jsonl").open("a") as log:
        log.write('{"step": 7, "loss/D"')  # cut off mid-write
    assert (out / "metrics.jsonl").read_text().count("\n") == 5  # steps 1-5 were logged
    resumed = Trainer(spec, out, steps=8, resume=out / "checkpoints" / "last.pt")
    assert resumed.step == 4
    resumed.run()
    assert logged_steps(out) == [1, 2, 3, 4, 5, 6, 7, 8]


def test_truncate_metrics_keeps_a_log_that_needs_no_cut(tmp_path):
    log = tmp_path / "metrics.jsonl"
    log.write_text('{"step": 1}\n{"step": 2}\n')
    before = log.stat().st_mtime_ns
    truncate_metrics(log, 2)
    assert log.stat().st_mtime_ns == before
    truncate_metrics(log, 1)
    assert log.read_text() == '{"step": 1}\n'
    truncate_metrics(tmp_path / "none.jsonl", 3)  # no log yet: nothing to do
    assert not (tmp_path / "none.jsonl").exists()


def test_continuing_an_earlier_checkpoint_never_overwrites_later_ones(tmp_path, minimal_spec):
    spec = load_spec(minimal_spec)
    out = tmp_path / "run"
    Trainer(spec, out).run()
    later = (out / "checkpoints" / "step_000004.pt").read_bytes()
    with pytest.raises(UserError, match=r"holds checkpoints after step 2 \(step_000004.pt, "
                       r"last.pt\) that continuing from step_000002.pt there would overwrite"):
        Trainer(spec, out, steps=6, resume=out / "checkpoints" / "step_000002.pt")
    branch = Trainer(spec, tmp_path / "branch", steps=6,
                     resume=out / "checkpoints" / "step_000002.pt")
    branch.run()
    assert logged_steps(tmp_path / "branch") == [4, 6]
    assert (out / "checkpoints" / "step_000004.pt").read_bytes() == later


def test_continuing_into_another_runs_folder_is_refused(tmp_path, minimal_spec):
    spec = load_spec(minimal_spec)
    Trainer(spec, tmp_path / "a").run()
    Trainer(spec, tmp_path / "b").run()
    with pytest.raises(UserError, match="already holds another run"):
        Trainer(spec, tmp_path / "b", steps=6, resume=tmp_path / "a" / "checkpoints" / "last.pt")


def test_run_flags_that_cannot_train(tmp_path, minimal_spec, capsys):
    out = tmp_path / "run"
    assert main(["run", str(minimal_spec), "--out", str(out), "--steps", "0"]) == 2
    assert "--steps must be at least 1, got 0" in capsys.readouterr().err
    assert main(["run", str(minimal_spec), "--out", str(out), "--quiet"]) == 0
    assert main(["run", str(minimal_spec), "--quiet",
                 "--resume", str(out / "checkpoints" / "last.pt")]) == 2
    err = capsys.readouterr().err
    assert "is already at step 4 of 4: pass --steps above 4" in err
    assert "Traceback" not in err


def test_the_run_folder_records_the_steps_it_trained_to(tmp_path, minimal_spec, capsys):
    """--steps is part of the run's spec: its spec.yaml reruns the same schedule, and a
    resume without --steps stops where the run was asked to."""
    out = tmp_path / "run"
    assert main(["run", str(minimal_spec), "--out", str(out), "--quiet", "--steps", "3",
                 "--set", "training.schedule={linear_decay: {start: 1}}"]) == 0
    assert load_spec(out / "spec.yaml").training["steps"] == 3
    last = str(out / "checkpoints" / "last.pt")
    assert main(["run", "--quiet", "--resume", last]) == 2
    assert "is already at step 3 of 3" in capsys.readouterr().err
    assert main(["run", "--quiet", "--resume", last, "--steps", "5"]) == 0
    assert load_spec(out / "spec.yaml").training["steps"] == 5
    assert logged_steps(out)[-1] == 5


def test_run_folders_that_cannot_be(tmp_path, minimal_spec, capsys):
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine")
    assert main(["run", str(minimal_spec), "--out", str(a_file), "--quiet"]) == 2
    assert f"{a_file} is a file, not a run folder" in capsys.readouterr().err
    assert main(["run", str(minimal_spec), "--out", str(a_file / "run"), "--quiet"]) == 2
    assert f"cannot create the run folder {a_file / 'run'}" in capsys.readouterr().err
    assert a_file.read_text() == "mine"
    out = tmp_path / "run"
    assert main(["run", str(minimal_spec), "--out", str(out), "--quiet"]) == 0
    loose = tmp_path / "loose.pt"
    loose.write_bytes((out / "checkpoints" / "last.pt").read_bytes())
    assert main(["run", str(minimal_spec), "--steps", "6", "--resume", str(loose)]) == 2
    assert "is not in a run folder's checkpoints/: pass --out" in capsys.readouterr().err
    assert main(["run", str(minimal_spec), "--steps", "6", "--resume", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{out} is a folder, not a checkpoint: did you mean {out / 'checkpoints' / 'last.pt'}" \
        in err
    assert "Traceback" not in err
