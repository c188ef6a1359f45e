"""One view of a spec's objectives and their loss terms, shared by the trainer, the checks,
evaluate, eject and the app.

Each term is read once: its kind, its parameters over the kind's schema defaults, the metric
label it logs under, and which parameters name tensors and networks. Each objective likewise:
what it trains, its terms, and its options over the schema's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass

from ganbuilder.losses import LOSSES
from ganbuilder.losses.registry import LossDef
from ganbuilder.registry import fill_defaults


@dataclass(frozen=True)
class Term:
    """One weighted loss term of an objective."""

    objective: str
    index: int
    kind: str
    params: dict  # the written values over the kind's schema defaults
    label: str  # the metric name (`loss/<objective>/<label>`), unique within the objective
    tensors: dict[str, tuple[str, ...]]  # tensor parameter -> the tensor names it holds
    networks: dict[str, str]  # network parameter -> network name
    written: dict  # the parameters as written, without defaults (what the forms edit)

    @property
    def path(self) -> tuple:
        """The term's spec path: ("objectives", objective, "loss", index)."""
        return ("objectives", self.objective, "loss", self.index)

    @property
    def weight(self) -> float:
        return self.params["weight"]

    @property
    def every(self) -> int:
        """Computed every n-th step only, weighted n times (lazy regularisation)."""
        return self.params["every"]

    @property
    def definition(self) -> LossDef:
        return LOSSES.get(self.kind)

    @property
    def critic(self) -> str | None:
        """The critic network of a two-sided term (adversarial, began), else None."""
        key = self.definition.critic
        return self.networks.get(key) if key else None

    def names(self) -> tuple[str, ...]:
        """Every tensor the term reads, in parameter order."""
        return tuple(n for names in self.tensors.values() for n in names)

    def read(self, updates: frozenset[str]) -> tuple[str, ...]:
        """The tensors `compute` reads for an objective training `updates`, in its order."""
        return tuple(n for key in self.definition.tensors_read(self.params, updates)
                     for n in self.tensors.get(key, ()))


def eager_reads(terms: list[Term], updates: frozenset[str]) -> tuple[str, ...]:
    """The tensors read by the terms that run on every step (not lazy, `every: 1`): what an
    objective's step computes, in the forward section's order, before its terms run."""
    return tuple(dict.fromkeys(n for t in terms if t.every == 1 for n in t.read(updates)))


def _names(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(v for v in value if isinstance(v, str))


def objective_terms(name: str, objective: dict) -> list[Term]:
    """The terms of one schema-valid objective, labelled as the trainer logs them."""
    terms: list[Term] = []
    seen: set[str] = set()
    for index, entry in enumerate(objective["loss"]):
        (kind, written), = entry.items()
        written = dict(written or {})
        ldef = LOSSES.get(kind)
        params = fill_defaults(ldef.params, written)
        label = params.get("name") or (
            f"adv_{params['critic']}" if kind == "adversarial" else kind)
        if label in seen:
            label = f"{label}_{params.get('pred') or params.get('fake') or len(seen)}"
        seen.add(label)
        tensors = {key: _names(params.get(key)) for key in ldef.tensors if key in params}
        networks = {key: params[key] for key in ldef.networks if isinstance(params.get(key), str)}
        terms.append(Term(name, index, kind, params, label, tensors, networks, written))
    return terms


@dataclass(frozen=True)
class Objective:
    """One objective of a spec (an optimizer step kind), its options over the schema defaults."""

    name: str
    updates: tuple[str, ...]  # the networks it trains, as written
    terms: tuple[Term, ...]
    repeat: int  # optimizer steps per iteration, each on a draw of its own
    optimizer: dict | None  # its own optimizer section; None: the training section's
    clip_weights: float | None  # WGAN's clamp after each step


def spec_objectives(tree: dict, terms: list[Term]) -> dict[str, Objective]:
    """Every objective of a schema-valid tree, in declaration order, with its `terms`."""
    from ganbuilder.spec.schema import spec_schema

    schema = spec_schema()["properties"]["objectives"]["additionalProperties"]["properties"]
    out = {}
    for name, written in tree["objectives"].items():
        cfg = fill_defaults(schema, written)
        out[name] = Objective(name, tuple(cfg["updates"]),
                              tuple(t for t in terms if t.objective == name), cfg["repeat"],
                              cfg.get("optimizer"), cfg.get("clip_weights"))
    return out


def spec_terms(tree: dict) -> list[Term]:
    """Every loss term of every objective, in declaration order."""
    return [t for name, obj in tree["objectives"].items() for t in objective_terms(name, obj)]


__all__ = ["Objective", "Term", "eager_reads", "objective_terms", "spec_objectives", "spec_terms"]
