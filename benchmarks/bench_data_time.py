"""How long training waits for data: time/data as a share of time/step, as the trainer logs
them, for the built-in digits (in memory) and a folder of 2,000 JPEGs made here.

Each case trains specs/dcgan.yaml at the `make bench` size (ngf = ndf = 32, 32 px, batch 64)
for `--steps` steps, logging every 10; the first logged interval (start-up) is left out and the
figure is the median over the others of time/data / time/step. `--compare` also runs each case
with the batches made on the training thread (the prefetch thread taken away: the trainer's
BatchSampler called directly), as before batches were made ahead.

Run
    .venv/bin/python benchmarks/bench_data_time.py
    .venv/bin/python benchmarks/bench_data_time.py --compare --steps 60
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

import torch

from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
SIZE = ["params.ngf=32", "params.ndf=32", "data.batch_size=64", "training.log_every=10",
        "training.sample_every=100000", "training.checkpoint_every=100000"]


def make_jpegs(folder: Path, n: int) -> None:
    """n distinct 48x48 JPEGs (smooth random colour fields), in one class folder."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        small = rng.integers(0, 256, (6, 6, 3), dtype=np.uint8)
        Image.fromarray(small).resize((48, 48), Image.BILINEAR).save(folder / f"{i:05d}.jpg")


def data_share(overrides: list[str], steps: int, prefetch: bool, out: Path) -> tuple[float, float]:
    """Median time/data / time/step over the logged intervals after the first, and the
    median ms per step."""
    spec = load_spec(ROOT / "specs" / "dcgan.yaml", [*SIZE, *overrides])
    trainer = Trainer(spec, out, device="cpu", steps=steps)
    if not prefetch:
        trainer.sampler.close()
        trainer.sampler = trainer.sampler.sampler  # the BatchSampler, on the training thread
    trainer.run()
    logged = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()][1:]
    shares = [m["time/data"] / m["time/step"] for m in logged]
    return statistics.median(shares), 1e3 * statistics.median(m["time/step"] for m in logged)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=80)
    ap.add_argument("--jpegs", type=int, default=2000)
    ap.add_argument("--threads", type=int, default=1, help="torch.set_num_threads (0: default)")
    ap.add_argument("--compare", action="store_true",
                    help="also with batches made on the training thread")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as tmp:
        jpegs = Path(tmp) / "jpegs"
        make_jpegs(jpegs / "all", args.jpegs)
        cases = {"digits (in memory)": [],
                 f"folder of {args.jpegs} JPEGs (data.workers auto: 0 on the CPU)": [
                     "data.source=folder", f"data.root={jpegs}", "data.load_size=36",
                     "data.flip=true"]}
        print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; dcgan.yaml "
              f"{' '.join(SIZE[:3])}; {args.steps} steps, median over logged intervals")
        print("| data | batches made | time/data share of the step | ms per step |")
        print("|---|---|---|---|")
        for name, overrides in cases.items():
            for prefetch in (True, False) if args.compare else (True,):
                share, ms = data_share(overrides, args.steps, prefetch,
                                       Path(tmp) / f"run{len(name)}{prefetch}")
                how = "ahead, in a thread" if prefetch else "on the training thread"
                print(f"| {name} | {how} | {share:.1%} | {ms:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
