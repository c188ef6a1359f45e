"""Weight layouts: how the state dict of a weights file maps onto a spec network's layers.

A layout is data: `modules` maps each module of the file (the key prefix before `.weight`,
`.bias`, ...) to the `id` of the spec layer that takes its tensors, and every tensor is then
checked key by key against the layer's own (`train/pretrained.py`). Layouts without
`modules` take the file's keys as the network's own state-dict keys (a file saved from the
network as ganbuilder builds it). `file` is the name the file has in torch's hub cache, the
default place looked at; `origin` says where it comes from, for the message about a missing
file (nothing is downloaded).

torchvision's VGG16 and VGG19 (`features.N` from configurations "D" and "E") are the built-in
layouts; the spec parts `specs/parts/vgg16.yaml` and `vgg19.yaml` carry the ids they name
(conv1_1 ... conv5_4, relu1_1 ... relu5_4, pool1 ... pool5).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ganbuilder.registry import Registry


@dataclass(frozen=True)
class WeightLayout:
    """A registered layout: the file's modules -> spec layer ids (None: the network's own
    keys), the file's usual name and where it comes from."""

    name: str
    description: str
    modules: dict[str, str] | None = None
    file: str | None = None
    origin: str = ""
    extra: tuple[str, ...] = field(default=())  # file key prefixes no layer takes (a head)


WEIGHT_LAYOUTS: Registry[WeightLayout] = Registry("weight layout")

# torchvision's VGG configurations: channels per conv, "M" a 2x2 max pool.
VGG_CONFIGS = {
    "vgg16": (64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M",
              512, 512, 512, "M"),
    "vgg19": (64, 64, "M", 128, 128, "M", 256, 256, 256, 256, "M", 512, 512, 512, 512, "M",
              512, 512, 512, 512, "M"),
}


def vgg_layer_ids(config: tuple) -> list[tuple[str, int | None]]:
    """(id, out channels or None) of each module of torchvision's `features` in order:
    conv{b}_{i}, relu{b}_{i} per conv and pool{b} per max pool, b the block from 1."""
    ids: list[tuple[str, int | None]] = []
    block, i = 1, 1
    for v in config:
        if v == "M":
            ids.append((f"pool{block}", None))
            block, i = block + 1, 1
        else:
            ids += [(f"conv{block}_{i}", int(v)), (f"relu{block}_{i}", None)]
            i += 1
    return ids


def _vgg(name: str, file: str) -> WeightLayout:
    ids = vgg_layer_ids(VGG_CONFIGS[name])
    modules = {f"features.{n}": layer_id for n, (layer_id, out) in enumerate(ids)
               if out is not None}
    return WeightLayout(
        name=f"torchvision_{name}",
        description=f"torchvision's {name.upper()} `features` (features.N: the Nth module; "
                    "convs onto the layers with ids conv1_1 ... conv5_N); the classifier is "
                    "not used",
        modules=modules, file=file,
        origin=f"torchvision's ImageNet weights, https://download.pytorch.org/models/{file}",
        extra=("classifier.",))


WEIGHT_LAYOUTS.add("torchvision_vgg16", _vgg("vgg16", "vgg16-397923af.pth"))
WEIGHT_LAYOUTS.add("torchvision_vgg19", _vgg("vgg19", "vgg19-dcbb9e9d.pth"))
WEIGHT_LAYOUTS.add("state_dict", WeightLayout(
    name="state_dict",
    description="the file is the network's own state dict, keys as ganbuilder names them "
                "(torch.save(net.state_dict()), or a network's entry of a checkpoint saved "
                "on its own)"))


def weights_schema() -> dict:
    """A network's `weights`: the file and the layout (a registered name, or a mapping of the
    file's modules to layer ids)."""
    names = "; ".join(f"{n}: {d.description}" for n, d in WEIGHT_LAYOUTS.items())
    return {
        "type": "object",
        "description": "start from the weights in a file the user has (never downloaded); "
                       "loaded when a run starts, then saved in its checkpoints",
        "properties": {
            "file": {"type": "string", "minLength": 1,
                     "description": "the weights file, torch.load-able with weights_only: a "
                                    "path relative to the spec file, or absolute, ~ expanded; "
                                    "default: the layout's file in torch's hub cache "
                                    "($TORCH_HOME/hub/checkpoints)"},
            "layout": {"anyOf": [
                {"enum": WEIGHT_LAYOUTS.names()},
                {"type": "object", "minProperties": 1,
                 "additionalProperties": {"type": "string", "pattern":
                                          "^[A-Za-z_][A-Za-z0-9_]*$"},
                 "description": "the file's modules (key prefixes) -> layer ids"}],
                "default": "state_dict",
                "description": f"how the file's keys map onto the layers: {names}; or a "
                               "mapping of the file's modules (key prefixes, e.g. "
                               "features.0) to layer ids"},
        },
        "additionalProperties": False,
    }


__all__ = ["VGG_CONFIGS", "WEIGHT_LAYOUTS", "WeightLayout", "vgg_layer_ids", "weights_schema"]
