"""What a loss term may ask while it computes: the contract between terms and the trainer.

A term is `compute(params, ctx) -> (loss, metrics)`; `ctx` is a `TermContext`. The trainer makes
one per objective step; tests and plugin authors make their own from plain tensors and modules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from ganbuilder.losses.registry import GAN_LOSSES, GanLoss

if TYPE_CHECKING:
    import torch

    from ganbuilder.losses.pool import HistoryPool


class TermContext:
    """Everything a loss term may use, and nothing else.

    - `tensor(name)`: a forward, data or latent tensor of this iteration. It carries its
      autograd graph only when the objective trains a network that produced it (a critic's
      step sees `fake` detached).
    - `network(name)`: a compiled network, to call on tensors (critics, Q, autoencoders).
    - `updates`: the networks the current objective trains (a two-sided term such as
      `adversarial` plays the critic's side when its critic is among them).
    - `gan`: the spec's GAN loss kind (`d_loss`, `g_loss`, `threshold`).
    - `state`: this term's persistent tensors (BEGAN's k), kept across steps and saved in
      checkpoints; one dict per objective and term.
    - `history(critic, size)`: the image pool of past fakes for a critic (CycleGAN: 50).
    - `uniform(n, device)`: n uniform [0, 1) numbers, one per sample of this process's batch
      (a penalty's interpolation weights). The trainer draws them for the global batch and
      hands each rank its share, so they do not depend on the number of processes.
    - `grad_scale`: the factor the objective's loss is scaled by before backward (fp16's loss
      scale as a device tensor, else 1); a penalty's inner gradient scales by it and divides it
      out (torch's AMP recipe for gradient penalties).
    """

    def __init__(self, tensors: Mapping[str, torch.Tensor] | Callable[[str], torch.Tensor],
                 networks: Mapping[str, torch.nn.Module], updates: Iterable[str],
                 gan: GanLoss | str = "bce", state: dict | None = None,
                 history: Callable[[str, int], HistoryPool] | None = None,
                 uniform: Callable[[int, torch.device], torch.Tensor] | None = None,
                 grad_scale: float | torch.Tensor = 1.0):
        self._tensor = tensors if callable(tensors) else tensors.__getitem__
        self._networks = networks
        self.updates = frozenset(updates)
        self.gan = GAN_LOSSES.get(gan) if isinstance(gan, str) else gan
        self.state: dict[str, torch.Tensor] = {} if state is None else state
        self._history = history
        self._pools: dict[tuple[str, int], HistoryPool] = {}
        self._uniform = uniform
        self.grad_scale = grad_scale

    def tensor(self, name: str) -> torch.Tensor:
        return self._tensor(name)

    def network(self, name: str) -> torch.nn.Module:
        return self._networks[name]

    def uniform(self, n: int, device: torch.device) -> torch.Tensor:
        if self._uniform is not None:
            return self._uniform(n, device)
        import torch

        return torch.rand(n, device=device)

    def history(self, critic: str, size: int) -> HistoryPool:
        if self._history is not None:
            return self._history(critic, size)
        if (critic, size) not in self._pools:
            import torch

            from ganbuilder.losses.pool import HistoryPool

            self._pools[critic, size] = HistoryPool(size, torch.Generator().manual_seed(0))
        return self._pools[critic, size]


__all__ = ["TermContext"]
