"""Host-device syncs per training step: the trainer against hand-written loops, on any machine.

For DCGAN, CycleGAN and WGAN-GP in fp32, bf16 and fp16, counts what one iteration would make a
GPU wait for (benchmarks/_syncs.py: patched `.item()`, `float()`, `bool()`, `.tolist()`,
`.cpu()`, boolean masks, `torch.cuda.synchronize`, blocking copies of host memory to the
device), after warm-up iterations, averaged over `--steps` iterations; and what a logging step
adds (the trainer reads its metric sums then, once per `log_every` steps).

The hand-written sides: bench_dcgan_step.py's pytorch/examples loop, bench_cyclegan_step.py's
CycleGANModel loop, and a WGAN-GP loop written here as the paper's code is usually ported (five
critic steps on fresh batches, the penalty by autograd.grad with create_graph). In bf16 and
fp16 each runs under torch's AMP recipe: autocast around the step and, for fp16, a GradScaler
that scales each loss before backward and steps each optimizer through the scaler (the WGAN-GP
penalty scaled and unscaled with `1 / scaler.get_scale()`, as torch's AMP examples do). The
pytorch/examples loop draws z on the device, so its generator counts as a device generator.

Run
    .venv/bin/python benchmarks/bench_syncs.py
    .venv/bin/python benchmarks/bench_syncs.py --only dcgan --steps 10
"""

from __future__ import annotations

import argparse
import contextlib
import copy
import functools
import sys
from collections import Counter
from collections.abc import Callable, Iterator

import bench_cyclegan_step
import bench_dcgan_step
import torch
from _pairs import Replay, compiled_trainer
from _syncs import SyncCounter, host, mark_host, optimizer_steps
from torch import nn

import ganbuilder.train.trainer as trainer_module
from ganbuilder.train.streams import ON_DEVICE

TINY = {"dcgan": ["params.ngf=8", "params.ndf=8", "params.image_size=16", "data.batch_size=8"],
        "wgan_gp": ["params.ngf=8", "params.ndf=8", "params.image_size=16",
                    "data.batch_size=8"],
        "cyclegan": ["params.ngf=8"]}  # its own 32 px, 9 blocks, batch 1
PRECISIONS = ("fp32", "bf16", "fp16")


class AmpRecipe:
    """A hand-written step run under torch's AMP recipe: autocast around it and, for fp16,
    every `loss.backward()` scaled and every optimizer stepped through one GradScaler (updated
    after each step, as the next network's forward needs the new weights)."""

    def __init__(self, step: Callable[[], None], optimizers: list[torch.optim.Optimizer],
                 precision: str, device: torch.device):
        self.step, self.device, self.precision = step, device, precision
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        self._loss_scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
        if self._loss_scaler is not None:
            for opt in optimizers:
                opt.step = functools.partial(self._scaled_step, opt, opt.step,
                                             self._loss_scaler)

    @staticmethod
    def _scaled_step(opt, original, scaler, *args, **kwargs):
        patched = opt.step
        opt.step = original  # GradScaler.step calls optimizer.step itself
        try:
            scaler.step(opt)
            scaler.update()
        finally:
            opt.step = patched

    def __call__(self) -> None:
        if self.dtype is None:
            self.step()
            return
        backward = torch.Tensor.backward
        scaler = self._loss_scaler
        if scaler is not None:
            torch.Tensor.backward = lambda t, *a, **k: backward(scaler.scale(t), *a, **k)
        try:
            with torch.autocast(self.device.type, dtype=self.dtype):
                self.step()
        finally:
            torch.Tensor.backward = backward


