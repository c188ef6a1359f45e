"""`translate` from files that are not pictures: a data tensor the spec's source makes from one
file of the user's (a label map's one-hot `seg`, for SPADE), as the source's registry entry
declares it (`SourceDef.file_inputs`, with the reader that turns a file into that tensor).

A model that computes an image as NET(..., seg, ...) with latents as its other arguments is
applied to a folder of label files: each file becomes `seg` through the source's reader (ids
checked against the trained classes, resized to the trained size), the latents are drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganbuilder.data.registry import SOURCES
from ganbuilder.spec import Spec
from ganbuilder.spec.analysis import ImageMap
from ganbuilder.spec.expr import Call


def file_readers(spec: Spec) -> dict[str, Callable[[Path, dict], Any]]:
    """The data tensors of the spec's source that one file becomes, with their readers."""
    source = (spec.tree.get("data") or {}).get("source")
    return SOURCES.get(source).file_inputs if source in SOURCES else {}


def file_maps(spec: Spec) -> dict[str, ImageMap]:
    """Every forward tensor NET(...) with an image out whose arguments are one file input and
    otherwise latents (which translate draws), in forward order: SPADE's G(seg, z)."""
    a, readers = spec.analysis, file_readers(spec)
    out = {}
    for tensor in a.order:
        call = a.forward.get(tensor)
        if not (isinstance(call, Call) and call.fn in a.networks
                and all(isinstance(arg, str) for arg in call.args)
                and len(a.tensor_shapes.get(tensor, ())) == 3):
            continue
        fed = [i for i, arg in enumerate(call.args) if arg in readers]
        others = tuple(str(arg) for i, arg in enumerate(call.args) if i not in fed)
        if len(fed) == 1 and all(a.sources.get(arg) == "latent" for arg in others):
            out[tensor] = ImageMap(tensor, call.fn, str(call.args[fed[0]]), fed[0], others, ())
    return out
