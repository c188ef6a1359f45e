"""An exponential moving average of some networks' weights (BigGAN, StyleGAN, StudioGAN's
`ema`): the averaged generator draws better samples than the last step's weights."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import torch
from torch.nn.modules.batchnorm import _BatchNorm

from ganbuilder.compile.frozen import frozen_modules, keep_frozen
from ganbuilder.compile.model import GAN, TensorCache
from ganbuilder.registry import fill_defaults
from ganbuilder.spec.schema import spec_schema


def ema_settings(cfg: dict | None) -> dict | None:
    """training.ema over its schema defaults (decay, start, rampup); None when the spec has
    none."""
    if not cfg:
        return None
    schema = spec_schema()["properties"]["training"]["properties"]["ema"]["properties"]
    return fill_defaults(schema, cfg)


def fold_weights(shadow: dict, net, step: int, decay: float, start: int = 0,
                 rampup: float | None = None) -> None:
    """Fold `net`'s weights after `step` into `shadow`, the average of its state dict:
    parameters with `decay` (copied outright until `start`), buffers copied. With `rampup`
    the average's half-life is at most rampup x the steps before this one (StyleGAN2-ADA's
    ramp-up), so early weights, soon outgrown, weigh little."""
    if rampup is not None:  # half-life in steps: min(decay's, rampup * steps so far)
        half_life = rampup * (step - 1)
        decay = min(decay, 0.5 ** (1.0 / half_life)) if half_life > 0 else 0.0
    weight = 1.0 if step <= start else 1.0 - decay
    with torch.no_grad():
        params = dict(net.named_parameters())
        averaged = [shadow[k] for k in params]
        torch._foreach_lerp_(averaged, [p.detach() for p in params.values()], weight)
        buffers = dict(net.named_buffers())
        if buffers:  # one foreach copy for all of them, not a kernel launch per buffer
            torch._foreach_copy_([shadow[k] for k in buffers], list(buffers.values()))


class WeightAverage:
    """Shadow copies of the `networks` named in `training.ema`, updated after every step.

    Parameters are averaged with `decay` (copied outright until `start`, the decay ramped up
    from 0 with `rampup`); buffers are copied,
    as StyleGAN's reference code does. Batch norm's running statistics belong to the live
    weights, not to their average: `recalibrate` measures the average's own (BigGAN's
    standing statistics) before the average is saved or draws samples.
    """

    def __init__(self, gan: GAN, cfg: dict):
        cfg = ema_settings(cfg)
        self.names: list[str] = list(cfg["networks"])
        self.decay = float(cfg["decay"])
        self.start = int(cfg["start"])
        self.rampup = None if cfg["rampup"] is None else float(cfg["rampup"])
        self.shadow = {n: {k: v.detach().clone() for k, v in gan.nets[n].state_dict().items()}
                       for n in self.names}

    def update(self, gan: GAN, step: int) -> None:
        """Fold the weights after `step` into the average."""
        for name in self.names:
            fold_weights(self.shadow[name], gan.nets[name], step, self.decay, self.start,
                         self.rampup)

    def batch_norms(self, gan: GAN) -> list[_BatchNorm]:
        """The averaged networks' batch norm layers that keep running statistics."""
        fixed = {id(m) for layer in frozen_modules(gan.nets, gan.frozen)
                 for m in layer.modules()}  # a frozen layer's statistics are kept as they are
        return [m for name in self.names for m in gan.nets[name].modules()
                if isinstance(m, _BatchNorm) and m.track_running_stats and id(m) not in fixed]

    @torch.no_grad()
    def recalibrate(self, gan: GAN, draws: Iterable[TensorCache]) -> None:
        """Replace the average's batch norm statistics by those of the averaged weights on
        `draws`: every tensor the averaged networks produce is computed in training mode and
        the statistics are the plain mean over the draws (momentum None), as BigGAN's
        standing statistics are. Networks without batch norm are left alone."""
        norms = self.batch_norms(gan)
        if not norms:
            return
        averaged = set(self.names)
        tensors = [t for t, nets in gan.spec.analysis.producers.items() if nets & averaged]
        modes = {m: m.training for name in self.names for m in gan.nets[name].modules()}
        momenta = [m.momentum for m in norms]
        with self.applied(gan):
            try:
                for name in self.names:
                    gan.nets[name].train()
                keep_frozen(gan.nets, gan.frozen)
                for m in norms:
                    m.reset_running_stats()
                    m.momentum = None  # a cumulative mean over the draws
                for cache in draws:
                    for tensor in tensors:
                        cache.get(tensor)
                for name in self.names:
                    shadow = self.shadow[name]
                    for key, buffer in gan.nets[name].named_buffers():
                        shadow[key].copy_(buffer)
            finally:
                for m, momentum in zip(norms, momenta, strict=True):
                    m.momentum = momentum
                for m, training in modes.items():
                    m.training = training

    @contextmanager
    @torch.no_grad()
    def applied(self, gan: GAN) -> Iterator[GAN]:
        """`gan` with the averaged weights in place of the live ones, restored on exit."""
        live = {n: {k: v.clone() for k, v in gan.nets[n].state_dict().items()}
                for n in self.names}
        try:
            for name in self.names:
                gan.nets[name].load_state_dict(self.shadow[name])
            yield gan
        finally:
            for name in self.names:
                gan.nets[name].load_state_dict(live[name])

    def state_dict(self) -> dict[str, dict[str, torch.Tensor]]:
        return {n: dict(s) for n, s in self.shadow.items()}

    def load_state_dict(self, state: dict, device: torch.device) -> None:
        for name in self.names:
            if name in state:  # a checkpoint from before `ema` was added keeps the live copy
                self.shadow[name] = {k: v.to(device) for k, v in state[name].items()}