class WganGp:
    """A WGAN-GP iteration written by hand: five critic steps (each on a fresh batch and z),
    then one generator step; Adam(1e-4, betas (0, 0.9)), penalty weight 10."""

    def __init__(self, G: nn.Module, D: nn.Module, batches: Replay, nz: int, batch_size: int,
                 device: torch.device, precision: str):
        self.G, self.D, self.batches = G, D, batches
        self.nz, self.batch_size, self.device = nz, batch_size, device
        self.optD = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.0, 0.9))
        self.optG = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
        fp16 = precision == "fp16"
        self.scalerD = torch.amp.GradScaler(device.type) if fp16 else None
        self.scalerG = torch.amp.GradScaler(device.type) if fp16 else None

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=self.dtype, enabled=self.dtype is not None)

    def _penalty(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        alpha = torch.rand(real.shape[0], 1, 1, 1, device=self.device)
        x = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
        out = self.D(x).float().sum()
        if self.scalerD is None:
            (grad,) = torch.autograd.grad(out, x, create_graph=True)
        else:  # torch's AMP recipe for gradient penalties
            (grad,) = torch.autograd.grad(self.scalerD.scale(out), x, create_graph=True)
            grad = grad / self.scalerD.get_scale()
        return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()

    def _step(self, loss: torch.Tensor, opt, scaler) -> None:
        opt.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward()
            opt.step()
        else:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()

    def train_step(self) -> None:
        for _ in range(5):
            real = next(self.batches)["real"].to(self.device, non_blocking=True)
            z = torch.randn(self.batch_size, self.nz, 1, 1, device=self.device)
            with self._autocast():
                fake = self.G(z).detach()
                loss = self.D(fake).mean() - self.D(real).mean() + \
                    10 * self._penalty(real, fake)
            self._step(loss, self.optD, self.scalerD)
        z = torch.randn(self.batch_size, self.nz, 1, 1, device=self.device)
        with self._autocast():
            loss = -self.D(self.G(z)).mean()
        self._step(loss, self.optG, self.scalerG)


@contextlib.contextmanager
def _device_generators() -> Iterator[list[torch.Generator]]:
    """Inside, every generator the trainer makes on its device is noted in the list."""
    made: list[torch.Generator] = []
    original = trainer_module.stream_generator

    def recording(stream: str, seed: int, dev: torch.device) -> torch.Generator:
        generator = original(stream, seed, dev)
        if stream in ON_DEVICE:
            made.append(generator)
        return generator

    trainer_module.stream_generator = recording
    try:
        yield made
    finally:
        trainer_module.stream_generator = original


def build(name: str, precision: str, device: str, batches: int):
    """(trainer, hand-written step, its optimizers, device generators, cleanup)."""
    overrides = [*TINY[name], f"training.precision={precision}"]
    if name in ("dcgan", "cyclegan"):
        module = bench_dcgan_step if name == "dcgan" else bench_cyclegan_step
        with _device_generators() as gens:
            c = module.build(overrides, device, batches)
        loop = c.handwritten.__self__
        trainer = _closure_trainer(c.compiled)
        opts = [v for v in vars(loop).values() if isinstance(v, torch.optim.Optimizer)]
        if name == "dcgan":
            gens.append(loop.gen)  # pytorch/examples draws z on the device
        for batch in _replayed(loop.batches):
            mark_host(batch)
        hand = AmpRecipe(c.handwritten, opts, precision, trainer.device)
        return trainer, hand, opts, gens, c.cleanup
    with _device_generators() as gens:
        trainer, replayed, tmp = compiled_trainer("wgan_gp.yaml", overrides, device, batches)
    for batch in replayed:
        mark_host(batch)
    p = trainer.spec.tree["params"]
    loop = WganGp(copy.deepcopy(trainer.gan.nets["G"]), copy.deepcopy(trainer.gan.nets["D"]),
                  Replay(replayed), p["nz"], trainer.batch_size, trainer.device, precision)
    return trainer, loop.train_step, [loop.optD, loop.optG], gens, tmp.cleanup


def _closure_trainer(step: Callable[[], None]):
    """The Trainer inside _pairs.compiled_step's closure."""
    for cell in step.__closure__ or ():
        if isinstance(cell.cell_contents, trainer_module.Trainer):
            return cell.cell_contents
    raise RuntimeError("no trainer in the compiled step")


def _replayed(replay: Replay) -> list[dict]:
    """The batches a Replay cycles through (read through once, ending where it started)."""
    first = replay.next()
    out = [first]
    while True:
        batch = replay.next()
        if batch is first:
            return out
        out.append(batch)


def count(name: str, precision: str, device: str, steps: int, warmup: int) -> dict:
    """Syncs per iteration of each side, and what the trainer's logging step adds."""
    trainer, hand, opts, gens, cleanup = build(name, precision, device, 4)
    try:
        sums: dict = {}
        optimizers = [o.optimizer for o in trainer.objectives] + opts
        # Warm up until every optimizer has made a step (fp16 skips its first steps while the
        # scale falls): Adam's first step reads its new CPU step counter, not a device value.
        for i in range(30):  # (WGAN-GP's critic in fp16 on the CPU overflows for ever)
            if i >= warmup and all(opt.state for opt in optimizers):
                break
            trainer.train_step(sums)
            hand()
        per = {}
        kinds: dict[str, Counter] = {}
        with SyncCounter(gens) as counter:
            for side, step in (("compiled", lambda: trainer.train_step(sums)),
                               ("handwritten", hand)):
                counter.reset()
                for _ in range(steps):
                    host(optimizer_steps(optimizers))
                    step()
                per[side] = counter.total / steps
                kinds[side] = Counter({k: v / steps for k, v in counter.by_kind.items()})
            counter.reset()
            with contextlib.suppress(trainer_module.DivergenceError):  # (counted all the same)
                trainer._metrics(sums, 1, 0.0)
            per["logging"] = counter.total
            kinds["logging"] = Counter(counter.by_kind)
        objectives = sum(o.repeat for o in trainer.objectives)
        return {"per": per, "kinds": kinds, "optimizer_steps": objectives}
    finally:
        cleanup()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", action="append", choices=sorted(TINY))
    ap.add_argument("--precision", action="append", choices=PRECISIONS)
    ap.add_argument("--steps", type=int, default=5, help="counted iterations per side")
    ap.add_argument("--warmup", type=int, default=2, help="iterations first, uncounted")
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}; device {args.device}; {args.steps} counted iterations "
          f"after {args.warmup}; networks: {TINY}")
    print("| model | precision | optimizer steps / iteration | trainer syncs / iteration | "
          "hand-written syncs / iteration | trainer, a logging step adds | trainer's kinds | "
          "hand-written's kinds |")
    print("|---|---|---|---|---|---|---|---|")
    for name in args.only or ["dcgan", "cyclegan", "wgan_gp"]:
        for precision in args.precision or PRECISIONS:
            r = count(name, precision, args.device, args.steps, args.warmup)
            kinds = {side: ", ".join(f"{k} {v:g}" for k, v in sorted(c.items())) or "-"
                     for side, c in r["kinds"].items()}
            print(f"| {name} | {precision} | {r['optimizer_steps']} | "
                  f"{r['per']['compiled']:g} | {r['per']['handwritten']:g} | "
                  f"{r['per']['logging']:g} | {kinds['compiled']} | {kinds['handwritten']} |",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
