"""A layer registered from outside ganbuilder, as a plugin author writes one: its module, a
helper the module calls, a shape rule and one `layer(...)` registration; nothing else."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
from torch import nn

from ganbuilder.layers import LAYERS, LayerDef, construct, layer
from ganbuilder.layers.registry import Shape, ShapeError, format_shape, int_param

NAME = "channel_gate"
GROUP = "plugins"


def squeeze(x: torch.Tensor) -> torch.Tensor:
    """Each channel's mean over all positions: (N, C, H, W) -> (N, C)."""
    return x.mean(dim=(2, 3))


class ChannelGate(nn.Module):
    """x * sigmoid(up(relu(down(mean of x)))): squeeze-and-excitation (Hu et al. 2018)."""

    def __init__(self, channels: int, hidden: int):
        super().__init__()
        self.down = nn.Linear(channels, hidden)
        self.up = nn.Linear(hidden, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.up(torch.relu(self.down(squeeze(x)))))
        return x * gate[:, :, None, None]


def _shape(p: dict, inputs: list[Shape]) -> Shape:
    if len(inputs[0]) != 3:
        raise ShapeError(f"{NAME}: expects a (C, H, W) input, got {format_shape(inputs[0])}")
    return inputs[0]


def channel_gate(p: dict, inputs: list[Shape]):
    """Scales each channel by a gate computed from all channels' means."""
    return construct(ChannelGate, inputs[0][0], p["hidden"])


def register() -> None:
    """Register the layer (a test calls this, so that it can take it out again)."""
    layer(NAME, _shape, {"hidden": int_param("the gate's hidden features", minimum=1)},
          required=("hidden",), group=GROUP,
          param_count=lambda p, inputs: 2 * inputs[0][0] * p["hidden"] + p["hidden"]
          + inputs[0][0],
          fit_params=lambda received: {"hidden": max(1, received[0] // 4)} if received else {},
          )(channel_gate)


# A spec using it, as its author would write one.
SPEC = f"""
version: 1
name: gated
data: {{source: digits, image_size: 8, batch_size: 8}}
latent:
  z: {{dist: normal, shape: [8]}}
networks:
  G:
    layers:
      - linear: 64
      - reshape: [4, 4, 4]
      - upsample: 2
      - {{{NAME}: {{hidden: 2}}}}
      - conv: {{out: 1, kernel: 3, padding: 1}}
      - tanh
  D:
    init: {{normal: 0.02}}
    layers:
      - conv: {{out: 4, kernel: 3, padding: 1}}
      - {{{NAME}: {{hidden: 2}}}}
      - flatten
      - linear: 1
forward:
  fake: G(z)
objectives:
  D:
    updates: [D]
    loss:
      - adversarial: {{critic: D, real: real, fake: fake}}
  G:
    updates: [G]
    loss:
      - adversarial: {{critic: D, fake: fake}}
training: {{steps: 1}}
"""


# -- for the tests, not a plugin's business ---------------------------------------------------
@contextlib.contextmanager
def registered() -> Iterator[LayerDef]:
    """The layer registered while the block runs, then taken out again; the schema, assembled
    from the registries once, is assembled anew both times."""
    from ganbuilder.spec.published import published_schema
    from ganbuilder.spec.schema import spec_schema

    register()
    spec_schema.cache_clear()
    published_schema.cache_clear()
    try:
        yield LAYERS.get(NAME)
    finally:
        LAYERS._entries.pop(NAME)
        spec_schema.cache_clear()
        published_schema.cache_clear()
