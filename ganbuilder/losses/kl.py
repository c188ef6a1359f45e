"""`kl_divergence`: the KL term of an encoder with reparameterised latents (a VAE's prior
term; SPADE's style encoder, BicycleGAN, MUNIT)."""

from __future__ import annotations

from ganbuilder._lazy import torch
from ganbuilder.layers.registry import format_shape
from ganbuilder.losses.params import TENSOR
from ganbuilder.losses.registry import loss_term


def _check(p: dict, shapes: dict, latent: dict) -> list[tuple[str, str]]:
    """mu and logvar describe one Gaussian per value: their shapes must agree."""
    mu, logvar = shapes.get("mu"), shapes.get("logvar")
    if mu and logvar and tuple(mu[0]) != tuple(logvar[0]):
        return [("logvar", f"'{p['logvar']}' has shape {format_shape(tuple(logvar[0]))} but "
                 f"'{p['mu']}' has {format_shape(tuple(mu[0]))}; they describe one Gaussian "
                 "per value")]
    return []


@loss_term(
    "kl_divergence",
    {
        "mu": {**TENSOR, "description": "the encoder's means (a forward tensor or a tap)"},
        "logvar": {**TENSOR, "description": "the encoder's log-variances, same shape as mu"},
        "reduction": {"enum": ["sum", "mean"], "default": "sum",
                      "description": "sum over the batch and the values (SPADE's KLDLoss, "
                                     "weight 0.05) or the mean over the batch (per sample)"},
    },
    required=("mu", "logvar"),
    tensors=("mu", "logvar"),
    inputs=(),
    check=_check,
)
def kl_divergence(p: dict, ctx):
    """KL(N(mu, exp(logvar)) || N(0, 1)) = -0.5 * sum(1 + logvar - mu² - exp(logvar)): pulls
    an encoder's Gaussian towards the prior that latents are drawn from at sampling time.
    `reduction: sum` is SPADE's (weight 0.05); `mean` divides by the batch size."""
    mu, logvar = ctx.tensor(p["mu"]), ctx.tensor(p["logvar"])
    kl = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    if p["reduction"] == "mean":
        kl = kl / mu.shape[0]
    return kl, {}
