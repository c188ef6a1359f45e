"""How the `adversarial` term shapes what its critic judges: PacGAN packing and the
relativistic scores (torch is used only by the functions that compute)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ganbuilder.layers.registry import Shape


def packed_shapes(params: dict, shapes: list[Shape]) -> list[Shape]:
    """The per-sample shapes a critic sees when `pack: m` joins m samples along their first
    dimension (channels of an image, features of a vector). Shapes it cannot pack (a label,
    one number per sample) are left as they are: the term's check reports them."""
    m = params.get("pack", 1)
    return [(m * s[0], *s[1:]) if s else s for s in shapes]


def pack(tensors: list, m: int) -> list:
    """PacGAN (Lin et al. 2018): m consecutive samples become one, concatenated along the first
    feature dimension, so a batch of B becomes B / m packs. Real and fake are packed alike."""
    if m == 1:
        return tensors
    out = []
    for t in tensors:
        if t.dim() < 2:
            raise ValueError(f"pack: {m} concatenates samples along their first dimension; a "
                             "tensor of one number per sample has none")
        if t.shape[0] % m:
            raise ValueError(f"pack: a batch of {t.shape[0]} does not split into packs of {m}")
        out.append(t.reshape(t.shape[0] // m, m * t.shape[1], *t.shape[2:]))
    return out


def relativistic_loss(f1: Callable[[Any], Any], high, low, form: str):
    """The relativistic loss (Jolicoeur-Martineau 2018) of the side that wants scores `high`
    judged above scores `low`: the critic passes (real, fake), the generator (fake, real).

    standard (RSGAN): E[f1(C(high) - C(low))] over paired samples;
    average (RaGAN): E[f1(C(high) - E C(low))] + E[f1(-(C(low) - E C(high)))].
    """
    if form == "standard":
        if high.shape != low.shape:
            raise ValueError("relativistic: standard pairs each real sample with a fake one; "
                             f"got {tuple(high.shape)} and {tuple(low.shape)} critic outputs")
        return f1(high - low).mean()
    return f1(high - low.mean()).mean() + f1(-(low - high.mean())).mean()


def relativistic_scores(real, fake, form: str):
    """How far each real score lies above the fakes' and each fake score above the reals' (the
    quantities a relativistic critic thresholds at 0)."""
    if form == "standard":
        return real - fake, fake - real
    return real - fake.mean(), fake - real.mean()
