"""`multilabel`: a network's logits against vectors of binary attributes (StarGAN's domain
loss on CelebA, where an image's domain is its set of attributes)."""

from __future__ import annotations

from ganbuilder._lazy import F, torch
from ganbuilder.layers.registry import format_shape
from ganbuilder.losses.heads import HEAD, call_head
from ganbuilder.losses.params import TENSOR, TENSORS, as_list
from ganbuilder.losses.registry import loss_term


def _multilabel_check(p: dict, shapes: dict, latent: dict) -> list[tuple[str, str]]:
    """The labels hold one vector of K attributes per sample and the classifier K logits."""
    problems = []
    label_shape = (shapes.get("labels") or [None])[0]
    if label_shape is not None and len(label_shape) != 1:
        problems.append(("labels", f"'{p['labels']}' is {format_shape(label_shape)} per sample; "
                         "multilabel reads a vector of 0/1 attributes per sample (integer "
                         "classes go to `classification`)"))
        return problems
    out = (shapes.get("classifier") or [None])[0]
    if out is not None and label_shape is not None and out != label_shape:
        problems.append(("classifier", f"{p['classifier']} outputs {format_shape(out)} but "
                         f"'{p['labels']}' holds {label_shape[0]} attributes per sample"))
    return problems


@loss_term(
    "multilabel",
    {
        "classifier": {"type": "string", "description": "the network that outputs one logit "
                       "per attribute (StarGAN: D's `cls` head)"},
        "input": {**TENSORS, "description": "what the classifier reads: real or translated "
                  "images"},
        "labels": {**TENSOR, "description": "the attribute vectors to predict (0 or 1 each): "
                   "the data's for real images, the target domain's for translated ones"},
        "head": HEAD,
    },
    required=("classifier", "input", "labels"),
    tensors=("input", "labels"),
    networks=("classifier",),
    inputs=("input",),
    heads={"head": "classifier"},
    check=_multilabel_check,
)
def multilabel(p: dict, ctx):
    """Binary cross-entropy with logits per attribute, summed over the attributes and
    averaged over the batch, as StarGAN's CelebA domain loss (Choi et al. 2018). Where the
    objective trains the classifier it records `acc/<classifier>/<labels>`, the share of
    attributes predicted right."""
    logits = call_head(ctx.network(p["classifier"]), p.get("head"),
                       [ctx.tensor(n) for n in as_list(p["input"])]).flatten(1)
    labels = ctx.tensor(p["labels"]).float()
    metrics = {}
    if p["classifier"] in ctx.updates:
        with torch.no_grad():
            accuracy = ((logits > 0).float() == labels).float().mean()
        metrics[f"acc/{p['classifier']}/{p['labels']}"] = accuracy
    loss = F.binary_cross_entropy_with_logits(logits, labels, reduction="sum") / logits.shape[0]
    return loss, metrics
