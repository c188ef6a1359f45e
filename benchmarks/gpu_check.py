"""One command for a GPU machine (at most 5 minutes on one GPU): prints the scale-out table.

    .venv/bin/python benchmarks/gpu_check.py            # on a machine with CUDA
    .venv/bin/python benchmarks/gpu_check.py --device cpu --quick   # checks the script itself

Rows: DCGAN 64x64 and CycleGAN 128x128 steps/s in fp32, bf16, fp16 and fp32 + channels_last
(DCGAN also with training.compile); the compiled DCGAN step against the hand-written PyTorch
step of benchmarks/bench_dcgan_step.py on the same device (ratio of medians, >1: slower);
the time/data share of a folder of generated JPEGs with data.workers 0 and auto; and, when
several GPUs are visible, DDP over all of them (torchrun) against one. Rows that would run
past the time budget are reported as skipped.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from ganbuilder.spec import load_spec  # noqa: E402
from ganbuilder.train.trainer import Trainer  # noqa: E402

DCGAN = ("specs/dcgan.yaml", ["params.image_size=64", "params.nc=3", "data.batch_size=64"])
CYCLEGAN = ("specs/cyclegan.yaml", ["params.image_size=128", "data.batch_size=4"])
MODES = {"fp32": [], "bf16": ["training.precision=bf16"], "fp16": ["training.precision=fp16"],
         "channels_last": ["training.channels_last=true"], "compile": ["training.compile=true"]}
QUIET = ["training.log_every=100000", "training.sample_every=100000",
         "training.checkpoint_every=100000"]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def steps_per_second(spec_file: str, overrides: list[str], device: str, warmup: int,
                     steps: int) -> tuple[float, float]:
    """Steps/s of the trainer's own iteration after `warmup` steps, and data time's share."""
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
        finally:
            trainer.sampler.close()
        return steps / elapsed, trainer.data_time / elapsed


def handwritten_ratio(device: str, pairs: int, warmup: int) -> float:
    """Median compiled / hand-written seconds per DCGAN 64x64 iteration."""
    from _pairs import time_pairs
    from bench_dcgan_step import build

    contender = build(DCGAN[1], device)
    try:
        times = time_pairs(contender, pairs, warmup)
    finally:
        contender.cleanup()
    return statistics.median(times.compiled) / statistics.median(times.handwritten)


def _jpegs(folder: Path, n: int) -> None:
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(small).resize((72, 72), Image.BILINEAR).save(folder / f"{i:05d}.jpg")


def ddp_throughput(gpus: int, steps: int) -> float:
    """Images/s of DCGAN 64x64 over `gpus` ranks (torchrun, nccl), batch 64 per GPU."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "ddp"
        sets = [x for o in [*DCGAN[1][:-1], f"data.batch_size={64 * gpus}", "training.log_every=5",
                            "training.sample_every=100000", "training.checkpoint_every=100000"]
                for x in ("--set", o)]
        subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone",
                        f"--nproc_per_node={gpus}", "-m", "ganbuilder", "run", DCGAN[0], *sets,
                        "--device", "cuda", "--steps", str(steps), "--out", str(out), "--quiet"],
                       check=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        logged = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()][1:]
        return 64 * gpus / statistics.median(m["time/step"] for m in logged)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--quick", action="store_true", help="a few steps each (a smoke test)")
    ap.add_argument("--budget", type=float, default=280.0, help="seconds for all rows")
    args = ap.parse_args()
    warmup, steps = (1, 2) if args.quick else (10, 40)
    if args.quick:  # shrunk networks, so that every row runs on a CPU too
        DCGAN[1][:] = [*DCGAN[1], "params.ngf=8", "params.ndf=8", "params.image_size=16"]
        CYCLEGAN[1][:] = [*CYCLEGAN[1], "params.ngf=8", "params.image_size=32"]
        print("--quick: networks and images shrunk; the figures check the script only")
    deadline = time.monotonic() + args.budget
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else args.device
    print(f"device: {name}; torch {torch.__version__}\n")
    print("| row | result |\n|---|---|")

    def row(label: str, measure) -> None:
        if time.monotonic() > deadline:
            print(f"| {label} | skipped (time budget) |", flush=True)
            return
        try:
            print(f"| {label} | {measure()} |", flush=True)
        except Exception as exc:  # a mode this GPU or build lacks: say so, go on
            print(f"| {label} | failed: {type(exc).__name__}: {str(exc)[:80]} |", flush=True)

    for title, (spec_file, overrides) in (("DCGAN 64x64, batch 64", DCGAN),
                                          ("CycleGAN 128x128, batch 4", CYCLEGAN)):
        for mode, extra in MODES.items():
            if mode == "compile" and spec_file != DCGAN[0]:
                continue
            n = (warmup + 10, steps) if mode == "compile" else (warmup, steps)
            row(f"{title}, {mode}", lambda s=spec_file, o=[*overrides, *extra], n=n:
                f"{steps_per_second(s, o, args.device, *n)[0]:.1f} steps/s")
    row("DCGAN 64x64: compiled step / hand-written step (median s)",
        lambda: f"{handwritten_ratio(args.device, 5 if args.quick else 30, warmup):.3f}")
    with tempfile.TemporaryDirectory() as tmp:
        _jpegs(Path(tmp) / "jpegs", 64 if args.quick else 3000)
        folder = [*DCGAN[1], "data.source=folder", f"data.root={Path(tmp) / 'jpegs'}",
                  "data.load_size=72", "data.flip=true"]
        for workers in ("0", "auto"):
            row(f"DCGAN 64x64 on a JPEG folder, data.workers={workers}",
                lambda w=workers: "{:.1f} steps/s, time/data {:.0%} of the step".format(
                    *steps_per_second(DCGAN[0], [*folder, f"data.workers={w}"], args.device,
                                      warmup, steps)))
    gpus = torch.cuda.device_count() if args.device.startswith("cuda") else 0
    if gpus > 1:
        one = ddp_throughput(1, 30)
        row(f"DDP over {gpus} GPUs (images/s, ratio to 1 GPU)",
            lambda: f"{(many := ddp_throughput(gpus, 30)):.0f} vs {one:.0f}: {many / one:.2f}x")
    else:
        print("| DDP | one GPU visible: not measured |")


if __name__ == "__main__":
    main()
