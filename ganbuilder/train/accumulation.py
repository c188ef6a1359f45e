"""Gradient accumulation (`training.accumulate: n`): each objective step runs on n equal
micro-batches of the batch, one backward each into the same gradients, then one optimizer
step. With mean-reduced losses the accumulated gradient is the whole batch's, so n x B/n and
1 x B give the same weights to float rounding, as ranks do (train/distributed.py)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import count

import torch

Uniform = Callable[[int, torch.device], torch.Tensor]


def micro_batches(tensors: Mapping[str, torch.Tensor], n: int) -> list[dict[str, torch.Tensor]]:
    """The n equal consecutive slices (first dimension) of a batch's tensors."""
    if n == 1:
        return [dict(tensors)]
    return [{k: v.tensor_split(n)[m] for k, v in tensors.items()} for m in range(n)]


def check_micro_batches(batch_size: int, world: int, n: int) -> str | None:
    """Why a batch of `batch_size` over `world` ranks cannot be cut into n micro-batches of
    one size, or None."""
    if batch_size % (world * n) == 0:
        return None
    ranks = f" over {world} processes" if world > 1 else ""
    return (f"training.accumulate {n} does not divide data.batch_size {batch_size}{ranks} into "
            f"equal micro-batches; choose a batch_size that is a multiple of {world * n}")


class MicroUniforms:
    """Per-sample uniforms for the terms of n micro-batches: each request of the first
    micro-batch draws for the whole batch (`draw`, the trainer's own), and micro-batch m reads
    its slice of the same draw, so the n micro-batches see the numbers one batch would."""

    def __init__(self, draw: Uniform, n: int):
        self.draw, self.n = draw, n
        self.draws: list[torch.Tensor] = []

    def for_micro(self, m: int) -> Uniform:
        """The `uniform` of micro-batch m's TermContext."""
        calls = count()

        def uniform(k: int, device: torch.device) -> torch.Tensor:
            i = next(calls)
            if m == 0:
                self.draws.append(self.draw(k * self.n, device))
            return self.draws[i][m * k:(m + 1) * k]

        return uniform
