"""One StyleGAN2 training iteration at 64 px: ganbuilder's compiled spec against
rosinality/stylegan2-pytorch's networks driven as its train.py drives them.

What is compared
    compiled     `Trainer.train_step` for specs/stylegan2.yaml at 64 px, RGB (config-f widths:
                 512 channels at every resolution): the D objective (logistic loss on real and
                 fake, R1 gamma 10 every 16 iterations, 16x its weight, in the same backward),
                 then the G objective (non-saturating loss, path length weight 2 every 4
                 iterations, 4x, in the same backward), the weight average of G, the cache
                 look-ups, metrics and lr setting.
    reference    the checkout's model.py Generator(64, 512, 8) and Discriminator(64) (the same
                 parameter counts, asserted), stepped as its train.py steps them with its
                 defaults (r1 10, d_reg_every 16, path_regularize 2, g_reg_every 4,
                 path_batch_shrink 2, Adam lr 0.002 x reg ratio, betas (0, 0.99) ** ratio,
                 accumulate into g_ema every iteration, mixing 0.9: 90 % of batches map a
                 second z and split the styles at a random layer; the spec's style_mix takes
                 another sample's w instead, without a second mapping pass): D step; R1 as a
                 separate D step on its iterations; G step; path length as a separate G step
                 on its iterations (half the batch, gradient with respect to the per-layer
                 copies of w). Its losses are written here from the paper's
                 formulas (softplus logistic, R1, path length with decay 0.01); its CUDA ops are
                 replaced by their own CPU paths (the extension is not compiled on CPU).

The weights are not handed over (each side keeps its own initialisation), so the drift column
is not a measure of agreement here; tests/test_stylegan2.py shows the two networks compute the
same function given the same weights. Both sides replay the same pre-drawn batches. The timing
protocol is benchmarks/_pairs.py's (median over alternating pairs of compiled / reference).

Run (needs a checkout of rosinality/stylegan2-pytorch; nothing is downloaded)
    .venv/bin/python benchmarks/bench_stylegan2_step.py --rosinality ~/src/stylegan2-pytorch
    .venv/bin/python benchmarks/bench_stylegan2_step.py --rosinality DIR --set data.batch_size=8
"""

from __future__ import annotations

import argparse
import copy
import math
import random
import sys
from pathlib import Path

import torch
from _pairs import (
    Contender,
    Replay,
    add_protocol_args,
    compiled_step,
    compiled_trainer,
    n_parameters,
    run_table,
)
from torch.nn import functional as F

SPEC = "stylegan2.yaml"
BASE = ["params.image_size=64", "params.channels=3", "data.batch_size=4"]


def import_reference(checkout: Path, device: torch.device):
    """The checkout's model module; on CPU its CUDA extension is not built (its ops take their
    CPU paths without it)."""
    import torch.utils.cpp_extension as ext

    sys.path.insert(0, str(checkout))
    original = ext.load
    if device.type != "cuda":
        ext.load = lambda *args, **kwargs: None
    try:
        import model
    finally:
        ext.load = original
    return model


