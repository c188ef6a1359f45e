"""Fault injection: every write of run, sample, export, eject, flatten, translate and evaluate
fails in turn, and nothing the user had is lost.

Each case runs one command in a fresh copy of a workspace where its earlier outputs already
exist (it replaces them with --force, or continues a run). A reference run counts the case's
writes (every byte goes through ganbuilder.files._write); then, for each k, the k-th write
fails with ENOSPC ("no space left on device") after its first bytes. Each faulted run must:

- exit 2 with exactly one `error:` line and no traceback (evaluate's caches may fail
  silently: a cache that cannot be written only costs the next evaluation the time);
- leave every file that existed before byte-identical, or replaced by the complete new
  version (the reference run's bytes, or a file that loads whole); a log appended to
  (metrics.jsonl, metrics.csv) holds only whole lines;
- leave no temporary file behind, and every file it wrote complete.

With --tmpfs (root only), the workspace also lies on a small tmpfs filled to leave a few
budgets of free space, so that the disk itself runs out, writes outside the layer included.

    python scripts/faults.py                 # `make faults`: every write of every case
    python scripts/faults.py --case eject --most 3

tests/test_faults.py runs a sample in CI.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from ganbuilder import files  # noqa: E402  (after the path: the script runs from anywhere)
from ganbuilder.cli import main  # noqa: E402

RING8 = """
version: 1
name: tiny
data: {source: ring8, batch_size: 32}
latent:
  z: {dist: normal, shape: [4]}
networks:
  G:
    layers: [{linear: 16}, relu, {linear: 2}]
  D:
    layers: [{linear: 16}, {leaky_relu: 0.2}, {linear: 1}]
forward:
  fake: G(z)
objectives:
  D:
    updates: [D]
    loss: [{adversarial: {critic: D, real: real, fake: fake}}]
  G:
    updates: [G]
    loss: [{adversarial: {critic: D, fake: fake}}]
training: {steps: 4, log_every: 1, sample_every: 2, checkpoint_every: 2}
"""
DIGITS = ["params.image_size=16", "params.ngf=8", "params.ndf=8", "params.nz=8"]
CYCLEGAN = ["params.ngf=4", "params.ndf=4", "params.n_blocks=1", "params.image_size=32"]
APPENDED = ("metrics.jsonl", "metrics.csv")  # logs a run appends to rather than replaces
_TEMP = re.compile(r"^\..*\.tmp$")


@dataclass
class Case:
    """One command: its arguments (`{w}` is the workspace) and the earlier outputs it meets,
    made by `prepare` (commands run in the workspace) before every try."""

    name: str
    argv: list[str]
    prepare: list[list[str]] = field(default_factory=list)
    tolerated: bool = False  # every write is a cache: failing it is no error


CASES = [
    Case("run-resume", ["run", "--resume", "{w}/r8/checkpoints/last.pt", "--steps", "6",
                        "--quiet"]),
    Case("run-new", ["run", "{w}/ring8.yaml", "--out", "{w}/new", "--quiet"]),
    Case("sample-grid", ["sample", "{w}/r8/checkpoints/last.pt", "--out", "{w}/grid.png",
                         "--force", "--seed", "3"],
         [["sample", "{w}/r8/checkpoints/last.pt", "--out", "{w}/grid.png"]]),
    Case("sample-dir", ["sample", "{w}/dg/checkpoints/last.pt", "--out-dir", "{w}/dir",
                        "--n", "5", "--force", "--seed", "3"],
         [["sample", "{w}/dg/checkpoints/last.pt", "--out-dir", "{w}/dir", "--n", "3"]]),
    Case("sample-points", ["sample", "{w}/r8/checkpoints/last.pt", "--out-dir", "{w}/pts",
                           "--format", "npz", "--n", "50", "--force", "--seed", "3"],
         [["sample", "{w}/r8/checkpoints/last.pt", "--out-dir", "{w}/pts", "--format", "npz",
           "--n", "20"]]),
    Case("export-torchscript", ["export", "{w}/r8/checkpoints/last.pt", "--format",
                                "torchscript", "--out", "{w}/G.pt", "--force"],
         [["export", "{w}/r8/checkpoints/step_000002.pt", "--format", "torchscript", "--out",
           "{w}/G.pt"]]),
    Case("export-safetensors", ["export", "{w}/r8/checkpoints/last.pt", "--format",
                                "safetensors", "--out", "{w}/G.safetensors", "--force"],
         [["export", "{w}/r8/checkpoints/step_000002.pt", "--format", "safetensors",
           "--out", "{w}/G.safetensors"]]),
    Case("export-onnx", ["export", "{w}/r8/checkpoints/last.pt", "--format", "onnx", "--out",
                         "{w}/G.onnx", "--force"],
         [["export", "{w}/r8/checkpoints/step_000002.pt", "--format", "onnx", "--out",
           "{w}/G.onnx"]]),
    Case("eject", ["eject", "{w}/child.yaml", "--with-training", "--out", "{w}/m.py",
                   "--force"],
         [["eject", "{w}/ring8.yaml", "--out", "{w}/m.py"]]),
    Case("flatten", ["flatten", "{w}/child.yaml", "--out", "{w}/flat.yaml", "--force"],
         [["flatten", "{w}/ring8.yaml", "--out", "{w}/flat.yaml"]]),
    Case("translate", ["translate", "{w}/cg/checkpoints/last.pt", "--input", "{w}/photos",
                       "--out", "{w}/translated", "--force"],
         [["translate", "{w}/cg/checkpoints/last.pt", "--input", "{w}/photos", "--out",
           "{w}/translated", "--direction", "BtoA"]]),
    Case("evaluate", ["evaluate", "{w}/dg/checkpoints/last.pt", "--n", "50"], tolerated=True),
]


def build_workspace(folder: Path, runs: tuple[str, ...] = ("r8", "dg", "cg")) -> Path:
    """Spec files, small finished runs (r8: ring8, dg: digits, cg: CycleGAN; those named in
    `runs`) and input images."""
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ring8.yaml").write_text(textwrap.dedent(RING8).lstrip(), encoding="utf-8")
    (folder / "child.yaml").write_text("extends: ring8.yaml\nname: child\n", encoding="utf-8")
    quiet = ["--quiet"]
    commands = {"r8": ["run", str(folder / "ring8.yaml")],
                "dg": ["run", str(ROOT / "specs" / "dcgan.yaml"), *_sets(DIGITS), "--steps", "2"],
                "cg": ["run", str(ROOT / "specs" / "cyclegan.yaml"), *_sets(CYCLEGAN), "--steps",
                       "1"]}
    for argv in [[*commands[name], "--out", str(folder / name)] for name in runs]:
        code, err = _call([*argv, *quiet])
        if code != 0:
            raise SystemExit(f"cannot build the workspace ({' '.join(argv)}):\n{err}")
    rng = np.random.default_rng(0)
    (folder / "photos").mkdir()
    for i in range(2):
        Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)).save(
            folder / "photos" / f"p{i}.png")
    return folder


def _sets(overrides: list[str]) -> list[str]:
    return [a for o in overrides for a in ("--set", o)]


def _call(argv: list[str]) -> tuple[int, str]:
    """main(argv) in this process; its exit code and what it wrote to stderr."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # a traceback is what this suite looks for
            import traceback

            err.write("Traceback (most recent call last):\n" + traceback.format_exc())
            code = 1
    return code, err.getvalue()


