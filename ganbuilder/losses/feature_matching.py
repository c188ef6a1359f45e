"""`feature_matching` (Salimans et al. 2016): G matches the critic's mean features on real data."""

from __future__ import annotations

from ganbuilder._lazy import torch
from ganbuilder.losses.params import CRITIC, TENSORS, as_list
from ganbuilder.losses.registry import loss_term


def layer_output(network, layer_id: str, inputs: list):
    """What the network's top-level layer `layer_id` outputs on `inputs`. Compiled networks
    carry `layer_ids` (id -> position in their layer list)."""
    ids = getattr(network, "layer_ids", {})
    if layer_id not in ids:
        raise ValueError(f"the network has no layer with id '{layer_id}' "
                         f"(its ids: {', '.join(ids) or 'none'})")
    # A chain is an nn.Sequential; a network with skips keeps its modules in `layers`.
    layers = network if isinstance(network, torch.nn.Sequential) else network.layers
    return hooked_output(network, layers[ids[layer_id]], inputs)


def hooked_output(network, layer, inputs: list):
    """What `layer`, a module of `network`, outputs when the network runs on `inputs`; copied
    as it is produced, because an in-place activation after the layer would overwrite it."""
    captured = []
    handle = layer.register_forward_hook(lambda module, args, out: captured.append(out.clone()))
    try:
        network(*inputs)
    finally:
        handle.remove()
    return captured[0]


class EnoughLayers(Exception):
    """Raised by the hook on the deepest layer read: the rest of the network need not run."""


def layer_outputs(network, inputs: list, ids: list[str], stop: bool = True) -> list:
    """The outputs of the network's top-level layers `ids` on `inputs`, in the order of `ids`,
    from one pass. With `stop` the network runs only as far as the deepest of them (a loss at
    VGG's relu2_2 does not pay for its deeper blocks; CUT's `encode_only`). Each output is
    copied as it is made, since an in-place activation after the layer would overwrite it
    (ESRGAN's conv5_4, before its ReLU)."""
    positions = network.layer_ids
    # A chain is an nn.Sequential; a network with skips keeps its modules in `layers`.
    layers = network if isinstance(network, torch.nn.Sequential) else network.layers
    deepest = max(positions[i] for i in ids)
    found = {}

    def hook(layer_id: str, last: bool):
        def keep(module, args, out):
            found[layer_id] = out.clone()
            if last:
                raise EnoughLayers
        return keep

    handles = [layers[positions[i]].register_forward_hook(
        hook(i, stop and positions[i] == deepest)) for i in sorted(set(ids))]
    try:
        network(*inputs)
    except EnoughLayers:
        pass
    finally:
        for handle in handles:
            handle.remove()
    return [found[i] for i in ids]


def feature_distance(real, fake):
    """||E f(real) - E f(fake)||² over the batch, averaged over the features."""
    return (real.flatten(1).mean(0) - fake.flatten(1).mean(0)).pow(2).mean()


@loss_term(
    "feature_matching",
    {
        "critic": CRITIC,
        "layer": {"type": "string", "description": "the `id` of the critic's layer whose "
                  "features are matched"},
        "real": TENSORS,
        "fake": TENSORS,
    },
    required=("critic", "layer", "real", "fake"),
    tensors=("real", "fake"),
    networks=("critic",),
    layers={"layer": "critic"},
)
def feature_matching(p: dict, ctx):
    """Feature matching (Salimans et al. 2016): ||E f(real) - E f(fake)||², f the critic's layer
    `layer`, expectations over the batch; averaged over the features (as the paper's MNIST code
    does), so its size does not depend on the layer's width. The generator's objective uses it
    in place of (or beside) the adversarial term."""
    critic = ctx.network(p["critic"])
    real = layer_output(critic, p["layer"], [ctx.tensor(n) for n in as_list(p["real"])])
    fake = layer_output(critic, p["layer"], [ctx.tensor(n) for n in as_list(p["fake"])])
    return feature_distance(real, fake), {}
