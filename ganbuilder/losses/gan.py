"""GAN loss kinds. Critics output raw scores (logits); no sigmoid layer is needed in D.

Each side is a named function of the critic's outputs, so `eject --with-training` can copy
the definitions into plain PyTorch source."""

from __future__ import annotations

from ganbuilder._lazy import F, torch
from ganbuilder.losses.registry import GAN_LOSSES, GanLoss


def bce_d_loss(real, fake):
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


def bce_g_loss(fake):
    return F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake))


def minimax_g_loss(fake):
    return -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake))


def lsgan_d_loss(real, fake):
    return F.mse_loss(real, torch.ones_like(real)) + F.mse_loss(fake, torch.zeros_like(fake))


def lsgan_g_loss(fake):
    return F.mse_loss(fake, torch.ones_like(fake))


def wgan_d_loss(real, fake):
    return fake.mean() - real.mean()


def wgan_g_loss(fake):
    return -fake.mean()


def hinge_d_loss(real, fake):
    return F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean()


# Relativistic forms: the per-element loss of a score that should be high.
def bce_relativistic(y):
    return F.softplus(-y)  # -log sigmoid(y): RSGAN and RaSGAN


def lsgan_relativistic(y):
    return (y - 1.0) ** 2  # RaLSGAN's targets are +1 and -1 (the paper's eq. 8)


def hinge_relativistic(y):
    return F.relu(1.0 - y)


GAN_LOSSES.add("bce", GanLoss(
    "bce", bce_d_loss, bce_g_loss,
    0.0, "Goodfellow et al. 2014 with the non-saturating generator loss -log D(G(z)).",
    bce_relativistic))
GAN_LOSSES.add("minimax", GanLoss(
    "minimax", bce_d_loss, minimax_g_loss,
    0.0, "The original minimax game: G minimises log(1 - D(G(z)))."))
GAN_LOSSES.add("lsgan", GanLoss(
    "lsgan", lsgan_d_loss, lsgan_g_loss,
    0.5, "Least squares GAN (Mao et al. 2017), targets 1 for real and 0 for fake.",
    lsgan_relativistic))
GAN_LOSSES.add("wgan", GanLoss(
    "wgan", wgan_d_loss, wgan_g_loss,
    0.0, "Wasserstein GAN (Arjovsky et al. 2017); pair with a Lipschitz constraint."))
GAN_LOSSES.add("hinge", GanLoss(
    "hinge", hinge_d_loss, wgan_g_loss,  # the hinge generator maximises the critic's score
    0.0, "Hinge loss (Lim & Ye 2017; SAGAN, BigGAN).",
    hinge_relativistic))