class Reference:
    """train.py's iteration on the reference networks (see the module docstring)."""

    def __init__(self, model, batches: Replay, batch: int, device: torch.device, size: int):
        self.g = model.Generator(size, 512, 8).to(device).train()
        self.d = model.Discriminator(size).to(device).train()
        self.g_ema = copy.deepcopy(self.g).eval()
        g_ratio, d_ratio = 4 / 5, 16 / 17
        self.g_optim = torch.optim.Adam(self.g.parameters(), lr=0.002 * g_ratio,
                                        betas=(0.0, 0.99 ** g_ratio))
        self.d_optim = torch.optim.Adam(self.d.parameters(), lr=0.002 * d_ratio,
                                        betas=(0.0, 0.99 ** d_ratio))
        self.batches, self.batch, self.device = batches, batch, device
        self.mean_path_length = torch.zeros((), device=device)
        self.i = 0
        self.coin = random.Random(0)

    def _z(self, n: int) -> list[torch.Tensor]:
        """train.py's mixing_noise at its default probability 0.9."""
        return list(torch.randn(2 if self.coin.random() < 0.9 else 1, n, 512,
                                device=self.device).unbind(0))

    def train_step(self) -> None:
        real = next(self.batches)["real"].to(self.device)
        self.g.requires_grad_(False)
        self.d.requires_grad_(True)
        fake, _ = self.g(self._z(self.batch))
        d_loss = F.softplus(-self.d(real)).mean() + F.softplus(self.d(fake)).mean()
        self.d.zero_grad()
        d_loss.backward()
        self.d_optim.step()
        if self.i % 16 == 0:
            real.requires_grad_(True)
            real_pred = self.d(real)
            (grad,) = torch.autograd.grad(real_pred.sum(), real, create_graph=True)
            r1 = grad.pow(2).reshape(grad.shape[0], -1).sum(1).mean()
            self.d.zero_grad()
            (10 / 2 * r1 * 16 + 0 * real_pred[0]).sum().backward()
            self.d_optim.step()
        self.g.requires_grad_(True)
        self.d.requires_grad_(False)
        fake, _ = self.g(self._z(self.batch))
        g_loss = F.softplus(-self.d(fake)).mean()
        self.g.zero_grad()
        g_loss.backward()
        self.g_optim.step()
        if self.i % 4 == 0:
            fake, latents = self.g(self._z(max(1, self.batch // 2)), return_latents=True)
            noise = torch.randn_like(fake) / math.sqrt(fake.shape[2] * fake.shape[3])
            (grad,) = torch.autograd.grad((fake * noise).sum(), latents, create_graph=True)
            lengths = grad.pow(2).sum(2).mean(1).sqrt()
            mean = self.mean_path_length + 0.01 * (lengths.mean() - self.mean_path_length)
            penalty = (lengths - mean).pow(2).mean()
            self.mean_path_length = mean.detach()
            self.g.zero_grad()
            (2 * 4 * penalty + 0 * fake[0, 0, 0, 0]).backward()
            self.g_optim.step()
        with torch.no_grad():
            decay = 0.5 ** (32 / (10 * 1000))
            for mine, average in zip(self.g.parameters(), self.g_ema.parameters(), strict=True):
                average.mul_(decay).add_(mine, alpha=1 - decay)
        self.i += 1


def build(checkout: Path, overrides: list[str], device: str, n_batches: int) -> Contender:
    """The StyleGAN2 contender: specs/stylegan2.yaml at 64 px against the checkout's."""
    trainer, batches, tmp = compiled_trainer(SPEC, [*BASE, *overrides], device, n_batches)
    size = trainer.spec.tree["params"]["image_size"]
    model = import_reference(checkout, trainer.device)
    ref = Reference(model, Replay(batches), trainer.batch_size, trainer.device, size)
    for name, theirs in (("G", ref.g), ("D", ref.d)):
        mine = n_parameters(trainer.gan.nets[name])
        if mine != n_parameters(theirs):
            sys.exit(f"{name}: compiled {mine:,} parameters, reference "
                     f"{n_parameters(theirs):,}: run at config-f widths")
    return Contender(
        name="StyleGAN2",
        settings=f"{SPEC} {' '.join([*BASE, *overrides])}: batch {trainer.batch_size}, "
                 f"3x{size}x{size}, G {n_parameters(ref.g):,} and D {n_parameters(ref.d):,} "
                 "parameters",
        compiled=compiled_step(trainer),
        handwritten=ref.train_step,
        drift=lambda: math.nan,
        device=trainer.device,
        cleanup=tmp.cleanup,
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rosinality", type=Path, required=True,
                    help="a checkout of rosinality/stylegan2-pytorch (its model.py and op/)")
    ap.add_argument("--set", dest="overrides", action="append", default=[],
                    metavar="PATH=VALUE", help="spec override, e.g. data.batch_size=8")
    add_protocol_args(ap, pairs=16, warmup=2)
    args = ap.parse_args(argv)
    if not (args.rosinality / "model.py").is_file():
        sys.exit(f"--rosinality {args.rosinality}: no model.py there")
    return run_table([lambda: build(args.rosinality, args.overrides, args.device,
                                    args.batches)], args)


if __name__ == "__main__":
    sys.exit(main())
