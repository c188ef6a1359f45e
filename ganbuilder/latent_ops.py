"""Walks and arithmetic in latent space: interpolation, vector arithmetic, class sweeps and
InfoGAN code traversals.

Pure tensor functions; the GUI's latent explorer and scripts build inputs with them and hand
them to `ganbuilder.runs.samples.generate`.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

MODES = ("linear", "slerp")


def lerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """The point a fraction `t` of the way from `a` to `b` on a straight line."""
    return a + (b - a) * t


def slerp(a: torch.Tensor, b: torch.Tensor, t: float) -> torch.Tensor:
    """Spherical interpolation (White 2016): along the great circle between `a` and `b`,
    with the norm interpolated linearly. Vectors are flattened; (nearly) parallel ones fall
    back to `lerp`."""
    fa, fb = a.flatten().double(), b.flatten().double()
    na, nb = fa.norm(), fb.norm()
    if na == 0 or nb == 0:
        return lerp(a, b, t)
    cos = torch.clamp(torch.dot(fa / na, fb / nb), -1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-6:
        return lerp(a, b, t)
    so = torch.sin(omega)
    direction = (torch.sin((1 - t) * omega) / so) * fa / na + (torch.sin(t * omega) / so) * fb / nb
    direction = direction / direction.norm()
    return (direction * ((1 - t) * na + t * nb)).reshape(a.shape).to(a.dtype)


def interpolate(a: torch.Tensor, b: torch.Tensor, steps: int, mode: str = "linear"
                ) -> torch.Tensor:
    """`steps` points from `a` to `b` inclusive, stacked on a new first dimension."""
    if steps < 2:
        raise ValueError(f"interpolation needs at least 2 steps, got {steps}")
    if mode not in MODES:
        raise ValueError(f"unknown interpolation mode '{mode}'; expected one of {MODES}")
    walk = lerp if mode == "linear" else slerp
    points = [walk(a, b, i / (steps - 1)) for i in range(steps)]
    # The ends are the chosen latents exactly, not their float round trip.
    points[0], points[-1] = a.clone(), b.clone()
    return torch.stack(points)


def arithmetic(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """mean(A) - mean(B) + mean(C) over the first dimension of each group (Radford et al.
    2016: smiling woman - neutral woman + neutral man)."""
    for name, group in (("A", a), ("B", b), ("C", c)):
        if group.shape[0] == 0:
            raise ValueError(f"group {name} is empty")
    return a.mean(0) - b.mean(0) + c.mean(0)


def class_sweep(latent: torch.Tensor, classes: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One latent repeated once per class, and the labels 0..classes-1 to pair it with."""
    if classes < 1:
        raise ValueError(f"a class sweep needs at least one class, got {classes}")
    repeated = latent.unsqueeze(0).expand(classes, *latent.shape).clone()
    return repeated, torch.arange(classes, dtype=torch.long, device=latent.device)


def code_traversal(latents: Mapping[str, torch.Tensor], code: str, *, classes: int | None = None,
                   dim: int = 0, steps: int = 5, lo: float = -2.0, hi: float = 2.0
                   ) -> dict[str, torch.Tensor]:
    """Inputs for an InfoGAN traversal grid: one row per sample in `latents`, one column per
    value of `code`, everything else fixed along a row.

    `latents` maps input names to R samples each (first dimension R). A categorical `code`
    (integer labels) takes `classes` columns, the values 0..classes-1. A continuous `code` has
    element `dim` of its flattened per-sample shape set to `steps` evenly spaced values from
    `lo` to `hi` (the paper's figures go beyond the U(-1, 1) prior, to -2..2); its other
    elements stay fixed. Returns every entry with R * columns samples, row by row (row r,
    column j at r * columns + j), ready for `ganbuilder.runs.samples.generate` and a grid with
    `columns` images per row.
    """
    if code not in latents:
        raise ValueError(f"no input '{code}' among {sorted(latents)}")
    rows = {len(v) for v in latents.values()}
    if len(rows) != 1:
        raise ValueError(f"inputs hold different numbers of samples: {sorted(rows)}")
    base = latents[code]
    if base.dtype.is_floating_point:
        if classes is not None:
            raise ValueError(f"'{code}' is continuous; 'classes' is for categorical codes")
        if steps < 2:
            raise ValueError(f"a traversal needs at least 2 steps, got {steps}")
        size = base[0].numel()
        if not 0 <= dim < size:
            raise ValueError(f"dim must be in 0..{size - 1} for '{code}', got {dim}")
        columns = steps
        values = base.flatten(1).repeat_interleave(columns, dim=0)
        values[:, dim] = torch.linspace(lo, hi, steps, dtype=base.dtype,
                                        device=base.device).repeat(len(base))
        varied = values.reshape(len(values), *base.shape[1:])
    else:
        if classes is None or classes < 1:
            raise ValueError(f"'{code}' is categorical: give its number of classes")
        columns = classes
        varied = torch.arange(classes, dtype=base.dtype, device=base.device).repeat(len(base))
    return {k: varied if k == code else v.repeat_interleave(columns, dim=0)
            for k, v in latents.items()}
