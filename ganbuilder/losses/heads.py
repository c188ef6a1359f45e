"""A network's head: one of its `outputs` (StarGAN's D scores images and classifies them)."""

from __future__ import annotations

from ganbuilder.losses.feature_matching import layer_output

HEAD = {"type": "string", "description": "which of the network's `outputs` the term reads "
        "(StarGAN's D: cls); left out, what a call returns (the first)"}


def call_head(network, head: str | None, inputs: list):
    """network(*inputs), or the output of its head `head` in that pass."""
    return network(*inputs) if head is None else layer_output(network, head, inputs)
