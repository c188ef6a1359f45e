"""What a checked spec computes, and the questions about its iteration graph, answered once.

`semantic.analyse` fills an `Analysis` while it checks the spec; translate, evaluate, sampling,
the trainer and the app ask it rather than walking the spec themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from ganbuilder.layers.registry import Shape
from ganbuilder.spec.expr import Call, Forward
from ganbuilder.spec.shapes import LayerPlan, NetworkPlan
from ganbuilder.spec.terms import Term

DIRECTIONS = {"AtoB": ("real_A", "real_B"), "BtoA": ("real_B", "real_A")}


@dataclass(frozen=True)
class ImageMap:
    """A forward tensor computed as `network(...)` from one data image: what `translate`
    applies to the user's images. `image` is the data tensor the images feed, at argument
    `position`; `others` are the call's other arguments (latents, labels); `targets` the data
    tensors a loss term ties the output to (an L1 target, a critic's real images)."""

    tensor: str
    network: str
    image: str
    position: int
    others: tuple[str, ...]
    targets: tuple[str, ...]


@dataclass
class Analysis:
    """Tensor shapes, network plans, the forward graph and the loss terms of a spec."""

    tensor_shapes: dict[str, Shape] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)  # tensor -> "data" | "latent" | "forward"
    forward: dict[str, Forward] = field(default_factory=dict)
    taps: dict[str, set[str]] = field(default_factory=dict)  # tensor -> layer ids read from it
    order: list[str] = field(default_factory=list)  # forward tensors in dependency order
    networks: dict[str, NetworkPlan] = field(default_factory=dict)
    producers: dict[str, set[str]] = field(default_factory=dict)  # tensor -> networks it used
    terms: list[Term] = field(default_factory=list)
    problems: list = field(default_factory=list)

    # -- the forward graph -----------------------------------------------------------------------
    def reads(self, name: str) -> set[str]:
        """Every input tensor (data or latent) that computing `name` reads."""
        todo, seen, inputs = [name], set(), set()
        while todo:
            tensor = todo.pop()
            if tensor in seen:
                continue
            seen.add(tensor)
            expr = self.forward.get(tensor)
            if expr is None:
                inputs.add(tensor)
            else:
                todo += [expr] if isinstance(expr, str) else sorted(expr.names())
        return inputs

    def training_inputs(self) -> set[str]:
        """Every input tensor (data or latent) that a training iteration reads: those the loss
        terms' tensors are computed from. A data tensor outside it (a label no term reads) is
        never copied to the device."""
        return {t for term in self.terms for n in term.names() for t in self.reads(n)}

    def needs_data(self, names: list[str] | tuple[str, ...]) -> bool:
        """Whether computing any of `names` reads a data tensor."""
        return any(self.sources.get(t) == "data" for n in names for t in self.reads(n))

    def objective_terms(self, objective: str) -> list[Term]:
        return [t for t in self.terms if t.objective == objective]

    # -- translation -----------------------------------------------------------------------------
    @cached_property
    def tied_sets(self) -> list[set[str]]:
        """Per loss term, the tensors it ties together: those it reads, plus the real images
        of its critic wherever another term judges them (a fake tied to the real data)."""
        critic_real: dict[str, set[str]] = {}
        for term in self.terms:
            if term.critic and term.tensors.get("real"):
                critic_real.setdefault(term.critic, set()).update(term.tensors["real"])
        return [set(t.names()) | critic_real.get(t.critic, set()) for t in self.terms]

    @cached_property
    def translation(self) -> dict[str, str]:
        """{"AtoB": tensor G_AB(real_A), "BtoA": tensor G_BA(real_B)} for translation specs.

        A candidate is a network applied straight to real_A (or real_B); it is the translation
        if a loss term ties it to the other domain's data (an L1 target, or a critic that sees
        that data as real), which tells fake_B = G_AB(real_A) from an identity term's
        idt_A = G_BA(real_A) whatever the order of `forward`.
        """
        if self.sources.get("real_A") != "data" or self.sources.get("real_B") != "data":
            return {}
        tied_sets = self.tied_sets
        out = {}
        for direction, (src, dst) in DIRECTIONS.items():
            candidates = [t for t in self.order
                          if isinstance(self.forward.get(t), Call)
                          and self.forward[t].fn in self.networks
                          and self.forward[t].args == (src,)
                          and self.tensor_shapes.get(t) == self.tensor_shapes.get(dst)]
            tied = [t for t in candidates if any(t in s and dst in s for s in tied_sets)]
            named = [t for t in candidates if t == f"fake_{dst[-1]}"]
            pick = (tied or named or [None])[0]
            if pick is not None:
                out[direction] = pick
        return out

    @cached_property
    def image_maps(self) -> dict[str, ImageMap]:
        """Every forward tensor `NET(..., image, ...)` with one data image among its arguments
        and an image out, which a loss term ties to a data image; in forward order."""
        tied_sets = self.tied_sets
        images = {t for t, kind in self.sources.items()
                  if kind == "data" and len(self.tensor_shapes.get(t, ())) == 3}
        out = {}
        for tensor in self.order:
            call = self.forward.get(tensor)
            if not (isinstance(call, Call) and call.fn in self.networks
                    and all(isinstance(a, str) for a in call.args)
                    and len(self.tensor_shapes.get(tensor, ())) == 3):
                continue
            fed = [i for i, arg in enumerate(call.args) if arg in images]
            targets = sorted({d for s in tied_sets if tensor in s for d in s & images})
            if len(fed) == 1 and targets:
                image = str(call.args[fed[0]])
                out[tensor] = ImageMap(tensor, call.fn, image, fed[0],
                                       tuple(str(a) for a in call.args if a != image),
                                       tuple(targets))
        return out

    def generator(self, direction: str) -> str | None:
        """The network that translates in `direction` (AtoB or BtoA), or None."""
        tensor = self.translation.get(direction)
        return self.forward[tensor].fn if tensor else None

    # -- layers ----------------------------------------------------------------------------------
    @cached_property
    def layers(self) -> dict[tuple, LayerPlan]:
        """Every layer of every network (containers' children too), by spec path."""
        out: dict[tuple, LayerPlan] = {}

        def walk(layers: list[LayerPlan]) -> None:
            for layer in layers:
                out[tuple(layer.path)] = layer
                walk(layer.children)

        for plan in self.networks.values():
            walk(plan.layers)
        return out


__all__ = ["DIRECTIONS", "Analysis", "ImageMap"]
