"""GAN loss kinds. Critics output raw scores (logits); no sigmoid layer is needed in D."""

from __future__ import annotations

from ganbuilder._lazy import F, torch
from ganbuilder.losses.registry import GAN_LOSSES, GanLoss


def _bce_d(real, fake):
    return (F.binary_cross_entropy_with_logits(real, torch.ones_like(real))
            + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))


GAN_LOSSES.add("bce", GanLoss(
    "bce", _bce_d,
    lambda fake: F.binary_cross_entropy_with_logits(fake, torch.ones_like(fake)),
    0.0, "Goodfellow et al. 2014 with the non-saturating generator loss -log D(G(z)).",
    lambda y: F.softplus(-y)))  # -log sigmoid(y): RSGAN and RaSGAN
GAN_LOSSES.add("minimax", GanLoss(
    "minimax", _bce_d,
    lambda fake: -F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)),
    0.0, "The original minimax game: G minimises log(1 - D(G(z)))."))
GAN_LOSSES.add("lsgan", GanLoss(
    "lsgan",
    lambda real, fake: F.mse_loss(real, torch.ones_like(real)) + F.mse_loss(
        fake, torch.zeros_like(fake)),
    lambda fake: F.mse_loss(fake, torch.ones_like(fake)),
    0.5, "Least squares GAN (Mao et al. 2017), targets 1 for real and 0 for fake.",
    lambda y: (y - 1.0) ** 2))  # RaLSGAN's targets are +1 and -1 (the paper's eq. 8)
GAN_LOSSES.add("wgan", GanLoss(
    "wgan",
    lambda real, fake: fake.mean() - real.mean(),
    lambda fake: -fake.mean(),
    0.0, "Wasserstein GAN (Arjovsky et al. 2017); pair with a Lipschitz constraint."))
GAN_LOSSES.add("hinge", GanLoss(
    "hinge",
    lambda real, fake: F.relu(1.0 - real).mean() + F.relu(1.0 + fake).mean(),
    lambda fake: -fake.mean(),
    0.0, "Hinge loss (Lim & Ye 2017; SAGAN, BigGAN).",
    lambda y: F.relu(1.0 - y)))
