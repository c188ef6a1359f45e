"""Registered loss terms and GAN loss kinds (torch-free to import)."""

from ganbuilder.losses import (  # noqa: F401  (registration)
    builtin_terms,
    classification,
    feature_matching,
    gan,
    kl,
    multilabel,
    patch_nce,
    path_length,
    perceptual,
)
from ganbuilder.losses.context import TermContext
from ganbuilder.losses.registry import GAN_LOSSES, LOSSES, GanLoss, LossDef, loss_term

__all__ = ["GAN_LOSSES", "LOSSES", "GanLoss", "LossDef", "TermContext", "loss_term"]
