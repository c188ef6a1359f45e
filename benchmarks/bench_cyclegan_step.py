"""One CycleGAN training iteration: ganbuilder's compiled spec against hand-written PyTorch.

What is compared
    compiled     `Trainer.train_step` for specs/cyclegan.yaml: the G objective (both generators:
                 fake, reconstruction and identity images, LSGAN loss of each fake under its
                 domain's critic, cycle L1 x 10 and identity L1 x 5, backward, one Adam step
                 over both), then the D objective (each critic on its real images and on a fake
                 from its 50-image history pool, LSGAN, weight 0.5, backward, one Adam step over
                 both), with the cache look-ups, lr schedule, accuracy metrics and metric sums.
    handwritten  junyanz/pytorch-CycleGAN-and-pix2pix's CycleGANModel written out: its
                 ResnetGenerator (reflection padding, instance norm, n_blocks ResnetBlocks,
                 in-place ReLU), NLayerDiscriminator (n_layers 3, instance norm), ImagePool(50),
                 GANLoss('lsgan'), L1 cycle and identity losses, one Adam(2e-4, (0.5, 0.999))
                 over both generators and one over both critics, and its optimize_parameters:
                 forward(), the G step with set_requires_grad([D_A, D_B], False), then the D step
                 with requires_grad back on, each critic's loss (real + fake) x 0.5 on
                 fake.detach() from its pool, backward per critic.
                 Names follow the spec: D_A judges domain A (fake_A = G_BA(real_B)); the
                 repository's netD_A is the spec's D_B.

The image pool is the repository's algorithm with one change: its coin and index come from a
torch.Generator started in the state of the trainer's pool generator (the repository uses Python's
`random`), queried in the spec's order (D_A's pool, then D_B's), so both sides pick the same
history images. Both sides read the same pre-drawn data batches and start from the compiled
nets' initial weights. The timing protocol is benchmarks/_pairs.py's.

Run
    .venv/bin/python benchmarks/bench_cyclegan_step.py
    .venv/bin/python benchmarks/bench_training_steps.py     # with DCGAN and pix2pix
"""

from __future__ import annotations

import itertools
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
from bench_pix2pix_step import GANLoss, init_weights, patch_discriminator, set_requires_grad
from torch import nn

SPEC = "cyclegan.yaml"
QUICK: list[str] = []  # the spec's own size (32 px, ngf 32, 9 blocks, batch 1) fits 2 cores


