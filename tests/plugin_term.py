"""A loss term as a plugin author writes one, outside the package: a compute function, a
helper it calls, and a registration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ganbuilder.losses import LOSSES, LossDef, loss_term
from ganbuilder.losses.params import CRITIC, TENSOR

NAME = "score_moments"


def moment_gap(a, b):
    """The squared difference of two batches' mean and spread, averaged over features."""
    return ((a.mean(0) - b.mean(0)) ** 2 + (a.std(0) - b.std(0)) ** 2).mean()


def score_moments(p: dict, ctx):
    """The critic's scores of fakes match those of real samples in mean and spread."""
    critic = ctx.network(p["critic"])
    return moment_gap(critic(ctx.tensor(p["real"])), critic(ctx.tensor(p["fake"]))), {}


def register() -> None:
    """Register the term, as a plugin's module does when it is imported."""
    loss_term(NAME, {"critic": CRITIC, "real": TENSOR, "fake": TENSOR},
              required=("critic", "real", "fake"), tensors=("real", "fake"),
              networks=("critic",))(score_moments)


@contextmanager
def registered() -> Iterator[LossDef]:
    """The term registered while the block runs, then taken out again; the schema, assembled
    from the registries once, is assembled anew both times."""
    from ganbuilder.spec.published import published_schema
    from ganbuilder.spec.schema import spec_schema

    register()
    spec_schema.cache_clear()
    published_schema.cache_clear()
    try:
        yield LOSSES.get(NAME)
    finally:
        LOSSES._entries.pop(NAME)
        spec_schema.cache_clear()
        published_schema.cache_clear()
