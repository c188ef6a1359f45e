"""The image history pool (Shrivastava et al. 2017) that CycleGAN feeds its critics from."""

from __future__ import annotations

import torch


class HistoryPool:
    """Keeps up to `size` past fakes; each query returns, per sample, either the new fake or
    (with probability 1/2, once full) a stored one, which the new fake then replaces."""

    def __init__(self, size: int, generator: torch.Generator):
        self.size = size
        self.items: list[torch.Tensor] = []
        self.generator = generator

    def query(self, batch: torch.Tensor) -> torch.Tensor:
        out = []
        for item in batch.detach():
            if len(self.items) < self.size:
                self.items.append(item.clone())
                out.append(item)
            elif torch.rand(1, generator=self.generator).item() < 0.5:
                k = int(torch.randint(self.size, (1,), generator=self.generator))
                out.append(self.items[k])  # no longer the pool's: stack copies it
                self.items[k] = item.clone()
            else:
                out.append(item)
        return torch.stack(out)

    def state_dict(self) -> dict:
        return {"size": self.size, "items": [t.cpu() for t in self.items]}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        self.items = [t.to(device) for t in state["items"]]
