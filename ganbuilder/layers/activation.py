"""Element-wise activations and dropout: shape-preserving and parameter-free."""

from __future__ import annotations

from ganbuilder._lazy import nn
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import Shape, layer, num_param


def same(p: dict, inputs: list[Shape]) -> Shape:
    return inputs[0]


@layer("relu", same, group="activation", inplace=True)
def relu(p: dict, inputs: list[Shape]):
    """max(0, x)."""
    return construct(nn.ReLU)


@layer("leaky_relu", same, {"slope": num_param("slope for x < 0", 0.2, minimum=0)},
       primary="slope", group="activation", inplace=True)
def leaky_relu(p: dict, inputs: list[Shape]):
    """LeakyReLU; DCGAN's discriminators use slope 0.2."""
    return construct(nn.LeakyReLU, p["slope"])


@layer("elu", same, {"alpha": num_param("value approached for large negative x: "
                                         "alpha * (exp(x) - 1)", 1.0, minimum=0)},
       primary="alpha", group="activation")
def elu(p: dict, inputs: list[Shape]):
    """ELU (Clevert et al. 2016): x for x > 0, alpha * (exp(x) - 1) below; BEGAN's activation."""
    return construct(nn.ELU, p["alpha"])


@layer("tanh", same, group="activation", output_range=(-1.0, 1.0))
def tanh(p: dict, inputs: list[Shape]):
    """tanh: maps generator outputs into [-1, 1], the range of the data."""
    return construct(nn.Tanh)


@layer("sigmoid", same, group="activation", output_range=(0.0, 1.0))
def sigmoid(p: dict, inputs: list[Shape]):
    """Logistic sigmoid."""
    return construct(nn.Sigmoid)


@layer("dropout", same,
       {"p": {**num_param("probability of zeroing an element", 0.5, minimum=0), "maximum": 1}},
       primary="p", group="activation")
def dropout(p: dict, inputs: list[Shape]):
    """Dropout (nn.Dropout)."""
    return construct(nn.Dropout, p["p"])
