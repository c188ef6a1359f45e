"""Applying a layout's key map: reference keys -> the spec's keys, shapes checked key by key,
and what a file that does not fit differs in. Plain Python over names and shapes: the values
travel alongside untouched."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from math import prod
from typing import Any

from ganbuilder.spec.expr import ExprError, eval_arith
from ganbuilder.zoo.registry import Layout, Rule

_FIELD = re.compile(r"\{([^{}]*)\}")


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> re.Pattern:
    return re.compile(pattern)


def target_key(rules: Sequence[Rule], key: str, params: Mapping[str, Any]
               ) -> tuple[Rule | None, str | None]:
    """The first rule matching `key` and the spec key it names (None: dropped); (None, None)
    when no rule matches."""
    for rule in rules:
        found = _compiled(rule.pattern).fullmatch(key)
        if found is None:
            continue
        if rule.target is None:
            return rule, None
        return rule, fill_template(rule.target, found.groupdict(), params)
    return None, None


def fill_template(template: str, groups: Mapping[str, str], params: Mapping[str, Any]) -> str:
    """A rule's target with each `{...}` replaced: a group's own text when it names one,
    else the param arithmetic's value over the groups (as integers) and the spec's params."""
    names = {**params, **{k: int(v) for k, v in groups.items() if v is not None and v.isdigit()}}

    def one(match: re.Match) -> str:
        body = match.group(1).strip()
        if body in groups and groups[body] is not None:
            return groups[body]
        try:
            value = eval_arith(body, names)
        except ExprError as exc:  # a layout's own mistake: say which rule
            raise ValueError(f"import rule target '{template}': {exc}") from None
        return str(int(value)) if float(value).is_integer() else str(value)

    return _FIELD.sub(one, template)


@dataclass
class NetworkFit:
    """How one reference network's keys fit one spec network."""

    reference: str
    network: str
    mapped: dict[str, str] = field(default_factory=dict)      # spec key -> reference key
    reshaped: set[str] = field(default_factory=set)           # spec keys to reshape
    swapped: dict[str, int] = field(default_factory=dict)     # spec key -> axis to swap
    dropped: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)        # reference keys no rule maps
    only_in_spec: list[str] = field(default_factory=list)     # spec keys the file lacks
    unknown: list[str] = field(default_factory=list)          # mapped to no spec key
    shapes: list[tuple[str, str, tuple, tuple]] = field(default_factory=list)
    twice: list[str] = field(default_factory=list)            # spec keys two reference keys fill

    @property
    def ok(self) -> bool:
        return not (self.unmatched or self.only_in_spec or self.unknown or self.shapes
                    or self.twice)

    def problems(self, limit: int = 4) -> list[str]:
        """What does not fit, a clause each, a few keys named per kind."""
        out = []
        if self.unmatched:
            out.append(f"keys of no known {self.reference} layer: {_few(self.unmatched, limit)}")
        if self.unknown:
            out.append("keys only in the file: " + _few(
                [f"{self.mapped_from(k)} (-> {k})" for k in self.unknown], limit))
        if self.only_in_spec:
            out.append("keys only in the spec: " + _few(self.only_in_spec, limit))
        if self.twice:
            out.append("spec keys filled twice: " + _few(self.twice, limit))
        if self.shapes:
            out.append("shapes differ: " + _few(
                [f"{ref} {_shape(theirs)} in the file, {_shape(mine)} in the spec ({ours})"
                 for ref, ours, theirs, mine in self.shapes], limit))
        return out

    def mapped_from(self, spec_key: str) -> str:
        return self.mapped.get(spec_key, spec_key)


def fit_network(reference: str, network: str, rules: Sequence[Rule],
                theirs: Mapping[str, tuple], mine: Mapping[str, tuple],
                params: Mapping[str, Any], optional: set[str] = frozenset()) -> NetworkFit:
    """Map a reference network's keys (name -> shape) onto a spec network's; `optional`:
    spec keys the file need not have (buffers the spec computes from its parameters)."""
    fit = NetworkFit(reference, network)
    for key in theirs:
        rule, ours = target_key(rules, key, params)
        if rule is None:
            fit.unmatched.append(key)
            continue
        if ours is None:
            fit.dropped.append(key)
            continue
        if ours in fit.mapped:
            fit.twice.append(ours)
            continue
        fit.mapped[ours] = key
        if rule.swap_halves is not None:
            fit.swapped[ours] = rule.swap_halves
        if ours not in mine:
            fit.unknown.append(ours)
            continue
        a, b = tuple(theirs[key]), tuple(mine[ours])
        if a != b:
            if rule.reshape and prod(a) == prod(b) and _squeezed(a) == _squeezed(b):
                fit.reshaped.add(ours)
            else:
                fit.shapes.append((key, ours, a, b))
    fit.only_in_spec = [k for k in mine if k not in fit.mapped and k not in optional]
    return fit


def infer_params(layout: Layout, shapes: Mapping[str, Mapping[str, tuple]]) -> dict[str, Any]:
    """The spec params a file's keys and shapes imply (layout.infer), from the reference
    networks it holds (`shapes`: reference network -> key -> shape)."""
    facts: dict[str, Any] = {}
    for name, (kind, nets, *args) in layout.facts.items():
        for net in (nets,) if isinstance(nets, str) else nets:
            keys = shapes.get(net)
            if not keys:
                continue
            if kind == "shape":
                key, axis = args
                key = next((k for k in ((key,) if isinstance(key, str) else key) if k in keys),
                           None)
                if key is not None and len(keys[key]) > axis:
                    facts[name] = int(keys[key][axis])
            elif kind == "count":
                pattern = _compiled(args[0])
                found = {m.group(1) if m.groups() else m.group(0)
                         for m in map(pattern.fullmatch, keys) if m}
                if found:
                    facts[name] = len(found)
            break
    params: dict[str, Any] = {}
    for param, expr in layout.infer.items():
        try:
            value = eval_arith(expr, facts)
        except ExprError:  # a fact the file cannot tell (a network it does not hold)
            continue
        params[param] = int(value) if float(value).is_integer() else value
    return params


def _squeezed(shape: tuple) -> tuple:
    return tuple(s for s in shape if s != 1)


def _shape(shape: tuple) -> str:
    return "(" + ", ".join(map(str, shape)) + ")"


def _few(items: list[str], limit: int) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
