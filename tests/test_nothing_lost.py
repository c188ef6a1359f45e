"""Nothing a user made is lost: every write atomic and guarded (never an input, never another
file without --force), a run folder owned by one process, inputs read with limits and decoded
faithfully, and every failure one located line, exit 2 (issue 28)."""

import errno
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest
import torch
from PIL import Image

from ganbuilder import files
from ganbuilder.cli import main
from ganbuilder.data import open_source
from ganbuilder.errors import DataError
from ganbuilder.runs.lock import LOCK_NAME, RunLock
from tests.conftest import MINIMAL, ROOT


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished four-step ring8 run (read only: tests copy what they change)."""
    root = tmp_path_factory.mktemp("finished")
    spec = root / "spec.yaml"
    spec.write_text(textwrap.dedent(MINIMAL).lstrip(), encoding="utf-8")
    assert main(["run", str(spec), "--out", str(root / "run"), "--quiet"]) == 0
    return root / "run"


@pytest.fixture
def run_copy(finished, tmp_path):
    shutil.copytree(finished, tmp_path / "run")
    return tmp_path / "run"


def one_error(capsys, *words: str) -> str:
    """The command's stderr: one `error:` line holding `words`, no traceback."""
    err = capsys.readouterr().err
    assert "Traceback" not in err, err
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, err
    for word in words:
        assert word in lines[0], err
    return lines[0]


def full_disk_at(monkeypatch, name: str | None = None, code: int = errno.ENOSPC) -> None:
    """Fail every write of a file called `name` (any file: None) after its first bytes."""
    real = files._write

    def write(file, data, target):
        if name is None or target.name == name:
            real(file, bytes(data)[:7], target)
            raise OSError(code, os.strerror(code))
        real(file, data, target)

    monkeypatch.setattr(files, "_write", write)


