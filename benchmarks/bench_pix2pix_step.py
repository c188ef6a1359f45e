"""One pix2pix training iteration: ganbuilder's compiled spec against hand-written PyTorch.

What is compared
    compiled     `Trainer.train_step` for specs/pix2pix.yaml: G objective (fake_B = G(real_A),
                 D(concat(real_A, fake_B)) with BCE to 1, plus 100 x L1(fake_B, real_B),
                 backward, Adam step), then D objective (D(concat(real_A, real_B)) and
                 D(concat(real_A, fake_B).detach()), BCE, weight 0.5, backward, Adam step), with
                 the cache look-ups, lr schedule, D accuracy metrics and metric accumulation.
    handwritten  junyanz/pytorch-CycleGAN-and-pix2pix's Pix2PixModel written out: its
                 UnetGenerator (UnetSkipConnectionBlock recursion, batch norm, dropout in the
                 innermost num_downs - 5 up blocks, in-place LeakyReLU/ReLU, skip concatenated
                 as cat([x, block(x)])), NLayerDiscriminator (n_layers 3, batch norm), GANLoss
                 ('vanilla': BCEWithLogitsLoss against a target expanded to the prediction),
                 L1 weight 100, Adam(2e-4, (0.5, 0.999)) per network, and its optimize_parameters:
                 forward(), then the G step with set_requires_grad(netD, False) (D's weight
                 gradients are not computed), then the D step with D's requires_grad back on,
                 on fake_AB.detach() and real_AB, loss (fake + real) x 0.5.
                 The repository runs the D step first; the spec's training.order is [G, D], and
                 the hand-written loop follows the spec so that both sides do the same arithmetic
                 (the work per iteration is the same either way).

Both sides read the same pre-drawn data batches and start from the compiled nets' initial
weights (the U-Net's up convolutions get their input channels swapped: the spec concatenates
[x, skip], the repository [skip, x]); the global RNG is seeded alike before each iteration, so
dropout draws the same masks. The timing protocol is benchmarks/_pairs.py's.

Run
    .venv/bin/python benchmarks/bench_pix2pix_step.py --set params.image_size=128
    .venv/bin/python benchmarks/bench_training_steps.py     # with DCGAN and CycleGAN
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

SPEC = "pix2pix.yaml"
# What `make bench` uses: 128 px as asked, narrower nets and a smaller batch to fit 2 cores.
QUICK = ["params.image_size=128", "params.ngf=32", "params.ndf=32", "data.batch_size=4"]


# -- the hand-written networks (pytorch-CycleGAN-and-pix2pix models/networks.py) -------------
class UnetSkipConnectionBlock(nn.Module):
    """X -------------------identity---------------------- X
      |-- downsampling -- |submodule| -- upsampling --|"""

    def __init__(self, outer_nc: int, inner_nc: int, input_nc: int | None = None,
                 submodule: nn.Module | None = None, outermost: bool = False,
                 innermost: bool = False, use_dropout: bool = False):
        super().__init__()
        self.outermost = outermost
        use_bias = False  # batch norm has its own bias
        if input_nc is None:
            input_nc = outer_nc
        downconv = nn.Conv2d(input_nc, inner_nc, kernel_size=4, stride=2, padding=1,
                             bias=use_bias)
        downrelu = nn.LeakyReLU(0.2, True)
        downnorm = nn.BatchNorm2d(inner_nc)
        uprelu = nn.ReLU(True)
        upnorm = nn.BatchNorm2d(outer_nc)
        if outermost:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2,
                                        padding=1)
            model = [downconv, submodule, uprelu, upconv, nn.Tanh()]
        elif innermost:
            upconv = nn.ConvTranspose2d(inner_nc, outer_nc, kernel_size=4, stride=2, padding=1,
                                        bias=use_bias)
            model = [downrelu, downconv, uprelu, upconv, upnorm]
        else:
            upconv = nn.ConvTranspose2d(inner_nc * 2, outer_nc, kernel_size=4, stride=2,
                                        padding=1, bias=use_bias)
            model = [downrelu, downconv, downnorm, submodule, uprelu, upconv, upnorm]
            if use_dropout:
                model += [nn.Dropout(0.5)]
        # Which weights read [skip, x]: the spec's concat orders them [x, skip].
        upconv.reads_skip_first = not innermost
        self.model = nn.Sequential(*model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.outermost:
            return self.model(x)
        return torch.cat([x, self.model(x)], 1)


def unet_generator(input_nc: int, output_nc: int, num_downs: int, ngf: int) -> nn.Module:
    """UnetGenerator: num_downs halvings down to 1x1 and back, dropout in the deepest blocks."""
    block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, innermost=True)
    for _ in range(num_downs - 5):
        block = UnetSkipConnectionBlock(ngf * 8, ngf * 8, submodule=block, use_dropout=True)
    block = UnetSkipConnectionBlock(ngf * 4, ngf * 8, submodule=block)
    block = UnetSkipConnectionBlock(ngf * 2, ngf * 4, submodule=block)
    block = UnetSkipConnectionBlock(ngf, ngf * 2, submodule=block)
    return UnetSkipConnectionBlock(output_nc, ngf, input_nc=input_nc, submodule=block,
                                   outermost=True)


def patch_discriminator(input_nc: int, ndf: int, norm: type[nn.Module],
                        n_layers: int = 3) -> nn.Sequential:
    """NLayerDiscriminator: the 70x70 PatchGAN (bias only where no batch norm follows)."""
    use_bias = norm is not nn.BatchNorm2d
    sequence: list[nn.Module] = [nn.Conv2d(input_nc, ndf, kernel_size=4, stride=2, padding=1),
                                 nn.LeakyReLU(0.2, True)]
    nf_mult = 1
    for n in range(1, n_layers + 1):
        nf_prev, nf_mult = nf_mult, min(2**n, 8)
        stride = 2 if n < n_layers else 1
        sequence += [nn.Conv2d(ndf * nf_prev, ndf * nf_mult, kernel_size=4, stride=stride,
                               padding=1, bias=use_bias),
                     norm(ndf * nf_mult), nn.LeakyReLU(0.2, True)]
    sequence += [nn.Conv2d(ndf * nf_mult, 1, kernel_size=4, stride=1, padding=1)]
    return nn.Sequential(*sequence)


def init_weights(net: nn.Module, gain: float = 0.02) -> None:
    """The repository's init_weights('normal'): conv N(0, gain), bias 0; BN N(1, gain), 0."""

    def init_func(m: nn.Module) -> None:
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.constant_(m.bias, 0.0)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.constant_(m.bias, 0.0)

    net.apply(init_func)


