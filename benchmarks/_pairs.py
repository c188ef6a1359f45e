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

Page faults
    Both sides share one process and so one C heap. glibc hands freed memory at the top of
    its heap back to the system once more than a threshold is free there, and every page
    taken again costs a fault (and zeroing); whether a side's step pays that depends on the
    order of its allocations and frees and on what the other side left behind. By default
    (`--malloc keep`) the process keeps freed memory as a training run does
    (ganbuilder/train/host_memory.py, called by `Trainer.run`), for both sides, so that each
    does only its own work; `--malloc default` leaves glibc's policy. The table shows each
    side's minor page faults per iteration (median).
"""

from __future__ import annotations

import argparse
import itertools
import math
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

try:
    import resource
except ImportError:  # (Windows: no page-fault count)
    resource = None

from ganbuilder.spec import load_spec
from ganbuilder.train.host_memory import keep_freed_memory
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
    faults: dict[str, list[int]] = field(default_factory=lambda: {"compiled": [],
                                                                  "handwritten": []})
    cpu: dict[str, list[float]] = field(default_factory=lambda: {"compiled": [],
                                                                 "handwritten": []})

    @property
    def ratios(self) -> list[float]:
        return [c / h for c, h in zip(self.compiled, self.handwritten, strict=True)]

    @property
    def cpu_ratios(self) -> list[float]:
        return [c / h for c, h in zip(self.cpu["compiled"], self.cpu["handwritten"],
                                      strict=True)]

    def median_ratio(self, cpu: bool = False) -> float:
        return statistics.median(self.cpu_ratios if cpu else self.ratios)

    def ratio_quartiles(self, cpu: bool = False) -> tuple[float, float]:
        ratios = self.cpu_ratios if cpu else self.ratios
        if len(ratios) < 2:  # a single pair has no spread to show
            return math.nan, math.nan
        q = statistics.quantiles(ratios, n=4)
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
    sides = [(c.compiled, times.compiled, times.faults["compiled"], times.cpu["compiled"]),
             (c.handwritten, times.handwritten, times.faults["handwritten"],
              times.cpu["handwritten"])]
    for k in range(warmup + pairs):
        order = sides if k % 2 == 0 else sides[::-1]
        for step, record, faults, cpu in order:
            torch.manual_seed(k)
            sync()
            f0 = _minor_faults()
            c0 = time.thread_time()
            t0 = time.perf_counter()
            step()
            sync()
            if k >= warmup:
                record.append(time.perf_counter() - t0)
                cpu.append(time.thread_time() - c0)
                faults.append(_minor_faults() - f0)
        if k == 0:
            times.drift = c.drift()
    return times


def _minor_faults() -> int:
    """This process's minor page faults so far (0 where the system does not say)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt if resource else 0


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
    ap.add_argument("--malloc", choices=("keep", "default"), default="keep",
                    help="keep (as `ganbuilder run`): glibc keeps freed memory, for the whole "
                         "process (both sides); default: glibc's own policy (see the module "
                         "docstring)")


def main_for(build: Callable[[list[str], str, int], Contender], description: str,
             example: str, pairs: int, warmup: int, argv: list[str] | None = None) -> int:
    """The command line of a one-spec benchmark: --set overrides plus the protocol options."""
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="PATH=VALUE", help=f"spec override, e.g. {example} (repeatable)")
    add_protocol_args(ap, pairs=pairs, warmup=warmup)
    ap.add_argument("--against-itself", action="store_true",
                    help="time the hand-written loop against a second copy of itself: the "
                         "ratio the protocol gives where there is no difference")
    args = ap.parse_args(argv)

    def contender() -> Contender:
        c = build(args.overrides, args.device, args.batches)
        if not args.against_itself:
            return c
        twin = build(args.overrides, args.device, args.batches)
        return Contender(name=c.name, settings=f"{c.settings}; hand-written against itself "
                         "(the 'compiled' columns: a second copy)",
                         compiled=c.handwritten, handwritten=twin.handwritten,
                         drift=lambda: math.nan, device=c.device,
                         cleanup=lambda: (c.cleanup(), twin.cleanup()))

    return run_table([contender], args)


def run_table(builders: Iterable[Callable[[], Contender]], args: argparse.Namespace) -> int:
    """Build, time and tabulate each contender in turn; one row each. Exit code 0: this is a
    measurement, not a test."""
    if args.threads:
        torch.set_num_threads(args.threads)
    malloc = args.malloc
    if malloc == "keep" and not keep_freed_memory():
        malloc = "default (keep needs glibc's mallopt)"
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, malloc {malloc}; "
          f"{args.pairs} timed pairs after {args.warmup} warm-up pairs, first side alternating; "
          f"load average {' '.join(f'{x:.1f}' for x in _load())}")
    rows = []
    for build in builders:
        c = build()
        print(f"{c.name}: {c.settings}, device {c.device}", flush=True)
        start = time.perf_counter()
        t = time_pairs(c, args.pairs, args.warmup)
        lo, hi = t.ratio_quartiles()
        cpu_lo, cpu_hi = t.ratio_quartiles(cpu=True)
        rows.append((c.name, 1e3 * statistics.median(t.compiled),
                     1e3 * statistics.median(t.handwritten), t.median_ratio(), lo, hi,
                     t.drift, statistics.median(t.faults["compiled"]),
                     statistics.median(t.faults["handwritten"]), t.median_ratio(cpu=True),
                     cpu_lo, cpu_hi))
        print(f"  {time.perf_counter() - start:.1f} s", flush=True)
        c.cleanup()
    print()
    print(f"{'iteration':10s} {'compiled ms':>12s} {'hand-written ms':>16s} "
          f"{'median ratio':>13s} {'ratio IQR':>14s} {'drift':>9s} {'page faults':>14s} "
          f"{'CPU ratio':>10s} {'CPU IQR':>14s}")
    for name, cms, hms, ratio, lo, hi, drift, cf, hf, cpu, cpu_lo, cpu_hi in rows:
        print(f"{name:10s} {cms:12.2f} {hms:16.2f} {ratio:13.3f} {f'{lo:.3f}-{hi:.3f}':>14s} "
              f"{drift:9.1e} {f'{cf:.0f} / {hf:.0f}':>14s} {cpu:10.3f} "
              f"{f'{cpu_lo:.3f}-{cpu_hi:.3f}':>14s}")
    print("ms: median time per iteration; ratio: compiled / hand-written within each pair, "
          "median (and quartiles) over pairs; drift: largest |compiled - hand-written| in any "
          "weight tensor after one iteration (rounding only when both sides do the same "
          "arithmetic; a real difference shows as ~2 x lr = 4e-4); page faults: minor page "
          "faults per iteration, compiled / hand-written, medians; CPU ratio: the same "
          "ratio of the training thread's CPU time (time.thread_time: the time the machine's other "
          "processes take from it left out)")
    print(f"load average {' '.join(f'{x:.1f}' for x in _load())}")
    return 0


def _load() -> tuple[float, ...]:
    try:
        return os.getloadavg()
    except OSError:  # (not on every system)
        return ()
