"""Data sources: a torch-free schema and shape side, and loaders that yield batches of tensors.

Importing this package registers the built-in sources; it does not import torch, PIL or sklearn.
"""

# The source modules are imported for their side effect: they register sources.
from ganbuilder.data import (  # noqa: F401
    celeba_attributes,
    digit_domains,
    digits,
    digits2negative,
    digits_sr,
    edges2digits,
    folder,
    labelmaps,
    labels2digits,
    mnist,
    paired,
    superres,
    toy2d,
    unpaired,
)
from ganbuilder.data.registry import SOURCES, SourceDef, data_schema, open_source, tensor_shapes
from ganbuilder.data.source import BatchSampler, DataSource

__all__ = [
    "SOURCES",
    "BatchSampler",
    "DataSource",
    "SourceDef",
    "data_schema",
    "open_source",
    "tensor_shapes",
]
