"""One DCGAN training iteration: ganbuilder's compiled spec against hand-written PyTorch.

What is compared
    compiled     `Trainer.train_step` for specs/dcgan.yaml: the draw (batch + latent z), the
                 D objective (D(real), D(fake.detach()), BCE-with-logits, backward, Adam step),
                 then the G objective (D(fake) with the same fake, BCE to 1, backward, Adam step),
                 including everything the step does besides: TensorCache look-ups, the per-step
                 lr setting, the D accuracy metrics and the accumulation of every metric.
    handwritten  the pytorch/examples DCGAN loop written by hand: nn.Sequential G and D of the
                 same shape (parameter counts asserted equal), weights_init N(0, 0.02) with BN
                 weight N(1, 0.02) and bias 0, one Adam(2e-4, betas (0.5, 0.999)) per network,
                 BCEWithLogitsLoss (D has no sigmoid), D step on real and fake.detach() (two
                 backward calls, as in the example), then G step on D(fake) with the same fake.
                 Like the example it leaves D's requires_grad on in the G step (its weight
                 gradients are computed, then zeroed by the next D step) and keeps no
                 statistics (no .item()).

Both sides read the same pre-drawn data batches, draw z from torch.Generators in the same state
and start from the compiled nets' initial weights, so they do the very same arithmetic. The
timing protocol is benchmarks/_pairs.py's.

Run
    .venv/bin/python benchmarks/bench_dcgan_step.py --set params.ngf=32 --set params.ndf=32
    .venv/bin/python benchmarks/bench_training_steps.py     # with pix2pix and CycleGAN
"""

from __future__ import annotations

import sys

import torch
from _pairs import (
    Contender,
    Replay,
    adopt_weights,
    compiled_step,
    compiled_trainer,
    main_for,
    n_parameters,
    parameter_drift,
)
from torch import nn

SPEC = "dcgan.yaml"
QUICK = ["params.ngf=32", "params.ndf=32"]  # what `make bench` uses


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
    """pytorch/examples' DCGAN initialisation."""
    if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
        nn.init.normal_(m.weight, 0.0, 0.02)
    elif isinstance(m, nn.BatchNorm2d):
        nn.init.normal_(m.weight, 1.0, 0.02)
        nn.init.zeros_(m.bias)


class HandWritten:
    """The pytorch/examples training loop, fed from the same replayed batches."""

    def __init__(self, netG: nn.Module, netD: nn.Module, batches: Replay, nz: int,
                 batch_size: int, generator: torch.Generator, device: torch.device):
        self.netG, self.netD = netG, netD
        self.optG = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optD = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.criterion = nn.BCEWithLogitsLoss()
        self.batches, self.nz, self.batch_size = batches, nz, batch_size
        self.gen = generator
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


def build(overrides: list[str], device: str = "auto", n_batches: int = 8) -> Contender:
    """The DCGAN contender for specs/dcgan.yaml with `overrides`."""
    trainer, batches, tmp = compiled_trainer(SPEC, overrides, device, n_batches)
    p = trainer.spec.tree["params"]
    nz, ngf, ndf, nc, size = p["nz"], p["ngf"], p["ndf"], p["nc"], p["image_size"]
    depth = p["depth"]
    hand = {"G": generator(nz, ngf, nc, depth), "D": discriminator(ndf, nc, depth)}
    for net in hand.values():
        net.apply(weights_init)
    adopt_weights(hand, trainer.gan.nets)
    for net in hand.values():
        net.to(trainer.device).train()
    latent = torch.Generator()
    latent.set_state(trainer.latent_generator.get_state())  # the same z on both sides
    loop = HandWritten(hand["G"], hand["D"], Replay(batches), nz, trainer.batch_size, latent,
                       trainer.device)
    return Contender(
        name="DCGAN",
        settings=f"{SPEC} {' '.join(overrides)}: batch {trainer.batch_size}, "
                 f"{nc}x{size}x{size}, G {n_parameters(hand['G']):,} "
                 f"and D {n_parameters(hand['D']):,} parameters",
        compiled=compiled_step(trainer),
        handwritten=loop.train_step,
        drift=parameter_drift(hand, trainer.gan.nets),
        device=trainer.device,
        cleanup=tmp.cleanup,
    )


def main(argv: list[str] | None = None) -> int:
    return main_for(build, __doc__.split("\n")[0], "params.ngf=32", pairs=30, warmup=5,
                    argv=argv)


if __name__ == "__main__":
    sys.exit(main())
