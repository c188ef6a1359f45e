"""One DCGAN training iteration: ganbuilder's compiled spec against hand-written PyTorch.

What is compared
    compiled     `Trainer.train_step` for specs/dcgan.yaml: the draw (batch + latent z), the
                 D objective (D(real), D(fake.detach()), BCE-with-logits, backward, Adam step),
                 then the G objective (D(fake) with the same fake, BCE to 1, backward, Adam step),
                 including everything the step does besides: TensorCache look-ups, the per-step
                 lr setting, the D accuracy metrics and the accumulation of every metric into
                 `sums` (reset every `training.log_every` steps, as `Trainer.run` does).
    handwritten  the pytorch/examples DCGAN loop written by hand: nn.Sequential G and D of the
                 same shape (parameter counts asserted equal), weights_init N(0, 0.02) with BN
                 weight N(1, 0.02) and bias 0, one Adam(2e-4, betas (0.5, 0.999)) per network,
                 BCEWithLogitsLoss (D has no sigmoid), D step on real and fake.detach() (two
                 backward calls, as in the example), then G step on D(fake) with the same fake.
                 Like the example it uses in-place ReLU/LeakyReLU (the compiled nets do not),
                 and it keeps no statistics (no .item()), so it is the leaner of the two.

Fairness
    Both sides read the same pre-drawn data batches (taken once from the trainer's sampler and
    replayed in the same order; the trainer's sampler is replaced by the replay), so data
    loading and augmentation cost nothing on either side. Both draw z with torch.randn from a
    torch.Generator seeded alike. The hand-written nets are initialised by hand, then given the
    compiled nets' initial weights, so both sides do the very same arithmetic; at the end the
    script prints how far the two sets of weights drifted apart (rounding only: the compiled D
    loss is one backward of the summed terms, the example's is two).

Protocol
    `--warmup` untimed iterations per side, then rounds: each round runs `--chunk` iterations of
    one side and then `--chunk` of the other, the side that goes first switching every round,
    until each side has `--steps` timed iterations. Every iteration is timed on its own
    (time.perf_counter, with a device synchronize on CUDA). Reported: median and mean time per
    iteration of each side, the ratio of medians and the ratio of means, and finally
    `ratio compiled/handwritten: X.XXX` (the ratio of medians). The exit code is 0 whatever the
    ratio: this is a measurement, not a test.

Run
    make bench                       # .venv/bin/python benchmarks/bench_dcgan_step.py
    .venv/bin/python benchmarks/bench_dcgan_step.py --set params.ngf=32 --set params.ndf=32 \\
        --steps 20 --threads 2
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

from ganbuilder.spec import load_spec
from ganbuilder.train.trainer import Trainer

ROOT = Path(__file__).resolve().parents[1]


# -- the hand-written DCGAN (pytorch/examples/dcgan, no sigmoid: BCEWithLogitsLoss) ----------
def generator(nz: int, ngf: int, nc: int, depth: int) -> nn.Sequential:
    """1x1 -> 4x4, then `depth` doublings, then the last doubling to nc channels."""
    ch = ngf * 2**depth
    layers: list[nn.Module] = [nn.ConvTranspose2d(nz, ch, 4, 1, 0, bias=False),
                               nn.BatchNorm2d(ch), nn.ReLU(True)]
    for _ in range(depth):
        layers += [nn.ConvTranspose2d(ch, ch // 2, 4, 2, 1, bias=False),
                   nn.BatchNorm2d(ch // 2), nn.ReLU(True)]
        ch //= 2
    layers += [nn.ConvTranspose2d(ch, nc, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def discriminator(ndf: int, nc: int, depth: int) -> nn.Sequential:
    """image -> image/2 with ndf channels, then `depth` halvings, then a 4x4 conv to 1 logit."""
    ch = ndf
    layers: list[nn.Module] = [nn.Conv2d(nc, ch, 4, 2, 1, bias=False),
                               nn.LeakyReLU(0.2, inplace=True)]
    for _ in range(depth):
        layers += [nn.Conv2d(ch, ch * 2, 4, 2, 1, bias=False),
                   nn.BatchNorm2d(ch * 2), nn.LeakyReLU(0.2, inplace=True)]
        ch *= 2
    layers += [nn.Conv2d(ch, 1, 4, 1, 0, bias=False), nn.Flatten()]
    return nn.Sequential(*layers)


def weights_init(m: nn.Module) -> None:
    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class HandWritten:
    """The pytorch/examples training loop, fed from the same replayed batches."""

    def __init__(self, netG: nn.Module, netD: nn.Module, batches, nz: int, batch_size: int,
                 seed: int, device: torch.device):
        self.netG, self.netD = netG, netD
        self.optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.criterion = nn.BCEWithLogitsLoss()
        self.batches, self.nz, self.batch_size = batches, nz, batch_size
        self.gen = torch.Generator().manual_seed(seed)
        self.device = device

    def train_step(self) -> None:
        real = next(self.batches)["real"].to(self.device, non_blocking=True)
        noise = torch.randn((self.batch_size, self.nz, 1, 1),
                            generator=self.gen).to(self.device)
        # (1) D: maximize log(D(x)) + log(1 - D(G(z)))
        self.netD.zero_grad()
        output = self.netD(real)
        errD_real = self.criterion(output, torch.ones_like(output))
        errD_real.backward()
        fake = self.netG(noise)
        output = self.netD(fake.detach())
        errD_fake = self.criterion(output, torch.zeros_like(output))
        errD_fake.backward()
        self.optD.step()
        # (2) G: maximize log(D(G(z)))
        self.netG.zero_grad()
        output = self.netD(fake)
        errG = self.criterion(output, torch.ones_like(output))
        errG.backward()
        self.optG.step()


class Replay:
    """Stands in for the trainer's BatchSampler: the pre-drawn batches, in a cycle."""

    def __init__(self, batches: list[dict]):
        self._it = itertools.cycle(batches)

    def next(self) -> dict:
        return next(self._it)

    __next__ = next


