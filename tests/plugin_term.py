"""A loss term as a plugin author writes one, outside the package: a compute function, a
helper it calls, and a registration."""

from __future__ import annotations

from ganbuilder.losses import loss_term
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
    """Register the term (tests undo it: see the `plugin_term` fixture)."""
    loss_term(NAME, {"critic": CRITIC, "real": TENSOR, "fake": TENSOR},
              required=("critic", "real", "fake"), tensors=("real", "fake"),
              networks=("critic",))(score_moments)
