"""Training iterations of DCGAN, pix2pix and CycleGAN: compiled specs against hand-written
PyTorch references, in one table.

Each row comes from its own module (bench_dcgan_step.py, bench_pix2pix_step.py,
bench_cyclegan_step.py: what each side does is described there); the timing protocol is
_pairs.py's: alternating pairs of iterations, the figure is the median over pairs of compiled /
hand-written time.

By default each spec runs at its module's QUICK settings, sized so that `make bench` takes a few
minutes on 2 cores (DCGAN at ngf = ndf = 32; pix2pix at 128 px with ngf = ndf = 32 and batch 4;
CycleGAN at its own 32 px, ngf 32, 9 blocks, batch 1); `--full` runs the specs as written
(pix2pix still at 128 px) and `--only` picks rows.

Run
    make bench
    .venv/bin/python benchmarks/bench_training_steps.py --pairs 40 --only pix2pix
"""

from __future__ import annotations

import argparse
import sys

import bench_cyclegan_step
import bench_dcgan_step
import bench_pix2pix_step
from _pairs import add_protocol_args, run_table

MODULES = {"dcgan": bench_dcgan_step, "pix2pix": bench_pix2pix_step,
           "cyclegan": bench_cyclegan_step}
# pix2pix at 128 px even at full size: the spec's 32 px default is smaller than the paper's.
FULL = {"dcgan": [], "pix2pix": ["params.image_size=128"], "cyclegan": []}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", choices=sorted(MODULES),
                    help="benchmark only this spec (repeatable; default: all three)")
    ap.add_argument("--full", action="store_true",
                    help="the specs' own sizes instead of the QUICK settings")
    add_protocol_args(ap, pairs=20, warmup=3)
    args = ap.parse_args(argv)
    names = args.only or list(MODULES)
    settings = {name: FULL[name] if args.full else MODULES[name].QUICK for name in names}
    print("sizes: " + "; ".join(f"{n} {' '.join(s) or '(as written)'}"
                                for n, s in settings.items()))

    def builder(name: str):
        return lambda: MODULES[name].build(settings[name], args.device, args.batches)

    return run_table([builder(name) for name in names], args)


if __name__ == "__main__":
    sys.exit(main())
