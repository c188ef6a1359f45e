"""A module as the call that makes it (torch-free): what a layer's builder returns.

`construct(nn.Conv2d, 3, 64, 4, stride=2)` is what the compiler calls and what `eject` writes
as source, so the network ganbuilder trains and the ejected file build the same module from
one definition: a layer gets ejection by being built this way.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any


@dataclass(frozen=True, eq=False)
class Construct:
    """`fn(*args, **kwargs)`; an argument may itself be a Construct (built first, in order)."""

    fn: Callable
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)

    def build(self) -> Any:
        """The module: each nested Construct built first, in the order they are written."""
        args = [make(a) for a in self.args]
        kwargs = {k: make(v) for k, v in self.kwargs.items()}
        return self.fn(*args, **kwargs)

    def with_kwargs(self, **kwargs: Any) -> Construct:
        """The same call with `kwargs` added (the compiler's `inplace=True`)."""
        return replace(self, kwargs={**self.kwargs, **kwargs})


def construct(fn: Callable, *args: Any, **kwargs: Any) -> Construct:
    """The call `fn(*args, **kwargs)`, to be made when the network is built."""
    return Construct(fn, args, kwargs)


def wrap_if(enabled: bool, fn: Callable, inner: Construct, **kwargs: Any) -> Construct:
    """`fn(inner, **kwargs)` when `enabled` (spectral norm, equalized lr), else `inner`."""
    return construct(fn, inner, **kwargs) if enabled else inner


def make(value: Any) -> Any:
    """A Construct built, anything else (a module a plugin built itself, a number) as is."""
    return value.build() if isinstance(value, Construct) else value
