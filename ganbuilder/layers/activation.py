"""Element-wise activations and dropout: shape-preserving and parameter-free."""

from __future__ import annotations

from ganbuilder._lazy import nn
from ganbuilder.layers.registry import Shape, layer, num_param


def same(p: dict, inputs: list[Shape]) -> Shape:
    return inputs[0]


@layer("relu", same, inplace=True)
def relu(p: dict, inputs: list[Shape]):
    """max(0, x)."""
    return nn.ReLU()


@layer("leaky_relu", same, {"slope": num_param("slope for x < 0", 0.2, minimum=0)},
       primary="slope", inplace=True)
def leaky_relu(p: dict, inputs: list[Shape]):
    """LeakyReLU; DCGAN's discriminators use slope 0.2."""
    return nn.LeakyReLU(p["slope"])


@layer("elu", same, {"alpha": num_param("value approached for large negative x: "
                                         "alpha * (exp(x) - 1)", 1.0, minimum=0)},
       primary="alpha")
def elu(p: dict, inputs: list[Shape]):
    """ELU (Clevert et al. 2016): x for x > 0, alpha * (exp(x) - 1) below; BEGAN's activation."""
    return nn.ELU(p["alpha"])


@layer("tanh", same)
def tanh(p: dict, inputs: list[Shape]):
    """tanh: maps generator outputs into [-1, 1], the range of the data."""
    return nn.Tanh()


@layer("sigmoid", same)
def sigmoid(p: dict, inputs: list[Shape]):
    """Logistic sigmoid."""
    return nn.Sigmoid()


@layer("dropout", same,
       {"p": {**num_param("probability of zeroing an element", 0.5, minimum=0), "maximum": 1}},
       primary="p")
def dropout(p: dict, inputs: list[Shape]):
    """Dropout (nn.Dropout)."""
    return nn.Dropout(p["p"])