class GANLoss(nn.Module):
    """The repository's GANLoss for 'vanilla' (BCE with logits) and 'lsgan' (MSE)."""

    def __init__(self, gan_mode: str):
        super().__init__()
        self.register_buffer("real_label", torch.tensor(1.0))
        self.register_buffer("fake_label", torch.tensor(0.0))
        self.loss = nn.MSELoss() if gan_mode == "lsgan" else nn.BCEWithLogitsLoss()

    def __call__(self, prediction: torch.Tensor, target_is_real: bool) -> torch.Tensor:
        target = self.real_label if target_is_real else self.fake_label
        return self.loss(prediction, target.expand_as(prediction))


def set_requires_grad(nets: list[nn.Module], requires_grad: bool) -> None:
    """The repository's BaseModel.set_requires_grad: freeze a critic while G trains."""
    for net in nets:
        for param in net.parameters():
            param.requires_grad = requires_grad


class Pix2PixModel:
    """The repository's Pix2PixModel.optimize_parameters, G step first as the spec orders."""

    def __init__(self, netG: nn.Module, netD: nn.Module, batches: Replay, device: torch.device,
                 lambda_L1: float = 100.0):
        self.netG, self.netD, self.batches, self.device = netG, netD, batches, device
        self.criterionGAN = GANLoss("vanilla").to(device)
        self.criterionL1 = nn.L1Loss()
        self.lambda_L1 = lambda_L1
        self.optimizer_G = torch.optim.Adam(netG.parameters(), lr=2e-4, betas=(0.5, 0.999))
        self.optimizer_D = torch.optim.Adam(netD.parameters(), lr=2e-4, betas=(0.5, 0.999))

    def set_input(self, batch: dict) -> None:
        self.real_A = batch["real_A"].to(self.device)
        self.real_B = batch["real_B"].to(self.device)

    def forward(self) -> None:
        self.fake_B = self.netG(self.real_A)

    def backward_D(self) -> None:
        fake_AB = torch.cat((self.real_A, self.fake_B), 1)
        pred_fake = self.netD(fake_AB.detach())
        self.loss_D_fake = self.criterionGAN(pred_fake, False)
        real_AB = torch.cat((self.real_A, self.real_B), 1)
        pred_real = self.netD(real_AB)
        self.loss_D_real = self.criterionGAN(pred_real, True)
        self.loss_D = (self.loss_D_fake + self.loss_D_real) * 0.5
        self.loss_D.backward()

    def backward_G(self) -> None:
        fake_AB = torch.cat((self.real_A, self.fake_B), 1)
        pred_fake = self.netD(fake_AB)
        self.loss_G_GAN = self.criterionGAN(pred_fake, True)
        self.loss_G_L1 = self.criterionL1(self.fake_B, self.real_B) * self.lambda_L1
        self.loss_G = self.loss_G_GAN + self.loss_G_L1
        self.loss_G.backward()

    def train_step(self) -> None:
        self.set_input(next(self.batches))
        self.forward()
        set_requires_grad([self.netD], False)  # D requires no gradients when optimizing G
        self.optimizer_G.zero_grad()
        self.backward_G()
        self.optimizer_G.step()
        set_requires_grad([self.netD], True)
        self.optimizer_D.zero_grad()
        self.backward_D()
        self.optimizer_D.step()


