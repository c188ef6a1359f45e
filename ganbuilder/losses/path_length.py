"""StyleGAN2's path-length regularisation (Karras et al. 2020): G's image should change by the
same amount whichever direction w moves in."""

from __future__ import annotations

import math

from ganbuilder._lazy import torch
from ganbuilder.layers.registry import format_shape
from ganbuilder.losses.params import TENSOR
from ganbuilder.losses.registry import loss_term


def path_lengths(image, w):
    """|J_w^T y| per sample for y ~ N(0, 1) / sqrt(pixels): the length of the image's change
    along a random direction, pulled back to w, a style (N, w) or per-layer styles
    (N, layers, w) (differentiable)."""
    noise = torch.randn_like(image) / math.sqrt(math.prod(image.shape[2:]) or 1)
    (grad,) = torch.autograd.grad((image * noise).sum(), w, create_graph=True)
    # Per-layer styles (N, layers, w): the squared norms averaged over the layers, as
    # StyleGAN2's code takes them.
    return grad.pow(2).sum(-1).reshape(len(grad), -1).mean(1).sqrt()


def _check(p: dict, shapes: dict, latent: dict) -> list[tuple[str, str]]:
    w = shapes.get("w")
    if w and len(w[0]) not in (1, 2):
        return [("w", f"'{p['w']}' must be a style vector or per-layer styles per sample, got "
                      f"{format_shape(w[0])}; tap the mapping's output (fake.w) or style_mix's "
                      f"(fake.ws)")]
    return []


@loss_term(
    "path_length",
    {"fake": TENSOR, "w": TENSOR,
     "decay": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.01,
               "description": "how fast the running mean of the path lengths follows them"}},
    required=("fake", "w"),
    tensors=("fake", "w"),
    inputs=(),
    check=_check,
)
def path_length(p: dict, ctx):
    """E (|J_w^T y| - a)², a the running mean of the lengths (kept in checkpoints), for G's
    images `fake` and the styles `w` they were made from, a tap such as `fake.w` (StyleGAN2:
    weight 2, every 4 steps)."""
    lengths = path_lengths(ctx.tensor(p["fake"]), ctx.tensor(p["w"]))
    mean = ctx.state.setdefault("mean", torch.zeros((), device=lengths.device))
    mean = mean + p["decay"] * (lengths.mean().detach() - mean)
    ctx.state["mean"] = mean
    return (lengths - mean).pow(2).mean(), {"path_length/mean": mean}