# -- measurement -------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=str(ROOT / "specs" / "dcgan.yaml"))
    ap.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="PATH=VALUE", help="spec override, e.g. params.ngf=32 (repeatable)")
    ap.add_argument("--steps", type=int, default=30, help="timed iterations per side")
    ap.add_argument("--warmup", type=int, default=5, help="untimed iterations per side")
    ap.add_argument("--chunk", type=int, default=1, choices=(1, 2),
                    help="iterations of one side before switching to the other")
    ap.add_argument("--threads", type=int, help="torch.set_num_threads (default: leave as is)")
    ap.add_argument("--device", default="auto", help="cpu, cuda, or auto (the trainer's pick)")
    ap.add_argument("--batches", type=int, default=8, help="distinct pre-drawn data batches")
    args = ap.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    spec = load_spec(args.spec, args.overrides)
    p = spec.tree["params"]
    nz, ngf, ndf, nc, size = p["nz"], p["ngf"], p["ndf"], p["nc"], p["image_size"]
    depth = p.get("depth", size.bit_length() - 4)  # log2(image_size) - 3
    tmp = tempfile.TemporaryDirectory(prefix="bench_dcgan_")
    trainer = Trainer(spec, run_dir=Path(tmp.name), device=args.device)
    device, bs, seed = trainer.device, trainer.batch_size, spec.training["seed"]
    batches = [trainer.sampler.next() for _ in range(args.batches)]
    trainer.sampler = Replay(batches)
    log_every = spec.training["log_every"]

    netG = generator(nz, ngf, nc, depth)
    netD = discriminator(ndf, nc, depth)
    netG.apply(weights_init)
    netD.apply(weights_init)
    cG, cD = trainer.gan.nets["G"], trainer.gan.nets["D"]
    for name, mine, theirs in (("G", netG, cG), ("D", netD, cD)):
        n_mine = sum(q.numel() for q in mine.parameters())
        n_theirs = sum(q.numel() for q in theirs.parameters())
        if n_mine != n_theirs:
            sys.exit(f"{name}: hand-written has {n_mine} parameters, compiled {n_theirs}")
        # Same starting point, so that both sides do identical arithmetic.
        mine.load_state_dict(theirs.state_dict())
    netG.to(device).train()
    netD.to(device).train()
    trainer.gan.train()
    hand = HandWritten(netG, netD, Replay(batches), nz, bs, seed + 1, device)

    sums: dict[str, torch.Tensor] = {}
    count = 0

    def compiled_step() -> None:
        nonlocal sums, count
        trainer.train_step(sums)
        count += 1
        if count % log_every == 0:  # Trainer.run starts new sums after each log line
            sums = {}

    sides = {"compiled": compiled_step, "handwritten": hand.train_step}
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    times: dict[str, list[float]] = {name: [] for name in sides}

    def run(name: str, n: int, record: bool) -> None:
        step = sides[name]
        for _ in range(n):
            sync()
            t0 = time.perf_counter()
            step()
            sync()
            if record:
                times[name].append(time.perf_counter() - t0)

    print(f"spec {Path(args.spec).name} {' '.join(args.overrides)}".rstrip())
    print(f"torch {torch.__version__}, device {device}, threads {torch.get_num_threads()}, "
          f"batch {bs}, image {nc}x{size}x{size}, nz {nz}, ngf {ngf}, ndf {ndf}")
    print(f"parameters: G {sum(q.numel() for q in netG.parameters()):,}, "
          f"D {sum(q.numel() for q in netD.parameters()):,}")
    order = ["compiled", "handwritten"]
    for _ in range(args.warmup):
        for name in order:
            run(name, 1, record=False)
    start = time.perf_counter()
    rounds = 0
    while min(len(t) for t in times.values()) < args.steps:
        for name in order if rounds % 2 == 0 else order[::-1]:
            run(name, min(args.chunk, args.steps - len(times[name])), record=True)
        rounds += 1
    elapsed = time.perf_counter() - start

    print(f"{args.steps} timed iterations per side after {args.warmup} warm-up, chunk "
          f"{args.chunk}, alternating first side each round ({elapsed:.1f} s)")
    print(f"{'':12s} {'median ms':>10s} {'mean ms':>9s} {'min ms':>8s} {'max ms':>8s}")
    for name, t in times.items():
        print(f"{name:12s} {1e3 * statistics.median(t):10.2f} {1e3 * statistics.fmean(t):9.2f} "
              f"{1e3 * min(t):8.2f} {1e3 * max(t):8.2f}")
    drift = max((a - b).abs().max().item() for a, b in itertools.chain(
        zip(netG.state_dict().values(), cG.state_dict().values(), strict=True),
        zip(netD.state_dict().values(), cD.state_dict().values(), strict=True))
        if a.is_floating_point())
    print(f"weights after {args.warmup + args.steps} iterations: max |compiled - handwritten| "
          f"{drift:.2e} (rounding only; a large value means the two do different work)")
    med = statistics.median(times["compiled"]) / statistics.median(times["handwritten"])
    mean = statistics.fmean(times["compiled"]) / statistics.fmean(times["handwritten"])
    print(f"ratio of means compiled/handwritten: {mean:.3f}")
    print(f"ratio compiled/handwritten: {med:.3f}")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
