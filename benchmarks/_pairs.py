"""What the training-step benchmarks share: the compiled side, weight hand-over, the timing
protocol (alternating pairs, one ratio per pair) and the table.

Protocol
    `warmup` untimed pairs, then `pairs` timed ones. A pair is one iteration of the compiled
    side and one of the hand-written side, back to back, the side that goes first switching
    every pair; each iteration is timed on its own (time.perf_counter, with a device
    synchronize on CUDA). The figure reported is the median over pairs of compiled /
    hand-written time: both halves of a pair see nearly the same machine load, so a burst of
    load from another process moves one ratio rather than one side's whole distribution.
    Before each side's iteration the global torch RNG is seeded with the pair's number, so
    dropout draws the same masks on both sides.
"""

from __future__ import annotations

import argparse
import itertools
import math
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]
SPECS = ROOT / "specs"


class Replay:
    """Stands in for the trainer's BatchSampler: the pre-drawn batches, in a cycle, so data
    loading and augmentation cost nothing on either side."""

    def __init__(self, batches: list[dict]):
        self._it = itertools.cycle(batches)

    def next(self) -> dict:
        return next(self._it)

    __next__ = next

    def close(self) -> None:
        """(Nothing to stop: the trainer closes its sampler at the end of a run.)"""


@dataclass
class Contender:
    """One benchmarked iteration: the compiled step, its hand-written twin and how far the two
    sides' weights have drifted apart (rounding only when both do the same arithmetic)."""

    name: str
    settings: str
    compiled: Callable[[], None]
    handwritten: Callable[[], None]
    drift: Callable[[], float]
    device: torch.device
    cleanup: Callable[[], None] = lambda: None


@dataclass
class PairTimes:
    """Seconds per iteration of each side, pair by pair, and the weight drift after the
    first pair (one iteration each: later, Adam amplifies rounding where a gradient is
    near zero, so the drift grows without meaning more)."""

    compiled: list[float] = field(default_factory=list)
    handwritten: list[float] = field(default_factory=list)
    drift: float = math.nan

    @property
    def ratios(self) -> list[float]:
        return [c / h for c, h in zip(self.compiled, self.handwritten, strict=True)]

    def median_ratio(self) -> float:
        return statistics.median(self.ratios)

    def ratio_quartiles(self) -> tuple[float, float]:
        if len(self.ratios) < 2:  # a single pair has no spread to show
            return math.nan, math.nan
        q = statistics.quantiles(self.ratios, n=4)
        return q[0], q[2]


def compiled_trainer(spec_name: str, overrides: list[str], device: str,
                     n_batches: int) -> tuple[Trainer, list[dict], tempfile.TemporaryDirectory]:
    """A Trainer for specs/<spec_name> (in a temporary run folder) whose sampler replays
    `n_batches` batches drawn from it once; returns the trainer, the batches and the folder."""
    spec = load_spec(SPECS / spec_name, overrides)
    tmp = tempfile.TemporaryDirectory(prefix="bench_")
    trainer = Trainer(spec, run_dir=Path(tmp.name), device=device)
    batches = [trainer.sampler.next() for _ in range(n_batches)]
    trainer.sampler.close()  # (stops its prefetch thread)
    trainer.sampler = Replay(batches)
    trainer.gan.train()
    return trainer, batches, tmp


def compiled_step(trainer: Trainer) -> Callable[[], None]:
    """`Trainer.train_step`, with the metric sums restarted every `log_every` steps as
    `Trainer.run` does, so the compiled side pays for its bookkeeping too."""
    log_every = trainer.spec.training["log_every"]
    state: dict = {"sums": {}, "count": 0}

    def step() -> None:
        trainer.train_step(state["sums"])
        state["count"] += 1
        if state["count"] % log_every == 0:
            state["sums"] = {}

    return step


def n_parameters(net: nn.Module) -> int:
    """Number of parameter elements."""
    return sum(p.numel() for p in net.parameters())


def adopt_weights(hand: dict[str, nn.Module], compiled: dict[str, nn.Module],
                  convert: Callable[[str, int, torch.Tensor], torch.Tensor] | None = None) -> None:
    """Copy each compiled network's parameters and buffers into its hand-written twin, in
    registration order (the names differ; shapes must agree), after asserting equal parameter
    counts. `convert(net, index, tensor)` may rearrange a tensor, e.g. the input channels of a
    layer whose skip is concatenated in the other order."""
    for name, mine in hand.items():
        theirs = compiled[name]
        n_mine, n_theirs = n_parameters(mine), n_parameters(theirs)
        if n_mine != n_theirs:
            sys.exit(f"{name}: hand-written has {n_mine:,} parameters, compiled {n_theirs:,}")
        targets = list(mine.state_dict().values())
        sources = list(theirs.state_dict().values())
        if len(targets) != len(sources):
            sys.exit(f"{name}: {len(targets)} tensors hand-written, {len(sources)} compiled")
        with torch.no_grad():
            for i, (dst, src) in enumerate(zip(targets, sources, strict=True)):
                value = convert(name, i, src) if convert else src
                if dst.shape != value.shape:
                    sys.exit(f"{name}: tensor {i} is {tuple(dst.shape)} hand-written, "
                             f"{tuple(value.shape)} compiled")
                dst.copy_(value)