# -- the hand-written networks (pytorch-CycleGAN-and-pix2pix models/networks.py) -------------
class ResnetBlock(nn.Module):
    """x + conv_block(x), reflection-padded, instance norm, no dropout."""

    def __init__(self, dim: int):
        super().__init__()
        use_bias = True  # instance norm without affine parameters
        self.conv_block = nn.Sequential(
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
            nn.InstanceNorm2d(dim), nn.ReLU(True),
            nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, kernel_size=3, padding=0, bias=use_bias),
            nn.InstanceNorm2d(dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.conv_block(x)


def resnet_generator(input_nc: int, output_nc: int, ngf: int, n_blocks: int) -> nn.Sequential:
    """ResnetGenerator: 7x7 conv, two halvings, n_blocks residual blocks, two doublings."""
    use_bias = True
    model: list[nn.Module] = [nn.ReflectionPad2d(3),
                              nn.Conv2d(input_nc, ngf, kernel_size=7, padding=0, bias=use_bias),
                              nn.InstanceNorm2d(ngf), nn.ReLU(True)]
    n_downsampling = 2
    for i in range(n_downsampling):
        mult = 2**i
        model += [nn.Conv2d(ngf * mult, ngf * mult * 2, kernel_size=3, stride=2, padding=1,
                            bias=use_bias),
                  nn.InstanceNorm2d(ngf * mult * 2), nn.ReLU(True)]
    mult = 2**n_downsampling
    model += [ResnetBlock(ngf * mult) for _ in range(n_blocks)]
    for i in range(n_downsampling):
        mult = 2 ** (n_downsampling - i)
        model += [nn.ConvTranspose2d(ngf * mult, ngf * mult // 2, kernel_size=3, stride=2,
                                     padding=1, output_padding=1, bias=use_bias),
                  nn.InstanceNorm2d(ngf * mult // 2), nn.ReLU(True)]
    model += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, kernel_size=7, padding=0),
              nn.Tanh()]
    return nn.Sequential(*model)


class ImagePool:
    """The repository's ImagePool: up to pool_size past fakes; once full, each image is
    swapped for a stored one with probability 1/2."""

    def __init__(self, pool_size: int, generator: torch.Generator):
        self.pool_size = pool_size
        self.num_imgs = 0
        self.images: list[torch.Tensor] = []
        self.generator = generator

    def query(self, images: torch.Tensor) -> torch.Tensor:
        if self.pool_size == 0:
            return images
        return_images = []
        for image in images:
            image = torch.unsqueeze(image.data, 0)
            if self.num_imgs < self.pool_size:
                self.num_imgs = self.num_imgs + 1
                self.images.append(image)
                return_images.append(image)
            else:
                p = torch.rand(1, generator=self.generator).item()
                if p < 0.5:
                    random_id = int(torch.randint(self.pool_size, (1,),
                                                  generator=self.generator))
                    tmp = self.images[random_id].clone()
                    self.images[random_id] = image
                    return_images.append(tmp)
                else:
                    return_images.append(image)
        return torch.cat(return_images, 0)


class CycleGANModel:
    """The repository's CycleGANModel.optimize_parameters (G step, then D step)."""

    def __init__(self, nets: dict[str, nn.Module], batches: Replay, device: torch.device,
                 pool_size: int, pool_generator: torch.Generator, lambda_cycle: float,
                 lambda_identity: float):
        self.netG_AB, self.netG_BA = nets["G_AB"], nets["G_BA"]
        self.netD_A, self.netD_B = nets["D_A"], nets["D_B"]
        self.batches, self.device = batches, device
        self.lambda_A = self.lambda_B = lambda_cycle
        self.lambda_idt = lambda_identity
        self.fake_A_pool = ImagePool(pool_size, pool_generator)
        self.fake_B_pool = ImagePool(pool_size, pool_generator)
        self.criterionGAN = GANLoss("lsgan").to(device)
        self.criterionCycle = nn.L1Loss()
        self.criterionIdt = nn.L1Loss()
        self.optimizer_G = torch.optim.Adam(
            itertools.chain(self.netG_AB.parameters(), self.netG_BA.parameters()),
            lr=2e-4, betas=(0.5, 0.999))
        self.optimizer_D = torch.optim.Adam(
            itertools.chain(self.netD_A.parameters(), self.netD_B.parameters()),
            lr=2e-4, betas=(0.5, 0.999))

    def set_input(self, batch: dict) -> None:
        self.real_A = batch["real_A"].to(self.device)
        self.real_B = batch["real_B"].to(self.device)

    def forward(self) -> None:
        self.fake_B = self.netG_AB(self.real_A)
        self.rec_A = self.netG_BA(self.fake_B)
        self.fake_A = self.netG_BA(self.real_B)
        self.rec_B = self.netG_AB(self.fake_A)

    def backward_D_basic(self, netD: nn.Module, real: torch.Tensor,
                         fake: torch.Tensor) -> torch.Tensor:
        pred_real = netD(real)
        loss_D_real = self.criterionGAN(pred_real, True)
        pred_fake = netD(fake.detach())
        loss_D_fake = self.criterionGAN(pred_fake, False)
        loss_D = (loss_D_real + loss_D_fake) * 0.5
        loss_D.backward()
        return loss_D

    def backward_D_A(self) -> None:
        fake_A = self.fake_A_pool.query(self.fake_A)
        self.loss_D_A = self.backward_D_basic(self.netD_A, self.real_A, fake_A)

    def backward_D_B(self) -> None:
        fake_B = self.fake_B_pool.query(self.fake_B)
        self.loss_D_B = self.backward_D_basic(self.netD_B, self.real_B, fake_B)

    def backward_G(self) -> None:
        lambda_idt, lambda_A, lambda_B = self.lambda_idt, self.lambda_A, self.lambda_B
        # G_AB should be the identity on B, G_BA on A.
        self.idt_B = self.netG_AB(self.real_B)
        self.loss_idt_B = self.criterionIdt(self.idt_B, self.real_B) * lambda_B * lambda_idt
        self.idt_A = self.netG_BA(self.real_A)
        self.loss_idt_A = self.criterionIdt(self.idt_A, self.real_A) * lambda_A * lambda_idt
        self.loss_G_AB = self.criterionGAN(self.netD_B(self.fake_B), True)
        self.loss_G_BA = self.criterionGAN(self.netD_A(self.fake_A), True)
        self.loss_cycle_A = self.criterionCycle(self.rec_A, self.real_A) * lambda_A
        self.loss_cycle_B = self.criterionCycle(self.rec_B, self.real_B) * lambda_B
        self.loss_G = (self.loss_G_AB + self.loss_G_BA + self.loss_cycle_A + self.loss_cycle_B
                       + self.loss_idt_B + self.loss_idt_A)
        self.loss_G.backward()

    def train_step(self) -> None:
        self.set_input(next(self.batches))
        self.forward()
        set_requires_grad([self.netD_A, self.netD_B], False)
        self.optimizer_G.zero_grad()
        self.backward_G()
        self.optimizer_G.step()
        set_requires_grad([self.netD_A, self.netD_B], True)
        self.optimizer_D.zero_grad()
        self.backward_D_A()
        self.backward_D_B()
        self.optimizer_D.step()


def build(overrides: list[str], device: str = "auto", n_batches: int = 8) -> Contender:
    """The CycleGAN contender for specs/cyclegan.yaml with `overrides`."""
    trainer, batches, tmp = compiled_trainer(SPEC, overrides, device, n_batches)
    if trainer.spec.objective_order != ["G", "D"]:
        sys.exit(f"cyclegan: the hand-written loop steps G then D, the spec "
                 f"{trainer.spec.objective_order}")
    p = trainer.spec.tree["params"]
    nc = p["nc"]
    hand: dict[str, nn.Module] = {
        "G_AB": resnet_generator(nc, nc, p["ngf"], p["n_blocks"]),
        "G_BA": resnet_generator(nc, nc, p["ngf"], p["n_blocks"]),
        "D_A": patch_discriminator(nc, p["ndf"], nn.InstanceNorm2d),
        "D_B": patch_discriminator(nc, p["ndf"], nn.InstanceNorm2d),
    }
    for net in hand.values():
        init_weights(net)
    adopt_weights(hand, trainer.gan.nets)
    for net in hand.values():
        net.to(trainer.device).train()
    pool_sizes = {t.params["history"] for t in trainer.spec.analysis.objective_terms("D")
                  if t.params.get("history")}
    if len(pool_sizes) != 1:
        sys.exit(f"cyclegan: expected one history size in the D objective, found {pool_sizes}")
    pool_generator = torch.Generator()
    pool_generator.set_state(trainer.pool_generator.get_state())  # the same coin tosses
    model = CycleGANModel(hand, Replay(batches), trainer.device, pool_sizes.pop(),
                          pool_generator, p["lambda_cycle"], p["lambda_identity"])
    size = p["image_size"]
    return Contender(
        name="CycleGAN",
        settings=f"{SPEC} {' '.join(overrides)}: batch {trainer.batch_size}, {nc}x{size}x{size}, "
                 f"ngf {p['ngf']}, {p['n_blocks']} blocks, each G "
                 f"{n_parameters(hand['G_AB']):,} and each D "
                 f"{n_parameters(hand['D_A']):,} parameters",
        compiled=compiled_step(trainer),
        handwritten=model.train_step,
        drift=parameter_drift(hand, trainer.gan.nets),
        device=trainer.device,
        cleanup=tmp.cleanup,
    )


def main(argv: list[str] | None = None) -> int:
    return main_for(build, __doc__.split("\n")[0], "params.ngf=64", pairs=20, warmup=3,
                    argv=argv)


if __name__ == "__main__":
    sys.exit(main())
