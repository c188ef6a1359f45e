"""One command for a GPU machine (at most 5 minutes on one GPU): prints the scale-out table.

    python3 benchmarks/gpu_check.py                  # on a machine with CUDA
    python3 benchmarks/gpu_check.py --device cpu --quick   # checks the script itself

Rows: DCGAN 64x64 (batch 128) and CycleGAN 128x128 (batch 4) in fp32, bf16, fp16 and fp32 +
channels_last (DCGAN also with training.compile), each with steps/s, the GPU's busy share
(kernel time over wall time, from torch.profiler's CUDA activity) and the data share
(time/data over the step); the DCGAN and CycleGAN steps against their hand-written PyTorch
steps (benchmarks/bench_dcgan_step.py, bench_cyclegan_step.py) timed the same way, as the
median over alternating pairs of per-pair ratios, each side's block of steps synchronised
once at its end (never around each step, which would hide sync and pipelining costs); a
folder of generated JPEGs with data.workers 0 and auto; and, when several GPUs are visible,
DDP over all of them (torchrun) against one. Every row runs inside the time budget (a row
that would start after it is reported as skipped); a row that fails says why and the next
one runs (so a torch without CUDA prints the table with each row's reason).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ganbuilder.spec import load_spec  # noqa: E402
from ganbuilder.train.trainer import Trainer  # noqa: E402

DCGAN = ("specs/dcgan.yaml", ["params.image_size=64", "params.nc=3", "data.batch_size=128"])
CYCLEGAN = ("specs/cyclegan.yaml", ["params.image_size=128", "data.batch_size=4"])
MODES = {"fp32": [], "bf16": ["training.precision=bf16"], "fp16": ["training.precision=fp16"],
         "channels_last": ["training.channels_last=true"], "compile": ["training.compile=true"]}
QUIET = ["training.log_every=100000", "training.sample_every=100000",
         "training.checkpoint_every=100000"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def busy_share(run: Callable[[], None], device: torch.device) -> float | None:
    """The share of wall time the GPU spends in kernels and copies while `run` runs (the
    profiler's CUDA activity, summed; None off CUDA)."""
    if device.type != "cuda":
        return None
    from torch.profiler import ProfilerActivity, profile

    _sync(device)
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        start = time.perf_counter()
        run()
        _sync(device)
        wall = time.perf_counter() - start
    busy_us = sum(e.self_device_time_total for e in prof.key_averages())
    return busy_us / 1e6 / wall


def trainer_row(spec_file: str, overrides: list[str], device: str, warmup: int,
                steps: int) -> str:
    """Steps/s of the trainer's own iteration (its data pipeline included), the GPU's busy
    share over a few more steps, and data time's share of the step."""
    with tempfile.TemporaryDirectory() as tmp:
        spec = load_spec(ROOT / spec_file, [*overrides, *QUIET])
        trainer = Trainer(spec, Path(tmp) / "run", device=device)
        sums: dict = {}
        try:
            for _ in range(warmup):
                trainer.train_step(sums)
            _sync(trainer.device)
            trainer.data_time = 0.0
            start = time.perf_counter()
            for _ in range(steps):
                trainer.train_step(sums)
            _sync(trainer.device)
            elapsed = time.perf_counter() - start
            data = trainer.data_time / elapsed
            busy = busy_share(lambda: [trainer.train_step(sums) for _ in range(5)],
                              trainer.device)
        finally:
            trainer.sampler.close()
    shown = "n/a (no CUDA)" if busy is None else f"{busy:.0%}"
    return f"{steps / elapsed:.1f} steps/s; GPU busy {shown}; data {data:.1%} of the step"


def paired_blocks(compiled: Callable[[], None], handwritten: Callable[[], None],
                  device: torch.device, pairs: int, block: int) -> list[float]:
    """Per-pair ratios compiled / hand-written: each side runs `block` steps and is
    synchronised once at the end of its block; the side going first alternates."""
    ratios = []
    for k in range(pairs):
        times = {}
        order = [("c", compiled), ("h", handwritten)]
        for name, step in order if k % 2 == 0 else order[::-1]:
            _sync(device)
            start = time.perf_counter()
            for _ in range(block):
                step()
            _sync(device)
            times[name] = time.perf_counter() - start
        ratios.append(times["c"] / times["h"])
    return ratios


def handwritten_row(module_name: str, overrides: list[str], device: str, pairs: int,
                    block: int, warmup: int) -> str:
    """The trainer's step against the hand-written one, timed alike; with the hand-written
    step's busy share beside the trainer's."""
    module = __import__(module_name)
    c = module.build(overrides, device, 8)
    try:
        for _ in range(warmup):
            c.compiled()
            c.handwritten()
        ratios = paired_blocks(c.compiled, c.handwritten, c.device, pairs, block)
        q = statistics.quantiles(ratios, n=4) if len(ratios) > 1 else [ratios[0]] * 3
        busy = [busy_share(lambda s=s: [s() for _ in range(block)], c.device)
                for s in (c.compiled, c.handwritten)]
    finally:
        c.cleanup()
    shown = ("" if busy[0] is None else
             f"; GPU busy {busy[0]:.0%} (trainer) / {busy[1]:.0%} (hand-written)")
    return (f"{statistics.median(ratios):.3f} (quartiles {q[0]:.3f}-{q[2]:.3f}, {pairs} pairs "
            f"of {block}-step blocks){shown}")


def _jpegs(folder: Path, n: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(small).resize((72, 72), Image.BILINEAR).save(folder / f"{i:05d}.jpg")


def ddp_throughput(overrides: list[str], gpus: int, steps: int, timeout: float) -> float:
    """Images/s of DCGAN over `gpus` ranks (torchrun, nccl), each rank at the row's batch."""
    batch = next(int(o.split("=")[1]) for o in overrides if o.startswith("data.batch_size="))
    kept = [o for o in overrides if not o.startswith("data.batch_size=")]
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ddp"
        sets = [x for o in [*kept, f"data.batch_size={batch * gpus}", "training.log_every=5",
                            "training.sample_every=100000", "training.checkpoint_every=100000"]
                for x in ("--set", o)]
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                        f"--nproc_per_node={gpus}", "-m", "ganbuilder", "run", DCGAN[0], *sets,
                        "--device", "cuda", "--steps", str(steps), "--out", str(out), "--quiet"],
                       check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)},
                       timeout=max(1.0, timeout))
        logged = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()][1:]
        return batch * gpus / statistics.median(m["time/step"] for m in logged)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--quick", action="store_true", help="a few steps each (a smoke test)")
    ap.add_argument("--budget", type=float, default=280.0, help="seconds for all rows")
    args = ap.parse_args()
    warmup, steps, pairs, block = (1, 2, 3, 2) if args.quick else (10, 40, 15, 5)
    if args.quick:  # shrunk networks and batches, so that every row runs on a CPU too
        DCGAN[1][:] = [*DCGAN[1], "params.ngf=8", "params.ndf=8", "data.batch_size=8"]
        CYCLEGAN[1][:] = [*CYCLEGAN[1], "params.ngf=8", "data.batch_size=1"]
        print("--quick: networks and batches shrunk (image sizes kept); the figures check the "
              "script only")
    deadline = time.monotonic() + args.budget
    name = args.device
    if args.device.startswith("cuda"):
        name = (torch.cuda.get_device_name() if torch.cuda.is_available()
                else f"{args.device}, but this torch has no CUDA device")
    print(f"device: {name}; torch {torch.__version__}\n")
    print("| row | result |\n|---|---|")

    def row(label: str, measure: Callable[[], str]) -> None:
        if time.monotonic() > deadline:
            print(f"| {label} | skipped (time budget) |", flush=True)
            return
        try:
            print(f"| {label} | {measure()} |", flush=True)
        except Exception as exc:  # a mode this GPU or build lacks: say so, go on
            reason = str(exc).strip().splitlines()[0][:100] if str(exc).strip() else ""
            print(f"| {label} | failed: {type(exc).__name__}: {reason} |", flush=True)

    titles = (("DCGAN 64x64, batch 128", DCGAN), ("CycleGAN 128x128, batch 4", CYCLEGAN))
    for title, (spec_file, overrides) in titles:
        for mode, extra in MODES.items():
            if mode == "compile" and spec_file != DCGAN[0]:
                continue
            n = (warmup + 10, steps) if mode == "compile" else (warmup, steps)
            row(f"{title}, {mode}", lambda s=spec_file, o=[*overrides, *extra], n=n:
                trainer_row(s, o, args.device, *n))
    for title, module, overrides in (("DCGAN 64x64", "bench_dcgan_step", DCGAN[1]),
                                     ("CycleGAN 128x128", "bench_cyclegan_step", CYCLEGAN[1])):
        row(f"{title}: trainer step / hand-written step (median of per-pair ratios)",
            lambda m=module, o=overrides: handwritten_row(m, o, args.device, pairs, block,
                                                          warmup))
    with tempfile.TemporaryDirectory() as tmp:
        _jpegs(Path(tmp) / "jpegs", 64 if args.quick else 3000)
        folder = [*DCGAN[1], "data.source=folder", f"data.root={Path(tmp) / 'jpegs'}",
                  "data.load_size=72", "data.flip=true"]
        for workers in ("0", "auto"):
            row(f"DCGAN 64x64 on a JPEG folder, data.workers={workers}",
                lambda w=workers: trainer_row(DCGAN[0], [*folder, f"data.workers={w}"],
                                              args.device, warmup, steps))
    gpus = torch.cuda.device_count() if args.device.startswith("cuda") else 0
    if gpus > 1:
        def ddp() -> str:
            one = ddp_throughput(DCGAN[1], 1, 30, deadline - time.monotonic())
            many = ddp_throughput(DCGAN[1], gpus, 30, deadline - time.monotonic())
            return f"{many:.0f} vs {one:.0f} images/s: {many / one:.2f}x"

        row(f"DDP over {gpus} GPUs (images/s, ratio to 1 GPU)", ddp)
    else:
        print("| DDP | fewer than two GPUs visible: not measured |")
    with contextlib.suppress(Exception):
        print(f"\nwall time {args.budget - (deadline - time.monotonic()):.0f} s")


if __name__ == "__main__":
    main()