def parameter_drift(hand: dict[str, nn.Module], compiled: dict[str, nn.Module],
                    convert: Callable[[str, int, torch.Tensor], torch.Tensor] | None = None
                    ) -> Callable[[], float]:
    """A function giving the largest |compiled - hand-written| over the weight tensors (those
    of 2 or more dimensions). Vectors are left out: a conv bias ahead of instance norm has a
    gradient of exactly zero in theory, and Adam turns its rounding noise into full +-lr
    steps in either direction; buffers too, as batch norm's running statistics follow the
    order of the critic's calls, which the references choose freely."""

    def drift() -> float:
        worst = 0.0
        for name, mine in hand.items():
            mine_state = mine.state_dict()
            their_state = compiled[name].state_dict()
            weights = {n for n, p in mine.named_parameters() if p.dim() > 1}
            for i, (key, theirs) in enumerate(zip(mine_state, their_state.values(),
                                                  strict=True)):
                if key in weights:
                    value = convert(name, i, theirs) if convert else theirs
                    worst = max(worst, (mine_state[key] - value).abs().max().item())
        return worst

    return drift


def time_pairs(c: Contender, pairs: int, warmup: int) -> PairTimes:
    """Run `warmup` untimed and `pairs` timed pairs of iterations (see the module docstring);
    the weight drift is taken after the first pair."""
    sync = torch.cuda.synchronize if c.device.type == "cuda" else (lambda: None)
    times = PairTimes()
    sides = [(c.compiled, times.compiled), (c.handwritten, times.handwritten)]
    for k in range(warmup + pairs):
        order = sides if k % 2 == 0 else sides[::-1]
        for step, record in order:
            torch.manual_seed(k)
            sync()
            t0 = time.perf_counter()
            step()
            sync()
            if k >= warmup:
                record.append(time.perf_counter() - t0)
        if k == 0:
            times.drift = c.drift()
    return times


def add_protocol_args(ap: argparse.ArgumentParser, pairs: int, warmup: int) -> None:
    """The options every training-step benchmark takes."""
    ap.add_argument("--pairs", type=int, default=pairs, help="timed pairs of iterations")
    ap.add_argument("--warmup", type=int, default=warmup, help="untimed pairs first")
    # One thread by default: on a loaded machine, preempted OpenMP threads stall each other at
    # every barrier and the ratios scatter (DCGAN at ngf 32 under a load of 10 on 2 cores:
    # 3.8 s per iteration with 2 threads, 0.33 s with 1).
    ap.add_argument("--threads", type=int, default=1,
                    help="torch.set_num_threads (1; 0 leaves torch's default)")
    ap.add_argument("--device", default="auto", help="cpu, cuda, or auto (the trainer's pick)")
    ap.add_argument("--batches", type=int, default=8, help="distinct pre-drawn data batches")


def main_for(build: Callable[[list[str], str, int], Contender], description: str,
             example: str, pairs: int, warmup: int, argv: list[str] | None = None) -> int:
    """The command line of a one-spec benchmark: --set overrides plus the protocol options."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="PATH=VALUE", help=f"spec override, e.g. {example} (repeatable)")
    add_protocol_args(ap, pairs=pairs, warmup=warmup)
    args = ap.parse_args(argv)
    return run_table([lambda: build(args.overrides, args.device, args.batches)], args)


def run_table(builders: Iterable[Callable[[], Contender]], args: argparse.Namespace) -> int:
    """Build, time and tabulate each contender in turn; one row each. Exit code 0: this is a
    measurement, not a test."""
    if args.threads:
        torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}; "
          f"{args.pairs} timed pairs after {args.warmup} warm-up pairs, first side alternating")
    rows = []
    for build in builders:
        c = build()
        print(f"{c.name}: {c.settings}, device {c.device}", flush=True)
        start = time.perf_counter()
        t = time_pairs(c, args.pairs, args.warmup)
        lo, hi = t.ratio_quartiles()
        rows.append((c.name, 1e3 * statistics.median(t.compiled),
                     1e3 * statistics.median(t.handwritten), t.median_ratio(), lo, hi,
                     t.drift))
        print(f"  {time.perf_counter() - start:.1f} s", flush=True)
        c.cleanup()
    print()
    print(f"{'iteration':10s} {'compiled ms':>12s} {'hand-written ms':>16s} "
          f"{'median ratio':>13s} {'ratio IQR':>14s} {'drift':>9s}")
    for name, cms, hms, ratio, lo, hi, drift in rows:
        print(f"{name:10s} {cms:12.2f} {hms:16.2f} {ratio:13.3f} {f'{lo:.3f}-{hi:.3f}':>14s} "
              f"{drift:9.1e}")
    print("ms: median time per iteration; ratio: compiled / hand-written within each pair, "
          "median (and quartiles) over pairs; drift: largest |compiled - hand-written| in any "
          "weight tensor after one iteration (rounding only when both sides do the same "
          "arithmetic; a real difference shows as ~2 x lr = 4e-4)")
    return 0
