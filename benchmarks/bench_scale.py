"""Scale-out figures on the CPU, as ratios measured in one run (not a timed test).

(a) DDP: 2 ranks x 1 thread against 1 process x 1 thread at the same global batch (goal >= 1.8);
(b) a folder of generated 64x64 JPEGs: steps/s with data.workers 0, 2, 4 and time/data's share;
(c) bf16 against fp32.

    .venv/bin/python benchmarks/bench_scale.py [--steps 60] [--images 2000]

Each run goes through the `ganbuilder run` command (torchrun for DDP) and is timed by the
trainer's own `time/step`, the median over logged steps after the first (warm-up) one.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
DCGAN = ["--set", "params.ngf=32", "--set", "params.ndf=32", "--set", "params.image_size=32",
         "--set", "training.log_every=5", "--set", "training.sample_every=100000",
         "--set", "training.checkpoint_every=100000", "--quiet"]


def _run(out: Path, extra: list[str], steps: int, nproc: int = 1) -> dict[str, float]:
    """Train `steps` steps; the median seconds per step and data seconds per step."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    launch = ([sys.executable, "-m", "torch.distributed.run", "--standalone",
               f"--nproc_per_node={nproc}"] if nproc > 1 else [sys.executable])
    cmd = [*launch, "-m", "ganbuilder", "run", "specs/dcgan.yaml", *DCGAN, *extra,
           "--steps", str(steps), "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(cmd)} failed:\n{done.stderr[-3000:]}")
    logged = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    logged = logged[1:] or logged  # the first window holds the warm-up
    return {"step": statistics.median(m["time/step"] for m in logged),
            "data": statistics.median(m["time/data"] for m in logged)}


def _jpegs(folder: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        # Smooth random images (noise compresses badly and is not what photos look like).
        small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(small).resize((64, 64), Image.BILINEAR).save(folder / f"{i:05d}.jpg",
                                                                      quality=90)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=60)
    parser.add_argument("--images", type=int, default=2000)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        batch = ["--set", "data.batch_size=64"]
        one = _run(tmp / "one", batch, args.steps)
        two = _run(tmp / "two", batch, args.steps, nproc=2)
        rows.append(("(a) DDP 2 ranks x 1 thread vs 1 x 1, batch 64 (steps/s)",
                     f"{1 / two['step']:.2f} vs {1 / one['step']:.2f}",
                     f"{one['step'] / two['step']:.2f}"))
        _jpegs(tmp / "jpegs", args.images)
        folder = ["--set", "data.source=folder", "--set", f"data.root={tmp / 'jpegs'}",
                  "--set", "params.nc=3", "--set", "data.load_size=36", "--set", "data.flip=true",
                  *batch]
        base = None
        for workers in (0, 2, 4):
            r = _run(tmp / f"w{workers}", [*folder, "--set", f"data.workers={workers}"],
                     args.steps)
            base = base or r["step"]
            rows.append((f"(b) {args.images} JPEGs, data.workers={workers} (steps/s, "
                         "time/data share)",
                         f"{1 / r['step']:.2f}, {r['data'] / r['step']:.0%}",
                         f"{base / r['step']:.2f}"))
        fp32 = _run(tmp / "fp32", batch, args.steps)
        bf16 = _run(tmp / "bf16", [*batch, "--set", "training.precision=bf16"], args.steps)
        rows.append(("(c) bf16 vs fp32, 1 thread (steps/s)",
                     f"{1 / bf16['step']:.2f} vs {1 / fp32['step']:.2f}",
                     f"{fp32['step'] / bf16['step']:.2f}"))
    print("| measurement | figures | ratio |\n|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