def skip_order(hand: dict[str, nn.Module], net: str = "G"):
    """A `convert` for adopt_weights: the U-Net's up convolutions reading a concatenation get
    the two halves of their input channels swapped ([x, skip] -> [skip, x])."""
    keys = list(hand[net].state_dict())
    swapped = {keys.index(f"{name}.weight") for name, m in hand[net].named_modules()
               if getattr(m, "reads_skip_first", False)}

    def convert(name: str, index: int, tensor: torch.Tensor) -> torch.Tensor:
        if name != net or index not in swapped:
            return tensor
        half = tensor.shape[0] // 2
        return torch.cat([tensor[half:], tensor[:half]])

    return convert


def build(overrides: list[str], device: str = "auto", n_batches: int = 8) -> Contender:
    """The pix2pix contender for specs/pix2pix.yaml with `overrides`."""
    trainer, batches, tmp = compiled_trainer(SPEC, overrides, device, n_batches)
    if trainer.spec.objective_order != ["G", "D"]:
        sys.exit(f"pix2pix: the hand-written loop steps G then D, the spec "
                 f"{trainer.spec.objective_order}")
    p = trainer.spec.tree["params"]
    hand = {"G": unet_generator(p["nc_in"], p["nc_out"], p["depth"], p["ngf"]),
            "D": patch_discriminator(p["nc_in"] + p["nc_out"], p["ndf"], nn.BatchNorm2d)}
    for net in hand.values():
        init_weights(net)
    convert = skip_order(hand)
    adopt_weights(hand, trainer.gan.nets, convert)
    for net in hand.values():
        net.to(trainer.device).train()
    model = Pix2PixModel(hand["G"], hand["D"], Replay(batches), trainer.device)
    size = p["image_size"]
    return Contender(
        name="pix2pix",
        settings=f"{SPEC} {' '.join(overrides)}: batch {trainer.batch_size}, "
                 f"{p['nc_in']}x{size}x{size}, G {n_parameters(hand['G']):,}"
                 f" and D {n_parameters(hand['D']):,} parameters",
        compiled=compiled_step(trainer),
        handwritten=model.train_step,
        drift=parameter_drift(hand, trainer.gan.nets, convert),
        device=trainer.device,
        cleanup=tmp.cleanup,
    )


def main(argv: list[str] | None = None) -> int:
    return main_for(build, __doc__.split("\n")[0], "params.image_size=128", pairs=20, warmup=3,
                    argv=argv)


if __name__ == "__main__":
    sys.exit(main())
