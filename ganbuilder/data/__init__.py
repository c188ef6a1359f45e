"""Data sources: a torch-free schema and shape side, and loaders that yield batches of tensors.

Importing this package registers the built-in sources; it does not import torch, PIL or sklearn.
"""

# digits, folder, mnist and toy2d are imported for their side effect: they register sources.
from ganbuilder.data import digits, folder, mnist, toy2d  # noqa: F401
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
