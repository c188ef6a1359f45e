"""The `ada` layer's module: augmentations applied per sample with an adjustable probability p,
after Karras et al., "Training Generative Adversarial Networks with Limited Data" (NeurIPS 2020).
p and the signs gathered since its last adjustment are buffers, so checkpoints keep them and a
resumed run continues exactly; ganbuilder/train/ada.py feeds the signs and moves p."""

from __future__ import annotations

import torch
from torch import nn

from ganbuilder.layers.diffaugment import brightness, contrast, cutout, saturation, translation


def _maybe(x: torch.Tensor, op, p: float) -> torch.Tensor:
    """`op(x)` for each sample with probability p, else the sample as it was."""
    chosen = torch.rand(x.shape[0], 1, 1, 1, device=x.device) < p
    return torch.where(chosen, op(x), x)


def rotate90(x: torch.Tensor) -> torch.Tensor:
    """Each sample rotated by 0, 90, 180 or 270 degrees, drawn uniformly (square images)."""
    turns = torch.randint(0, 4, (x.shape[0], 1, 1, 1), device=x.device)
    out = x
    for k in (1, 2, 3):
        out = torch.where(turns == k, torch.rot90(x, k, dims=(2, 3)), out)
    return out


class AdaptiveAugment(nn.Module):
    """Applies each op with probability p while training; the identity in eval mode."""

    def __init__(self, ops: list[str], target: float, interval: int, ramp: int, p: float,
                 translation_ratio: float, cutout_ratio: float):
        super().__init__()
        self.ops = list(ops)
        self.target, self.interval, self.ramp = target, interval, ramp
        self.translation_ratio, self.cutout_ratio = translation_ratio, cutout_ratio
        self.register_buffer("p", torch.tensor(float(p)))
        self.register_buffer("signs", torch.tensor(0.0))  # sum of E[sign(D(real))] per step
        self.register_buffer("pending", torch.tensor(0))  # steps gathered since the last move

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = float(self.p)
        if not self.training or p <= 0:
            return x
        for name in self.ops:
            if name == "xflip":
                x = _maybe(x, lambda t: t.flip(3), p)
            elif name == "rotate90":
                x = _maybe(x, rotate90, p)
            elif name == "translation":
                x = _maybe(x, lambda t: translation(t, self.translation_ratio), p)
            elif name == "color":
                for op in (brightness, saturation, contrast):
                    x = _maybe(x, op, p)
            else:
                x = _maybe(x, lambda t: cutout(t, self.cutout_ratio), p)
        return x

    @torch.no_grad()
    def observe(self, sign_mean: torch.Tensor) -> bool:
        """Gather one critic step's E[sign(D(real))]; True when p is due to move."""
        self.signs += sign_mean.to(self.signs)
        self.pending += 1
        return int(self.pending) >= self.interval

    def gathered(self) -> torch.Tensor:
        """The mean E[sign(D(real))] since the last move (r_t in the paper)."""
        return self.signs / self.pending.clamp(min=1)

    @torch.no_grad()
    def adjust(self, r: float, batch_size: int) -> None:
        """Move p by batch x interval / ramp toward less augmentation when r is below the
        target, more when above (the paper's sign rule), and start gathering anew."""
        step = batch_size * self.interval / self.ramp
        direction = (r > self.target) - (r < self.target)
        self.p.copy_((self.p + direction * step).clamp(0.0, 1.0))
        self.signs.zero_()
        self.pending.zero_()

    def extra_repr(self) -> str:
        return f"ops={','.join(self.ops)}, target={self.target}, p={float(self.p):.4f}"
