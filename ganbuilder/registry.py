"""Name -> entry registries with loud failures and did-you-mean suggestions."""

from __future__ import annotations

import copy
import difflib
import warnings
from collections.abc import Callable, Iterator
from typing import ClassVar, Generic, TypeVar

T = TypeVar("T")


def did_you_mean(name: str, choices: list[str] | tuple[str, ...] | set[str]) -> str:
    """Return ' (did you mean 'x'?)' for the closest choice, or ''."""
    close = difflib.get_close_matches(name, sorted(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


class Registry(Generic[T]):
    """A named collection of entries (layers, losses, data sources, ...)."""

    # Every registry made, so that the plugin loader sees what a plugin's import registered
    # (ganbuilder/spec/plugins.py) without importing the registries above it.
    every: ClassVar[list[Registry]] = []

    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, T] = {}
        Registry.every.append(self)

    def add(self, name: str, entry: T) -> T:
        if name in self._entries:
            warnings.warn(f"{self.kind} '{name}' registered twice; the later one wins",
                          stacklevel=3)
        self._entries[name] = entry
        return entry

    def register(self, name: str, **fields) -> Callable[[Callable], Callable]:
        """Decorator form: `@REG.register("name", schema=..., ...)` around a builder."""

        def wrap(fn: Callable) -> Callable:
            self.add(name, self._make(name, fn, fields))
            return fn

        return wrap

    def _make(self, name: str, fn: Callable, fields: dict) -> T:
        raise NotImplementedError(f"{self.kind} registry has no decorator form")

    def get(self, name: str) -> T:
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.kind} '{name}'{did_you_mean(name, self._entries)}"
            ) from None

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def items(self) -> list[tuple[str, T]]:
        return sorted(self._entries.items())

    def names(self) -> list[str]:
        return sorted(self._entries)


def fill_defaults(properties: dict[str, dict], given: dict | None) -> dict:
    """`given` over the defaults of a parameter schema (JSON Schema `properties`).

    The schema fragment is the one place a default is written: layers, loss terms, optimizers,
    schedules, data sources and the training section all fill theirs through here.
    """
    out = dict(given or {})
    for key, prop in properties.items():
        if key not in out and "default" in prop:
            out[key] = copy.deepcopy(prop["default"])
    return out
