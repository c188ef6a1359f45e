"""StyleGAN2-ADA's heuristic for the `ada` layer: after each step of an objective that trains a
critic holding one, the critic's real outputs' E[sign(D(real) - threshold)] (2 x its real
accuracy - 1, from the `adversarial` term's `acc/<critic>/real`) is gathered; every `interval`
such steps p moves by batch x interval / ramp, up when the mean is above `target`, down when
below. With several processes the mean is taken over all ranks, so every rank keeps one p."""

from __future__ import annotations

import torch

from ganbuilder.errors import UserError
from ganbuilder.layers import LAYERS
from ganbuilder.layers.ada_modules import AdaptiveAugment
from ganbuilder.spec import Spec
from ganbuilder.spec.paths import format_path
from ganbuilder.spec.shapes import LayerPlan


def _adapted(layer: LayerPlan) -> bool:
    return layer.kind in LAYERS and bool(LAYERS.get(layer.kind).adapted)


def adapted_layers(layers: list[LayerPlan]) -> list[LayerPlan]:
    """The layers, at any depth, whose entries say the trainer adapts them (ada's p)."""
    return [found for layer in layers
            for found in ([layer] if _adapted(layer) else []) + adapted_layers(layer.children)]


class AdaptiveAugmentation:
    """The `ada` layers of a GAN's networks, and the rule that moves their p."""

    def __init__(self, spec: Spec, nets: dict[str, torch.nn.Module], batch_size: int, ranks):
        self.batch_size, self.ranks = batch_size, ranks
        self.layers: dict[str, AdaptiveAugment] = {}
        judged = {t.params["critic"] for t in spec.analysis.terms
                  if t.kind == "adversarial" and t.params.get("real")}
        for name, plan in spec.analysis.networks.items():
            paths = [tuple(layer.path) for layer in adapted_layers(plan.layers)]
            if len(paths) > 1:
                raise spec.locate(UserError(f"network {name} has {len(paths)} ada layers; one "
                                            "per network holds its probability p",
                                            format_path(paths[1])))
            if paths and name not in judged:
                raise spec.locate(UserError(
                    f"an ada layer adjusts p from the critic's outputs on real images, and no "
                    f"adversarial term judges real images with {name} (critic: {name}, real: "
                    "...)", format_path(paths[0])))
            found = [m for m in nets[name].modules() if isinstance(m, AdaptiveAugment)]
            if found:
                self.layers[name] = found[0]

    def observe(self, updates: frozenset[str], step_sums: dict[str, torch.Tensor],
                share: float) -> None:
        """After an objective's step: gather its critics' signs, move p when due, and add p to
        the step's metrics (`aug/<critic>/p`, weighted by `share` as the step's others are)."""
        for critic, module in self.layers.items():
            accuracy = step_sums.get(f"acc/{critic}/real")
            if critic not in updates or accuracy is None:
                continue
            if module.observe(2 * accuracy.detach() / share - 1):
                r = float(self.ranks.mean({"r": module.gathered()})["r"])
                module.adjust(r, self.batch_size)
            step_sums[f"aug/{critic}/p"] = module.p.detach().clone() * share


__all__ = ["AdaptiveAugmentation"]
