"""Splitting features into equal parts: BigGAN's hierarchical latent, one z chunk per block."""

from __future__ import annotations

from ganbuilder._lazy import LazyModule
from ganbuilder.layers.construct import construct
from ganbuilder.layers.registry import Shape, ShapeError, int_param, layer

modules = LazyModule("ganbuilder.layers.modules")


def _chunk_shape(p: dict, inputs: list[Shape]) -> Shape:
    x = inputs[0]
    if not x:
        raise ShapeError("chunk: expects a feature vector, got a scalar per sample")
    if x[0] % p["chunks"]:
        raise ShapeError(f"chunk: {x[0]} features do not split into {p['chunks']} equal chunks")
    if p["index"] >= p["chunks"]:
        raise ShapeError(f"chunk: index {p['index']} is not below chunks {p['chunks']}")
    return (x[0] // p["chunks"], *x[1:])


@layer(
    "chunk",
    _chunk_shape,
    {"chunks": int_param("number of equal parts", minimum=1),
     "index": int_param("which part, from 0")},
    required=("chunks", "index"),
    group="shape",
    fit_params=lambda received: {"chunks": 2, "index": 0},
)
def chunk(p: dict, inputs: list[Shape]):
    """One of `chunks` equal parts of the features, along the first per-sample dimension."""
    return construct(modules.Chunk, p["chunks"], p["index"])