def _fill(argv: list[str], workspace: Path) -> list[str]:
    return [a.replace("{w}", str(workspace)) for a in argv]


def _snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.is_symlink()}


@contextlib.contextmanager
def _failing_write(k: int | None, counter: list[int], sizes: list[int]):
    """Count writes (and their bytes); with `k`, the k-th (1-based) fails after 7 bytes."""
    real = files._write

    def write(file, data, target):
        counter[0] += 1
        sizes.append(memoryview(data).nbytes)
        if k is not None and counter[0] == k:
            real(file, bytes(memoryview(data)[:7]), target)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(file, data, target)

    files._write = write
    try:
        yield
    finally:
        files._write = real


def _complete(path: Path) -> bool:
    """Whether a file is whole by its kind (for files that no reference run wrote alike:
    a checkpoint's own RNG state, say)."""
    try:
        if path.name in APPENDED:
            text = path.read_text(encoding="utf-8")
            if path.suffix == ".jsonl":
                [json.loads(line) for line in text.splitlines()]
            return text == "" or text.endswith("\n")
        if path.suffix == ".png":
            from PIL import Image

            with Image.open(path) as im:
                im.load()
            return True
        if path.suffix in (".json", ".jsonl"):
            for line in path.read_text(encoding="utf-8").splitlines():
                json.loads(line)
            return True
        if path.suffix == ".pt" and path.parent.name == "checkpoints":
            from ganbuilder.runs.checkpoint import load_checkpoint

            load_checkpoint(path)
            return True
        if path.suffix == ".npz":
            import numpy as np

            with np.load(path) as data:
                [data[k] for k in data.files]
            return True
    except Exception:
        return False
    return False  # a kind with no check (yaml, py, onnx): only the byte comparisons pass it


@dataclass
class Trial:
    case: str
    k: int | None
    problems: list[str]


def check(case: Case, before: dict[Path, bytes], reference: dict[Path, bytes], code: int,
          err: str, workspace: Path) -> list[str]:
    """What a faulted run did wrong (an empty list: nothing)."""
    problems = []
    if "Traceback" in err:
        problems.append("traceback:\n" + err[-2000:])
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    if case.tolerated:
        if code not in (0, 2):
            problems.append(f"exit {code}")
    elif code != 2 or len(errors) != 1:
        problems.append(f"exit {code} with {len(errors)} error lines: {err.strip()[-600:]}")
    after = _snapshot(workspace)
    for path, old in before.items():
        new = after.get(path)
        if new is None:
            problems.append(f"{path} is gone")
        elif new != old and new != reference.get(path) and not _complete(path):
            what = "holds half a line" if path.name in APPENDED else "was damaged"
            problems.append(f"{path} {what} ({len(old)} -> {len(new)} bytes)")
    for path in after:
        if _TEMP.match(path.name):
            problems.append(f"temporary file left: {path}")
        elif path not in before and after[path] != reference.get(path) and not _complete(path):
            problems.append(f"{path} was written incomplete")
    return problems


