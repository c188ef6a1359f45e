"""Mixed precision (`training.precision`): autocast around the forward pass and loss terms, and
for fp16 one GradScaler per objective.

fp16's narrow range underflows small gradients, so its losses are scaled up before backward and
the gradients unscaled before the step; a step whose gradients overflowed is skipped and the
scale lowered (torch's recipe). A skipped step is not a divergence: its losses are left out of
the metrics, and only a scale that keeps collapsing is. bf16 has fp32's range and needs no
scaler.

Nothing here reads a value back from the device: the scale a penalty needs, whether a step was
skipped and the count of skips in a row stay tensors on the device, read only when the trainer
logs. The one host-device sync of an fp16 step is GradScaler.step's own check for overflow
(none with a fused optimizer, which takes the check as a tensor).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import torch

DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}

# Consecutive skipped steps after which fp16 training is taken to have diverged: the scale has
# then fallen by 2**50, far below any finite gradient's need.
MAX_SKIPPED = 50


class Precision:
    """One run's precision: `fp32` (autocast off), `bf16` or `fp16` (a scaler per objective)."""

    def __init__(self, mode: str, device: torch.device, objectives: list[str]):
        self.mode = mode
        self.device = device
        self.dtype = DTYPES.get(mode)
        self.scalers = ({name: torch.amp.GradScaler(device.type) for name in objectives}
                        if mode == "fp16" else {})
        self._one = torch.ones((), device=device) if self.scalers else None
        # Skipped steps in a row, per objective (a device tensor under fp16).
        self.skipped: dict[str, torch.Tensor | int] = {name: 0 for name in objectives}

    def autocast(self) -> AbstractContextManager:
        """The context the forward pass and the loss terms run in."""
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def grad_scale(self, objective: str) -> float | torch.Tensor:
        """The factor an objective's loss is multiplied by before backward (1 without fp16, a
        device tensor with it); a penalty's inner gradient scales its output by it and divides
        it out again."""
        scaler = self.scalers.get(objective)
        return 1.0 if scaler is None else self._scale(scaler)

    def _scale(self, scaler: torch.amp.GradScaler) -> torch.Tensor:
        """The scaler's current scale as a device tensor (GradScaler.get_scale would read it
        back to the host)."""
        assert self._one is not None
        return scaler.scale(self._one)

    def backward(self, objective: str, total: torch.Tensor,
                 inputs: list[torch.Tensor]) -> None:
        """Backpropagate `total` (scaled under fp16) into `inputs` only."""
        scaler = self.scalers.get(objective)
        (total if scaler is None else scaler.scale(total)).backward(inputs=inputs)

    def step(self, objective: str, optimizer: torch.optim.Optimizer) -> torch.Tensor | None:
        """The optimizer step (unscaled and checked under fp16). Under fp16, a 0-dim device
        tensor, 1.0 when the step was taken and 0.0 when it was skipped because the gradients
        overflowed; None without a scaler (every step is taken)."""
        scaler = self.scalers.get(objective)
        if scaler is None:
            optimizer.step()
            return None
        before = self._scale(scaler)
        scaler.step(optimizer)
        scaler.update()
        # The scaler lowers its scale exactly when it skipped the step.
        kept = (self._scale(scaler) >= before).float()
        self.skipped[objective] = (self.skipped[objective] + 1) * (1 - kept)
        return kept

    def collapsed(self, counts: dict[str, float] | None = None) -> str | None:
        """An objective whose fp16 steps have all been skipped for too long, if any, from
        `counts` (the skip counts, read back by the trainer with its metrics) or from the
        device."""
        counts = counts if counts is not None else self.skipped
        for name, count in counts.items():
            if float(count) >= MAX_SKIPPED:
                return name
        return None

    def state_dict(self) -> dict:
        """The scalers' state (fp16), for checkpoints."""
        return {name: dict(s.state_dict()) for name, s in self.scalers.items()}

    def load_state_dict(self, state: dict) -> None:
        """Restore the scalers; a checkpoint trained in another precision has none to restore,
        and its scalers start afresh."""
        for name, scaler in self.scalers.items():
            if name in state:
                scaler.load_state_dict(dict(state[name]))
