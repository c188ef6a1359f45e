"""The context an ejected training loop hands each loss term, copied as it is into the file.

`eject --with-training` writes every loss term as a call of the term's own `compute`, so the
file's terms are ganbuilder's; this class answers what `compute` may ask (the contract of
`ganbuilder.losses.TermContext`) from the written `Training` object: the objective's tensors,
computed before the call as the trainer's cache computes them, the networks, the GAN loss, and
the term's state, image pools and uniform draws, seeded and keyed as the trainer keys them.
"""

from __future__ import annotations

import torch

from ganbuilder.losses.pool import HistoryPool


class Context:
    """What a loss term may ask while it computes (ganbuilder's TermContext): the tensors of
    this objective's step, the networks, the GAN loss, and the term's own state, history pools
    and uniform numbers, kept by `training` across steps."""

    grad_scale = 1.0  # the loop runs in float32: no loss scale

    def __init__(self, training, objective: str, label: str, tensors: dict):
        self.training, self.objective, self.tensors = training, objective, tensors
        self.updates = training.updates[objective]
        self.gan = training.gan_loss
        self.state = training.term_states.setdefault(f"{objective}/{label}", {})

    def tensor(self, name: str) -> torch.Tensor:
        return self.tensors[name]

    def network(self, name: str) -> torch.nn.Module:
        return self.training.nets[name]

    def history(self, critic: str, size: int) -> HistoryPool:
        pools, key = self.training.pools, f"{self.objective}/{critic}"
        if key not in pools:
            pools[key] = HistoryPool(size, self.training.pool_generator)
        return pools[key]

    def uniform(self, n: int, device: torch.device) -> torch.Tensor:
        generator = self.training.uniform_generator
        return torch.rand(n, generator=generator, device=generator.device).to(device)


__all__ = ["Context"]