def run_case(case: Case, base: Path, scratch: Path, most: int | None = None,
             say: Callable[[str], None] = print) -> list[Trial]:
    """The reference run, then the case with each of its writes failing in turn (`most`:
    at most this many, spread evenly, the first and last included)."""
    def fresh() -> Path:
        workspace = scratch / case.name
        if workspace.exists():
            shutil.rmtree(workspace)
        shutil.copytree(base, workspace, symlinks=True)
        for argv in case.prepare:
            code, err = _call(_fill(argv, workspace))
            if code != 0:
                raise SystemExit(f"{case.name}: cannot prepare ({' '.join(argv)}):\n{err}")
        return workspace

    workspace = fresh()
    counter, sizes = [0], []
    with _failing_write(None, counter, sizes):
        code, err = _call(_fill(case.argv, workspace))
    if code != 0:
        return [Trial(case.name, None, [f"the reference run failed (exit {code}): {err}"])]
    reference = _snapshot(workspace)
    writes = counter[0]
    ks = list(range(1, writes + 1))
    if most is not None and writes > most:
        ks = sorted({round(1 + i * (writes - 1) / max(1, most - 1)) for i in range(most)})
    say(f"{case.name}: {writes} writes, failing {len(ks)} of them in turn")
    trials = []
    for k in ks:
        workspace = fresh()
        before = _snapshot(workspace)
        with _failing_write(k, [0], []):
            code, err = _call(_fill(case.argv, workspace))
        trials.append(Trial(case.name, k, check(case, before, reference, code, err, workspace)))
        if trials[-1].problems:
            say(f"  write {k}: " + "\n    ".join(trials[-1].problems))
    return trials


# -- a real full disk ------------------------------------------------------------------------

def tmpfs_trials(case: Case, base: Path, budgets: list[int], say: Callable[[str], None]
                 ) -> list[Trial]:
    """The case on a tmpfs holding the workspace, with `budgets` bytes left free in turn."""
    trials = []
    mount = Path(tempfile.mkdtemp(prefix="ganbuilder-faults-"))
    size = sum(p.stat().st_size for p in base.rglob("*") if p.is_file()) * 3 + 2**22
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(mount)],
                      capture_output=True).returncode != 0:
        say("tmpfs: cannot mount one (root only): skipped")
        mount.rmdir()
        return trials
    workspace = mount / "w"

    def fresh() -> dict[Path, bytes]:
        if workspace.exists():
            shutil.rmtree(workspace)
        shutil.copytree(base, workspace, symlinks=True)
        for argv in case.prepare:
            _call(_fill(argv, workspace))
        return _snapshot(workspace)

    try:
        fresh()
        _call(_fill(case.argv, workspace))  # with room to spare: the complete new files
        reference = _snapshot(workspace)
        for budget in budgets:
            before = fresh()
            filler = mount / "filler"
            free = os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize
            with open(filler, "wb") as f, contextlib.suppress(OSError):
                f.write(b"\0" * max(0, free - budget))
            code, err = _call(_fill(case.argv, workspace))
            filler.unlink()
            if code == 0:
                continue  # the budget was enough
            problems = check(case, before, reference, code, err, workspace)
            trials.append(Trial(case.name, -budget, problems))
            if problems:
                say(f"  tmpfs, {budget} bytes free: " + "\n    ".join(problems))
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True)
        mount.rmdir()
    return trials


def main_(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--case", action="append", help="only these cases (repeatable)")
    parser.add_argument("--most", type=int, help="fail at most this many writes per case")
    parser.add_argument("--tmpfs", action="store_true",
                        help="also run out of space on a real (tmpfs) disk")
    args = parser.parse_args(argv)
    cases = [c for c in CASES if not args.case or c.name in args.case]
    if not cases:
        parser.error(f"--case: choose from {', '.join(c.name for c in CASES)}")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ganbuilder-faults-") as tmp:
        os.environ["GANBUILDER_CACHE"] = str(Path(tmp) / "cache")  # evaluate's classifier
        base = build_workspace(Path(tmp) / "base")
        trials: list[Trial] = []
        for case in cases:
            if case.name == "export-onnx" and not _has_onnx():
                print("export-onnx: the 'export' extra is missing: skipped")
                continue
            shutil.rmtree(Path(tmp) / "cache", ignore_errors=True)  # evaluate writes afresh
            trials += run_case(case, base, Path(tmp) / "scratch", args.most)
            if args.tmpfs:
                trials += tmpfs_trials(case, base, [0, 4096, 65536, 2**20], print)
    failed = [t for t in trials if t.problems]
    print(f"{len(trials)} faulted runs of {len(cases)} cases in "
          f"{time.perf_counter() - start:.0f} s: {len(failed)} lost or damaged something, "
          "or failed without one clear message")
    return 1 if failed else 0


def _has_onnx() -> bool:
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    sys.exit(main_())
