"""Schema fragments and helpers shared by the loss terms' definitions."""

from __future__ import annotations

TENSOR = {"type": "string", "description": "name of a forward or data tensor"}
TENSORS = {
    "description": "tensor name, or a list of names for a critic with several inputs",
    "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
}
CRITIC = {"type": "string", "description": "the discriminator (critic) network"}


def as_list(names: str | list[str]) -> list[str]:
    """A tensor parameter's names: one name or a list of them."""
    return [names] if isinstance(names, str) else list(names)
