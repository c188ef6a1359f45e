"""Before training: the data's class count against the spec's layers that read its labels.

A data set with more classes than a `one_hot` or `embedding` (any layer with `classes`) that
reads the data's labels takes would fail inside torch at the first step or the step-0 sample
grid; this finds such a layer from the spec and the opened data, and says so at once.
"""

from __future__ import annotations

from ganbuilder.errors import UserError
from ganbuilder.spec import Spec
from ganbuilder.spec.expr import Call
from ganbuilder.spec.paths import format_path


def _label_readers(spec: Spec) -> list[tuple[str, str, list[str]]]:
    """(network, its input, tensor names) for every call that passes a data tensor holding one
    integer per sample (a label): in `forward` and by the loss terms."""
    a = spec.analysis
    calls: list[tuple[str, list]] = [(e.fn, list(e.args)) for e in a.forward.values()
                                      if isinstance(e, Call) and e.fn in a.networks]
    for term in a.terms:
        for key in term.definition.networks:
            for names in (term.tensors.get(k) for k in term.definition.inputs):
                if term.networks.get(key) in a.networks and names:
                    calls.append((term.networks[key], list(names)))
    out = []
    for net, args in calls:
        for name, arg in zip(a.networks[net].inputs, args, strict=False):
            if isinstance(arg, str) and a.sources.get(arg) == "data" and \
                    a.tensor_shapes.get(arg) == ():
                out.append((net, name, [arg]))
    return out


def check_label_layers(spec: Spec, classes: int | None) -> None:
    """Raise a located UserError when a layer reading the data's labels takes fewer classes
    than the data has (`classes`; None: the data has no class count)."""
    if not classes:
        return
    for net, name, _ in _label_readers(spec):
        for layer in spec.analysis.networks[net].layers:
            takes = layer.params.get("classes")
            if name in layer.sources and isinstance(takes, int) and takes < classes:
                data = spec.tree["data"]
                raise spec.locate(UserError(
                    f"the data has {classes} classes (labels 0-{classes - 1}), more than "
                    f"{format_path(layer.path)} ({layer.kind}, {takes} classes) takes: set the "
                    f"spec's class count (params.classes, the label latent's classes) to "
                    f"{classes}, or list the classes to use in data.classes",
                    "data.root" if "root" in data else "data"))