def snapshot(folder) -> dict:
    return {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# -- 1. export ---------------------------------------------------------------------------------

def test_export_never_replaces_its_checkpoint_or_a_file_without_force(run_copy, tmp_path,
                                                                      capsys):
    ckpt = run_copy / "checkpoints" / "last.pt"
    before = ckpt.read_bytes()
    for flags in ([], ["--force"]):
        assert main(["export", str(ckpt), "--format", "torchscript", "--out", str(ckpt),
                     *flags]) == 2
        one_error(capsys, "is one of the inputs", "never writes over")
    (tmp_path / "hard.pt").hardlink_to(ckpt)
    assert main(["export", str(ckpt), "--format", "torchscript", "--out",
                 str(tmp_path / "hard.pt"), "--force"]) == 2
    one_error(capsys, "the same file as")
    mine = tmp_path / "my.yaml"
    mine.write_text("# mine\n")
    assert main(["export", str(ckpt), "--format", "safetensors", "--out", str(mine),
                 "--force"]) == 2
    one_error(capsys, "safetensors files are named *.safetensors")
    out = tmp_path / "G.safetensors"
    out.write_bytes(b"an earlier file")
    assert main(["export", str(ckpt), "--format", "safetensors", "--out", str(out)]) == 2
    one_error(capsys, "exists: pass --force")
    assert out.read_bytes() == b"an earlier file"
    assert main(["export", str(ckpt), "--format", "safetensors", "--out", str(out),
                 "--force"]) == 0
    assert out.read_bytes() != b"an earlier file"
    assert ckpt.read_bytes() == before and mine.read_text() == "# mine\n"


# -- 2. the run folder's spec.yaml -------------------------------------------------------------

def test_run_never_replaces_the_users_spec_in_its_out_folder(tmp_path, capsys):
    exp = tmp_path / "exp1"
    exp.mkdir()
    text = "# my notes\n" + textwrap.dedent(MINIMAL).lstrip()
    (exp / "spec.yaml").write_text(text, encoding="utf-8")
    assert main(["run", str(exp / "spec.yaml"), "--out", str(exp), "--quiet"]) == 2
    one_error(capsys, "is the spec being run")
    assert (exp / "spec.yaml").read_text(encoding="utf-8") == text
    # A spec.yaml that no run wrote, in a folder run into with another spec, is kept too.
    (tmp_path / "other.yaml").write_text(textwrap.dedent(MINIMAL).lstrip(), encoding="utf-8")
    assert main(["run", str(tmp_path / "other.yaml"), "--out", str(exp), "--quiet"]) == 2
    one_error(capsys, "a spec.yaml that no run wrote")
    assert (exp / "spec.yaml").read_text(encoding="utf-8") == text


def test_the_runs_own_spec_may_be_run_again_from_its_folder(run_copy, capsys):
    # `run RUN/spec.yaml --resume RUN/checkpoints/last.pt` reads the record it would write.
    assert main(["run", str(run_copy / "spec.yaml"), "--resume",
                 str(run_copy / "checkpoints" / "last.pt"), "--steps", "6", "--set",
                 "training.log_every=1", "--quiet"]) == 0
    assert "log_every: 1" in (run_copy / "spec.yaml").read_text()  # the record, updated


# -- 3. one process owns a run folder ----------------------------------------------------------

@pytest.fixture
def live_pid():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield proc.pid
    proc.kill()
    proc.wait()


def test_a_second_writer_is_refused_by_name(run_copy, tmp_path, live_pid, capsys,
                                            minimal_spec):
    import socket

    (run_copy / LOCK_NAME).write_text(f"{live_pid} {socket.gethostname()}\n")
    before = snapshot(run_copy)
    assert main(["run", "--resume", str(run_copy / "checkpoints" / "last.pt"), "--steps", "6",
                 "--quiet"]) == 2
    one_error(capsys, "in use by another training run", f"process {live_pid}")
    empty = tmp_path / "fresh"
    empty.mkdir()
    (empty / LOCK_NAME).write_text(f"{live_pid} {socket.gethostname()}\n")
    assert main(["run", str(minimal_spec), "--out", str(empty), "--quiet"]) == 2
    one_error(capsys, f"process {live_pid}")
    assert snapshot(run_copy) == before and sorted(p.name for p in empty.iterdir()) == [
        LOCK_NAME]


def test_a_lock_left_by_a_dead_process_is_taken_over_with_a_note(run_copy, capsys):
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    (run_copy / LOCK_NAME).write_text(f"{proc.pid}\n")
    assert main(["run", "--resume", str(run_copy / "checkpoints" / "last.pt"), "--steps", "6",
                 "--quiet"]) == 0
    assert f"process {proc.pid}, which trained here, is gone" in capsys.readouterr().err
    assert not (run_copy / LOCK_NAME).exists()  # given back at the end


def test_the_lock_is_held_while_training(run_copy, tmp_path):
    from ganbuilder.spec import load_spec
    from ganbuilder.train.trainer import Trainer

    seen = []
    spec = load_spec(run_copy / "spec.yaml")
    trainer = Trainer(spec, tmp_path / "new")
    trainer.run(lambda event: seen.append((tmp_path / "new" / LOCK_NAME).read_text()
                                          if (tmp_path / "new" / LOCK_NAME).exists() else None))
    assert seen and all(s is not None and s.split()[0] == str(os.getpid()) for s in seen)
    lock = RunLock(tmp_path / "new")
    lock.acquire()
    lock.release()


# -- 4. sample --out ---------------------------------------------------------------------------

def test_sample_out_replaces_a_file_only_with_force_and_never_the_checkpoint(finished,
                                                                             tmp_path, capsys):
    ckpt = finished / "checkpoints" / "last.pt"
    photo = tmp_path / "myphoto.png"
    Image.new("RGB", (4, 4), (1, 2, 3)).save(photo)
    before = photo.read_bytes()
    assert main(["sample", str(ckpt), "--out", str(photo)]) == 2
    one_error(capsys, "myphoto.png exists: pass --force")
    assert photo.read_bytes() == before
    assert main(["sample", str(ckpt), "--out", str(photo), "--force"]) == 0
    assert photo.read_bytes() != before
    (tmp_path / "ck.png").hardlink_to(ckpt)
    assert main(["sample", str(ckpt), "--out", str(tmp_path / "ck.png"), "--force"]) == 2
    one_error(capsys, "is one of the inputs")


# -- 6. a full disk keeps every earlier file ---------------------------------------------------

@pytest.mark.parametrize("command", ["export", "eject", "flatten"])
def test_a_full_disk_keeps_the_file_that_was_there(finished, tmp_path, capsys, monkeypatch,
                                                   command):
    ckpt = finished / "checkpoints" / "last.pt"
    out = tmp_path / {"export": "G.pt", "eject": "m.py", "flatten": "flat.yaml"}[command]
    out.write_bytes(b"the complete earlier version " * 300)
    argv = {"export": ["export", str(ckpt), "--format", "torchscript"],
            "eject": ["eject", str(finished / "spec.yaml")],
            "flatten": ["flatten", str(finished / "spec.yaml")]}[command]
    full_disk_at(monkeypatch)
    assert main([*argv, "--out", str(out), "--force"]) == 2
    one_error(capsys, f"cannot write {out}: no space left on the device")
    assert out.read_bytes() == b"the complete earlier version " * 300
    assert sorted(p.name for p in tmp_path.iterdir()) == [out.name]  # no temporary file left


def test_a_hard_link_to_a_base_spec_is_never_written(tmp_path, capsys):
    base = tmp_path / "base.yaml"
    base.write_text(textwrap.dedent(MINIMAL).lstrip(), encoding="utf-8")
    child = tmp_path / "child.yaml"
    child.write_text("extends: base.yaml\nname: child\n", encoding="utf-8")
    (tmp_path / "hard.py").hardlink_to(base)
    (tmp_path / "soft.py").symlink_to(base)
    before = base.read_bytes()
    for name in ("hard.py", "soft.py"):
        for command in ("eject", "flatten"):
            assert main([command, str(child), "--out", str(tmp_path / name), "--force"]) == 2
            one_error(capsys, "never writes over its inputs")
    assert base.read_bytes() == before


# -- tracebacks, hangs and silently wrong data -------------------------------------------------

@pytest.mark.parametrize("source", ["folder", "mnist"])
def test_a_source_without_its_root_is_one_located_error(capsys, source):
    assert main(["validate", str(ROOT / "specs" / "dcgan.yaml"), "--set",
                 f"data.source={source}"]) == 2
    one_error(capsys, "dcgan.yaml:", "data: missing required key: root")


@pytest.mark.parametrize("name", ["step_000002.png", "metrics.jsonl", "step_000002.pt"])
def test_a_full_disk_during_a_run_is_one_message(tmp_path, minimal_spec, capsys, monkeypatch,
                                                 name):
    full_disk_at(monkeypatch, name)
    out = tmp_path / "run"
    assert main(["run", str(minimal_spec), "--out", str(out), "--quiet"]) == 2
    line = one_error(capsys, f"{name}: no space left on the device")
    assert line.count("no space") == 1
    leftovers = [p.name for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == [] and not (out / LOCK_NAME).exists()


def test_run_folders_the_os_refuses(tmp_path, minimal_spec, capsys, monkeypatch):
    cases = {"checkpoints": "file", "samples": "file", "metrics.jsonl": "folder",
             "spec.yaml": "folder"}
    for name, kind in cases.items():
        out = tmp_path / f"run-{name}"
        out.mkdir()
        (out / name).mkdir() if kind == "folder" else (out / name).write_text("mine")
        assert main(["run", str(minimal_spec), "--out", str(out), "--quiet"]) == 2, name
        one_error(capsys, name)
        if kind == "file":
            assert (out / name).read_text() == "mine"
    loop = tmp_path / "loop"
    loop.symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(loop)
    assert main(["run", str(minimal_spec), "--out", str(loop), "--quiet"]) == 2
    one_error(capsys, "loop")
    assert main(["validate", str(loop)]) == 2
    one_error(capsys, "symlink loop")
    with pytest.raises(DataError) as info:
        open_source({"source": "folder", "root": str(loop), "image_size": 8}, tmp_path)
    assert info.value.problems[0].path == "data.root"
    (tmp_path / "afile").write_text("x")
    assert main(["eject", str(minimal_spec), "--out", str(tmp_path / "afile" / "m.py")]) == 2
    one_error(capsys, "afile is a file, not a folder")
    full_disk_at(monkeypatch, code=errno.EROFS)
    assert main(["run", str(minimal_spec), "--out", str(tmp_path / "ro"), "--quiet"]) == 2
    one_error(capsys, "the file system is read-only")


def test_a_cache_path_that_is_a_file_costs_only_a_retrain(tmp_path, monkeypatch):
    from ganbuilder.evaluate import classifier

    (tmp_path / "cache").write_text("not a folder")
    monkeypatch.setenv("GANBUILDER_CACHE", str(tmp_path / "cache"))
    net = classifier.Classifier(classifier._Net(1, 2), 1, 8, "x", 1.0, 2)
    classifier._save(classifier.cache_dir() / "k.pt", "k", net)  # no exception
    assert (tmp_path / "cache").read_text() == "not a folder"


def run_with_alarm(fn, seconds: int = 20):
    """Run `fn` in a thread; fail (instead of hanging the suite) when it does not return."""
    result: dict = {}
    thread = threading.Thread(target=lambda: result.update(value=fn()), daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "hung"
    return result.get("value")


def test_a_fifo_in_a_data_folder_is_no_image(tmp_path):
    Image.new("L", (8, 8), 40).save(tmp_path / "a.png")
    os.mkfifo(tmp_path / "x.png")
    cfg = {"source": "folder", "root": str(tmp_path), "image_size": 8, "channels": 1}
    batch = run_with_alarm(lambda: open_source(cfg, tmp_path).fixed_batch(2))
    assert batch["real"].shape == (2, 1, 8, 8)


def test_devices_are_no_spec_and_no_checkpoint(tmp_path, capsys):
    assert run_with_alarm(lambda: main(["validate", "/dev/zero"])) == 2
    one_error(capsys, "/dev/zero is a device, not a regular file")
    os.mkfifo(tmp_path / "ck.pt")
    assert run_with_alarm(lambda: main(["sample", str(tmp_path / "ck.pt"), "--out",
                                        str(tmp_path / "x.png")])) == 2
    one_error(capsys, "is not a regular file, so not a checkpoint")


def test_a_spec_through_a_pipe_validates(capsys):
    read, write = os.pipe()
    os.write(write, textwrap.dedent(MINIMAL).lstrip().encode())
    os.close(write)
    try:
        assert main(["validate", f"/dev/fd/{read}"]) == 0
    finally:
        os.close(read)
    assert f"ok: /dev/fd/{read} (tiny" in capsys.readouterr().out


def test_sixteen_bit_images_are_scaled_not_clipped(tmp_path):
    gradient = np.tile(np.linspace(0, 65535, 8).round().astype(np.uint16), (8, 1))
    Image.fromarray(gradient).save(tmp_path / "g.png")  # a 16-bit grey PNG
    with Image.open(tmp_path / "g.png") as im:
        assert im.mode.startswith("I")
    cfg = {"source": "folder", "root": str(tmp_path), "image_size": 8, "channels": 1}
    real = open_source(cfg, tmp_path).fixed_batch(1)["real"][0, 0]
    levels = ((real[0] + 1) * 127.5).round().tolist()
    assert levels == (gradient[0] / 257).round().tolist()


def test_a_palette_with_transparency_reads_without_warnings(tmp_path):
    im = Image.new("P", (8, 8), 1)
    im.putpalette([0, 0, 0, 255, 255, 255] + [0] * 762)
    im.save(tmp_path / "p.png", transparency=bytes([128, 200]))  # partial alpha: bytes
    with Image.open(tmp_path / "p.png") as back:
        assert isinstance(back.info["transparency"], bytes)
    cfg = {"source": "folder", "root": str(tmp_path), "image_size": 8, "channels": 3}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        real = open_source(cfg, tmp_path).fixed_batch(1)["real"]
    assert real.shape == (1, 3, 8, 8) and float(real.min()) == 1.0


def test_an_mnist_gz_with_a_bad_deflate_block_is_a_data_error(tmp_path):
    import gzip

    for name, magic, dims in (("train-images-idx3-ubyte", 2051, [2, 2, 2]),
                              ("train-labels-idx1-ubyte", 2049, [2])):
        body = (magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
                + bytes(8 if magic == 2051 else 2))
        packed = bytearray(gzip.compress(body))
        if magic == 2051:
            packed[12:16] = b"\xff\xff\xff\xff"  # inside the deflate stream
        (tmp_path / f"{name}.gz").write_bytes(bytes(packed))
    with pytest.raises(DataError, match="it is damaged") as info:
        open_source({"source": "mnist", "root": str(tmp_path)}, tmp_path)
    assert info.value.problems[0].path == "data.root"


def test_evaluate_sizes_that_cannot_be_drawn(finished, capsys):
    ckpt = str(finished / "checkpoints" / "last.pt")
    assert main(["evaluate", ckpt, "--n", "1000000000000"]) == 2
    one_error(capsys, "--n must be in 2..")
    assert main(["evaluate", ckpt, "--seed", str(2**70)]) == 2
    one_error(capsys, "--seed must be in")


# -- resuming ----------------------------------------------------------------------------------

def test_a_resume_that_changes_the_architecture_is_refused_by_name(run_copy, capsys):
    ckpt = str(run_copy / "checkpoints" / "last.pt")
    before = snapshot(run_copy)
    assert main(["run", "--resume", ckpt, "--set", "params.nz=8", "--steps", "6"]) == 2
    one_error(capsys, "--set params.nz=8", "cannot change the architecture")
    assert main(["run", "--resume", ckpt, "--set", "networks.G.layers[0].linear=8", "--steps",
                 "6"]) == 2
    one_error(capsys, "networks.G.layers[0].linear", "start a new run")
    assert snapshot(run_copy) == before


def test_a_resume_applies_and_records_a_training_knob(run_copy, capsys):
    ckpt = str(run_copy / "checkpoints" / "last.pt")
    assert main(["run", "--resume", ckpt, "--set", "training.optimizer={adam: {lr: 0.0042}}",
                 "--set", "training.steps=6", "--quiet"]) == 0
    records = [json.loads(line) for line in (run_copy / "metrics.jsonl").read_text()
               .splitlines()]
    assert [r["step"] for r in records] == [2, 4, 6]
    assert records[-1]["lr/G"] == pytest.approx(0.0042) and records[0]["lr/G"] != 0.0042
    assert "0.0042" in (run_copy / "spec.yaml").read_text()
    state = torch.load(run_copy / "checkpoints" / "last.pt", weights_only=True)
    assert "0.0042" in state["spec_text"] and state["step"] == 6


def test_a_kill_between_step_and_last_continues_from_the_newest(run_copy, capsys,
                                                                minimal_spec):
    ckpts = run_copy / "checkpoints"
    shutil.copyfile(ckpts / "step_000002.pt", ckpts / "last.pt")  # last.pt at 2, step 4 newer
    assert main(["run", str(minimal_spec), "--out", str(run_copy), "--quiet"]) == 2
    one_error(capsys, f"--resume {ckpts / 'step_000004.pt'}")
    assert main(["run", "--resume", str(ckpts / "last.pt"), "--steps", "6", "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "step_000004.pt is newer" in err and "continuing from" in err
    records = [json.loads(line)["step"] for line in (run_copy / "metrics.jsonl").read_text()
               .splitlines()]
    assert records == [2, 4, 6]


# -- messages ----------------------------------------------------------------------------------

def test_foreign_files_are_named_without_torchs_advice(finished, tmp_path, capsys):
    ckpt = str(finished / "checkpoints" / "last.pt")
    script = tmp_path / "G.pt"
    assert main(["export", ckpt, "--format", "torchscript", "--out", str(script)]) == 0
    capsys.readouterr()
    assert main(["sample", str(script), "--out", str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err
    assert "TorchScript file" in err and "weights_only" not in err and "Re-running" not in err
    assert "Warning" not in err and err.count("\n") == 1

    class Hostile:
        def __reduce__(self):
            return (print, ("pwned",))

    torch.save(Hostile(), tmp_path / "inception.pt")
    from ganbuilder.errors import UserError
    from ganbuilder.evaluate.inception import load_inception

    with pytest.raises(UserError) as info:
        load_inception(tmp_path / "inception.pt")
    assert "would run code" in str(info.value) and "weights_only" not in str(info.value)


def test_a_run_failure_is_printed_once(tmp_path, minimal_spec, capsys, monkeypatch):
    full_disk_at(monkeypatch, "step_000002.png")
    assert main(["run", str(minimal_spec), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert err.count("no space left on the device") == 1, err
    assert "failed at step 0" in err or "failed at step 2" in err


def test_a_checkpoint_of_another_pickle_protocol_loads_without_a_warning(finished, tmp_path):
    from ganbuilder.runs.checkpoint import load_checkpoint

    state = torch.load(finished / "checkpoints" / "last.pt", weights_only=True)
    torch.save(state, tmp_path / "p3.pt", pickle_protocol=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_checkpoint(tmp_path / "p3.pt")["step"] == 4


def test_translate_never_writes_through_a_link_to_an_input(tmp_path):
    from ganbuilder.errors import UserError
    from ganbuilder.translate import plan_outputs

    photo = tmp_path / "in" / "cat.png"
    photo.parent.mkdir()
    Image.new("RGB", (8, 8)).save(photo)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "cat.png").hardlink_to(photo)
    with pytest.raises(UserError, match="is the same file as the input"):
        plan_outputs([photo], tmp_path / "out", force=True)
